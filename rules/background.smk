# Background and theory: the historical models (NCE, VAE, diffusion), the theory demos (the min-max derivation,
# saturating vs non-saturating loss, the 1-D GAN in the distribution view, accuracy vs quality) and the lecture's
# autoencoders. Each is one notebook in analysis/ with its block in config/config.yaml; accuracy_vs_quality also
# trains GANs, one train_run job per setting and seed (rules/train.smk).


# The demos that need no upstream result: one notebook run each.
for _name in ["nce", "diffusion", "minimax", "saturating", "optimal_d", "lecture_autoencoders"]:

    rule:
        name: _name
        input:
            notebook=f"analysis/{_name}.ipynb",
        output:
            **experiment_outputs(_name),
        log:
            f"{R}/logs/{_name}.log",
        threads: 1
        resources:
            **resources_of("analysis"),
        conda:
            "../envs/train.yaml"
        params:
            cmd=lambda wc, rule=_name: experiment_command(rule),
        shell:
            "{params.cmd} 2> {log}"


# The VAE scores its samples by FID in the same feature network as the GAN runs, which feature_net caches.
rule vae:
    input:
        notebook="analysis/vae.ipynb",
        feature_net=f"{R}/feature_net/manifest.json",
    output:
        **experiment_outputs("vae"),
    log:
        f"{R}/logs/vae.log",
    threads: 1
    resources:
        **resources_of("analysis"),
    conda:
        "../envs/train.yaml"
    params:
        cmd=lambda wc: experiment_command("vae", fid_network=fid_network(),
                                                 inception_weights=config["fid"].get("inception_weights")),
    shell:
        "{params.cmd} 2> {log}"


def _accuracy_vs_quality_runs():
    """One GAN per setting (balanced, overpowered D, saturating loss) and seed; the settings' train keys are merged
    over the experiment's `train` block."""
    p = params_of("accuracy_vs_quality")
    runs = {}
    for setting, over in p["settings"].items():
        for seed in p["seeds"]:
            rid = f"{setting}_s{seed}"
            runs[rid] = {"train": train_spec("accuracy_vs_quality", p, rid, seed, **over),
                         "fid_samples": p["fid_samples"], "cell": {"setting": setting, "seed": seed}}
    return register_runs("accuracy_vs_quality", runs)


_AVQ_RUNS = _accuracy_vs_quality_runs()


rule accuracy_vs_quality:
    input:
        runs=_AVQ_RUNS,
        notebook="analysis/accuracy_vs_quality.ipynb",
    output:
        **experiment_outputs("accuracy_vs_quality"),
    log:
        f"{R}/logs/accuracy_vs_quality.log",
    threads: 1
    resources:
        **resources_of("analysis"),
    conda:
        "../envs/train.yaml"
    params:
        cmd=lambda wc: experiment_command("accuracy_vs_quality", run_ids=run_ids(_AVQ_RUNS)),
    shell:
        "{params.cmd} 2> {log}"
