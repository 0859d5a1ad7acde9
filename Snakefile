# A GAN thesis that rebuilds itself. `snakemake --cores 2` builds the book from the largest scale with complete
# results; `--config scale=smoke` runs the CI-sized DAG; `--profile slurm` sends every job to a SLURM cluster.
# See README.md and config/README.md.

configfile: "config/config.yaml"


include: "rules/common.smk"
include: "rules/train.smk"
include: "rules/mnist.smk"


rule all:
    default_target: True
    input:
        [p for e in EXPERIMENTS if e in {"feature_net", "dense_conv", "depth_grid", "augmentation", "afhq"} for p in experiment_outputs(e).values()],
