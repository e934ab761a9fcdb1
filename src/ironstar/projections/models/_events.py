"""Stored event names by aggregate, taken from the domain catalogue (one source of truth)."""

from __future__ import annotations

from types import ModuleType

from ironstar.domain.catalogue import EVENT_TYPES


def names_of(module: ModuleType) -> frozenset[str]:
    """Every stored event name of one aggregate module."""
    classes = set(module.EVENTS)
    return frozenset(name for name, (cls, _) in EVENT_TYPES.items() if cls in classes)
