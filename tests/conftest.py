from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SAMPLES = ROOT / "samples"


@pytest.fixture(scope="session")
def model_cache_dir(tmp_path_factory) -> Path:
    """One converted Whisper checkpoint per test session, outside the user's data folder."""
    return tmp_path_factory.mktemp("whisper-models")


@pytest.fixture
def settings_env(tmp_path, monkeypatch, model_cache_dir):
    """Settings pointing at a fresh data folder and database for one test."""
    monkeypatch.setenv("CALLQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CALLQA_MODEL_CACHE_DIR", str(model_cache_dir))
    monkeypatch.delenv("CALLQA_DATABASE_URL", raising=False)
    monkeypatch.delenv("CALLQA_CONFIG", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture(scope="session", params=["faster-whisper", "openai-whisper"])
def whisper_transcriber(request, model_cache_dir):
    """The real Whisper base model, through each engine."""
    from pipeline.worker import get_transcriber
    from pipeline.transcribe import TranscribeOptions

    return get_transcriber(TranscribeOptions(engine=request.param, model="base", model_cache_dir=model_cache_dir))


@pytest.fixture
def default_transcriber(model_cache_dir):
    """The default engine and model, as a worker runs them (shares the loaded model above)."""
    from pipeline.transcribe import TranscribeOptions
    from pipeline.worker import get_transcriber

    return get_transcriber(TranscribeOptions(model_cache_dir=model_cache_dir))


@pytest.fixture
def jfk_path() -> Path:
    return DATA / "jfk.wav"


@pytest.fixture
def sample_call():
    """The path of a bundled sample call by name, e.g. sample_call('ru_good_vacuum')."""
    return lambda name: SAMPLES / f"{name}.wav"


@pytest.fixture
def calls_folder(tmp_path):
    """A folder holding copies of the named sample calls."""

    def make(*names: str) -> Path:
        folder = tmp_path / "inbox"
        folder.mkdir(exist_ok=True)
        for name in names:
            shutil.copy(SAMPLES / f"{name}.wav", folder / f"{name}.wav")
        return folder

    return make


@pytest.fixture(scope="session")
def postgres_server():
    """One throwaway PostgreSQL server per test session. Its absence fails the tests:
    PostgreSQL support must never go untested silently."""
    from tests.postgres import ThrowawayPostgres

    server = ThrowawayPostgres().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh empty database on each supported backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'callqa.db'}"
    return request.getfixturevalue("postgres_server").new_database()


@pytest.fixture
def queue_env(settings_env, database_url, monkeypatch):
    """Settings for one test on one backend: fresh data folder and database."""
    monkeypatch.setenv("CALLQA_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
