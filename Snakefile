# A GAN thesis that rebuilds itself. `snakemake --cores 2` builds the book from the largest scale with complete
# results; `--config scale=smoke` runs the CI-sized DAG; `--profile slurm` sends every job to a SLURM cluster.
# Experiments are defined once, in gan/experiments (the registry); see README.md and docs/DESIGN.md.

configfile: "config/config.yaml"


include: "rules/common.smk"


if not BOOK_ONLY:

    include: "rules/data.smk"  # data, fid_network: every data set and the FID weights, got and checked once
    include: "rules/train.smk"  # train_run: every GAN run of every experiment
    include: "rules/experiments.smk"  # experiment / claim: every experiment's notebook


include: "rules/book.smk"  # stage results/<scale>/ into the book and build it


rule all:
    default_target: True
    input:
        rules.book.output,
