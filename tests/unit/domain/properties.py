"""Harness for property tests: run a random command sequence through a decider,
checking invariants and expected effects after every accepted command, then the
replay, codec and snapshot properties over the history it produced."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import msgspec

from ironstar.bootstrap import build_registry
from ironstar.domain.errors import DomainError

from .gwt import replay

REGISTRY = build_registry()
Check = Callable[[Any, Any, Any, list[Any]], None]  # (command, before, after, events)


def run(
    module: ModuleType,
    commands: Sequence[Any],
    *,
    invariants: Callable[[Any], None],
    effect: Check,
) -> tuple[Any, list[Any], int]:
    """Returns (final state, history, number of refused commands)."""
    state: Any = None
    history: list[Any] = []
    refused = 0
    for command in commands:
        try:
            events = module.decide(command, state)
        except DomainError:
            refused += 1
            continue
        after = replay(module.evolve, events, state)
        effect(command, state, after, events)
        if after is not None:
            invariants(after)
        state = after
        history.extend(events)
    return state, history, refused


def check_history(module: ModuleType, state: Any, history: list[Any], cut: int) -> None:
    # Replay is deterministic: the same events always give the same state.
    assert replay(module.evolve, history) == state
    assert replay(module.evolve, list(history)) == replay(module.evolve, history)
    # Every event survives the stored form: plain msgspec JSON and the registry's codec.
    for event in history:
        assert msgspec.json.decode(msgspec.json.encode(event), type=type(event)) == event
        name, version, payload = REGISTRY.encode(event)
        assert name == type(event).__name__
        assert REGISTRY.decode(name, version, payload) == event
    # A snapshot at any point, encoded and decoded, plus the tail equals the full replay.
    k = cut % (len(history) + 1)
    snapshot = replay(module.evolve, history[:k])
    encoded = msgspec.json.encode(snapshot)
    restored = msgspec.json.decode(encoded, type=module.State | None)
    assert restored == snapshot
    assert replay(module.evolve, history[k:], restored) == state
