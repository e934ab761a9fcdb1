"""How the application layer sees an aggregate: a decider plus what snapshots need."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class AggregateSpec:
    """A pure decider (one domain module) and the facts needed to load and store it."""

    stream_type: str
    initial: Callable[[], Any]
    decide: Callable[[Any, Any], list[Any]]
    evolve: Callable[[Any, Any], Any]
    state_type: Any  # what a snapshot decodes into (may include None)
    snapshot_schema: int = 1
    snapshot_every: int = 200  # events between snapshots

    @classmethod
    def from_module(cls, stream_type: str, module: ModuleType, state_type: Any) -> AggregateSpec:
        initial = getattr(module, "initial_state", None)
        return cls(
            stream_type=stream_type,
            initial=initial if callable(initial) else (lambda: None),
            decide=module.decide,
            evolve=module.evolve,
            state_type=state_type,
            snapshot_schema=getattr(module, "SNAPSHOT_SCHEMA", 1),
        )

    def fold(self, state: Any, events: list[Any]) -> Any:
        for event in events:
            state = self.evolve(state, event)
        return state
