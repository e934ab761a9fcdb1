"""Fan-out over real HTTP: browsers showing the same view share one rendering per change,
and each still gets its own CSRF token and fresh idempotency keys."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import httpx
import pytest

from ironstar.web.live import Broadcaster
from tests.integration.web.conftest import ServedApp, sign_in_locally
from tests.integration.web.test_sse import KEEP_ALIVE, Listener, Message, positions, rename

CLIENTS = 30
HIDDEN = re.compile(r'<input type="hidden" name="(csrf_token|idempotency_key)" value="([^"]*)">')
RENAME_FORM = re.compile(r'<form [^>]*id="rename-form">(.*?)</form>', re.S)


@pytest.fixture
def board(served: ServedApp, local_client: httpx.Client) -> Iterator[str]:
    served.app.state.sse_keep_alive = KEEP_ALIVE
    response = local_client.post("/dashboards", data={"name": "Watched", "idempotency_key": "w"})
    assert response.status_code == 303, response.text
    yield response.headers["location"].rsplit("/", 1)[1]


def html_of(message: Message) -> str:
    return "\n".join(message.data)


def hidden_values(html: str, name: str) -> list[str]:
    return [value for field, value in HIDDEN.findall(html) if field == name]


def rename_form(message: Message) -> dict[str, str]:
    match = RENAME_FORM.search(html_of(message))
    assert match is not None, "the pushed fragment has no rename form"
    return {field: value for field, value in HIDDEN.findall(match.group(1))}


def test_every_client_sees_every_change_once_from_one_rendering_per_change(
    served: ServedApp, local_client: httpx.Client, board: str
) -> None:
    path = f"/dashboards/{board}/events"
    with contextlib.ExitStack() as stack:
        streams = [stack.enter_context(Listener(local_client, path)) for _ in range(CLIENTS)]
        broadcaster = served.app.state.broadcaster
        assert isinstance(broadcaster, Broadcaster)
        rendered_before = broadcaster.renderings
        received: list[list[Message]] = [[] for _ in streams]
        for n in range(4):
            rename(local_client, board, f"Fan {n}")
            for stream, got in zip(streams, received, strict=True):
                got.append(stream.next("dashboard"))
        rendered = broadcaster.renderings - rendered_before
        extra = [m for stream in streams for m in stream.drain(KEEP_ALIVE * 3)]
    renamed = positions(served, "DashboardRenamed")
    for got in received:
        assert [m.id for m in got] == renamed
        for n, message in enumerate(got):
            assert f"Fan {n}" in html_of(message)
    assert extra == [], "a change arrived twice"
    assert rendered == 4, f"{rendered} renderings for 4 changes to {CLIENTS} clients"


def test_tabs_get_their_own_keys_and_sessions_their_own_csrf_tokens(
    served: ServedApp, local_client: httpx.Client, board: str
) -> None:
    path = f"/dashboards/{board}/events"
    other_session, other_csrf = sign_in_locally(served)
    try:
        with (
            Listener(local_client, path) as tab_a,
            Listener(local_client, path) as tab_b,
            Listener(other_session, path) as tab_c,
        ):
            rename(local_client, board, "Pushed")
            pushed = [tab.next("dashboard") for tab in (tab_a, tab_b, tab_c)]
    finally:
        other_session.close()
    assert pushed[0].id == pushed[1].id == pushed[2].id
    keys = [key for message in pushed for key in hidden_values(html_of(message), "idempotency_key")]
    assert len(keys) >= 6 and len(set(keys)) == len(keys), "an idempotency key was handed out twice"
    tokens = [set(hidden_values(html_of(message), "csrf_token")) for message in pushed]
    assert tokens == [
        {local_client.headers["x-csrf-token"]},
        {local_client.headers["x-csrf-token"]},
        {other_csrf},
    ]
    assert all("slot-" not in html_of(message) for message in pushed)

    # Both tabs submit the form they were pushed: two renames, neither taken for a retry.
    form_only = served.client(cookies=local_client.cookies)  # no CSRF header: the form's token
    try:
        for tab, message in (("A", pushed[0]), ("B", pushed[1])):
            fields = {**rename_form(message), "name": f"From tab {tab}"}
            response = form_only.post(f"/dashboards/{board}/rename", data=fields)
            assert response.status_code == 303, response.text
    finally:
        form_only.close()
    names = [e.data.name for e in served.events("DashboardRenamed")]
    assert names[-2:] == ["From tab A", "From tab B"]


def test_clients_on_different_tabs_get_their_own_tab(
    served: ServedApp, local_client: httpx.Client, board: str
) -> None:
    added = local_client.post(f"/dashboards/{board}/tabs", data={"name": "Second"})
    assert added.status_code == 303, added.text
    second = added.headers["location"].rsplit("tab=", 1)[1]
    layout = local_client.get(f"/api/dashboards/{board}").json()
    first = next(t["tab_id"] for t in layout["tabs"] if t["tab_id"] != second)
    path = f"/dashboards/{board}/events?tab="
    with (
        Listener(local_client, path + first) as on_first,
        Listener(local_client, path + second) as on_second,
    ):
        rename(local_client, board, "Both tabs")
        pushed = {first: on_first.next("dashboard"), second: on_second.next("dashboard")}
    for tab_id, message in pushed.items():
        current = re.findall(r'href="[^"]*\?tab=([0-9a-f]+)" aria-current="page"', html_of(message))
        assert current == [tab_id]


def test_resuming_at_the_newest_position_replays_nothing(
    served: ServedApp, local_client: httpx.Client, board: str
) -> None:
    with Listener(local_client, f"/dashboards/{board}/events") as stream:
        rename(local_client, board, "Seen")
        seen = stream.next("dashboard")
    headers = {"last-event-id": str(seen.id)}
    with Listener(local_client, f"/dashboards/{board}/events", headers) as again:
        replayed = again.drain(KEEP_ALIVE * 3)
        rename(local_client, board, "Next")
        message = again.next("dashboard")
        extra = again.drain(KEEP_ALIVE * 3)
    assert replayed == []
    assert message.id == positions(served, "DashboardRenamed")[-1]
    assert "Next" in html_of(message)
    assert extra == []
