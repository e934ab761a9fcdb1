"""What a result column can be used for in a chart, decided from its Arrow type alone."""

from __future__ import annotations

import enum

import pyarrow as pa


class ColumnKind(enum.StrEnum):
    NUMERIC = "numeric"  # integers, floats, decimals
    TEMPORAL = "temporal"  # timestamps and dates: drawn on a time axis
    TEXT = "text"  # strings: categories with no meaningful order for a line
    BOOLEAN = "boolean"
    OTHER = "other"  # nested, binary, durations, times of day: not chartable


def kind_of(data_type: pa.DataType) -> ColumnKind:
    if pa.types.is_dictionary(data_type):
        return kind_of(data_type.value_type)
    if pa.types.is_integer(data_type) or pa.types.is_floating(data_type):
        return ColumnKind.NUMERIC
    if pa.types.is_decimal(data_type):
        return ColumnKind.NUMERIC
    if pa.types.is_timestamp(data_type) or pa.types.is_date(data_type):
        return ColumnKind.TEMPORAL
    if (
        pa.types.is_string(data_type)
        or pa.types.is_large_string(data_type)
        or pa.types.is_string_view(data_type)
    ):
        return ColumnKind.TEXT
    if pa.types.is_boolean(data_type):
        return ColumnKind.BOOLEAN
    return ColumnKind.OTHER


def is_integer(data_type: pa.DataType) -> bool:
    if pa.types.is_dictionary(data_type):
        return is_integer(data_type.value_type)
    return bool(pa.types.is_integer(data_type))


NUMERIC = frozenset({ColumnKind.NUMERIC})
ORDERABLE = frozenset({ColumnKind.NUMERIC, ColumnKind.TEMPORAL})
# Categories: anything with a small set of discrete values a person can name.
CATEGORICAL = frozenset({ColumnKind.TEXT, ColumnKind.BOOLEAN})
SCALAR = frozenset({ColumnKind.NUMERIC, ColumnKind.TEMPORAL, ColumnKind.TEXT, ColumnKind.BOOLEAN})
