# The thesis's MNIST experiments: the LeNet-FID feature network, dense vs convolutional, the depth grid and the
# augmentation grid; and the AFHQ cat DCGAN. Each registers its training runs (rules/train.smk) and aggregates
# them in its own notebook.


rule feature_net:
    input:
        notebook="analysis/feature_net.ipynb",
    output:
        **experiment_outputs("feature_net"),
    log:
        f"{R}/logs/feature_net.log",
    threads: 1
    resources:
        **resources_of("analysis"),
    conda:
        "../envs/train.yaml"
    params:
        cmd=lambda wc: experiment_command("feature_net", fid_network=fid_network(),
                                                 inception_weights=config["fid"].get("inception_weights")),
    shell:
        "{params.cmd} 2> {log}"


def _dense_conv_runs():
    p = params_of("dense_conv")
    runs = {}
    for arch, spec in p["archs"].items():
        for seed in p["seeds"]:
            rid = f"{arch}_s{seed}"
            runs[rid] = {"train": train_spec("dense_conv", p, rid, seed, **spec), "fid_samples": p["fid_samples"],
                         "cell": {"arch": arch, "seed": seed}}
    return register_runs("dense_conv", runs)


def _depth_grid_runs():
    p = params_of("depth_grid")
    runs = {}
    for g in p["g_depths"]:
        for d in p["d_depths"]:
            for seed in p["seeds"]:
                rid = f"g{g}_d{d}_s{seed}"
                kw = {**p["model_kwargs"], "g_depth": g, "d_depth": d}
                runs[rid] = {"train": train_spec("depth_grid", p, rid, seed, model=p["model"], model_kwargs=kw),
                             "fid_samples": p["fid_samples"], "cell": {"g_depth": g, "d_depth": d, "seed": seed}}
    return register_runs("depth_grid", runs)


def _augmentation_runs():
    p = params_of("augmentation")
    runs = {}
    for aug in p["augmentations"]:
        for seed in p["seeds"]:
            rid = f"{aug}_s{seed}"
            t = train_spec("augmentation", p, rid, seed, model=p["model"], model_kwargs=p["model_kwargs"])
            t["data"] = {**t["data"], "augment": aug}
            runs[rid] = {"train": t, "fid_samples": p["fid_samples"], "cell": {"augmentation": aug, "seed": seed}}
    return register_runs("augmentation", runs)


def _afhq_runs():
    p = params_of("afhq")
    runs = {}
    for seed in p["seeds"]:
        rid = f"s{seed}"
        runs[rid] = {"train": train_spec("afhq", p, rid, seed, model=p["model"], model_kwargs=p["model_kwargs"]),
                     "fid_samples": p["fid_samples"], "cell": {"seed": seed}}
    return register_runs("afhq", runs)


for _name, _runs in [("dense_conv", _dense_conv_runs()), ("depth_grid", _depth_grid_runs()),
                     ("augmentation", _augmentation_runs()), ("afhq", _afhq_runs())]:

    rule:
        name: _name
        input:
            runs=_runs,
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
            cmd=lambda wc, rule=_name, runs=_runs: experiment_command(rule, run_ids=run_ids(runs)),
        shell:
            "{params.cmd} 2> {log}"
