"""CRM sidecars: what the CRM knows about a call, next to its recording.

Either `NAME.json` beside `NAME.wav`, or a CSV export covering a batch (any `*.csv` in the
folder, one row per call, naming the recording in its `file` column). The same fields in
both: manager_id, manager_name, team, client_phone, started_at (ISO 8601), direction
(inbound or outbound), order_outcome (won, lost or open), order_amount, currency and scorecard.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from pipeline.errors import SidecarError


class CallMetadata(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    manager_id: str | None = None
    manager_name: str | None = None
    team: str | None = None
    client_phone: str | None = None
    started_at: datetime | None = None
    direction: Literal["inbound", "outbound"] | None = None
    order_outcome: Literal["won", "lost", "open"] | None = None
    order_amount: float | None = None
    currency: str | None = None
    scorecard: str | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_missing(cls, value):
        return None if value == "" else value

    def with_time_zone(self, zone: str) -> CallMetadata:
        """A start time without an offset is read in the team's time zone."""
        if self.started_at is None or self.started_at.tzinfo is not None:
            return self
        return self.model_copy(update={"started_at": self.started_at.replace(tzinfo=ZoneInfo(zone))})


def phone_digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    # Russian numbers are written with 8 or +7 in front; both mean the same line.
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    return digits


def phone_hash(phone: str, key: str) -> str:
    """A keyed hash, so a client's calls can be grouped without storing the number."""
    return hashlib.sha256(f"{key}:{phone_digits(phone)}".encode()).hexdigest()


def mask_phone(phone: str) -> str:
    digits = phone_digits(phone)
    return f"+{digits[:1]}…{digits[-2:]}" if len(digits) >= 4 else "…"


def _parse(fields: dict, where: str) -> CallMetadata:
    try:
        return CallMetadata.model_validate(fields)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'record'}: {err['msg']}" for err in e.errors())
        raise SidecarError(f"sidecar {where}: {problems}") from None


def _csv_rows(folder: Path) -> dict[str, tuple[dict, str]]:
    rows: dict[str, tuple[dict, str]] = {}
    for export in sorted(folder.glob("*.csv")):
        with export.open(encoding="utf-8-sig", newline="") as f:
            for line, row in enumerate(csv.DictReader(f), start=2):
                if row.get("file"):
                    rows[row["file"].strip()] = (row, f"{export.name} line {line}")
    return rows


class SidecarIndex:
    """Finds the sidecar of each recording in the folders of one scan; CSVs are read once."""

    def __init__(self) -> None:
        self._csv: dict[Path, dict[str, tuple[dict, str]]] = {}

    def metadata_for(self, audio: Path) -> CallMetadata | None:
        """The recording's CRM fields, None when it has no sidecar; SidecarError when broken."""
        json_file = audio.with_suffix(".json")
        if json_file.is_file():
            try:
                fields = json.loads(json_file.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise SidecarError(f"sidecar {json_file.name}: not valid JSON ({e})") from None
            if not isinstance(fields, dict):
                raise SidecarError(f"sidecar {json_file.name}: expected a JSON object")
            return _parse(fields, json_file.name)
        folder = audio.parent
        if folder not in self._csv:
            self._csv[folder] = _csv_rows(folder)
        found = self._csv[folder].get(audio.name)
        return _parse(found[0], found[1]) if found else None
