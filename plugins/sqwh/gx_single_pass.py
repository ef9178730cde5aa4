"""GX's unexpected-rows check in one query instead of two.

GX's ``unexpected_rows_expectation`` runs its query twice: once wrapped in ``count(*)`` for
the count, once for the example rows. For the gate's checks that recount raw (tens of
millions of rows at province scale) that doubled the gate's time. This expectation has the
same contract (success when the query returns no rows; the count and the rows in the
result) and runs the query once: the rows come back with ``count(*) over ()``, the count of
all of them, computed before GX fetches the first 200.

Suites name it ``unexpected_rows_single_pass_expectation``; importing this module registers
it with GX.
"""

from __future__ import annotations

from typing import Any, ClassVar

from great_expectations.expectations.core.unexpected_rows_expectation import (
    UnexpectedRowsExpectation,
)
from great_expectations.validator.metric_configuration import MetricConfiguration

ROWS_METRIC = "unexpected_rows_query.table"
TOTAL_COLUMN = "unexpected_rows_in_all"


def counted(query: str) -> str:
    """The query's rows, each with the number of all its rows."""
    return f"select q.*, count(*) over () as {TOTAL_COLUMN} from ({query}) as q"


class UnexpectedRowsSinglePassExpectation(UnexpectedRowsExpectation):
    """UnexpectedRowsExpectation whose query runs once (see the module's docstring)."""

    metric_dependencies: ClassVar[tuple[str, ...]] = (ROWS_METRIC,)

    def get_validation_dependencies(
        self, execution_engine: Any = None, runtime_configuration: dict | None = None
    ) -> Any:
        dependencies = super().get_validation_dependencies(
            execution_engine=execution_engine, runtime_configuration=runtime_configuration
        )
        rows = dependencies.get_metric_configuration(ROWS_METRIC)
        value_kwargs = dict(rows.metric_value_kwargs)
        value_kwargs["unexpected_rows_query"] = counted(value_kwargs["unexpected_rows_query"])
        dependencies.set_metric_configuration(
            ROWS_METRIC,
            MetricConfiguration(
                metric_name=ROWS_METRIC,
                metric_domain_kwargs=rows.metric_domain_kwargs,
                metric_value_kwargs=value_kwargs,
            ),
        )
        return dependencies

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        rows = [dict(r) for r in metrics[ROWS_METRIC]]
        count = int(rows[0][TOTAL_COLUMN]) if rows else 0
        for row in rows:
            del row[TOTAL_COLUMN]
        return {
            "success": count == 0,
            "result": {"observed_value": count, "details": {"unexpected_rows": rows}},
        }
