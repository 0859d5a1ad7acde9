"""Drop repeated <script> entries from every page.

With jupyter-book 1.0.4 and Sphinx 7.4, sphinx-thebe and sphinx-togglebutton register their inline configuration
scripts twice, and the second `const THEBE_JS_URL = ...` throws "Identifier has already been declared" in the
browser on every page (the two copies differ only in filename None vs "", so Sphinx keeps both). The browser check (tests/browser_check.py) fails on any JavaScript error, so the duplicates
are removed here, keeping the first of each identical script.
"""

from __future__ import annotations

from typing import Any


def _dedupe(app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for js in scripts:
        attrs = getattr(js, "attributes", {}) or {}
        # inline scripts come with filename None from one code path and "" from another: the same script
        key = (str(getattr(js, "filename", js) or ""), tuple(sorted((k, str(v)) for k, v in attrs.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", _dedupe)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
