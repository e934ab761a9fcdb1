"""The seed workflow in a real browser (Playwright + Debian's Chromium), end to end over
HTTP: sign in, pick a catalog, browse, run and cancel queries, configure a chart, build a
dashboard with two tabs, move and remove charts, rename, save and change a query, set
preferences, log out; an expired session; two browsers watching one dashboard live."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import lab_data_dir
from tests.integration.web.conftest import ServedApp, serve_ironstar, web_settings

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

TOTALS_SQL = (
    "SELECT station, sum(value) AS total, count(*) AS n\n"
    "FROM measurements\nGROUP BY station\nORDER BY station"
)
SLOW_SQL = "SELECT count(*) FROM range(100000000000) a(i) WHERE i % 7 = 3"


class Watched:
    """A page plus everything it reported that a user would call broken."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type} on {page.url}: {m.text}")
                if m.type == "error" and "Content Security Policy" in m.text
                else None
            ),
        )
        page.on(
            "response",
            lambda r: self.problems.append(f"{r.status} {r.url}") if r.status >= 500 else None,
        )


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    made = browser.new_context(viewport={"width": 1440, "height": 960})
    made.set_default_timeout(15_000)
    yield made
    made.close()


def sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_role("button", name="Continue as local analyst").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def settle(page: Any) -> None:
    """Wait until every chart on the page is drawn or has shown its error."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart-src]')]"
        ".every(el => ['drawn', 'error'].includes(el.dataset.chartState))"
    )


def test_the_seed_workflow_in_the_browser(lab_app: ServedApp, context: Any, shots: Path) -> None:
    base = lab_app.url
    watched = Watched(context.new_page())
    page = watched.page

    # Phase 1: sign in.
    sign_in(page, base)

    # Phase 2: the catalog picker; the offline catalog is refused with its reason.
    page.get_by_role("link", name="Catalogs").first.click()
    fixtures = page.locator('[data-catalog="fixtures"]')
    fixtures.get_by_role("button").click()
    alert = page.get_by_role("alert").first
    expect(alert).to_contain_text("catalog_unavailable")
    expect(page.locator('[data-catalog="fixtures"]')).to_contain_text("Why:")
    page.screenshot(path=shots / "01-catalog-unavailable.png", full_page=True)
    page.locator('[data-catalog="lab"]').get_by_role("button", name="Select").click()
    expect(page).to_have_url(re.compile(r"/datasets$"))

    # Phase 3a: browse datasets, tables, columns, row counts; search.
    expect(page.locator(".topbar__catalog-name")).to_have_text("lab")
    expect(page.get_by_text("measurements", exact=True)).to_be_visible()
    expect(page.get_by_text("1,000 rows", exact=False).first).to_be_visible()
    page.get_by_label("Search datasets, tables and columns").fill("sites")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".dataset-grid .card")).to_have_count(1)
    expect(page.locator(".dataset-grid")).to_contain_text("field")
    page.screenshot(path=shots / "02-datasets.png", full_page=True)

    # Phase 3b: run a query with a chart; the page turns Completed by itself (SSE).
    page.goto(f"{base}/query")
    page.locator("#sql").fill(TOTALS_SQL)
    page.locator("#dataset").select_option("main")
    page.get_by_text("Chart (optional)").click()
    page.locator("#run-chart-type").select_option("bar")
    page.locator("#run-x").fill("station")
    page.locator("#run-y").fill("total")
    page.locator("#run-title").fill("Total by station")
    page.locator("#run-title").press("Control+Enter")  # runs from any field of the form
    expect(page).to_have_url(re.compile(r"/queries/[0-9a-f]{32}$"))
    totals_url = page.url
    expect(page.locator("#query-live .badge--status")).to_have_text("Completed", timeout=20_000)
    expect(page.locator("#result-table tbody tr")).to_have_count(7)
    expect(page.locator(".provenance")).to_contain_text("Snapshot")
    page.locator("#result-table").get_by_role("link", name="total").click()
    expect(page.locator("#result-table th[aria-sort]")).to_have_attribute("aria-sort", "ascending")
    settle(page)
    expect(page.locator(".chart--preview")).to_have_attribute("data-chart-state", "drawn")
    page.screenshot(path=shots / "03-query-light.png", full_page=True)

    # Chart configurator: a pie with two value columns does not fit -> column and rule.
    page.locator("#cfg-type").select_option("pie")
    page.locator("#cfg-y").select_option(["total", "n"])
    mismatch = page.locator("[data-chart-mismatch]")
    expect(mismatch).to_contain_text("chart_type_mismatch")
    expect(mismatch).to_contain_text("Rule")
    page.screenshot(path=shots / "04-chart-mismatch.png", full_page=True)
    page.locator("#cfg-type").select_option("line")
    page.locator("#cfg-y").select_option(["total"])
    expect(page.locator(".chart--preview")).to_have_attribute("data-chart-state", "drawn")

    # Re-run pinned to the snapshot the query read.
    page.get_by_role("button", name=re.compile(r"Re-run pinned to snapshot \d+")).click()
    expect(page.locator("#query-live .badge--status")).to_have_text("Completed", timeout=20_000)
    expect(page.locator(".provenance")).to_contain_text("Re-run of")

    # Phase 3c: cancel a long-running query; status, elapsed time, then Cancelled.
    page.goto(f"{base}/query")
    page.locator("#sql").fill(SLOW_SQL)
    page.locator("#run-button").click()
    expect(page.locator("#query-live .badge--status")).to_have_text("Running")
    expect(page.locator("[data-elapsed-since]")).not_to_have_text("00:00.0")
    page.screenshot(path=shots / "05-query-running.png", full_page=True)
    page.locator("#cancel-button").click()
    expect(page.locator("#query-live .badge--status")).to_have_text("Cancelled", timeout=20_000)

    # Phase 4: a dashboard with two tabs; add charts with grid position and size.
    page.get_by_role("link", name="Dashboards").first.click()
    page.get_by_label("Name").fill("Q4 Metrics")
    page.get_by_role("button", name="Create dashboard").click()
    expect(page.locator("#dashboard-name")).to_have_text("Q4 Metrics")
    dashboard_url = page.url.split("?")[0]
    page.locator("#new-tab-name").fill("Details")
    page.get_by_role("button", name="Add tab").click()
    expect(page.locator(".tab")).to_have_count(2)
    page.locator(".tab", has_text="Overview").click()
    for x in ("0", "6"):
        page.locator("#add-x").fill(x)
        page.locator("#add-y").fill("0")
        page.locator("#add-w").fill("6")
        page.locator("#add-h").fill("4")
        page.get_by_role("button", name="Add chart").click()
        expect(page.locator("#add-chart-form")).to_be_visible()
    items = page.locator("[data-grid-item]")
    expect(items).to_have_count(2)
    settle(page)
    expect(page.locator(".grid-item .chart[data-chart-state=drawn]")).to_have_count(2)
    page.screenshot(path=shots / "06-dashboard-light.png", full_page=True)

    # Move by keyboard (arrow, Enter saves) and resize (Shift+arrow); the server agrees.
    # The id first: once saved, the live update re-renders the grid in (y, x) order, and
    # "the first item" then names the other chart.
    chart_id = items.first.get_attribute("data-chart-id")
    first = page.locator(f'[data-chart-id="{chart_id}"]')
    first.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    wait_for_layout(lab_app, page, dashboard_url, chart_id, lambda c: c["y"] == 1)
    page.goto(dashboard_url)
    first = page.locator(f'[data-chart-id="{chart_id}"]')
    first.focus()
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Enter")
    wait_for_layout(lab_app, page, dashboard_url, chart_id, lambda c: c["height"] == 5)

    # Move by dragging the title bar one column to the right... and back by pointer.
    page.goto(dashboard_url)
    settle(page)
    second_id = page.locator("[data-grid-item]").nth(1).get_attribute("data-chart-id")
    second = page.locator(f'[data-chart-id="{second_id}"]')
    handle = second.locator("[data-grid-handle] .card__title")
    for attempt in range(3):  # a drag that starts while a chart redraws can miss: try again
        box = handle.bounding_box()
        page.mouse.move(box["x"] + 10, box["y"] + 5)
        page.mouse.down()
        page.mouse.move(box["x"] + 10, box["y"] + 5 + 5 * 96, steps=8)
        page.mouse.up()
        last_try = attempt == 2
        moved = wait_for_layout(
            lab_app,
            page,
            dashboard_url,
            second_id,
            lambda c: c["y"] >= 4,
            timeout=10 if last_try else 4,
            required=last_try,
        )
        if moved:
            break
        page.goto(dashboard_url)
        settle(page)

    # Move a chart to the other tab, then remove the remaining one.
    page.goto(dashboard_url)
    menu = page.locator(f'[data-chart-id="{second_id}"] .menu--chart')
    menu.locator("summary").click()
    menu.get_by_role("button", name="Move to tab").click()
    expect(page.locator(".tab", has_text="Details").locator(".tab__count")).to_have_text("1")
    remaining = page.locator("[data-grid-item]")
    expect(remaining).to_have_count(1)
    remaining.first.locator(".menu--chart summary").click()
    remaining.first.get_by_role("button", name="Remove chart").click()
    expect(page.locator("[data-grid-item]")).to_have_count(0)
    page.locator(".tab", has_text="Details").click()
    expect(page.locator("[data-grid-item]")).to_have_count(1)
    # dragged down on Overview, it lands at the top of the empty tab
    wait_for_layout(lab_app, page, dashboard_url, second_id, lambda c: (c["x"], c["y"]) == (0, 0))
    page.screenshot(path=shots / "06b-moved-to-details.png", full_page=True)

    # Rename.
    page.locator("summary", has_text="Rename").click()
    page.locator("#rename-name").fill("Q4 Review")
    page.locator("#rename-form").get_by_role("button", name="Rename").click()
    expect(page.locator("#dashboard-name")).to_have_text("Q4 Review")

    # History: who and when, the dashboard as of a change, restore.
    page.get_by_role("link", name="History").last.click()
    expect(page.locator(".timeline__item").first).to_contain_text("Q4 Review")
    expect(page.locator(".timeline__item").first).to_contain_text("Local analyst")
    with_two = page.locator(".timeline__item", has_text=re.compile("placed|added", re.I)).first
    with_two.get_by_role("link", name="View as of this change").click()
    expect(page.locator("#asof-title")).to_contain_text("As of version")
    settle(page)
    page.screenshot(path=shots / "07-history.png", full_page=True)

    # Phase 5: save a query from the editor, rename it, change its SQL, open it.
    page.goto(totals_url)
    page.locator("#save-name").fill("Station totals")
    page.get_by_role("button", name="Save as…").click()
    expect(page).to_have_url(re.compile(r"/saved-queries$"))
    saved = page.locator('[data-saved-name="Station totals"]')
    saved.locator("summary", has_text="Rename").click()
    saved.get_by_label("New name").fill("Totals by station")
    saved.get_by_role("button", name="Rename").click()
    saved = page.locator('[data-saved-name="Totals by station"]')
    expect(saved).to_be_visible()
    saved.locator("summary", has_text="Edit SQL").click()
    saved.locator("textarea").fill(
        "SELECT station, max(value) AS peak FROM measurements GROUP BY 1"
    )
    saved.get_by_role("button", name="Update SQL").click()
    expect(page.locator('[data-saved-name="Totals by station"] pre')).to_contain_text("peak")
    page.locator('[data-saved-name="Totals by station"]').get_by_role(
        "link", name="Open in editor"
    ).click()
    expect(page.locator("#sql")).to_have_value(re.compile("peak"))

    # Phase 6: preferences - the theme applies at once and is kept; default catalog.
    page.get_by_role("link", name="Preferences").click()
    page.locator(".segmented label", has_text="Dark").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page).to_have_url(re.compile(r"saved=theme"))
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.locator("#field-catalog_id").select_option("lab")
    page.get_by_role("button", name="Set default").click()
    expect(page.locator("#default-catalog")).to_have_text("lab")
    page.get_by_role("button", name="Clear default").click()
    expect(page.locator("#default-catalog")).to_have_text("none")
    page.get_by_role("button", name="Set default").click()
    expect(page.locator("#default-catalog")).to_have_text("lab")
    page.screenshot(path=shots / "08-preferences-dark.png", full_page=True)
    page.goto(dashboard_url)
    page.locator(".tab", has_text="Details").click()
    settle(page)
    page.screenshot(path=shots / "09-dashboard-dark.png", full_page=True)
    page.goto(totals_url)
    settle(page)
    page.screenshot(path=shots / "10-query-dark.png", full_page=True)

    # Log out: back to sign-in; pages now send you there.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto(dashboard_url)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    # Known, reported to the front-end owner: ECharts applies inline styles on hover that
    # style-src 'self' blocks (nothing visible breaks); kept beside the screenshots.
    csp = [p for p in watched.problems if "Content Security Policy" in p]
    (shots / "csp-console.txt").write_text("\n".join(csp))
    unexpected = [p for p in watched.problems if "/catalogs/select" not in p and p not in csp]
    assert unexpected == [], "\n".join(unexpected)


def wait_for_layout(
    served: ServedApp,
    page: Any,
    url: str,
    chart_id: str | None,
    check: Any,
    *,
    timeout: float = 10,
    required: bool = True,
) -> dict[str, Any]:
    """Poll the dashboard's JSON twin until the chart satisfies ``check`` (an empty dict
    when it never does and the caller will try again)."""
    deadline = time.monotonic() + timeout
    chart: dict[str, Any] = {}
    while time.monotonic() < deadline:
        layout = page.request.get(url, headers={"accept": "application/json"}).json()
        found = [c for t in layout["tabs"] for c in t["charts"] if c["chart_id"] == chart_id]
        if found and check(found[0]):
            return found[0]
        chart = found[0] if found else {}
        time.sleep(0.1)
    if not required:
        return {}
    toasts = page.locator(".toast").all_inner_texts()
    raise AssertionError(f"the chart never got there; last seen {chart}; toasts {toasts}")


def test_an_expired_session_sends_the_browser_to_login(browser: Any, tmp_path: Path) -> None:
    settings = web_settings(lab_data_dir(tmp_path), session_ttl_seconds=2)
    with serve_ironstar(settings) as served:
        context = browser.new_context()
        try:
            page = context.new_page()
            sign_in(page, served.url)
            page.get_by_role("link", name="Dashboards").first.click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Dashboards")
            time.sleep(2.5)
            page.get_by_role("link", name="Saved queries").first.click()
            expect(page).to_have_url(re.compile(r"/login\?next=/saved-queries"))
            expect(page.get_by_role("button", name="Continue as local analyst")).to_be_visible()
        finally:
            context.close()


def test_two_browsers_watch_one_dashboard_live(
    lab_app: ServedApp, browser: Any, shots: Path
) -> None:
    base = lab_app.url
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    try:
        alice, bob = (c.new_page() for c in contexts)
        for page in (alice, bob):
            sign_in(page, base)
        # A completed query with a chart, and a dashboard, made in Alice's browser.
        alice.goto(f"{base}/catalogs")
        alice.locator('[data-catalog="lab"]').get_by_role("button", name="Select").click()
        alice.goto(f"{base}/query")
        alice.locator("#sql").fill(TOTALS_SQL)
        alice.get_by_text("Chart (optional)").click()
        alice.locator("#run-chart-type").select_option("bar")
        alice.locator("#run-x").fill("station")
        alice.locator("#run-y").fill("total")
        alice.locator("#run-button").click()
        expect(alice.locator("#query-live .badge--status")).to_have_text(
            "Completed", timeout=20_000
        )
        alice.goto(f"{base}/dashboards")
        alice.get_by_label("Name").fill("Shared view")
        alice.get_by_role("button", name="Create dashboard").click()
        url = alice.url.split("?")[0]

        bob.goto(url)
        wait_until_connected(lab_app, 2)

        # A chart added in one browser appears in the other within a second.
        alice.get_by_role("button", name="Add chart").click()
        started = time.monotonic()
        expect(bob.locator("[data-grid-item]")).to_have_count(1, timeout=5_000)
        added_after = time.monotonic() - started
        # A rename, likewise.
        alice.locator("summary", has_text="Rename").click()
        alice.locator("#rename-name").fill("Shared and renamed")
        alice.locator("#rename-form").get_by_role("button", name="Rename").click()
        started = time.monotonic()
        expect(bob.locator("#dashboard-name")).to_have_text("Shared and renamed", timeout=5_000)
        renamed_after = time.monotonic() - started
        settle(bob)
        bob.screenshot(path=shots / "11-live-second-browser.png", full_page=True)
        assert added_after < 1.0, f"the chart took {added_after:.2f} s to appear"
        assert renamed_after < 1.0, f"the rename took {renamed_after:.2f} s to appear"
    finally:
        for c in contexts:
            c.close()


def wait_until_connected(served: ServedApp, clients: int) -> None:
    """Until the server holds ``clients`` open SSE streams (both pages are listening)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        broadcaster = getattr(served.app.state, "broadcaster", None)
        if broadcaster is not None and len(broadcaster.clients) >= clients:
            return
        time.sleep(0.05)
    raise AssertionError("the dashboard pages never opened their event streams")
