# One rule for every experiment's notebook: analysis/<experiment>.ipynb turns the experiment's training runs (jobs
# of train_run) and the results it reads into its report, provenance, manifest and, for a claim of the thesis, its
# verdict. Inputs, parameters and outputs all come from the experiment's entry in gan.experiments (common.smk).


rule experiment:
    input:
        unpack(experiment_inputs),
    output:
        report=f"{R}/{{experiment}}/report.md",
        manifest=f"{R}/{{experiment}}/manifest.json",
        notebook=f"{R}/{{experiment}}/{{experiment}}.ipynb",
    log:
        f"{R}/logs/{{experiment}}.log",
    wildcard_constraints:
        experiment="|".join(e for e in EXPERIMENTS if e not in CLAIMS),
    threads: 1
    resources:
        **resources_of("analysis"),
    conda:
        "../envs/train.yaml"
    params:
        cmd=experiment_command,
    shell:
        "{params.cmd} 2> {log}"


# An experiment that tests a claim of the thesis also writes its verdict, which the discussion includes.
use rule experiment as claim with:
    output:
        report=f"{R}/{{experiment}}/report.md",
        manifest=f"{R}/{{experiment}}/manifest.json",
        notebook=f"{R}/{{experiment}}/{{experiment}}.ipynb",
        verdict=f"{R}/{{experiment}}/verdict.md",
    wildcard_constraints:
        experiment="|".join(CLAIMS),
