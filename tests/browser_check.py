"""Load every page of a built book in headless Chromium and check what a reader would see.

For each HTML page (from `file://`, offline):
- the maths rendered: every Sphinx `.math` element holds MathJax output (`mjx-container`), MathJax reported no
  error (`mjx-merror`), and no raw TeX delimiters (`$$`, `\\(`, `\\[`) are left in the text outside code;
- every `<img>` loaded (`naturalWidth > 0`);
- every internal link points at a file that exists, and its `#anchor` at an id on the target page;
- no request failed and none left the machine (only file:, data: and blob: URLs);
- no uncaught JavaScript error;
- at 1280 px wide: the page's banner is at most 120 px tall; no figure is shown at less than 60 % of its natural
  width unless it is a sample grid (`figure.sample-grid`: photo-like, legible when scaled); every image has alt
  text that says something (not empty, not a file name); no table is wider than its column.

Uses Debian's /usr/bin/chromium through Python Playwright (never `playwright install`, which downloads). Usage:

    python tests/browser_check.py book/_build/html --screenshot results/smoke/book-results.png

exits 1 and lists the problems when any check fails.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOCAL_SCHEMES = {"file", "data", "blob", "about"}

# Runs in the page once it and MathJax are done: everything the checks need, in one round trip.
INSPECT = r"""
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  if (document.fonts) { await document.fonts.ready; }
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; setTimeout(r, 5000); })));
  const math = [...document.querySelectorAll('.math')];
  const text = (() => {
    const body = document.body.cloneNode(true);
    body.querySelectorAll('pre, code, script, style, mjx-container, .highlight').forEach(e => e.remove());
    return body.innerText;
  })();
  return {
    math: math.length,
    unrendered: math.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80)),
    mjx: document.querySelectorAll('mjx-container').length,
    merrors: [...document.querySelectorAll('mjx-merror, [data-mjx-error]')].map(e => e.getAttribute('data-mjx-error') || e.textContent.slice(0, 80)),
    rawTex: (text.match(/\$\$|\\\(|\\\[|\\begin\{/g) || []).length,
    images: imgs.map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0})),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    banner: [...document.querySelectorAll('.scale-banner')].map(b => Math.round(b.getBoundingClientRect().height)),
    figures: [...document.querySelectorAll('figure img, .figure img')].filter(i => i.naturalWidth > 0).map(i => ({
      src: i.getAttribute('src'), ratio: i.getBoundingClientRect().width / i.naturalWidth,
      grid: !!i.closest('figure.sample-grid, .figure.sample-grid')})),
    alts: imgs.filter(i => !i.closest('.bd-header, .navbar-brand, .bd-sidebar')).map(i => ({src: i.getAttribute('src'), alt: (i.getAttribute('alt') || '').trim()})),
    tables: [...document.querySelectorAll('.bd-article table')].map(t => {
      const box = t.closest('.bd-article');
      return {over: Math.round(t.getBoundingClientRect().right - box.getBoundingClientRect().right), head: t.innerText.slice(0, 60)};
    }),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id).concat([...document.querySelectorAll('a[name]')].map(a => a.name)),
  };
}
"""


def pages_of(html_dir: Path) -> list[Path]:
    """Every HTML page of the book (not theme assets or downloads)."""
    skip = {"_static", "_downloads", "_sources", "_images"}
    return sorted(p for p in html_dir.rglob("*.html") if not skip & set(p.relative_to(html_dir).parts[:-1]))


def _ids_in_file(path: Path) -> set[str]:
    text = path.read_text(errors="replace")
    return set(re.findall(r'\bid="([^"]+)"', text)) | set(re.findall(r'\bname="([^"]+)"', text))


def check_book(html_dir: str | Path, screenshot: str | Path | None = None,
               screenshot_page: str = "results/depth_grid.html", full_page: bool = True,
               timeout_ms: int = 30_000) -> tuple[list[str], dict[str, int]]:
    """Check every page; returns (problems, counts). An empty problem list means the book renders."""
    from playwright.sync_api import sync_playwright

    html_dir = Path(html_dir).resolve()
    pages = pages_of(html_dir)
    problems: list[str] = []
    stats = {"pages": len(pages), "math_pages": 0, "math": 0, "images": 0, "internal_links": 0, "external_links": 0}
    if not pages:
        return [f"no HTML pages under {html_dir}"], stats
    ids: dict[Path, set[str]] = {}
    anchors: list[tuple[str, Path, str]] = []  # (page, target file, fragment)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        page = ctx.new_page()
        page.set_default_timeout(timeout_ms)
        current = {"name": ""}
        page.on("request", lambda r: urlparse(r.url).scheme not in LOCAL_SCHEMES
                and problems.append(f"{current['name']}: external request {r.url}"))
        page.on("requestfailed", lambda r: problems.append(f"{current['name']}: request failed {r.url} ({r.failure})"))
        page.on("pageerror", lambda e: problems.append(f"{current['name']}: JavaScript error {e}"))
        try:
            for path in pages:
                name = current["name"] = path.relative_to(html_dir).as_posix()
                page.goto(path.as_uri(), wait_until="load")
                r = page.evaluate(INSPECT)
                ids[path] = set(r["ids"])
                if r["math"]:
                    stats["math_pages"] += 1
                    stats["math"] += r["math"]
                    if not r["mjx"] or r["unrendered"]:
                        problems.append(f"{name}: {len(r['unrendered'])} of {r['math']} maths not rendered by MathJax, "
                                        f"e.g. {r['unrendered'][:2]}")
                for err in r["merrors"]:
                    problems.append(f"{name}: MathJax error {err!r}")
                if r["rawTex"]:
                    problems.append(f"{name}: {r['rawTex']} raw TeX delimiters ($$, \\(, \\[) left in the text")
                problems += [f"{name}: banner {h} px tall (at most 120)" for h in r["banner"] if h > 120]
                problems += [f"{name}: figure {f['src']} shown at {f['ratio']:.0%} of its width (at least 60 %)"
                             for f in r["figures"] if f["ratio"] < 0.6 and not f["grid"]]
                problems += [f"{name}: image {a['src']} has no alt text that says what it shows ({a['alt']!r})"
                             for a in r["alts"] if not a["alt"] or re.fullmatch(r"\S+\.(png|jpe?g|svg|gif)", a["alt"])]
                problems += [f"{name}: table overflows its column by {t['over']} px ({t['head']!r})"
                             for t in r["tables"] if t["over"] > 2]
                stats["figures"] = stats.get("figures", 0) + len(r["figures"])
                stats["images"] += len(r["images"])
                problems += [f"{name}: image did not load: {i['src']}" for i in r["images"] if not i["ok"]]
                for href in r["links"]:
                    url, frag = urldefrag(href)
                    scheme = urlparse(url).scheme
                    if scheme in ("http", "https", "mailto"):
                        stats["external_links"] += 1
                        continue
                    if scheme != "file":
                        continue
                    stats["internal_links"] += 1
                    target = Path(unquote(urlparse(url).path))
                    if target.is_dir():
                        target = target / "index.html"
                    if not target.exists():
                        problems.append(f"{name}: dead link {href}")
                    elif frag and target.suffix == ".html":
                        anchors.append((name, target, unquote(frag)))
            if screenshot:
                shot = html_dir / screenshot_page
                if not shot.exists():
                    problems.append(f"screenshot page {screenshot_page} does not exist")
                else:
                    current["name"] = screenshot_page
                    page.goto(shot.as_uri(), wait_until="load")
                    page.evaluate(INSPECT)
                    Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(screenshot), full_page=full_page)
        finally:
            browser.close()

    for name, target, frag in anchors:
        if target not in ids:
            ids[target] = _ids_in_file(target)
        if frag not in ids[target]:
            problems.append(f"{name}: dead anchor {target.relative_to(html_dir).as_posix()}#{frag}")
    return problems, stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Check a built Jupyter Book in headless Chromium.")
    ap.add_argument("html_dir", type=Path, help="the built HTML, e.g. book/_build/html")
    ap.add_argument("--screenshot", type=Path, help="save a screenshot of --page here (PNG)")
    ap.add_argument("--page", default="results/depth_grid.html", help="the page to screenshot, relative to html_dir")
    ap.add_argument("--viewport-only", action="store_true", help="screenshot the first screen, not the whole page")
    a = ap.parse_args(argv)
    problems, stats = check_book(a.html_dir, a.screenshot, a.page, full_page=not a.viewport_only)
    print("browser check: " + ", ".join(f"{k} {v}" for k, v in stats.items()))
    for p in problems:
        print(f"  PROBLEM {p}", file=sys.stderr)
    if problems:
        print(f"browser check FAILED: {len(problems)} problems", file=sys.stderr)
        return 1
    if a.screenshot:
        print(f"screenshot: {a.screenshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
