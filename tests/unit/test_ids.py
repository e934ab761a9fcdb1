"""Created ids: the shape of a uuid4 hex, and no repeats."""

from __future__ import annotations

import re

from ironstar.ids import new_id


def test_new_ids_are_32_hex_digits_and_do_not_repeat() -> None:
    ids = [new_id() for _ in range(100_000)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == len(ids)
