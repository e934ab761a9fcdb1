"""A tiny given/when/then for deciders: given past events, when a command, then
exactly these events (which must also evolve cleanly) or exactly this error."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from ironstar.domain.errors import DomainError


def replay(evolve: Callable[[Any, Any], Any], events: Iterable[Any], state: Any = None) -> Any:
    for event in events:
        state = evolve(state, event)
    return state


@dataclass(frozen=True)
class Decider:
    module: ModuleType

    def given(self, *events: Any) -> Given:
        return Given(self.module, events)


@dataclass(frozen=True)
class Given:
    module: ModuleType
    events: tuple[Any, ...]

    @property
    def state(self) -> Any:
        return replay(self.module.evolve, self.events)

    def when(self, command: Any) -> When:
        return When(self.module, self.state, command)


@dataclass(frozen=True)
class When:
    module: ModuleType
    state: Any
    command: Any

    def then(self, *expected: Any) -> Any:
        """Assert the decided events and return the state they lead to."""
        decided = self.module.decide(self.command, self.state)
        assert decided == list(expected)
        return replay(self.module.evolve, decided, self.state)

    def then_nothing(self) -> None:
        assert self.module.decide(self.command, self.state) == []

    def then_rejected(self, error: type[DomainError], match: str | None = None) -> DomainError:
        with pytest.raises(DomainError) as caught:
            self.module.decide(self.command, self.state)
        assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value}"
        assert caught.value.code == error.code
        if match is not None:
            assert match in caught.value.message
        return caught.value
