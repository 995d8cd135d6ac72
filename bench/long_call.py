"""Benchmark a long call: one hour of telephone audio through the main job, in bounded memory.

A sample call is repeated to an hour and encoded as a PBX would record it (8 kHz mu-law,
stereo, and a mono mixdown whose voices must be separated), then `callqa run FILE` scores it
in a fresh data folder (the model cache warmed first, as in daily use). It reports the speed, the peak resident memory of the process that
did the work (the largest child process), how many pieces the call was read in, and the word
error rate and role attribution against the sample's turns repeated as often. Run with
`make bench-long-call`; it adds rows to docs/benchmarks.md.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import yaml

from bench.main_job import CALLQA, job_settings, machine
from bench.report import record
from bench.transcription import attribution, word_errors

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## A one-hour call (`make bench-long-call`)"
SAMPLE = "ru_good_vacuum"


def make_long_call(target: Path, minutes: float, channels: int) -> int:
    """The sample call repeated to at least ``minutes``; returns how many times."""
    from pipeline.audio import AudioSegment, open_call

    sample = ROOT / "samples" / f"{SAMPLE}.wav"
    repeats = int(minutes * 60 // open_call(sample).duration) + 1
    subprocess.run(
        [AudioSegment.converter, "-y", "-loglevel", "error", "-stream_loop", str(repeats - 1), "-i", str(sample),
         "-ac", str(channels), "-ar", "8000", "-acodec", "pcm_mulaw", str(target)],
        check=True,
    )
    return repeats


def measure(channels: int, minutes: float) -> str:
    from models import make_engine, make_session_factory
    from pipeline import store
    from pipeline.audio import PIECE_S, open_call
    from pipeline.ingest import ingest

    with tempfile.TemporaryDirectory() as tmp:
        call = Path(tmp) / f"long_{'stereo' if channels == 2 else 'mono'}.wav"
        repeats = make_long_call(call, minutes, channels)
        recording = open_call(call)
        pieces = sum(1 for _ in recording.pieces(PIECE_S))
        env = dict(os.environ, CALLQA_DATA_DIR=str(Path(tmp) / "data"))  # the model cache comes from main()
        started = time.perf_counter()
        result = subprocess.run([str(CALLQA), "run", str(call)], cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(result.stdout, result.stderr[-3000:], sep="")
        if result.returncode != 0:
            sys.exit(result.returncode)
        engine = make_engine(f"sqlite:///{Path(tmp) / 'data' / 'callqa.db'}")
        with make_session_factory(engine)() as session:
            transcript = store.load_transcript(session=session, call_id=ingest(call).call_id)
        engine.dispose()
    turns = yaml.safe_load((ROOT / "samples" / "turns" / f"{SAMPLE}.yaml").read_text(encoding="utf-8"))["turns"] * repeats
    segments = [(s.speaker, s.text) for s in transcript.segments]
    errors, said = word_errors(turns, segments)
    right, matched = attribution(turns, segments)
    return (
        f"| {date.today()} | {machine()} | {job_settings()} | {'stereo' if channels == 2 else 'mono, voices separated'} | "
        f"{recording.duration / 60:.1f} | {pieces} | {wall:.0f} | {recording.duration / wall:.1f}x | {peak_mb:.0f} | "
        f"{errors / said:.1%} | {right / matched:.1%} |"
    )


def main(layouts: list[str]) -> None:
    """Stereo and mono, or those named; each measured from its own process, so one's peak
    memory is not the other's. A short mono clip first fills the model cache (converted
    weights, the voice encoder, the cue classifiers), as the first night of use would."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, CALLQA_MODEL_CACHE_DIR=str(Path(tmp) / "models"))
        subprocess.run([str(CALLQA), "run", str(ROOT / "tests" / "data" / "jfk.wav")], cwd=ROOT, check=True,
                       env=dict(env, CALLQA_DATA_DIR=str(Path(tmp) / "warm-up")), capture_output=True)
        for layout in layouts or ["stereo", "mono"]:
            child = subprocess.run([sys.executable, "-m", "bench.long_call", "--child", layout], cwd=ROOT, env=env,
                                   capture_output=True, text=True)
            print(child.stdout, child.stderr[-3000:], sep="")
            if child.returncode != 0:
                sys.exit(child.returncode)
            record(HEADING, child.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(measure(2 if sys.argv[2] == "stereo" else 1, float(os.environ.get("BENCH_MINUTES", "60"))), flush=True)
    else:
        main(sys.argv[1:])
