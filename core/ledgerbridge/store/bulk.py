"""Statements the engine runs for many rows at once, with parameters built as the driver takes them.

A unit of work writes a few narrow rows per order (intents, bindings, audit
events, state changes).  SQLAlchemy's ``executemany`` builds a parameter
dictionary per row and sends every value through its type's bind processor;
for rows this narrow that bookkeeping costs about as much as SQLite's own work.
A ``BulkStatement`` keeps SQLAlchemy's SQL and its type processing, and drops
the per-row bookkeeping:

* the statement is compiled once per dialect and set of columns (the SQL,
  paramstyle and casts are SQLAlchemy's own);
* each parameter's bind processor is looked up once -- the one SQLAlchemy
  itself would apply (``type.dialect_impl(dialect).bind_processor(dialect)``,
  so ``UTCDateTime`` and the JSON columns convert exactly as elsewhere);
* a value shared by the rows of one call (the batch's timestamp, an empty
  JSON object) is converted once;
* the rows go to the driver in one ``exec_driver_sql`` call, inside the
  caller's transaction.

Only plain INSERT / UPDATE / upsert statements whose variable parts are all
``bindparam``s (or column values, for an INSERT) belong here: a value fixed
in the statement is compiled in with it.  An INSERT's rows carry every column
that has a default: a missing one is an error, never a silent NULL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase

Processor = Callable[[Any], Any] | None

# The SQLAlchemy releases this module is written and tested against: it reads the compiled
# statement's ``positiontup``, ``binds`` and ``insert_prefetch``/``update_prefetch``, which a
# minor release may change.  pyproject.toml pins the same range; a test checks both agree.
SQLALCHEMY_RANGE = ">=2.0,<2.2"


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # parameter names, in the order the driver takes them
    fixed: dict[str, Any]  # parameters whose value the statement carries
    processors: tuple[Processor, ...]
    positional: bool


class BulkStatement:
    """An INSERT, UPDATE or upsert run for many rows (dicts keyed by parameter name)."""

    def __init__(self, statement: UpdateBase) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, str, str, tuple[str, ...]], _Compiled] = {}

    def execute(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Run the statement once per row, in ``conn``'s transaction: the rows it changed
        (summed over the rows by both drivers; an upsert's ``DO NOTHING`` changes none)."""
        if not rows:
            return 0
        columns = tuple(rows[0])
        dialect = conn.dialect
        # The SQL depends on the database and on how its driver takes parameters.
        key = (dialect.name, dialect.driver, dialect.paramstyle, columns)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(dialect, columns)
        return int(conn.exec_driver_sql(compiled.sql, _parameters(compiled, rows)).rowcount)

    def _compile(self, dialect: Dialect, columns: tuple[str, ...]) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(columns))
        assert isinstance(compiled, SQLCompiler)
        positional = compiled.positiontup is not None
        names = tuple(compiled.positiontup if positional else compiled.binds)  # type: ignore[arg-type]
        binds = compiled.binds
        # A column with a Python-side default is a parameter SQLAlchemy would fill per row;
        # here the rows must carry it (their batch shares one value, converted once).
        defaulted = {c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)}
        fixed = {name: binds[name].effective_value for name in names if name not in columns}
        missing = [name for name in fixed if binds[name].required or name in defaulted]
        if missing:
            raise ValueError(f"rows lack the parameters {missing} of {compiled.string!r}")
        processors = tuple(
            binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
        )
        return _Compiled(compiled.string, names, fixed, processors, positional)


def _parameters(compiled: _Compiled, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The driver's parameters: a tuple per row (positional styles) or a dict (named ones).

    Each column keeps the last value it converted: rows of one batch that share an
    object (the same timestamp) convert it once.  Empty JSON objects are shared the
    same way, being equal wherever they come from."""
    fixed, names = compiled.fixed, compiled.names
    columns = []
    for name, process in zip(names, compiled.processors, strict=True):
        if name in fixed:
            value = fixed[name]
            columns.append([process(value) if process else value] * len(rows))
            continue
        if process is None:
            columns.append([row[name] for row in rows])
            continue
        out: list[Any] = []
        seen: Any = _UNSEEN
        converted: Any = None
        empty: Any = _UNSEEN
        for row in rows:
            value = row[name]
            if value is not seen:
                if type(value) is dict and not value:
                    if empty is _UNSEEN:
                        empty = process(value)
                    out.append(empty)
                    continue
                seen, converted = value, process(value)
            out.append(converted)
        columns.append(out)
    if compiled.positional:
        return list(zip(*columns, strict=True))
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


_UNSEEN = object()


IN_CHUNKS = 500  # bound on the ids of one IN (...) clause


def in_chunks(values: list[str]) -> Iterator[list[str]]:
    """``values`` in slices of at most ``IN_CHUNKS``: one ``IN (...)`` clause each."""
    for i in range(0, len(values), IN_CHUNKS):
        yield values[i : i + IN_CHUNKS]


def upsert_for(dialect: str, table: Any) -> Any:
    """INSERT ... ON CONFLICT for the store's dialect (SQLite and PostgreSQL share the syntax)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
