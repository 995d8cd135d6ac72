"""Ingest stage: find the recordings, identify each by its content hash, archive a copy."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import CallQAError
from pipeline.files import file_sha256


@dataclass(frozen=True)
class IngestedCall:
    path: Path
    sha256: str
    size_bytes: int

    @property
    def call_id(self) -> str:
        return self.sha256[:16]


# Not calls: CRM sidecars, and notes or documents people keep beside the recordings.
NOT_CALLS = frozenset({".json", ".csv", ".txt", ".md", ".yaml", ".yml"})


def scan(paths: list[Path]) -> list[Path]:
    """Every file under the given files and folders that may be a call, sorted: not hidden,
    not half-copied (*.partial), not a sidecar or note. Non-audio files are kept, so that
    the caller can quarantine them with a reason."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*")
                if p.is_file() and not p.name.startswith(".") and p.suffix.lower() not in NOT_CALLS | {".partial"}
            )
        elif path.is_file():
            found.append(path)
        else:
            raise CallQAError(f"{path}: no such file or folder")
    return list(dict.fromkeys(p.resolve() for p in found))


def ingest(path: Path) -> IngestedCall:
    return IngestedCall(path=path, sha256=file_sha256(path), size_bytes=path.stat().st_size)


def archive(call: IngestedCall, archive_dir: Path) -> Path:
    """Copy the recording into the archive under its hash; a second copy is never made."""
    target = archive_dir / call.sha256[:2] / f"{call.sha256}{call.path.suffix.lower()}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(call.path, partial)
        partial.replace(target)
    return target
