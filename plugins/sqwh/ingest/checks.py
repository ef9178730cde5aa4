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
    # the loader turns NUL bytes (which COPY cannot take) into SUB, chr(26)
    rules.append(
        (
            sql.SQL("strpos(coalesce({}, ''), chr(26)) = 0").format(v),
            "text without NUL (0x00) bytes",
        )
    )
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


# --- Fast path -------------------------------------------------------------------------
# Most delivered files are clean. For them the loader casts with PostgreSQL's own (C) input
# functions and checks codes with plain comparisons, which keeps it near raw COPY speed. A
# value those casts cannot read raises an error; the loader then rolls back to a savepoint
# and takes the slow path above, which classifies every row without raising.


def fast_value(column: Column, present: set[str]) -> sql.Composable:
    """Cast for the fast path; raises (a DataError, SQLSTATE class 22) on any value it cannot read."""
    if column.name not in present:
        return sql.SQL("null::{}").format(sql.SQL(column.pg_type))
    v = _text(column.name)
    if column.type == "timestamp":
        # the load transaction runs with TimeZone = Asia/Shanghai, so local times stay local;
        # anything but the two contract forms is forced into an error (no 'now', no offsets)
        return sql.SQL(
            "case when {v} is null then null"
            " when {v} like '____-__-__ __:__:__' then {v}::timestamptz"
            " when length({v}) = 14 then to_timestamp({v}, 'YYYYMMDDHH24MISS')"
            " else ('not a timestamp: ' || {v})::timestamptz end"
        ).format(v=v)
    if column.type == "date":
        return sql.SQL(
            "case when {v} is null then null"
            " when {v} like '____-__-__' then {v}::date"
            " when length({v}) = 8 then to_date({v}, 'YYYYMMDD')"
            " else ('not a date: ' || {v})::date end"
        ).format(v=v)
    if column.type == "month":
        return sql.SQL(
            "(case when {v} ~ {p} then {v} else ('not a month: ' || {v})::int::text end)"
        ).format(v=v, p=sql.Literal(r"^[0-9]{4}(0[1-9]|1[0-2])$"))
    return sql.SQL("{}::{}").format(v, sql.SQL(column.pg_type))


def fast_predicate(entity: Entity, present: set[str]) -> sql.Composable:
    """Rules that do not raise (required, codes, patterns, sane years) as one cheap boolean."""
    terms: list[sql.Composable] = []
    for column in entity.columns:
        if column.name not in present:
            if column.required:
                terms.append(sql.SQL("false"))
            continue
        v = _text(column.name)
        rules = []
        if column.enum:
            rules.append(sql.SQL("{} = any({})").format(v, sql.Literal(list(column.enum))))
        if column.pattern:
            rules.append(sql.SQL("{} ~ {}").format(v, sql.Literal(column.pattern)))
        if column.type in ("timestamp", "date"):
            # sane times (private.is_ts: years 1900-2199); both forms start with the year.
            # The casts in fast_value refuse every other malformed value.
            rules.append(sql.SQL("left({}, 4) between '1900' and '2199'").format(v))
        if column.required:
            terms.append(sql.SQL("{} is not null").format(v))
            terms += rules
        elif rules:
            terms.append(sql.SQL("({} is null or ({}))").format(v, sql.SQL(" and ").join(rules)))
    return sql.SQL(" and ").join(terms) if terms else sql.SQL("true")
