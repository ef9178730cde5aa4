"""Row contract checks as SQL, generated from the registry.

Each column yields a list of (condition-that-must-hold, what-was-expected); the loader
turns them into one CASE expression naming the first broken rule of a row.
"""

from __future__ import annotations

from psycopg import sql

from sqwh.registry import Column, Entity

TIMEZONE = "Asia/Shanghai"


def _text(name: str) -> sql.Composable:
    return sql.SQL("nullif({}, '')").format(sql.Identifier(name))


def column_rules(column: Column) -> list[tuple[sql.Composable, str]]:
    """Conditions on the text value ``v`` (NULL when empty) of one column."""
    v = _text(column.name)
    rules: list[tuple[sql.Composable, str]] = []
    if column.required:
        rules.append((sql.SQL("{} is not null").format(v), "a value (required)"))
    typed = {
        "int": (r"^-?[0-9]{1,9}$", "an integer"),
        "bigint": (r"^-?[0-9]{1,18}$", "an integer"),
        "month": (r"^[0-9]{4}(0[1-9]|1[0-2])$", "a month YYYYMM"),
    }
    if column.type in typed:
        pattern, expected = typed[column.type]
        rules.append((sql.SQL("{} ~ {}").format(v, sql.Literal(pattern)), expected))
    elif column.type in ("timestamp", "date"):
        expected = (
            "a timestamp YYYY-MM-DD HH:MM:SS or YYYYMMDDHHMMSS"
            if column.type == "timestamp"
            else "a date YYYYMMDD or YYYY-MM-DD"
        )
        rules.append((sql.SQL("private.is_ts({})").format(v), expected))
    if column.enum:
        rules.append(
            (
                sql.SQL("{} = any({})").format(v, sql.Literal(list(column.enum))),
                "one of " + ", ".join(column.enum),
            )
        )
    if column.pattern:
        rules.append(
            (
                sql.SQL("{} ~ {}").format(v, sql.Literal(column.pattern)),
                f"a code matching {column.pattern}",
            )
        )
    return rules


def reject_reason(entity: Entity, present: set[str]) -> sql.Composable:
    """CASE expression: NULL for a good row, else '<column>: expected ..., got ...'."""
    whens = []
    for column in entity.columns:
        if column.name not in present:
            continue
        v = _text(column.name)
        for condition, expected in column_rules(column):
            # A NULL in an optional column passes every rule but 'required'.
            guarded = (
                condition if column.required else sql.SQL("({} is null or {})").format(v, condition)
            )
            message = sql.SQL("{} || coalesce(quote_literal(left({}, 60)), 'empty')").format(
                sql.Literal(f"{column.name}: expected {expected}, got "), v
            )
            whens.append(sql.SQL("when not coalesce({}, false) then {}").format(guarded, message))
    if not whens:
        return sql.SQL("null::text")
    return sql.SQL("case {} end").format(sql.SQL(" ").join(whens))


def typed_value(column: Column, present: set[str]) -> sql.Composable:
    """The cast of one column for a row that passed the checks."""
    if column.name not in present:
        return sql.SQL("null::{}").format(sql.SQL(column.pg_type))
    v = _text(column.name)
    if column.type == "timestamp":
        return sql.SQL("(private.norm_ts({})::timestamp at time zone {})").format(
            v, sql.Literal(TIMEZONE)
        )
    if column.type == "date":
        return sql.SQL("(private.norm_ts({})::timestamp)::date").format(v)
    return sql.SQL("{}::{}").format(v, sql.SQL(column.pg_type))
