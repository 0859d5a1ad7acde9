# The model-selection chapter: the seeds' other GAN systems, reproduced and compared. The CIFAR-10 study, the
# seminar's and the lecture's GANs, and the face-preprocessing study register their training runs (one
# `train_run` job each, rules/train.smk) and aggregate them in their own notebooks; `model_selection` puts every
# model of the chapter in one table, from the others' results.


def _cifar_study_runs():
    p = params_of("cifar_study")
    runs = {}
    from gan.models.cifar import study_model

    for entry in p["models"]:
        key, label, spec = study_model(entry, p["width"])
        for seed in p["seeds"]:
            rid = f"{key}_s{seed}"
            runs[rid] = {"train": train_spec("cifar_study", p, rid, seed, **spec), "fid_samples": p["fid_samples"],
                         "cell": {"model": key, "label": label, "seed": seed}}
    return register_runs("cifar_study", runs)


def _single_model_runs(name):
    """The seminar's and the lecture's GANs: one model, several seeds."""
    p = params_of(name)
    runs = {}
    for seed in p["seeds"]:
        rid = f"s{seed}"
        runs[rid] = {"train": train_spec(name, p, rid, seed, model=p["model"], model_kwargs=p.get("model_kwargs", {})),
                     "fid_samples": p["fid_samples"], "cell": {"model": name, "seed": seed}}
    return register_runs(name, runs)


def _face_preprocessing_runs():
    p = params_of("face_preprocessing")
    runs = {}
    for variant, data in p["variants"].items():
        for seed in p["seeds"]:
            rid = f"{variant}_s{seed}"
            t = train_spec("face_preprocessing", p, rid, seed, model=p["model"], model_kwargs=p["model_kwargs"], data=data)
            # both variants are scored against the same clean reference, so their FIDs share one feature space
            runs[rid] = {"train": t, "fid_samples": p["fid_samples"], "fid_reference": p["reference"],
                         "cell": {"variant": variant, "seed": seed}}
    return register_runs("face_preprocessing", runs)


# notebooks that compute FIDs of their own (beside the runs') get the runs' feature network
_ZOO_FID = {"fid_network": fid_network(), "inception_weights": config["fid"].get("inception_weights")}
_ZOO_EXTRA = {"cifar_study": _ZOO_FID, "face_preprocessing": _ZOO_FID}

for _name, _runs in [("cifar_study", _cifar_study_runs()), ("seminar", _single_model_runs("seminar")),
                     ("lecture_gan", _single_model_runs("lecture_gan")),
                     ("face_preprocessing", _face_preprocessing_runs())]:

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
            cmd=lambda wc, rule=_name, runs=_runs: experiment_command(rule, run_ids=run_ids(runs), **_ZOO_EXTRA.get(rule, {})),
        shell:
            "{params.cmd} 2> {log}"


rule model_selection:
    input:
        # the other experiments' results (runs.csv beside each manifest)
        sources=[experiment_outputs(s)["manifest"] for s in params_of("model_selection")["sources"]],
        notebook="analysis/model_selection.ipynb",
    output:
        **experiment_outputs("model_selection"),
    log:
        f"{R}/logs/model_selection.log",
    threads: 1
    resources:
        **resources_of("analysis"),
    conda:
        "../envs/train.yaml"
    params:
        cmd=lambda wc: experiment_command("model_selection", results_dir=R),
    shell:
        "{params.cmd} 2> {log}"
