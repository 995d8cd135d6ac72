"""Throughput of the nightly run (`process_inbox`) with 1 and 2 worker processes.

Run with `make bench-inbox`. Both runs score the bundled sample calls from a fresh inbox
into a fresh database, one after the other in this command, so the two rows compare on
the same machine state. Each worker process loads Whisper once; the checkpoint and the cue
models are prepared before timing, as in daily use.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.main_job import CALLQA, ROOT, job_settings, machine
from bench.report import record

HEADING = "## Nightly inbox throughput (`make bench-inbox`)"


def run_inbox(workers: int, models: Path) -> tuple[int, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        for wav in sorted((ROOT / "samples").glob("*.wav")):
            shutil.copy(wav, inbox / wav.name)
        env = dict(os.environ, CALLQA_DATA_DIR=str(Path(tmp) / "data"), CALLQA_INBOX_DIR=str(inbox),
                   CALLQA_MODEL_CACHE_DIR=str(models), CALLQA_INBOX_SETTLE_S="0")
        started = time.perf_counter()
        result = subprocess.run([str(CALLQA), "run", "--workers", str(workers)], cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
    print(result.stdout, result.stderr, sep="")
    if result.returncode != 0:
        sys.exit(result.returncode)
    calls = int(re.search(r"(\d+) processed", result.stdout).group(1))
    audio = float(re.search(r"\(([\d.]+) s\) of audio", result.stdout).group(1))
    return calls, audio, wall


def main() -> None:
    with tempfile.TemporaryDirectory() as models:
        # Warm the caches (Whisper checkpoint, cue models) outside the timed runs.
        run_inbox(1, Path(models))
        rows = []
        for workers in (1, 2):
            calls, audio, wall = run_inbox(workers, Path(models))
            rows.append((workers, calls, audio, wall))
    baseline = rows[0][3]
    for workers, calls, audio, wall in rows:
        row = (
            f"| {date.today()} | {machine()} | {job_settings()} | {workers} | {calls} | {audio:.1f} | {wall:.1f} | "
            f"{calls / wall * 3600:.0f} | {audio / wall:.1f}x | {baseline / wall:.2f} |"
        )
        record(HEADING, row)
        print(row)


if __name__ == "__main__":
    main()
