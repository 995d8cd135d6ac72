"""Benchmark transcription: engines and modes side by side on the same files.

For each configuration, a fresh process runs the whole pipeline on every sample call
(decode, voice activity detection, both channels, score, store into a temporary SQLite)
and Whisper alone on jfk.wav. It reports speed (call duration / wall time), WER per
language against the known texts, the share of words attributed to the right speaker,
and the process's peak memory. The mono row runs the same calls mixed down to one channel,
so the two voices must be separated by speaker embeddings. Run with `make bench-transcription`; it adds rows to
docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from difflib import SequenceMatcher
from pathlib import Path

import yaml
from rapidfuzz.distance import Levenshtein

from bench.main_job import machine
from bench.report import record

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Transcription engines (`make bench-transcription`)"
JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
CONFIGS = {
    "faster-whisper int8, VAD + packing (default)": {"engine": "faster-whisper", "vad": True},
    "faster-whisper int8, full channels (baseline)": {"engine": "faster-whisper", "vad": False},
    "openai-whisper fp32, VAD + packing": {"engine": "openai-whisper", "vad": True},
    "openai-whisper fp32, full channels": {"engine": "openai-whisper", "vad": False},
    "faster-whisper int8, VAD + packing, mono mixdowns (voices separated)": {"engine": "faster-whisper", "vad": True, "mono": True},
}


def words(text: str) -> list[str]:
    return re.findall(r"[a-zа-я0-9]+", text.lower().replace("ё", "е"))


def mixdowns(folder: Path) -> list[Path]:
    """The sample calls mixed down to one channel, as a mono PBX would record them."""
    from pipeline.audio import AudioSegment

    paths = []
    for path in sorted((ROOT / "samples").glob("*.wav")):
        paths.append(folder / path.name)
        AudioSegment.from_file(path).set_channels(1).export(paths[-1], format="wav")
    return paths


def attribution(turns: list[dict[str, str]], segments: list[tuple[str, str]]) -> tuple[int, int]:
    """(words attributed to the right speaker, words matched) between the turns a call was
    made from and a transcript's (speaker, text) segments, aligned word by word."""
    reference = [(speaker, w) for turn in turns for speaker, text in turn.items() for w in words(text)]
    hypothesis = [(speaker, w) for speaker, text in segments for w in words(text)]
    matcher = SequenceMatcher(None, [w for _, w in reference], [w for _, w in hypothesis], autojunk=False)
    right = matched = 0
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            right += reference[block.a + k][0] == hypothesis[block.b + k][0]
            matched += 1
    return right, matched


def word_errors(turns: list[dict[str, str]], segments: list[tuple[str, str]]) -> tuple[int, int]:
    """(word errors, reference words) of a transcript's (speaker, text) segments against the
    turns a call was made from, each speaker's words against that speaker's turns."""
    wrong = said = 0
    for speaker in ("agent", "client"):
        reference = [w for turn in turns for w in words(turn.get(speaker, ""))]
        wrong += Levenshtein.distance(reference, [w for s, text in segments if s == speaker for w in words(text)])
        said += len(reference)
    return wrong, said


def run_one(config: dict, beam: int, model: str, cache: str) -> dict:
    """In this (child) process: the pipeline on every sample call, timed; then jfk.wav."""
    from models import create_schema, make_engine, make_session_factory
    from pipeline import store
    from pipeline.audio import open_call
    from pipeline.ingest import ingest
    from pipeline.score import load_scorecard, score
    from pipeline.transcribe import TranscribeOptions, make_transcriber

    options = TranscribeOptions(engine=config["engine"], vad=config["vad"], beam_size=beam, model=model, model_cache_dir=Path(cache))
    transcriber = make_transcriber(options)
    card = load_scorecard("inbound_inquiry", ROOT / "scorecards")
    with tempfile.TemporaryDirectory() as tmp:
        paths = mixdowns(Path(tmp)) if config.get("mono") else sorted((ROOT / "samples").glob("*.wav"))
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        create_schema(engine)
        sessions = make_session_factory(engine)
        transcriber.transcribe(open_call(paths[-1]))  # load the models first
        calls, wall, audio_s = {}, 0.0, 0.0
        for path in paths:
            started = time.perf_counter()
            audio = open_call(path)
            transcript = transcriber.transcribe(audio)
            assessment = score(transcript, card)
            with sessions.begin() as session:
                store.upsert_call(session=session, ingested=ingest(path), archive_path=None)
                row = store.save_transcript(session=session, call_id=ingest(path).call_id, transcript=transcript)
                store.save_assessment(session=session, call_id=row.call_id, transcript_id=row.id, assessment=assessment)
            wall += time.perf_counter() - started
            audio_s += audio.duration
            calls[path.stem] = [(s.speaker, s.text) for s in transcript.segments]
        engine.dispose()
    jfk = " ".join(s.text for s in transcriber.transcribe(open_call(ROOT / "tests" / "data" / "jfk.wav")).segments)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"calls": calls, "wall": wall, "audio": audio_s, "jfk": jfk, "peak_mb": peak_mb}


def evaluate(result: dict) -> dict:
    errors = {"ru": [0, 0], "en": [0, 0]}
    attributed = [0, 0]
    for name, segments in result["calls"].items():
        spec = yaml.safe_load((ROOT / "samples" / "turns" / f"{name}.yaml").read_text(encoding="utf-8"))
        wrong, said = word_errors(spec["turns"], segments)
        errors[spec["language"]][0] += wrong
        errors[spec["language"]][1] += said
        right, matched = attribution(spec["turns"], segments)
        attributed[0] += right
        attributed[1] += matched
    jfk_ref, jfk_hyp = words(JFK), words(result["jfk"])
    return {
        "speed": result["audio"] / result["wall"],
        "wer_ru": errors["ru"][0] / errors["ru"][1],
        "wer_en": errors["en"][0] / errors["en"][1],
        "wer_jfk": Levenshtein.distance(jfk_ref, jfk_hyp) / len(jfk_ref),
        "roles": attributed[0] / attributed[1] if attributed[1] else 0.0,
        "peak_mb": result["peak_mb"],
    }


def main(only: list[str]) -> None:
    """Every configuration, or those whose label contains one of ``only``."""
    beam = int(os.environ.get("BENCH_BEAM", "5"))
    model = os.environ.get("BENCH_MODEL", "base")
    with tempfile.TemporaryDirectory() as cache:
        for label, config in CONFIGS.items():
            if only and not any(part in label for part in only):
                continue
            child = subprocess.run(
                [sys.executable, "-m", "bench.transcription", "--child", json.dumps(config), str(beam), model, cache],
                cwd=ROOT, capture_output=True, text=True, check=True,
            )
            m = evaluate(json.loads(child.stdout.strip().splitlines()[-1]))
            row = (
                f"| {date.today()} | {machine()} | {model}, beam {beam} | {label} | {m['speed']:.1f}x | "
                f"{m['wer_ru']:.1%} | {m['wer_en']:.1%} | {m['wer_jfk']:.1%} | {m['roles']:.1%} | {m['peak_mb']:.0f} |"
            )
            record(HEADING, row)
            print(row, flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        config, beam, model, cache = json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
        print(json.dumps(run_one(config, beam, model, cache), ensure_ascii=False))
    else:
        main(sys.argv[1:])
