"""The component gallery in a real Chromium: charts draw, the grid moves, nothing breaks CSP.

The gallery (web/static/dev/gallery.html) carries the app's content security policy in a meta
tag, so a violation is a console error here. Its save URLs do not exist on the static server:
tests answer them with Playwright routes.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.browser import ensure_chromium

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[3] / "src" / "ironstar" / "web" / "static"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
VISIBLE_CHARTS = ("chart-scatter", "chart-bar", "chart-line", "chart-heatmap")


def chromium_path() -> str:
    return ensure_chromium()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def gallery_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(STATIC)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/dev/gallery.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, gallery_url: str) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    problems: list[str] = []

    def on_console(message: Any) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"{message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.goto(gallery_url)
    for chart in VISIBLE_CHARTS:
        page.wait_for_selector(f"#{chart}[data-chart-state=drawn]", timeout=20_000)
    yield page
    page.close()
    # Chromium logs every non-2xx response and htmx logs response and SSE errors; some tests
    # provoke those on purpose.
    provoked = re.compile(
        r"Failed to load resource: the server responded with a status of (409|503)"
        r"|^error: \[object Event\]$"
        r"|^error: Response Status Error Code (409|503) from gallery-"
    )
    assert [p for p in problems if not provoked.search(p)] == [], problems


def rect(page: Any, selector: str) -> dict[str, int]:
    return page.eval_on_selector(
        selector, "el => ({x: +el.dataset.x, y: +el.dataset.y, w: +el.dataset.w, h: +el.dataset.h})"
    )


def grid_area(page: Any, selector: str) -> str:
    return page.eval_on_selector(selector, "el => getComputedStyle(el).gridArea")


def wait_for_announcement(page: Any, words: str) -> None:
    """Waits until the screen-reader live region says something containing words."""
    page.wait_for_function(
        "words => document.querySelector('[data-live-region]').textContent.includes(words)",
        arg=words,
    )


def record_posts(page: Any, pattern: str, status: int = 204, body: str = "") -> list[Any]:
    requests: list[Any] = []

    def answer(route: Any) -> None:
        requests.append(route.request)
        route.fulfill(status=status, body=body, content_type="application/json")

    page.route(pattern, answer)
    return requests


def test_charts_draw_with_performance_marks(page: Any) -> None:
    marks = page.evaluate("performance.getEntriesByType('mark').map(m => m.name)")
    for chart in VISIBLE_CHARTS:
        assert f"chart-drawn:{chart}" in marks
    # The chart in the hidden tab waits for a size, then draws when its tab opens.
    assert page.get_attribute("#chart-pie", "data-chart-state") == "loading"
    page.click("#tab-details")
    page.wait_for_selector("#chart-pie[data-chart-state=drawn]")
    assert page.get_attribute("#panel-overview", "hidden") is not None


def test_grid_items_are_placed_from_data_attributes(page: Any) -> None:
    # data-x=8 data-y=4 data-w=4 data-h=4 -> grid-area: 5 / 9 / span 4 / span 4
    assert grid_area(page, "#item-heatmap") == "5 / 9 / span 4 / span 4"


def test_keyboard_move_and_resize_posts_the_new_place(page: Any) -> None:
    posts = record_posts(page, "**/gallery-place/**")
    page.focus("#item-heatmap")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Shift+ArrowLeft")
    assert rect(page, "#item-heatmap") == {"x": 8, "y": 5, "w": 3, "h": 4}
    assert posts == []  # nothing saved before Enter
    page.keyboard.press("Enter")
    wait_for_announcement(page, "saved")
    assert len(posts) == 1
    request = posts[0]
    assert request.method == "POST"
    assert request.url.endswith("/dev/gallery-place/heatmap")
    assert dict(p.split("=") for p in request.post_data.split("&")) == {
        "x": "8",
        "y": "5",
        "w": "3",
        "h": "4",
    }
    assert request.headers["x-csrf-token"] == "gallery-csrf-token"
    assert UUID.match(request.headers["idempotency-key"])
    assert grid_area(page, "#item-heatmap") == "6 / 9 / span 4 / span 3"


def test_escape_reverts_an_unsaved_keyboard_move(page: Any) -> None:
    posts = record_posts(page, "**/gallery-place/**")
    page.focus("#item-heatmap")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Escape")
    assert rect(page, "#item-heatmap") == {"x": 8, "y": 4, "w": 4, "h": 4}
    page.focus("#chart-line")  # leaving the item must not save anything either
    assert posts == []


def test_moves_into_another_chart_or_off_the_grid_are_refused(page: Any) -> None:
    page.focus("#item-heatmap")
    page.keyboard.press("ArrowLeft")  # the line chart fills columns 0-7
    assert rect(page, "#item-heatmap")["x"] == 8
    wait_for_announcement(page, "blocked by")
    page.keyboard.press("Shift+ArrowRight")  # would pass column 12
    assert rect(page, "#item-heatmap")["w"] == 4


def test_a_refused_save_moves_the_chart_back_and_shows_the_error(page: Any) -> None:
    error = {"code": "GRID_OVERLAP", "message": "that place overlaps chart 'c9'"}
    record_posts(page, "**/gallery-place/**", status=409, body=json.dumps(error))
    page.focus("#item-heatmap")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    toast = page.wait_for_selector(".toast--error")
    assert "GRID_OVERLAP" in toast.inner_text()
    page.wait_for_function("() => document.querySelector('#item-heatmap').dataset.y === '4'")


def test_pointer_drag_snaps_to_cells_and_saves(page: Any) -> None:
    posts = record_posts(page, "**/gallery-place/**")
    handle = page.locator("#item-heatmap [data-grid-handle]")
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    pitch = page.evaluate(
        """() => { const s = getComputedStyle(document.querySelector('[data-grid]'));
                  return parseFloat(s.gridAutoRows) + parseFloat(s.rowGap); }"""
    )
    start_x, start_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(start_x, start_y)
    page.mouse.down()
    page.mouse.move(start_x, start_y + pitch * 0.6, steps=4)
    page.mouse.move(start_x, start_y + pitch * 1.9, steps=4)
    page.mouse.up()
    wait_for_announcement(page, "saved")
    assert rect(page, "#item-heatmap") == {"x": 8, "y": 6, "w": 4, "h": 4}
    assert len(posts) == 1


def test_theme_choice_applies_at_once_and_redraws_charts(page: Any) -> None:
    before = page.evaluate("echarts.getInstanceByDom(document.querySelector('#chart-bar')).id")
    page.click(".topbar label:has-text('Dark')")
    assert page.get_attribute("html", "data-theme") == "dark"
    assert page.evaluate("Ironstar.effectiveTheme()") == "dark"
    # Both theme controls on the page follow the choice.
    assert page.is_checked("input[name=theme-pref][value=dark]")
    after = page.evaluate("echarts.getInstanceByDom(document.querySelector('#chart-bar')).id")
    assert after != before
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(14, 17, 21)"


def test_system_theme_follows_the_colour_scheme(page: Any) -> None:
    page.emulate_media(color_scheme="dark")
    page.click(".topbar label:has-text('System')")
    assert page.evaluate("Ironstar.effectiveTheme()") == "dark"
    page.emulate_media(color_scheme="light")
    assert page.evaluate("Ironstar.effectiveTheme()") == "light"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(245, 246, 248)"


def test_idempotent_forms_get_a_key(page: Any) -> None:
    key = page.get_attribute("#query-form input[name=idempotency_key]", "value")
    assert key is not None and UUID.match(key)


def test_elapsed_time_ticks_until_the_attribute_goes(page: Any) -> None:
    first = page.inner_text("#demo-elapsed")
    assert re.fullmatch(r"\d\d:\d\d\.\d", first)
    page.wait_for_function(
        f"() => document.querySelector('#demo-elapsed').textContent != '{first}'"
    )
    page.click("[data-demo=cancel]")
    stopped = page.inner_text("#demo-elapsed")
    page.wait_for_timeout(300)
    assert page.inner_text("#demo-elapsed") == stopped


def test_sse_error_shows_the_reconnecting_badge(page: Any) -> None:
    badge = "[data-connection-status]"
    assert not page.is_visible(badge)
    page.click("[data-demo=sse-error]")
    assert page.is_visible(badge)
    page.click("[data-demo=sse-open]")
    assert not page.is_visible(badge)


def test_panel_resize_posts_ui_state(page: Any) -> None:
    posts = record_posts(page, "**/gallery-ui-state")
    handle = page.locator("[data-panel-handle=browser]")
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + 40
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y, steps=5)
    page.mouse.up()
    page.wait_for_function("() => document.querySelector('#panel-browser').dataset.size == '340'")
    page.wait_for_timeout(700)  # the save is debounced
    assert len(posts) == 1
    assert json.loads(posts[0].post_data) == {"panels": {"browser": 340}}
    assert posts[0].headers["content-type"] == "application/json"
    assert posts[0].headers["x-csrf-token"] == "gallery-csrf-token"


def test_chart_tooltips_respect_the_content_security_policy(page: Any) -> None:
    # ECharts' HTML tooltips carry style attributes that CSP refuses (a console error, which
    # the page fixture fails on); ironstar.js draws them on the canvas instead.
    chart = page.locator("#chart-bar")
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    for fraction in (0.2, 0.5, 0.8):
        page.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] * 0.7)
        page.wait_for_timeout(150)


def test_htmx_forms_send_csrf_and_a_stable_idempotency_key(page: Any) -> None:
    posts = record_posts(page, "**/gallery-htmx-form", status=200, body="")
    page.evaluate(
        """() => {
          const form = document.createElement('form');
          form.id = 'htmx-form';
          form.setAttribute('hx-post', 'gallery-htmx-form');
          form.setAttribute('hx-swap', 'none');
          form.dataset.idempotent = '';
          const input = document.createElement('input');
          input.name = 'name';
          input.value = 'Q4 Metrics';
          form.append(input);
          document.querySelector('main').append(form);
          htmx.process(form);
        }"""
    )
    page.evaluate("() => htmx.trigger('#htmx-form', 'submit')")
    for _ in range(100):  # the route handler runs while Playwright waits
        if posts:
            break
        page.wait_for_timeout(50)
    assert len(posts) == 1
    headers = posts[0].headers
    key = headers["idempotency-key"]
    assert UUID.match(key)
    assert headers["x-csrf-token"] == "gallery-csrf-token"
    assert f"idempotency_key={key}" in posts[0].post_data
    # Accepted: the next submission is a new one, with a new key.
    page.wait_for_function(
        "key => document.querySelector('#htmx-form [name=idempotency_key]').value != key",
        arg=key,
    )


def test_a_failing_event_stream_shows_reconnecting_until_it_opens(page: Any) -> None:
    attempts: list[str] = []

    def events(route: Any) -> None:
        attempts.append(route.request.url)
        if len(attempts) == 1:
            route.fulfill(status=503, body="")
        else:
            route.fulfill(
                status=200,
                headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"},
                body="retry: 60000\nevent: ping\ndata: <span>1</span>\n\n",
            )

    page.route("**/gallery-events", events)
    page.evaluate(
        """() => {
          // After ironstar.js has handled each event, note whether the badge shows.
          window.badgeLog = [];
          const badge = document.querySelector('[data-connection-status]');
          for (const name of ['htmx:sseError', 'htmx:sseOpen']) {
            document.addEventListener(name, () =>
              window.badgeLog.push(`${name}:${badge.hidden ? 'hidden' : 'shown'}`));
          }
          const live = document.createElement('div');
          live.setAttribute('hx-ext', 'sse');
          live.setAttribute('sse-connect', 'gallery-events');
          live.setAttribute('sse-swap', 'ping');
          document.querySelector('main').append(live);
          htmx.process(live);
        }"""
    )
    # The sse extension retries after a back-off; the second answer opens the stream (which
    # then ends, as a fulfilled route must, and the badge rightly shows again).
    page.wait_for_function("() => window.badgeLog.includes('htmx:sseOpen:hidden')", timeout=10_000)
    log = page.evaluate("window.badgeLog")
    assert log[0] == "htmx:sseError:shown"
    assert log.index("htmx:sseOpen:hidden") > 0
    assert len(attempts) >= 2


def test_a_lone_idempotent_control_keeps_its_key_until_success(page: Any) -> None:
    statuses = [503, 204]
    posts: list[Any] = []

    def answer(route: Any) -> None:
        posts.append(route.request)
        route.fulfill(status=statuses[len(posts) - 1], body="")

    page.route("**/gallery-cancel", answer)
    page.evaluate(
        """() => {
          const button = document.createElement('button');
          button.id = 'cancel-query';
          button.setAttribute('hx-post', 'gallery-cancel');
          button.setAttribute('hx-swap', 'none');
          button.dataset.idempotent = '';
          document.querySelector('main').append(button);
          htmx.process(button);
        }"""
    )
    page.evaluate("() => htmx.trigger('#cancel-query', 'click')")
    page.wait_for_selector(".toast--error")  # the 503 is reported...
    page.evaluate("() => htmx.trigger('#cancel-query', 'click')")  # ...and the retry reuses the key
    page.wait_for_function(
        "() => !('idempotencyKey' in document.querySelector('#cancel-query').dataset)"
    )
    assert len(posts) == 2
    first, second = (p.headers["idempotency-key"] for p in posts)
    assert UUID.match(first) and first == second
