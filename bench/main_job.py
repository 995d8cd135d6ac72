"""Benchmark the main job: `callqa run samples/` into a fresh database, timed from outside.

Run with `make bench`. It adds one row to docs/benchmarks.md with the machine and date.
The Whisper checkpoint cache is kept warm (converted once before timing), as in daily use.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.report import record

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Main job on the bundled samples (`make bench`)"
CALLQA = Path(sys.executable).parent / "callqa"


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        platform.processor() or "unknown CPU",
    )
    return f"{cpu}, {os.cpu_count()} cores"


def job_settings() -> str:
    from pipeline.settings import Settings

    settings = Settings()
    engine = f"{settings.engine} int8" if settings.engine == "faster-whisper" and settings.compute_type == "auto" else settings.engine
    return f"{engine}, {settings.whisper_model}, beam {settings.beam_size}, {'VAD' if settings.vad else 'no VAD'}"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, CALLQA_DATA_DIR=tmp, CALLQA_MODEL_CACHE_DIR=str(Path(tmp) / "models"))
        subprocess.run([sys.executable, "-c", "from pathlib import Path; from pipeline.weights import provide_checkpoint; "
                        f"provide_checkpoint('base', Path({str(Path(tmp) / 'models')!r}))"], check=True, env=env)
        started = time.perf_counter()
        result = subprocess.run([str(CALLQA), "run", "samples/"], cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
    print(result.stdout, result.stderr, sep="")
    if result.returncode != 0:
        sys.exit(result.returncode)
    audio = float(re.search(r"\(([\d.]+) s\) of audio", result.stdout).group(1))
    calls = int(re.search(r"(\d+) processed", result.stdout).group(1))
    row = (
        f"| {date.today()} | {machine()} | `callqa run samples/` ({job_settings()}) | {calls} | "
        f"{audio:.1f} | {wall:.1f} | {wall / audio:.2f} | {audio / wall:.1f}x |"
    )
    record(HEADING, row)
    print(row, end="")


if __name__ == "__main__":
    main()
