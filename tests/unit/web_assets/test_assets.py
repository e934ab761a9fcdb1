"""The shipped front-end assets: vendored files intact, CSP-clean templates, parseable Jinja.

The content security policy allows only the app's own assets, no inline scripts, no inline
event handlers and no inline styles; these tests keep templates and static files within it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jinja2
import pytest

from ironstar.web.formatting import add_filters

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "src" / "ironstar" / "web"
STATIC = WEB / "static"
TEMPLATES = WEB / "templates"
VENDOR = STATIC / "vendor"
GALLERY = STATIC / "dev" / "gallery.html"

# URIs that name XML namespaces: identifiers, never fetched.
XML_NAMESPACES = (
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/1999/xlink",
    "http://www.w3.org/2000/xmlns/",
    "http://www.w3.org/XML/1998/namespace",
)
LICENCE_NAMES = re.compile(r"^(LICEN[CS]E|NOTICE|COPYING)")


def manifest() -> list[dict[str, str]]:
    return json.loads((VENDOR / "MANIFEST.json").read_text())["files"]


def shipped_files() -> list[Path]:
    return sorted(p for root in (STATIC, TEMPLATES) for p in root.rglob("*") if p.is_file())


def html_sources() -> list[Path]:
    return [*sorted(TEMPLATES.rglob("*.html")), GALLERY]


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    add_filters(env)
    env.globals["static_url"] = lambda path: f"/static/{path}?v=test"
    env.globals["url_for"] = lambda name, **params: f"/{name}"
    return env


# ── vendored packages ──────────────────────────────────────────────────────────────


def test_manifest_hashes_match_the_vendored_files() -> None:
    for entry in manifest():
        path = VENDOR / entry["file"]
        assert path.is_file(), entry["file"]
        # A custom build (scripts/build-echarts) names itself after the version: x-1.0-build/
        build = f"-{entry['build']}" if "build" in entry else ""
        assert entry["file"].startswith(f"{entry['name']}-{entry['version']}{build}/")
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], entry["file"]


def test_manifest_lists_every_vendored_file() -> None:
    on_disk = {
        p.relative_to(VENDOR).as_posix()
        for p in VENDOR.rglob("*")
        if p.is_file() and p.name != "MANIFEST.json"
    }
    assert on_disk == {entry["file"] for entry in manifest()}


def test_every_vendored_package_ships_its_licence() -> None:
    packages = {(e["name"], e["version"]) for e in manifest()}
    for name, version in packages:
        files = [Path(e["file"]).name for e in manifest() if e["name"] == name]
        assert "LICENSE" in files, f"{name} {version} has no LICENSE"


def test_vendor_scripts_pin_what_the_manifest_holds() -> None:
    copied = (ROOT / "scripts" / "vendor-assets").read_text()
    pinned = set(re.findall(r'^\s*"([a-z0-9.\-]+)@(\d+\.\d+\.\d+)\s', copied, re.M))
    built = (ROOT / "scripts" / "build-echarts").read_text()
    pinned |= {("echarts", v) for v in re.findall(r"^ECHARTS_VERSION=(\S+)$", built, re.M)}
    assert pinned == {(e["name"], e["version"]) for e in manifest()}


def test_the_echarts_build_pins_esbuild_exactly() -> None:
    built = (ROOT / "scripts" / "build-echarts").read_text()
    assert re.search(r"^ESBUILD_VERSION=\d+\.\d+\.\d+$", built, re.M)


def test_base_template_loads_each_vendored_build() -> None:
    base = (TEMPLATES / "base.html").read_text()
    builds = [e["file"] for e in manifest() if e["file"].endswith(".js")]
    assert len(builds) == 3
    for build in builds:
        assert f"static_url('vendor/{build}')" in base, build


# ── no external URLs ───────────────────────────────────────────────────────────────


def without_comments(path: Path, text: str) -> str:
    if path.suffix in (".js", ".css"):
        return re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    if path.suffix in (".html", ".svg"):
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
        return re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    return text


@pytest.mark.parametrize("path", shipped_files(), ids=lambda p: p.relative_to(WEB).as_posix())
def test_no_external_urls(path: Path) -> None:
    if LICENCE_NAMES.match(path.name):
        return
    text = without_comments(path, path.read_text(encoding="utf-8"))
    for namespace in XML_NAMESPACES:
        text = text.replace(namespace, "")
    assert re.findall(r"https?://[^\s\"'<>)]*", text, flags=re.I) == [], path
    # Protocol-relative references ("//cdn.example/x.js") are external too.
    assert re.findall(r"""(?:src|href|url)\s*[=(]\s*["']?//""", text, flags=re.I) == [], path


# ── content security policy: no inline code or styles ──────────────────────────────


def tags(html: str) -> list[str]:
    return re.findall(r"<[a-zA-Z][^<>]*>", html)


def csp_problems(html: str) -> list[str]:
    html = re.sub(r"\{#.*?#\}", "", html, flags=re.S)  # Jinja comments
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    problems = []
    for attrs, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S | re.I):
        is_json = re.search(r"""type\s*=\s*["']application/json["']""", attrs)
        has_src = re.search(r"\ssrc\s*=", attrs)
        if is_json:
            continue
        if not has_src or body.strip():
            problems.append(f"inline script: <script{attrs}>{body[:60]}")
    for tag in tags(html):
        if re.search(r"\son[a-z]+\s*=", tag, flags=re.I):
            problems.append(f"inline event handler: {tag[:80]}")
        if re.search(r"\sstyle\s*=", tag, flags=re.I):
            problems.append(f"style attribute: {tag[:80]}")
        if re.search(r"""=\s*["']?\s*javascript:""", tag, flags=re.I):
            problems.append(f"javascript: URL: {tag[:80]}")
    if re.search(r"<style\b", html, flags=re.I):
        problems.append("<style> element")
    return problems


@pytest.mark.parametrize("path", html_sources(), ids=lambda p: p.name)
def test_html_has_no_inline_code_or_styles(path: Path) -> None:
    assert csp_problems(path.read_text()) == []


def test_the_csp_check_catches_what_it_should() -> None:
    assert csp_problems('<script>alert(1)</script><script src="/a.js"></script>') != []
    assert csp_problems('<button onclick="x()">') != []
    assert csp_problems('<div style="--x: 1">') != []
    assert csp_problems('<a href="javascript:void(0)">') != []
    assert csp_problems('<script type="application/json">{"a": 1}</script>') == []
    assert csp_problems('<script defer src="/a.js"></script><div data-style="x">') == []


@pytest.mark.parametrize("name", ["ironstar.js", "dev/gallery.js"])
def test_scripts_build_no_html_from_strings(name: str) -> None:
    code = without_comments(Path(name), (STATIC / name).read_text())
    sinks = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(")
    for sink in (*sinks, "new Function"):
        assert sink not in code, f"{name} uses {sink}"
    # Positions go through CSSOM (allowed by CSP), never through a style attribute.
    assert 'setAttribute("style"' not in code


@pytest.mark.parametrize("name", ["ironstar.js", "dev/gallery.js"])
def test_scripts_parse(name: str) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    result = subprocess.run([node, "--check", str(STATIC / name)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# ── Jinja templates ────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_template_parses(path: Path) -> None:
    environment().parse(path.read_text(), name=path.name)


def test_static_files_named_in_templates_exist() -> None:
    for path in TEMPLATES.rglob("*.html"):
        for name in re.findall(r"""static_url\(\s*['"]([^'"]+)['"]\s*\)""", path.read_text()):
            assert (STATIC / name).is_file(), f"{path.name}: {name}"


PAGE = """{% extends "base.html" %}{% set active_nav = "query" %}
{% import "macros.html" as ui %}
{% block title %}Query{% endblock %}
{% block content %}
{{ ui.button("Run", kind="primary", type="submit", icon="play", attrs={"hx-post": "/q"}) }}
{{ ui.link_button("Open", "/x", icon="plus") }}
{{ ui.status_badge(status) }}
{{ ui.data_table(columns, rows, sort="mass", direction="desc", caption="penguins") }}
{{ ui.data_table(columns, [], empty_message="Nothing yet.") }}
{{ ui.pagination(3, page_count=9) }}
{{ ui.error_alert(error) }}
{{ ui.alert("Saved", level="success") }}
{% call ui.empty_state("No dashboards") %}{{ ui.button("New") }}{% endcall %}
{{ ui.field("sql", "SQL", type="sql", value=sql, error=error, hint="DuckDB SQL") }}
{{ ui.field("catalog", "Catalog", type="select", options=[("a", "A"), ("b", "B")], value="b") }}
{{ ui.theme_choice(theme) }}
{{ ui.chart("/charts/1.json", "chart-1", "Mass by island") }}
{{ ui.elapsed(1700000000000) }}
{% endblock %}"""

CONTEXT: dict[str, Any] = {
    "theme": "dark",
    "csrf_token": "tok<en>",
    "user": {"name": "Ada"},
    "current_catalog": "local:penguins",
    "toasts": [{"level": "error", "code": "CATALOG_UNAVAILABLE", "message": "down"}],
    "status": "failed",
    "columns": [
        {"key": "species", "label": "species", "sortable": True},
        {"key": "mass", "label": "mass", "numeric": True, "format": "%.1f", "type": "DOUBLE"},
    ],
    "rows": [{"species": "Adelie", "mass": 3750.0}, {"species": "<b>Gentoo</b>", "mass": None}],
    "error": {"code": "QUERY_INVALID_SQL", "message": 'syntax error at "FORM"'},
    "sql": "SELECT 1 < 2",
}


def render_page(**overrides: Any) -> str:
    return environment().from_string(PAGE).render({**CONTEXT, **overrides})


def test_a_page_renders_with_base_and_every_macro() -> None:
    html = render_page()
    assert '<html lang="en" data-theme="dark">' in html
    assert '<meta name="csrf-token" content="tok&lt;en&gt;">' in html
    assert 'href="/query" title="Query" aria-current="page"' in html
    assert "local:penguins" in html
    assert "badge--failed" in html
    assert 'aria-sort="descending"' in html
    assert "&lt;b&gt;Gentoo&lt;/b&gt;" in html  # cell values are escaped
    assert '<td class="num">3750.0</td>' in html
    assert '<span class="null">NULL</span>' in html
    assert 'aria-describedby="field-sql-hint field-sql-error"' in html
    assert "SELECT 1 &lt; 2" in html
    assert 'value="dark" data-theme-choice checked' in html
    assert 'data-chart-src="/charts/1.json"' in html
    assert "CATALOG_UNAVAILABLE" in html
    assert csp_problems(html) == []


def test_every_filter_a_template_uses_is_on_the_shared_environment_from_the_start() -> None:
    """A template compiled before a filter is registered fails for it ever after (a
    result page answered 500 once a page without floats had compiled the macros first)."""
    from ironstar.web.templating import templates

    env = templates.env
    used: set[str] = set()
    for path in TEMPLATES.rglob("*.html"):
        ast = env.parse(path.read_text())
        used |= {node.name for node in ast.find_all(jinja2.nodes.Filter)}
    assert used and used <= set(env.filters), used - set(env.filters)


def test_float_cells_show_at_most_six_decimals_and_keep_the_exact_value() -> None:
    table = environment().from_string(
        '{% import "macros.html" as ui %}{{ ui.data_table(columns, rows) }}'
    )
    values = [79.83544303797468, 0.1 + 0.2, 81.0, 1234567.891, 0.00001234, -2e20, 7]
    html = table.render(columns=[{"key": "v", "label": "v"}], rows=[{"v": v} for v in values])
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    assert cells == ["79.835443", "0.3", "81.0", "1234567.891", "1.234e-05", "-2e+20", "7"]
    assert '<td class="num" title="79.83544303797468">' in html


def test_base_needs_only_theme_token_and_user() -> None:
    html = (
        environment()
        .get_template("base.html")
        .render(theme="system", csrf_token="t", user={"name": "local"})
    )
    assert 'data-theme="system"' in html
    assert "Choose a catalog" in html
    assert "aria-current" not in html


def test_signed_out_pages_have_no_navigation_or_user_menu() -> None:
    html = environment().get_template("base.html").render(theme="light", csrf_token="", user=None)
    assert 'class="app app--signed-out"' in html
    assert 'class="rail"' not in html
    assert "Log out" not in html
    assert csp_problems(html) == []


def test_rendered_pages_link_only_existing_icons() -> None:
    symbols = set(re.findall(r'<symbol id="([a-z-]+)"', (STATIC / "icons.svg").read_text()))
    used = set(re.findall(r"icons\.svg\?v=test#([a-z-]+)", render_page()))
    assert used and used <= symbols


# ── design tokens ──────────────────────────────────────────────────────────────────


def token_names(css: str, selector_start: str) -> set[str]:
    start = css.index(selector_start)
    block = css[css.index("{", start) + 1 : css.index("}", start)]
    return set(re.findall(r"(--[a-z0-9-]+)\s*:", block))


def test_light_dark_and_system_themes_define_the_same_tokens() -> None:
    css = (STATIC / "ironstar.css").read_text()
    light = token_names(css, ':root[data-theme="light"]')
    dark = token_names(css, '\n[data-theme="dark"] {')
    system = token_names(css, ':root[data-theme="system"] {')
    assert "--bg" in light and "--chart-1" in light
    assert light == dark == system


def test_stylesheet_braces_balance() -> None:
    css = without_comments(Path("x.css"), (STATIC / "ironstar.css").read_text())
    depth = 0
    for char in css:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0


# ── the gallery's own references ───────────────────────────────────────────────────


def test_gallery_references_exist_and_chart_data_is_json() -> None:
    html = GALLERY.read_text()
    for ref in re.findall(r'(?:src|href)="([^"#:?]+)"', html):
        assert (GALLERY.parent / ref).resolve().is_file(), ref
    sources = re.findall(r'data-chart-src="([^"]+)"', html)
    assert sources
    for src in sources:
        option = json.loads((GALLERY.parent / src).read_text())
        assert option["series"], src
