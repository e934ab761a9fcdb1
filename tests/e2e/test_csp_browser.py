"""No page breaks its own Content-Security-Policy (in Chromium, over HTTP).

The policy is strict (style-src 'self': no style attributes, no <style> elements), and a
vendored library that writes one gets blocked: nothing may look broken, but the console
fills with errors. Each main page is opened and used the way that once triggered such
writes (charts drawn and hovered, htmx swapping results and SSE swapping a dashboard in
place), and every violation Chromium reports, as a console message or as a
``securitypolicyviolation`` event, fails the test.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.web.conftest import ServedApp, signed_in

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

TOTALS_SQL = "SELECT station, sum(value) AS total, count(*) AS n FROM measurements GROUP BY 1"
BAR = {"chart_type": "bar", "x": "station", "y": ["total"], "title": "Totals"}
# The page reports violations as console errors with a marker the test looks for.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`csp-violation ${event.effectiveDirective} ${event.sourceFile}:` +
    `${event.lineNumber} sample=${JSON.stringify(event.sample)}`);
}, true);
"""


class Violations:
    def __init__(self, page: Any) -> None:
        self.seen: list[str] = []
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or text.startswith("csp-violation"):
            self.seen.append(f"{message.page.url if message.page else ''}: {text}")


@pytest.fixture
def api(lab_app: ServedApp) -> Iterator[httpx.Client]:
    with signed_in(lab_app) as client:
        yield client


def completed_query(api: httpx.Client) -> str:
    assert api.post("/api/catalogs/lab/select").status_code == 200
    body = {"sql": TOTALS_SQL, "catalog": "lab", "chart_config": BAR}
    made = api.post("/api/queries", json=body)
    assert made.status_code == 202, made.text
    query_id: str = made.json()["query_id"]
    deadline = time.monotonic() + 30
    while (status := api.get(f"/api/queries/{query_id}").json()["status"]) == "running":
        assert time.monotonic() < deadline, "the query did not finish"
        time.sleep(0.05)
    assert status == "completed", status
    return query_id


def dashboard_with_charts(api: httpx.Client, query_id: str, count: int) -> str:
    board: str = api.post("/api/dashboards", json={"name": "Watched"}).json()["dashboard_id"]
    tab = api.get(f"/api/dashboards/{board}").json()["tabs"][0]["tab_id"]
    for n in range(count):
        place = {"query_id": query_id, "tab_id": tab, "x": n * 6, "y": 0, "w": 6, "h": 4}
        assert api.post(f"/api/dashboards/{board}/charts", json=place).status_code == 201
    return board


def charts_drawn(page: Any, count: int) -> None:
    expect(page.locator('[data-chart-state="drawn"]')).to_have_count(count)


def hover_charts(page: Any) -> None:
    for chart in page.locator('[data-chart-state="drawn"]').all():
        box = chart.bounding_box()
        for step in range(1, 5):
            page.mouse.move(box["x"] + box["width"] * step / 5, box["y"] + box["height"] / 2)
            page.wait_for_timeout(50)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_page_violates_the_content_security_policy(
    lab_app: ServedApp, api: httpx.Client, browser: Any, theme: str
) -> None:
    query_id = completed_query(api)
    board = dashboard_with_charts(api, query_id, 2)
    assert api.put("/api/preferences/theme", json={"theme": theme}).status_code == 200
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_cookies(
        [{"name": k, "value": v, "url": lab_app.url} for k, v in api.cookies.items()]
    )
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    violations = Violations(page)
    try:
        for path in ("/", "/catalogs", "/datasets", "/query", "/history", "/saved-queries"):
            page.goto(lab_app.url + path)
            page.wait_for_load_state("networkidle")

        page.goto(f"{lab_app.url}/preferences")
        expect(page.locator("html")).to_have_attribute("data-theme", theme)

        # A query's page: its chart, hovered; then an htmx swap of the sorted results.
        page.goto(f"{lab_app.url}/queries/{query_id}")
        charts_drawn(page, 1)
        hover_charts(page)
        page.locator("#result-table").get_by_role("link", name="total").click()
        expect(page.locator("#result-table th[aria-sort]")).to_have_attribute(
            "aria-sort", "ascending"
        )
        charts_drawn(page, 1)

        # A dashboard: charts drawn and hovered; a change made elsewhere arrives over SSE
        # and is swapped in place over elements the scripts have styled.
        page.goto(f"{lab_app.url}/dashboards/{board}")
        charts_drawn(page, 2)
        hover_charts(page)
        renamed = api.post(f"/api/dashboards/{board}/rename", json={"name": "Renamed"})
        assert renamed.status_code == 200, renamed.text
        expect(page.locator("#dashboard-name")).to_have_text("Renamed")
        charts_drawn(page, 2)
        hover_charts(page)
        page.wait_for_timeout(300)  # reports are asynchronous
    finally:
        context.close()
    assert violations.seen == [], "\n".join(violations.seen)
