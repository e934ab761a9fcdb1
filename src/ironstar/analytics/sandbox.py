"""The SQL sandbox: which user statements may run, and the locked-down DuckDB they run in.

Two layers. ``check_sql`` rejects anything but a single read statement before it reaches an
engine, using DuckDB's own tokenizer (so comments and string literals cannot hide a keyword)
and parser (so the statement type is DuckDB's verdict, not a regex). ``lock_down`` then
configures the engine so that even an allowed statement cannot reach the file system, change
settings or load code: external access off (only the catalogs' data directories readable),
configuration locked, memory and threads capped.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ironstar.analytics.extensions import offline_connection


class SandboxViolation(Exception):
    code = "sql_not_allowed"


class QuerySyntaxError(Exception):
    code = "sql_syntax"

    def __init__(self, message: str, line: int | None, column: int | None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(frozen=True)
class SandboxLimits:
    memory_limit: str = "1GB"
    threads: int = 2
    temp_directory: str | None = None  # spill space; None keeps DuckDB's default


@dataclass(frozen=True)
class CheckedSql:
    sql: str
    keyword: str  # the statement's first keyword, lower-case
    named_catalogs: frozenset[str]  # catalogs written as ``<catalog>.`` in the text


READ_KEYWORDS = frozenset(
    {
        "select",
        "with",
        "values",
        "table",
        "from",
        "describe",
        "show",
        "summarize",
        "explain",
        "pivot",
        "unpivot",
        "pivot_wider",
        "pivot_longer",
        "(",
    }
)
_PIVOTS = frozenset({"pivot", "unpivot", "pivot_wider", "pivot_longer"})
_EXPLAIN_MODIFIERS = frozenset({"analyze"})

# Table/scalar functions that read files or run SQL given as a string; external access is off
# anyway, but rejecting them by name gives a clear error and covers the readable lake paths.
DENIED_FUNCTIONS = frozenset(
    {
        "glob",
        "sniff_csv",
        "query",
        "query_table",
        "getenv",
        "parquet_scan",
        "iceberg_scan",
        "delta_scan",
        "st_read",
        "sqlite_scan",
        "sqlite_attach",
        "postgres_scan",
        "postgres_query",
        "postgres_execute",
        "postgres_attach",
        "mysql_query",
        "mysql_execute",
        "checkpoint",
        "force_checkpoint",
        "merge_adjacent_files",
        "expire_snapshots",
        "cleanup_old_files",
        "delete_orphaned_files",
        "add_data_files",
        "rewrite_data_files",
        "flush_inlined_data",
        "set_option",
        "load_extension",
        "install_extension",
    }
)
DENIED_PREFIXES = ("read_", "parquet_", "ducklake_", "iceberg_", "delta_", "json_execute")
_ALLOWED_TYPES = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
_BARE_WORD = re.compile(r'"(?:[^"]|"")*"|[^\s(),;.:\[\]{}\'"]+')


@dataclass(frozen=True)
class _Token:
    kind: str  # identifier | keyword | operator | string_const | numeric_const
    text: str  # identifiers unquoted, words lower-cased


def _tokens(sql: str) -> list[_Token]:
    try:
        raw = duckdb.tokenize(sql)
    except duckdb.Error as exc:
        raise QuerySyntaxError(str(exc), None, None) from exc
    tokens = []
    for start, kind in raw:
        kind_name = kind.name
        if kind_name in ("string_const", "numeric_const"):
            tokens.append(_Token(kind_name, ""))
            continue
        if kind_name == "operator":
            tokens.append(_Token(kind_name, sql[start]))
            continue
        match = _BARE_WORD.match(sql, start)
        word = match.group(0) if match else sql[start]
        if word.startswith('"'):
            word = word[1:-1].replace('""', '"')
            tokens.append(_Token("identifier", word.lower()))
        else:
            tokens.append(_Token(kind_name, word.lower()))
    return tokens


def _split_statements(tokens: list[_Token]) -> list[list[_Token]]:
    statements: list[list[_Token]] = [[]]
    for token in tokens:
        if token.kind == "operator" and token.text == ";":
            statements.append([])
        else:
            statements[-1].append(token)
    return [statement for statement in statements if statement]


def _explained_keyword(tokens: list[_Token]) -> str:
    """The keyword of the statement an EXPLAIN wraps (EXPLAIN ANALYZE runs it)."""
    index, depth = 1, 0
    while index < len(tokens):
        token = tokens[index]
        if (
            token.text == "("
            and depth == 0
            and index + 1 < len(tokens)
            and (tokens[index + 1].text not in READ_KEYWORDS)
        ):
            depth = 1  # an options list: EXPLAIN (FORMAT json) ...
        elif depth:
            depth += {"(": 1, ")": -1}.get(token.text, 0)
        elif token.text not in _EXPLAIN_MODIFIERS:
            return token.text
        index += 1
    return ""


def _check_functions(tokens: list[_Token]) -> None:
    for index, token in enumerate(tokens):
        followed_by_call = index + 1 < len(tokens) and tokens[index + 1].text == "("
        name = token.text
        if (
            token.kind in ("identifier", "keyword")
            and followed_by_call
            and (name in DENIED_FUNCTIONS or name.startswith(DENIED_PREFIXES))
        ):
            raise SandboxViolation(f"{name}() is not allowed: queries may only read catalog tables")
        if token.kind == "string_const" and index and tokens[index - 1].text in ("from", "join"):
            raise SandboxViolation("reading files by path is not allowed: query catalog tables")


def _named_catalogs(tokens: list[_Token], catalogs: frozenset[str]) -> frozenset[str]:
    return frozenset(
        token.text
        for index, token in enumerate(tokens[:-1])
        if token.text in catalogs and tokens[index + 1].text == "."
    )


def syntax_error_position(message: str, sql: str) -> tuple[int | None, int | None]:
    """Line and 1-based column from DuckDB's ``LINE n: <text>`` + caret error context."""
    match = re.search(r"^(LINE (\d+): )(.*)\n( *)\^", message, re.MULTILINE)
    if not match:
        if "end of input" in message:
            lines = sql.rstrip().split("\n")
            return len(lines), len(lines[-1]) + 1
        return None, None
    line = int(match.group(2))
    shown, caret = match.group(3), len(match.group(4)) - len(match.group(1))
    lines = sql.split("\n")
    if shown.startswith("...") and 0 < line <= len(lines):
        # DuckDB elides the start of long lines; find where the shown fragment begins.
        fragment = shown[3:].rstrip(".")[:20]
        start = lines[line - 1].find(fragment)
        return line, (start if start >= 0 else 0) + caret - 3 + 1
    return line, caret + 1


class SqlChecker:
    """Classifies user SQL; parsing happens in a locked engine so it can never touch files."""

    def __init__(self) -> None:
        self._parser = offline_connection()
        lock_down(self._parser, SandboxLimits(memory_limit="64MB", threads=1), ())
        self._lock = threading.Lock()

    def check(self, sql: str, catalogs: frozenset[str] = frozenset()) -> CheckedSql:
        """Raise SandboxViolation or QuerySyntaxError unless ``sql`` is one read statement."""
        statements = _split_statements(_tokens(sql))
        if not statements:
            raise SandboxViolation("the query is empty")
        if len(statements) > 1:
            raise SandboxViolation("submit one statement at a time")
        tokens = statements[0]
        keyword = tokens[0].text
        if keyword not in READ_KEYWORDS:
            raise SandboxViolation(
                f"{keyword.upper()} statements are not allowed: only read queries run "
                "(SELECT, WITH, VALUES, TABLE, FROM, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN, PIVOT)"
            )
        if keyword == "explain" and _explained_keyword(tokens) not in READ_KEYWORDS - {"explain"}:
            raise SandboxViolation("EXPLAIN may only wrap a read query")
        _check_functions(tokens)
        self._check_parsed_types(sql, keyword)
        return CheckedSql(sql, keyword, _named_catalogs(tokens, catalogs))

    def _check_parsed_types(self, sql: str, keyword: str) -> None:
        try:
            with self._lock:
                parsed = self._parser.extract_statements(sql)
        except duckdb.ParserException as exc:
            line, column = syntax_error_position(str(exc), sql)
            raise QuerySyntaxError(str(exc), line, column) from exc
        except duckdb.Error as exc:
            raise SandboxViolation(f"statement rejected: {exc}") from exc
        types = [statement.type for statement in parsed]
        if keyword in _PIVOTS:
            # PIVOT without an IN list expands to CREATE TYPE (enum of values) + SELECT.
            types = [t for t in types if t != duckdb.StatementType.CREATE]
        if len(types) != 1 or types[0] not in _ALLOWED_TYPES:
            raise SandboxViolation("only a single read query may run")

    def close(self) -> None:
        self._parser.close()


def _sql_list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + "]"


def lock_down(
    conn: duckdb.DuckDBPyConnection, limits: SandboxLimits, readable_roots: tuple[str, ...]
) -> None:
    """Apply limits, cut file/network access except ``readable_roots``, lock configuration."""
    if limits.temp_directory:
        Path(limits.temp_directory).mkdir(parents=True, exist_ok=True)
        conn.execute(f"SET temp_directory = {_sql_list([limits.temp_directory])[1:-1]}")
    if readable_roots:
        conn.execute(f"SET allowed_directories = {_sql_list(readable_roots)}")
    conn.execute(f"SET memory_limit = {_sql_list([limits.memory_limit])[1:-1]}")
    conn.execute(f"SET threads = {int(limits.threads)}")
    conn.execute("SET python_enable_replacements = false")
    conn.execute("SET allow_community_extensions = false")
    conn.execute("SET enable_external_access = false")
    conn.execute("SET lock_configuration = true")
