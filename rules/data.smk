# The data a scale reads, got and checked once, before any job that needs it: one job per data set (and one for
# the FID network's weights), each a local rule, so that on a cluster it runs on the submitting host, once, where
# the internet usually is. `python -m gan.data.fetch` (and, for the weights, `python -m gan.metrics.weights`)
# downloads what may be downloaded, checks every file in its real format, and writes a receipt under
# results/<scale>/data/; jobs take the receipt as input and never download.


rule data:
    output:
        f"{R}/data/{{key}}.json",
    log:
        f"{R}/logs/data/{{key}}.log",
    wildcard_constraints:
        key="|".join(DATA) or "none",
    localrule: True
    params:
        cmd=lambda wc: f"python -m gan.data.fetch data {shlex.quote(json.dumps(DATA[wc.key]))}",
    shell:
        "{params.cmd} {output} > {log} 2>&1 || (cat {log} >&2; exit 1)"


rule fid_network:
    output:
        f"{R}/data/fid_network.json",
    log:
        f"{R}/logs/data/fid_network.log",
    localrule: True
    params:
        cmd=lambda wc: "python -m gan.metrics.weights "
        + shlex.quote(json.dumps({"network": fid_network(), "weights": config["fid"].get("inception_weights")})),
    shell:
        "{params.cmd} {output} > {log} 2>&1 || (cat {log} >&2; exit 1)"
