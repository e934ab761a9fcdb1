"""Event classes used by the contract tests (not part of the product's domain)."""

from __future__ import annotations

from typing import Any

import msgspec

from ironstar.eventstore.codec import EventRegistry


class Noted(msgspec.Struct, frozen=True):
    text: str
    n: int = 0


class Renamed(msgspec.Struct, frozen=True):
    name: str


class Opaque(msgspec.Struct, frozen=True):
    value: Any


class Unregistered(msgspec.Struct, frozen=True):
    x: int


def contract_registry() -> EventRegistry:
    registry = EventRegistry()
    registry.register("Noted", Noted)
    registry.register("Renamed", Renamed)
    registry.register("Opaque", Opaque)
    return registry
