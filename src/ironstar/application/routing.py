"""Which aggregate and stream a command goes to: derived once from the domain catalogue."""

from __future__ import annotations

import typing
from types import ModuleType, UnionType
from typing import Any

from ironstar.application.aggregates import AggregateSpec
from ironstar.domain.catalogue import AGGREGATES

# The command field naming each aggregate's stream.
STREAM_KEYS: dict[str, str] = {
    "session": "session_id",
    "catalog": "catalog_id",
    "query": "query_id",
    "dashboard": "dashboard_id",
    "saved_query": "saved_query_id",
    "preferences": "user_id",
}


class UnknownCommand(TypeError):
    code = "unknown_command"


def _members(union: Any) -> tuple[type, ...]:
    if isinstance(union, UnionType) or typing.get_origin(union) is typing.Union:
        return tuple(arg for arg in typing.get_args(union))
    return (union,)


class Route:
    __slots__ = ("key", "module", "spec")

    def __init__(self, module: ModuleType, spec: AggregateSpec, key: str) -> None:
        self.module = module
        self.spec = spec
        self.key = key

    def stream_id(self, command: Any) -> str:
        stream: str = self.module.stream_id(getattr(command, self.key))
        return stream


def build_routes() -> dict[type, Route]:
    routes: dict[type, Route] = {}
    for stream_type, module in AGGREGATES.items():
        state_type = module.State | None
        spec = AggregateSpec.from_module(stream_type, module, state_type)
        route = Route(module, spec, STREAM_KEYS[stream_type])
        for command_type in _members(module.Commands):
            routes[command_type] = route
    return routes


def route_for(routes: dict[type, Route], command: Any) -> Route:
    route = routes.get(type(command))
    if route is None:
        raise UnknownCommand(f"{type(command).__name__} is not a command any aggregate handles")
    return route
