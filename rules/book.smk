# The book: stage the chosen scale's results into book/_generated/ (rules/scripts/stage_book.py copies and writes
# the banner, never computes) and build the Jupyter Book with Sphinx warnings as errors. Runs whenever an
# experiment's outputs, a book source, the staging script or the scale changed. The same sources are built once
# more as a single page, which headless Chromium prints as the thesis's PDF (book/_build/html/thesis.pdf).

BOOK_SOURCES = sorted(
    str(p) for p in Path("book").rglob("*")
    if p.is_file() and not {"_build", "_generated", "__pycache__"} & set(p.parts)
)


rule book:
    input:
        results=[p for e in EXPERIMENTS for p in experiment_outputs(e).values()],
        sources=BOOK_SOURCES,
        stage="rules/scripts/stage_book.py",
        printer="rules/scripts/print_pdf.py",
    output:
        "book/_build/html/index.html",
    log:
        f"{R}/logs/book.log",
    threads: 1
    resources:
        **resources_of("book"),
    conda:
        "../envs/book.yaml"
    params:
        scale=SCALE,
        info=lambda wc: shlex.quote(json.dumps(config["scales"][SCALE])),
    shell:
        "python rules/scripts/stage_book.py --results {R} --scale {params.scale} --out book/_generated --scale-info {params.info}"
        " > {log} 2>&1 && jupyter-book build book -W -n --keep-going >> {log} 2>&1"
        # the PDF: the single-page build, printed by headless Chromium (rules/scripts/print_pdf.py says why)
        " && jupyter-book build book -W -n --keep-going --builder singlehtml >> {log} 2>&1"
        " && python rules/scripts/print_pdf.py book/_build/singlehtml/index.html book/_build/html/thesis.pdf >> {log} 2>&1"
