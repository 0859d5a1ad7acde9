# A GAN thesis that rebuilds itself. `snakemake --cores 2` builds the book from the largest scale with complete
# results; `--config scale=smoke` runs the CI-sized DAG; `--profile slurm` sends every job to a SLURM cluster.
# See README.md and config/README.md.

configfile: "config/config.yaml"


include: "rules/common.smk"


if not BOOK_ONLY:

    include: "rules/train.smk"  # the one training rule, train_run
    include: "rules/mnist.smk"  # feature_net, dense_conv, depth_grid, augmentation, afhq
    include: "rules/background.smk"  # nce, vae, diffusion; minimax, saturating, optimal_d, accuracy_vs_quality; lecture_autoencoders
    include: "rules/zoo.smk"  # the model-selection chapter: cifar_study, seminar, lecture_gan, face_preprocessing, model_selection


include: "rules/book.smk"  # stage results/<scale>/ into the book and build it


rule all:
    default_target: True
    input:
        rules.book.output,
