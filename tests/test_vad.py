import numpy as np
import pytest

from tests.decoded import decode_whole
from pipeline.types import SAMPLE_RATE
from pipeline.vad import VadOptions, pack, speech_regions


def test_silence_and_noise_have_no_speech():
    assert speech_regions(np.zeros(60 * SAMPLE_RATE, dtype=np.float32)) == []
    noise = (np.random.default_rng(0).standard_normal(30 * SAMPLE_RATE) * 0.1).astype(np.float32)
    assert speech_regions(noise) == []


def test_speech_is_found_where_it_is(jfk_path):
    speech = decode_whole(jfk_path).tracks[0].samples
    padded = np.concatenate([np.zeros(5 * SAMPLE_RATE, np.float32), speech, np.zeros(5 * SAMPLE_RATE, np.float32)])
    regions = speech_regions(padded)
    assert regions and regions[0][0] == pytest.approx(5.0, abs=0.6) and regions[-1][1] == pytest.approx(16.0, abs=0.8)
    assert sum(end - start for start, end in regions) > 8


def test_packing_maps_times_back_to_the_track():
    samples = np.arange(20 * SAMPLE_RATE, dtype=np.float32)
    packed = pack(samples, [(2.0, 4.0), (10.0, 11.5)], VadOptions(gap_ms=500))
    assert len(packed.samples) == int((2.0 + 0.5 + 1.5 + 0.5) * SAMPLE_RATE)
    assert packed.speech_seconds == pytest.approx(3.5)
    assert packed.to_track_time(0.5) == pytest.approx(2.5)
    assert packed.to_track_time(2.6) == pytest.approx(10.1)
    assert packed.region_of(2.6) == 1
    assert packed.samples[int(2.5 * SAMPLE_RATE)] == samples[10 * SAMPLE_RATE]
