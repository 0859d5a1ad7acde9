"""Render pilots/results/*.jsonl as the table in pilots/README.md (between the markers): one row per pilot, at
each evaluation, with what it cost (CPU seconds, on a shared machine) and what it gave. A pilot with a moving
average of G's weights scored by `pilot.py` since 4 December shows G's own LeNet-FID and confident share in brackets.

    python pilots/summarize.py
"""

from __future__ import annotations

import json
from pathlib import Path

from gan.pilots import setting

HERE = Path(__file__).resolve().parent
BEGIN, END = "<!-- pilots:begin -->", "<!-- pilots:end -->"


def rows() -> list[str]:
    out = ["| pilot | setting | step | CPU s | LeNet-FID | confident | classes | diversity | colour | D acc. real / fake |",
           "| :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for f in sorted(HERE.glob("results/*.jsonl")):
        lines = [json.loads(x) for x in f.read_text().splitlines() if x.strip()]
        for i, r in enumerate(lines):
            conf = f"{r['confident']:.2f}" if "confident" in r else "–"
            fid = f"{r['fid']:.1f}"
            if r.get("raw_fid") is not None:  # with ema: the moving average's numbers, then G's own in brackets
                fid += f" (G {r['raw_fid']:.1f})"
                conf += f" (G {r['raw_confident']:.2f})" if "raw_confident" in r else ""
            cov = str(r.get("covered", "–"))
            col = f"{r['colour_ratio']:.2f}" if "colour_ratio" in r else "–"
            out.append(f"| {r['name'] if i == 0 else ''} | {setting(r) if i == 0 else ''} | {r['step']:,} | {r['cpu_s']:.0f} | "
                       f"{fid} | {conf} | {cov} | {r['diversity'] / r['real_diversity']:.2f} | {col} | "
                       f"{r['acc_real']:.2f} / {r['acc_fake']:.2f} |")
    return out


def main() -> None:
    readme = HERE / "README.md"
    text = readme.read_text()
    i, j = text.index(BEGIN), text.index(END)
    readme.write_text(text[: i + len(BEGIN)] + "\n" + "\n".join(rows()) + "\n" + text[j:])


if __name__ == "__main__":
    main()
