"""How a dashboard page gets its charts, over real HTTP: the page carries the open tab's
chart data that is ready, or preloads it; that data is computed once per (result, config)
and follows the result file; versioned static files are cached for good, unversioned ones
revalidated."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.integration.web.conftest import (
    ServedApp,
    signed_in,
)

TOTALS = "SELECT station, sum(value) AS total FROM measurements GROUP BY station ORDER BY 1"
BAR = {"chart_type": "bar", "x": "station", "y": ["total"], "title": "Totals"}


@pytest.fixture
def api(lab: ServedApp) -> Iterator[httpx.Client]:
    with signed_in(lab) as client:
        yield client


def completed_query(api: httpx.Client) -> dict[str, str]:
    assert api.post("/api/catalogs/lab/select").status_code == 200
    made = api.post("/api/queries", json={"sql": TOTALS, "catalog": "lab", "chart_config": BAR})
    assert made.status_code == 202, made.text
    query_id = made.json()["query_id"]
    deadline = time.monotonic() + 30
    while (query := api.get(f"/api/queries/{query_id}").json())["status"] == "running":
        assert time.monotonic() < deadline, "the query did not finish"
        time.sleep(0.05)
    assert query["status"] == "completed", query
    row: dict[str, str] = api.get(f"/queries/{query_id}?format=json").json()  # the read model
    return row


def dashboard(api: httpx.Client, query_id: str, charts: int) -> str:
    board: str = api.post("/api/dashboards", json={"name": "Board"}).json()["dashboard_id"]
    tab = api.get(f"/api/dashboards/{board}").json()["tabs"][0]["tab_id"]
    for n in range(charts):
        place = {
            "query_id": query_id,
            "tab_id": tab,
            "x": n % 4 * 3,
            "y": n // 4 * 3,
            "w": 3,
            "h": 3,
        }
        assert api.post(f"/api/dashboards/{board}/charts", json=place).status_code == 201
    return board


def chart_urls(page: str) -> tuple[list[str], list[str], dict[str, object]]:
    """(the chart data URLs the page draws from, the URLs it preloads as fetches, the
    options it carries by URL path)."""
    drawn = re.findall(r'data-chart-src="([^"]+)"', page)
    preloaded = re.findall(r'<link rel="preload" as="fetch" crossorigin href="([^"]+)"', page)
    found = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page)
    return drawn, preloaded, json.loads(found.group(1)) if found else {}


def test_the_page_carries_or_preloads_each_of_the_open_tabs_charts(
    lab: ServedApp, api: httpx.Client
) -> None:
    query = completed_query(api)
    board = dashboard(api, query["query_id"], 3)
    page = api.get(f"/dashboards/{board}", headers={"accept": "text/html"})
    assert page.status_code == 200
    drawn, preloaded, carried = chart_urls(page.text)
    assert len(drawn) == 3
    paths = {httpx.URL(url).path for url in drawn}
    assert set(carried) | {httpx.URL(url).path for url in preloaded} == paths
    assert not set(carried) & {httpx.URL(url).path for url in preloaded}
    assert carried, "ready in time: the result is small and the first chart warms the cache"
    for path, option in carried.items():
        assert option == api.get(path).json()

    # Charts that cannot be drawn are not carried: their own requests report why.
    lab.services.engine.blobs.delete(query["result_key"])
    page = api.get(f"/dashboards/{board}", headers={"accept": "text/html"})
    assert page.status_code == 200
    drawn, preloaded, carried = chart_urls(page.text)
    assert carried == {}
    assert preloaded == drawn

    added = api.post(f"/api/dashboards/{board}/tabs", json={"name": "Empty"})
    assert added.status_code == 201, added.text
    empty = api.get(
        f"/dashboards/{board}?tab={added.json()['tab_id']}", headers={"accept": "text/html"}
    )
    assert chart_urls(empty.text) == ([], [], {})


def test_chart_data_is_shared_between_requests_and_follows_the_result_file(
    lab: ServedApp, api: httpx.Client
) -> None:
    query = completed_query(api)
    board = dashboard(api, query["query_id"], 6)
    page = api.get(f"/dashboards/{board}", headers={"accept": "text/html"})
    urls, _, _ = chart_urls(page.text)

    async def all_at_once() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=lab.url, cookies=api.cookies, timeout=30) as client:
            return await asyncio.gather(*(client.get(url) for url in urls))

    answers = asyncio.run(all_at_once())
    assert {a.status_code for a in answers} == {200}
    options = [a.json() for a in answers]
    assert all(option == options[0] for option in options)
    stations = [row[0] for row in options[0]["dataset"][0]["source"]]
    assert len(stations) == 7

    # The same key with other content (a replaced file) is never answered from memory.
    replaced = pa.table({"station": [1, 2], "total": [10.0, 20.0]})
    with lab.services.engine.blobs.writer(query["result_key"]) as handle:
        pq.write_table(replaced, handle)
    again = api.get(urls[0]).json()
    assert [row[1] for row in again["dataset"][0]["source"]] == [10.0, 20.0]

    # A result that is gone is an error, not yesterday's chart.
    lab.services.engine.blobs.delete(query["result_key"])
    gone = api.get(urls[1])
    assert gone.status_code >= 400
    assert "code" in gone.json()


def test_versioned_static_files_are_cached_for_good(lab: ServedApp, api: httpx.Client) -> None:
    page = api.get("/", headers={"accept": "text/html"}).text
    versioned = re.findall(r'src="(/static/[^"]+\?v=[0-9a-f]+)"', page)
    assert any("echarts" in url for url in versioned)
    for url in versioned:
        answer = api.get(url)
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "defer" in page.split(url)[0].rsplit("<script", 1)[1]
    for url in (versioned[0].split("?")[0], versioned[0].split("?")[0] + "?v=000000000000"):
        assert api.get(url).headers["cache-control"] == "no-cache"
