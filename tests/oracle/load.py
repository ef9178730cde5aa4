"""Read delivered extract files straight from a landing folder (extracts.md), with pandas only.

Layout: `<landing>/<system lower-case>/<ENTITY>_<YYYYMMDD>[_<seq>].csv[.gz]`; `.chk` files are
ignored. Every column is read as text and parsed here: timestamps `YYYY-MM-DD HH:MM:SS` or
`YYYYMMDDHHMMSS` (local Asia/Shanghai, returned tz-aware), dates `YYYYMMDD` or `YYYY-MM-DD`
(returned as naive midnight timestamps), bill months `YYYYMM` (returned as `YYYYMM` text),
integers. Empty field = NULL.

Choices (see also the list in `tests/oracle/__init__.py`):
- A row whose non-empty timestamp/date/month/integer field does not parse is dropped whole
  (the loader quarantines such rows, so they are not data). Text columns are not validated.
- Rows with the same business key count once: files in name order (date, then seq), rows in
  file order, the last copy kept: a later delivery carries the later state of an item whose
  lifecycle spans days (a fault delivered open on its report day and again, restored, the
  next day). Dropping malformed rows happens before de-duplication.
- Snapshots: all files (every seq) of the latest snapshot date <= the period's last day; if
  there is none, the latest date delivered.
"""

from __future__ import annotations

import gzip
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tests.oracle.period import TZ

TS, DATE, MONTH, INT = "timestamp", "date", "month", "int"


@dataclass(frozen=True)
class Entity:
    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    types: dict[str, str] = field(default_factory=dict)

    @property
    def system(self) -> str:
        return self.name.split("_", 1)[0].lower()


def _entity(name: str, key: str | tuple[str, ...], columns: str, **types: str) -> Entity:
    keys = (key,) if isinstance(key, str) else key
    return Entity(name, keys, tuple(columns.split()), types)


# Written from extracts.md: column names as listed there, "(key)" as the business key.
ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        _entity(
            "BSS_ORDER",
            "order_id",
            "order_id order_type product subscriber_no city_code county_code area_type "
            "channel_type outlet_id accept_time promise_time complete_time queue_wait_sec "
            "handle_sec payment_time status test_flag",
            accept_time=TS,
            promise_time=TS,
            complete_time=TS,
            payment_time=TS,
            queue_wait_sec=INT,
            handle_sec=INT,
            test_flag=INT,
        ),
        _entity(
            "BSS_FAULT",
            "ticket_id",
            "ticket_id line_no product city_code county_code area_type report_time "
            "restore_time fault_class source",
            report_time=TS,
            restore_time=TS,
        ),
        _entity(
            "BSS_BILL",
            ("city_code", "bill_month", "product"),
            "city_code bill_month product billed_amount_fen subscribers_in_service "
            "lines_in_service",
            bill_month=MONTH,
            billed_amount_fen=INT,
            subscribers_in_service=INT,
            lines_in_service=INT,
        ),
        _entity(
            "BSS_BILL_ADJ",
            "adj_id",
            "adj_id subscriber_no city_code bill_month amount_fen reason confirmed_time",
            bill_month=MONTH,
            amount_fen=INT,
            confirmed_time=TS,
        ),
        _entity(
            "CRM_OUTLET",
            "outlet_id",
            "outlet_id outlet_name outlet_type city_code county_code township_code open_date "
            "close_date services vip_counter",
            open_date=DATE,
            close_date=DATE,
        ),
        _entity("CRM_AREA", "area_code", "area_code area_name level parent_code"),
        _entity(
            "CRM_CUSTOMER",
            "customer_id",
            "customer_id name id_no phone city_code segment value_tier join_date",
            join_date=DATE,
        ),
        _entity(
            "CRM_CARE",
            "contact_id",
            "contact_id customer_id contact_time channel campaign outcome",
            contact_time=TS,
        ),
        _entity(
            "CRM_COMPLAINT",
            "complaint_id",
            "complaint_id customer_id phone city_code source category accept_time "
            "first_response_time close_time result",
            accept_time=TS,
            first_response_time=TS,
            close_time=TS,
        ),
        _entity(
            "CRM_SURVEY",
            "survey_id",
            "survey_id customer_id touchpoint city_code survey_time score",
            survey_time=TS,
            score=INT,
        ),
        _entity(
            "CC_CALL",
            "call_id",
            "call_id hotline caller_no city_code call_start ivr_end queue_start answer_time "
            "call_end skill_group agent_id end_reason",
            call_start=TS,
            ivr_end=TS,
            queue_start=TS,
            answer_time=TS,
            call_end=TS,
        ),
        # CC_SURVEY has no "(key)" in extracts.md; call_id is its key (one survey per call).
        _entity("CC_SURVEY", "call_id", "call_id survey_time score", survey_time=TS, score=INT),
        _entity(
            "CC_SPAM_REPORT",
            "report_id",
            "report_id reporter_no reported_no city_code received_time handled_time action",
            received_time=TS,
            handled_time=TS,
        ),
    )
}

SNAPSHOTS = frozenset({"CRM_OUTLET", "CRM_AREA", "CRM_CUSTOMER"})


@dataclass(frozen=True, order=True)
class DataFile:
    date: str
    seq: int
    path: Path


def list_files(landing: Path, entity: str) -> list[DataFile]:
    """Data files of one entity, in delivery order (date, seq, name)."""
    folder = Path(landing) / ENTITIES[entity].system
    if not folder.is_dir():
        return []
    # The date must follow the entity name directly, so BSS_BILL never picks up BSS_BILL_ADJ.
    pattern = re.compile(rf"^{re.escape(entity)}_(\d{{8}})(?:_(\d+))?\.csv(?:\.gz)?$", re.I)
    found = []
    for path in folder.iterdir():
        m = pattern.match(path.name)
        if m and path.is_file():
            found.append(DataFile(m.group(1), int(m.group(2) or 0), path))
    return sorted(found)


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in ("|", ",", "\x05", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_file(path: Path, entity: Entity) -> pd.DataFrame:
    """One data file as text columns (the entity's contract columns, matched by header name)."""
    raw = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        raw = gzip.decompress(raw)
    text = _decode(raw)
    header = text[: text.find("\n")]
    frame = pd.read_csv(
        io.StringIO(text),
        sep=_delimiter(header),
        dtype=str,
        keep_default_na=False,
        index_col=False,
    )
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in entity.columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path}: column(s) {', '.join(missing)} missing from the header; the oracle only "
            "reads complete deliveries (the loader refuses this file): remove it from the landing"
        )
    return frame[list(entity.columns)]


def _two_forms(s: pd.Series, compact_len: int, compact: str, iso: str) -> pd.Series:
    """Parse values in either the compact digit form or the ISO form; others -> NaT.

    Each value is parsed once, with the format its shape says (the compact parser alone would
    accept short digit strings, so only digit strings of the exact length go to it).
    """
    is_compact = ((s.str.len() == compact_len) & s.str.isdigit()).fillna(False).astype(bool)
    is_iso = s.notna() & ~is_compact
    parsed = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    if is_compact.any():
        parsed[is_compact] = pd.to_datetime(s[is_compact], format=compact, errors="coerce")
    if is_iso.any():
        parsed[is_iso] = pd.to_datetime(s[is_iso], format=iso, errors="coerce")
    return parsed


def _parse_timestamp(s: pd.Series) -> pd.Series:
    parsed = _two_forms(s, 14, "%Y%m%d%H%M%S", "%Y-%m-%d %H:%M:%S")
    return parsed.dt.tz_localize(TZ, ambiguous="NaT", nonexistent="NaT")


def _parse_date(s: pd.Series) -> pd.Series:
    return _two_forms(s, 8, "%Y%m%d", "%Y-%m-%d")


def _parse_month(s: pd.Series) -> pd.Series:
    norm = s.str.replace(r"^(\d{4})-(\d{2})$", r"\1\2", regex=True)
    ok = norm.str.fullmatch(r"\d{4}(0[1-9]|1[0-2])").fillna(False).astype(bool)
    return norm.where(ok)


def _parse_int(s: pd.Series) -> pd.Series:
    ok = s.str.fullmatch(r"[+-]?\d+").fillna(False).astype(bool)
    return s.where(ok).astype("Int64")


_PARSERS = {TS: _parse_timestamp, DATE: _parse_date, MONTH: _parse_month, INT: _parse_int}


def parse(frame: pd.DataFrame, entity: Entity) -> pd.DataFrame:
    """Empty -> NULL, typed columns parsed; rows with an unparseable typed value dropped."""
    out = {}
    bad = pd.Series(False, index=frame.index)
    for col in entity.columns:
        s = frame[col]
        s = s.where(s != "")
        kind = entity.types.get(col)
        if kind is not None:
            parsed = _PARSERS[kind](s)
            bad |= (s.notna() & parsed.isna()).astype(bool)
            s = parsed
        out[col] = s
    return pd.DataFrame(out, index=frame.index)[~bad].reset_index(drop=True)


def _empty(entity: Entity) -> pd.DataFrame:
    text = pd.Series([], dtype=str)
    return parse(pd.DataFrame({c: text for c in entity.columns}), entity)


def load_files(files: list[DataFile], entity_name: str) -> pd.DataFrame:
    """Concatenate, parse and de-duplicate (last delivered copy of a business key kept)."""
    entity = ENTITIES[entity_name]
    if not files:
        return _empty(entity)
    frames = [read_file(f.path, entity) for f in files]
    frame = parse(pd.concat(frames, ignore_index=True), entity)
    return frame.drop_duplicates(subset=list(entity.key), keep="last").reset_index(drop=True)


def snapshot_files(files: list[DataFile], last_day: pd.Timestamp) -> list[DataFile]:
    """All files of the latest snapshot date <= last day, else of the latest date delivered."""
    if not files:
        return []
    limit = last_day.strftime("%Y%m%d")
    dates = sorted({f.date for f in files})
    eligible = [d for d in dates if d <= limit]
    chosen = eligible[-1] if eligible else dates[-1]
    return [f for f in files if f.date == chosen]


class Landing:
    """A landing folder; each entity is read once and cached."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._cache: dict[tuple[str, str | None], pd.DataFrame] = {}

    def events(self, entity: str) -> pd.DataFrame:
        """Every delivered row of an event entity (all periods: filter by the item's start)."""
        key = (entity, None)
        if key not in self._cache:
            self._cache[key] = load_files(list_files(self.root, entity), entity)
        return self._cache[key]

    def snapshot(self, entity: str, last_day: pd.Timestamp) -> pd.DataFrame:
        """The snapshot that says what was true on `last_day`."""
        files = snapshot_files(list_files(self.root, entity), last_day)
        key = (entity, files[0].date if files else "")
        if key not in self._cache:
            self._cache[key] = load_files(files, entity)
        return self._cache[key]
