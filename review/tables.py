"""A table as the pages show it and as CSV: one definition serves both, so any table exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi.responses import Response


@dataclass(frozen=True)
class Column:
    title: str
    value: Callable[[Any], Any]
    kind: str = "text"  # text, number, percent, score, date, link


@dataclass(frozen=True)
class Table:
    name: str  # used in ?csv=NAME and in the downloaded file's name
    columns: Sequence[Column]
    rows: Sequence[Any]
    link: Callable[[Any], str] | None = None  # where a row's first cell leads

    def cells(self, row: Any) -> list[tuple[Column, Any]]:
        return [(column, column.value(row)) for column in self.columns]


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # a spreadsheet would run it as a formula
    return value


def csv_response(table: Table) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.title for column in table.columns])
    for row in table.rows:
        writer.writerow([_csv_value(column.value(row)) for column in table.columns])
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="callqa-{table.name}.csv"'},
    )
