"""Ids for things the app creates: dashboards, tabs, charts, queries, command and
request ids.

They must be unique, not unguessable: every request is authorised, so knowing an id
grants nothing. A 128-bit number from ``random`` (seeded from the OS at start and
again in a forked child) serves, and unlike ``uuid4`` it makes no system call: on
the event loop, each call that lets go of the GIL can wait milliseconds to get it
back from busy database threads. Secrets (session ids, the signing key) come from
``secrets`` instead.
"""

from __future__ import annotations

import random


def new_id() -> str:
    """32 lowercase hex digits, the shape of ``uuid4().hex``."""
    return f"{random.getrandbits(128):032x}"
