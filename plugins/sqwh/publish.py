"""Write-audit-publish, last step: swap a validated candidate into ``reporting`` atomically.

The gate records a digest of the candidate it validated; publishing recomputes it under a
per-period advisory lock and refuses if the candidate changed in between (another run
rebuilt it), so what is published is exactly what passed. Readers see the old or the new
publication, never a mix: delete and insert happen in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
from importlib.metadata import version
from pathlib import Path

import psycopg

from sqwh.config import settings
from sqwh.period import Period
from sqwh.warehouse import connect

log = logging.getLogger(__name__)

GRAIN = "indicator_code, geo_level, coalesce(city_code, ''), coalesce(breakdown_type, ''), coalesce(breakdown, '')"
LOCK_TIMEOUT = "30s"


class PublishRefused(Exception):
    pass


def candidate_digest(conn: psycopg.Connection) -> str:
    row = conn.execute(
        f"select md5(coalesce(string_agg(c::text, E'\\n' order by {GRAIN}), '')) "
        "from candidate.half_year_indicators as c"
    ).fetchone()
    return str(row[0])  # type: ignore[index]


def code_version() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(settings().project_dir), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        dirty = subprocess.run(
            [
                "git",
                "-C",
                str(settings().project_dir),
                "status",
                "--porcelain",
                "--untracked-files=no",
            ],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return f"sqwh {version('sqwh')}"


def _file_sha256(path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def lock_period(conn: psycopg.Connection, period: str) -> None:
    """Per-period advisory lock (transaction scope): one publication of a period at a time."""
    conn.execute(f"set local lock_timeout = '{LOCK_TIMEOUT}'")
    got = conn.execute(
        "select pg_try_advisory_xact_lock(hashtext('sqwh.publish'), hashtext(%s))", (period,)
    ).fetchone()[0]  # type: ignore[index]
    if not got:
        raise PublishRefused(
            f"another run is publishing {period} right now; this one stops without publishing. "
            "Wait for it to finish, then re-run if needed."
        )


CHANGED_FIGURES = """
    insert into audit.publication_change (
        publication_id, supersedes, period, indicator_code, geo_level, city_code, breakdown_type,
        breakdown, old_numerator, old_denominator, old_value, new_numerator, new_denominator, new_value)
    select %(new)s, %(old)s, %(period)s,
        coalesce(n.indicator_code, o.indicator_code), coalesce(n.geo_level, o.geo_level),
        coalesce(n.city_code, o.city_code), coalesce(n.breakdown_type, o.breakdown_type),
        coalesce(n.breakdown, o.breakdown),
        o.numerator, o.denominator, o.value, n.numerator, n.denominator, n.value
    from (select * from reporting.half_year_indicators where period = %(period)s) as o
    full join candidate.half_year_indicators as n
        on n.indicator_code = o.indicator_code
        and n.geo_level = o.geo_level
        and n.city_code is not distinct from o.city_code
        and n.breakdown_type is not distinct from o.breakdown_type
        and n.breakdown is not distinct from o.breakdown
    where (o.numerator, o.denominator, o.value, o.indicator_code)
        is distinct from (n.numerator, n.denominator, n.value, n.indicator_code)
"""


def _supersede(conn: psycopg.Connection, period: str, new: int, old: int) -> int:
    """Keep the superseded figures verbatim and list what changed; returns the changed count."""
    conn.execute(
        "insert into audit.superseded_indicators select * from reporting.half_year_indicators"
        " where period = %s",
        (period,),
    )
    return conn.execute(CHANGED_FIGURES, {"new": new, "old": old, "period": period}).rowcount


def publish(
    url: str,
    period: str,
    run_id: str,
    validation_ids: list[int],
    validated_digest: str,
    reason: str | None = None,
) -> int:
    """Publish the validated candidate for ``period``; returns the publication id.

    A re-publication of a period records ``reason``, the publication it supersedes, the
    figures that changed (audit.publication_change) and the superseded figures themselves
    (audit.superseded_indicators), in the same transaction as the swap."""
    p = Period.parse(period)
    s = settings()
    with connect(url) as conn:
        lock_period(conn, p.code)
        digest = candidate_digest(conn)
        if digest != validated_digest:
            raise PublishRefused(
                f"the candidate for {p.code} changed after it was validated (another run rebuilt it); "
                "nothing published. Re-run the period."
            )
        periods = {
            r[0] for r in conn.execute("select distinct period from candidate.half_year_indicators")
        }
        if periods != {p.code}:
            raise PublishRefused(
                f"candidate holds periods {sorted(periods)}, expected only {p.code}"
            )
        files = [
            {"file": f, "sha256": h, "entity": e}
            for f, h, e in conn.execute(
                "select file_name, sha256, entity from audit.load_manifest where status = 'LOADED' order by load_id"
            )
        ]
        catalogue = conn.execute(
            "select string_agg(distinct catalogue_version, ',') from marts.indicator_catalogue"
        ).fetchone()[0]  # type: ignore[index]
        catalogue_hash = _file_sha256(s.dbt_dir / "seeds" / "indicator_catalogue.csv")
        row_count = conn.execute("select count(*) from candidate.half_year_indicators").fetchone()[
            0
        ]  # type: ignore[index]
        supersedes = conn.execute(
            "select max(publication_id) from reporting.half_year_indicators where period = %s",
            (p.code,),
        ).fetchone()[0]  # type: ignore[index]
        publication_id = conn.execute(
            """insert into audit.publication (period, run_id, code_version, dbt_manifest_hash, catalogue_version,
                   input_files, validation_ids, row_count, reason, supersedes)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning publication_id""",
            (
                p.code,
                run_id,
                code_version(),
                _file_sha256(s.dbt_target_dir / "manifest.json"),
                f"{catalogue} sha256:{(catalogue_hash or '')[:16]}",
                json.dumps(files),
                validation_ids,
                row_count,
                reason,
                supersedes,
            ),
        ).fetchone()[0]  # type: ignore[index]
        changed = (
            _supersede(conn, p.code, int(publication_id), int(supersedes))
            if supersedes is not None
            else None
        )
        conn.execute("delete from reporting.half_year_indicators where period = %s", (p.code,))
        conn.execute(
            """insert into reporting.half_year_indicators (
                    period, geo_level, city_code, breakdown_type, breakdown, indicator_code, numerator,
                    denominator, value, unit, target, comparison, meets_target, previous_value, change,
                    publication_id, null_reason)
                select c.period, c.geo_level, c.city_code, c.breakdown_type, c.breakdown, c.indicator_code,
                    c.numerator, c.denominator, c.value, c.unit, c.target, c.comparison, c.meets_target,
                    prev.value, c.value - prev.value, %s, c.null_reason
                from candidate.half_year_indicators as c
                left join reporting.half_year_indicators as prev
                    on prev.period = %s
                    and prev.indicator_code = c.indicator_code
                    and prev.geo_level = c.geo_level
                    and prev.city_code is not distinct from c.city_code
                    and prev.breakdown_type is not distinct from c.breakdown_type
                    and prev.breakdown is not distinct from c.breakdown""",
            (publication_id, p.previous().code),
        )
        conn.commit()
        page = write_publication_page(conn, int(publication_id))
    log.info(
        "published %s as publication %s (%s rows); audit page %s",
        p.code,
        publication_id,
        row_count,
        page,
    )
    if changed is not None:
        log.info(
            "publication %s supersedes %s: %s figure(s) changed (audit.publication_change); reason: %s",
            publication_id,
            supersedes,
            changed,
            reason or "none given",
        )
    return int(publication_id)


def write_publication_page(conn: psycopg.Connection, publication_id: int) -> Path:
    from sqwh.audit_pages import render_publication_page

    out = settings().reports_dir / "publications"
    out.mkdir(parents=True, exist_ok=True)
    page = out / f"publication-{publication_id}.html"
    page.write_text(render_publication_page(conn, publication_id), encoding="utf-8")
    return page
