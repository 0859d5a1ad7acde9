"""Print the book as one PDF: headless Chromium (Debian's, through Playwright) prints the single-page HTML build.

Why Chromium and not LaTeX: the PDF is then what the HTML shows (MathJax maths, the figures at their sizes, the
MyST figure blocks, tables), it needs nothing beyond the browser the book's tests already use, and it adds about
a minute to a build; TeX Live would add about 1.5 GB to every machine that builds the book, and jupyter-book's
LaTeX route renders MyST's figure blocks and raw HTML differently from the HTML book.

    python rules/scripts/print_pdf.py book/_build/singlehtml/index.html book/_build/html/thesis.pdf

Waits for MathJax to typeset and every image to load, prints A4 with page numbers in the footer, and fails when
the page has no content or MathJax reported an error.
"""

from __future__ import annotations

import sys
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
READY = r"""
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  if (document.fonts) { await document.fonts.ready; }
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; setTimeout(r, 10000); })));
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  return {images: imgs.length, broken: imgs.filter(i => !i.naturalWidth).length,
          merrors: document.querySelectorAll('mjx-merror').length, text: document.body.innerText.length};
}
"""
FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#666">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


def print_pdf(html: Path, pdf: Path) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.set_default_timeout(120_000)
            page.goto(html.resolve().as_uri(), wait_until="load")
            state = page.evaluate(READY)
            if state["text"] < 1000 or state["merrors"] or state["broken"]:
                raise SystemExit(f"print_pdf.py: {html} is not ready to print: {state}")
            page.emulate_media(media="print")
            pdf.parent.mkdir(parents=True, exist_ok=True)
            tmp = pdf.with_suffix(".pdf.tmp")
            page.pdf(path=str(tmp), format="A4", print_background=True, display_header_footer=True,
                     header_template="<div></div>", footer_template=FOOTER,
                     margin={"top": "18mm", "bottom": "18mm", "left": "16mm", "right": "16mm"})
            tmp.replace(pdf)
            return state
        finally:
            browser.close()


if __name__ == "__main__":
    html, pdf = Path(sys.argv[1]), Path(sys.argv[2])
    state = print_pdf(html, pdf)
    print(f"print_pdf.py: {pdf} ({pdf.stat().st_size / 1e6:.1f} MB, {state['images']} images)")
