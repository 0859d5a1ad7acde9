# The one training rule: every GAN run of every experiment (a grid cell, a seed, a zoo model) is a job of
# `train_run`, which runs analysis/train.ipynb once. Which runs exist, and with what config, is each experiment's
# `runs` in gan.experiments (registered in rules/common.smk); the experiment's own job then collects them.


rule train_run:
    input:
        train_inputs,
        notebook="analysis/train.ipynb",
        # FIDs are computed in the LeNet-FID network that feature_net trains and caches: a new network, new FIDs
        feature_net=f"{R}/feature_net/manifest.json",
    output:
        metrics=f"{R}/{{experiment}}/runs/{{run_id}}/metrics.json",
        manifest=f"{R}/{{experiment}}/runs/{{run_id}}/manifest.json",
        losses=f"{R}/{{experiment}}/runs/{{run_id}}/losses.csv.gz",
        samples=f"{R}/{{experiment}}/runs/{{run_id}}/samples.png",
        notebook=f"{R}/{{experiment}}/runs/{{run_id}}/run.ipynb",
    log:
        f"{R}/logs/train_run/{{experiment}}/{{run_id}}.log",
    wildcard_constraints:
        experiment="[a-z0-9_]+",
        run_id="[A-Za-z0-9_.-]+",
    threads: threads_of("train")
    resources:
        **resources_of("train"),
        # one slot of a GPU: `--resources gpu_slots=4` runs four training runs side by side on one GPU (docs/slurm.md)
        gpu_slots=1,
    conda:
        "../envs/train.yaml"
    params:
        cmd=run_command,
    # torch uses the threads the scheduler granted: the config's on a cluster node (--cpus-per-task), fewer where
    # --cores or --set-threads says so; the run's manifest records them in its config
    shell:
        "{params.cmd} -p threads {threads} 2> {log}"
