"""HTML pages over real HTTP: each renders for its owner, another user's dashboard is not
found, forms need the CSRF token, a double submit writes once, errors show inline."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from ironstar.domain.session import SignInIdentity
from tests.integration.web.conftest import (
    ServedApp,
    signed_in,
)

HTML = {"accept": "text/html"}
TOTALS = "SELECT station, sum(value) AS total FROM measurements GROUP BY station ORDER BY 1"


@pytest.fixture
def analyst(lab: ServedApp) -> Iterator[httpx.Client]:
    with signed_in(lab) as client:
        client.headers.update(HTML)
        yield client


def completed_query(lab: ServedApp, client: httpx.Client, *, chart: bool = True) -> str:
    assert client.post("/catalogs/select", data={"catalog_id": "lab"}).status_code == 303
    form = {"sql": TOTALS}
    if chart:
        form.update(chart_type="bar", x="station", y="total")
    response = client.post("/queries", data=form)
    assert response.status_code == 303, response.text
    query_id = response.headers["location"].rsplit("/", 1)[1]
    for _ in range(200):
        if client.get(f"/queries/{query_id}?format=json").json()["status"] != "running":
            break
        time.sleep(0.05)
    return query_id


def test_every_page_renders_for_its_owner(lab: ServedApp, analyst: httpx.Client) -> None:
    query_id = completed_query(lab, analyst)
    board = analyst.post("/dashboards", data={"name": "Q4 Metrics"}).headers["location"]
    expected = {
        "/": "Welcome",
        "/catalogs": "fixtures",
        "/datasets": "measurements",
        "/datasets?q=sites": "sites",
        "/query": "SQL editor",
        f"/queries/{query_id}": "Re-run pinned to snapshot",
        f"/queries/{query_id}?sort=total&dir=desc": 'aria-sort="descending"',
        "/dashboards": "Q4 Metrics",
        board: "Add a chart",
        f"{board}/history": "created the dashboard",
        "/saved-queries": "No saved queries yet",
        "/history": "Query provenance",
        "/preferences": "Default catalog",
    }
    # The navigation rail marks the section a page belongs to (a dashboard's history is
    # under Dashboards; the rail's History is query provenance).
    section = {
        "/query": "/query",
        board: "/dashboards",
        f"{board}/history": "/dashboards",
        "/history": "/history",
        "/saved-queries": "/saved-queries",
    }
    for path, text in expected.items():
        response = analyst.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        assert text in response.text, path
        assert "Traceback" not in response.text
        if path in section:
            marked = re.findall(r'href="([^"]+)" title="[^"]+" aria-current="page"', response.text)
            assert [urlsplit(href).path for href in marked] == [section[path]], path
    twin = analyst.get(board, headers={"accept": "application/json"})
    assert twin.json()["name"] == "Q4 Metrics"
    csv = analyst.get(f"/queries/{query_id}/export.csv")
    assert csv.status_code == 200 and csv.text.splitlines()[0].replace('"', "") == "station,total"
    chart = analyst.get(f"/charts/{query_id}.json").json()
    assert chart["series"][0]["type"] == "bar"


def test_a_result_without_a_chart_gets_a_suggested_one(
    lab: ServedApp, analyst: httpx.Client
) -> None:
    query_id = completed_query(lab, analyst, chart=False)
    page = analyst.get(f"/queries/{query_id}").text
    assert "suggested from the result" in page
    # station and total are both numbers: a scatter of one against the other
    assert '<option value="scatter" selected>' in page and "data-chart-src=" in page
    src = re.search(r'data-chart-src="([^"]+)"', page)
    assert src is not None
    chart = analyst.get(src.group(1).replace("&amp;", "&"))
    assert chart.status_code == 200 and chart.json()["series"][0]["type"] == "scatter"


def test_another_users_dashboard_is_not_found(lab: ServedApp, analyst: httpx.Client) -> None:
    board = analyst.post("/dashboards", data={"name": "Mine"}).headers["location"]
    session_id, _ = lab.call(
        lab.services.workflow.sign_in(
            SignInIdentity(provider="github", provider_user_id="9", login="eve", display_name="")
        )
    )
    with lab.client(cookies={"ironstar_session": session_id}, headers=HTML) as eve:
        response = eve.get(board)
        assert response.status_code == 404
        assert "not_found" in response.text and "Traceback" not in response.text
        assert eve.get(f"{board}/history").status_code == 404


def test_forms_without_the_csrf_token_are_refused(analyst: httpx.Client) -> None:
    del analyst.headers["x-csrf-token"]
    response = analyst.post("/dashboards", data={"name": "Forged"})
    assert response.status_code == 403 and "csrf_failed" in response.text
    assert "Forged" not in analyst.get("/dashboards").text


def test_a_double_submit_with_one_key_writes_once(lab: ServedApp, analyst: httpx.Client) -> None:
    form = {"name": "Once", "idempotency_key": "the-same-key"}
    first = analyst.post("/dashboards", data=form)
    second = analyst.post("/dashboards", data=form)
    assert first.headers["location"] == second.headers["location"]
    assert len(lab.events("DashboardCreated")) == 1
    board = first.headers["location"]
    for _ in range(2):
        analyst.post(f"{board}/rename", data={"name": "Twice?", "idempotency_key": "rename-1"})
    assert len(lab.events("DashboardRenamed")) == 1


def test_errors_render_inline_with_their_code(lab: ServedApp, analyst: httpx.Client) -> None:
    unavailable = analyst.post("/catalogs/select", data={"catalog_id": "fixtures"})
    assert unavailable.status_code == 503
    assert "catalog_unavailable" in unavailable.text and "Why:" in unavailable.text
    query_id = completed_query(lab, analyst)
    preview = analyst.get(
        f"/queries/{query_id}/chart-preview",
        params={"cfg_chart_type": "pie", "cfg_x": "station", "cfg_y": ["total", "station"]},
    )
    assert "chart_type_mismatch" in preview.text and "Column" in preview.text
    board = analyst.post("/dashboards", data={"name": "Grid"}).headers["location"]
    tab = analyst.get(board, headers={"accept": "application/json"}).json()["tabs"][0]["tab_id"]
    place = {"query_id": query_id, "tab": tab, "x": "0", "y": "0", "w": "6", "h": "4"}
    assert analyst.post(f"{board}/charts", data=place).status_code == 303
    overlap = analyst.post(f"{board}/charts", data={**place, "x": "3"})
    assert overlap.status_code == 409 and "grid_overlap" in overlap.text
    saved = {"sql": "SELECT 1", "name": "One"}
    assert analyst.post("/saved-queries", data=saved).status_code == 303
    taken = analyst.post("/saved-queries", data=saved)
    assert taken.status_code == 409 and "name_taken" in taken.text
    empty = analyst.post("/queries", data={"sql": "   "})
    assert empty.status_code == 422 and "invalid_sql" in empty.text


def test_the_add_chart_form_proposes_the_highest_free_place(
    lab: ServedApp, analyst: httpx.Client
) -> None:
    query_id = completed_query(lab, analyst)
    board = analyst.post("/dashboards", data={"name": "Places"}).headers["location"]
    tab = analyst.get(board, headers={"accept": "application/json"}).json()["tabs"][0]["tab_id"]

    def proposed() -> tuple[str, str]:
        page = analyst.get(board).text
        return _input_value(page, "add-x"), _input_value(page, "add-y")

    assert proposed() == ("0", "0")
    place = {"query_id": query_id, "tab": tab, "x": "0", "y": "0", "w": "6", "h": "4"}
    assert analyst.post(f"{board}/charts", data=place).status_code == 303
    assert proposed() == ("6", "0")  # beside the first chart, not below it
    assert analyst.post(f"{board}/charts", data={**place, "x": "6"}).status_code == 303
    assert proposed() == ("0", "4")


def _input_value(page: str, input_id: str) -> str:
    tag = page[page.index(f'id="{input_id}"') :].split(">", 1)[0]
    return tag.split('value="', 1)[1].split('"', 1)[0]


def test_a_removed_result_is_explained_not_an_error(lab: ServedApp, analyst: httpx.Client) -> None:
    query_id = completed_query(lab, analyst)
    (stored,) = lab.settings.data_dir.rglob(f"{query_id}.parquet")
    stored.unlink()  # what retention (or a person tidying the disk) does
    page = analyst.get(f"/queries/{query_id}")
    assert page.status_code == 200, page.text
    assert "result_not_found" in page.text and "re-run the query pinned" in page.text
    gone = analyst.get(f"/api/queries/{query_id}/results", headers={"accept": "application/json"})
    assert gone.status_code == 410 and gone.json()["code"] == "result_not_found"


def test_kept_panel_sizes_read_in_words_and_reset(lab: ServedApp, analyst: httpx.Client) -> None:
    assert "Nothing kept yet" in analyst.get("/preferences").text
    kept = analyst.post("/preferences/ui-state", json={"panels": {"browser": 280}})
    assert kept.status_code == 204
    page = analyst.get("/preferences").text
    assert "Dataset browser beside the SQL editor" in page and "280 px" in page
    reset = analyst.post("/preferences/ui-state/reset", data={"idempotency_key": "reset-1"})
    assert reset.status_code == 303
    page = analyst.get(reset.headers["location"]).text
    assert "Layout reset" in page and "Nothing kept yet" in page
    assert analyst.get("/api/preferences").json()["ui_state"] == {}
