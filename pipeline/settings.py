"""One settings object for the whole product, built once and passed down.

Values come, highest priority first, from keyword arguments, environment variables
prefixed ``CALLQA_``, an optional TOML config file (``CALLQA_CONFIG`` or the CLI's
``--config``), then the defaults below.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from pipeline.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "callqa"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CALLQA_", extra="forbid")

    # Where the SQLite database, the audio archive and the model cache live by default.
    data_dir: Path = Field(default_factory=_default_data_dir)
    # Any SQLAlchemy URL; empty means a SQLite file inside data_dir.
    database_url: str = ""
    # Converted Whisper checkpoints are cached here; empty means data_dir/models.
    model_cache_dir: Path | None = None
    # faster-whisper (CTranslate2; the fast default) or openai-whisper (the reference code).
    engine: Literal["faster-whisper", "openai-whisper"] = "faster-whisper"
    # A Whisper model name (base, small, tiny.en); openai-whisper also takes a .pt file path.
    whisper_model: str = "base"
    # Languages a call may be in; detection chooses among these only.
    languages: list[str] = ["ru", "en"]
    # Which stereo channel carries the sales manager; auto infers it per call from what
    # each side says (who introduces themselves, greets first, asks the questions).
    agent_channel: Literal["auto", "left", "right"] = "auto"
    # cpu, cuda, or auto (cuda when available).
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # Beam width for decoding; 1 means greedy.
    beam_size: int = Field(default=5, ge=1, le=10)
    # faster-whisper's number format: auto means int8 on a CPU, float16 on a GPU.
    compute_type: Literal["auto", "int8", "int8_float32", "float16", "float32"] = "auto"
    # Transcribe only the speech that voice activity detection finds.
    vad: bool = True
    # Folder of scorecard YAML files and the scorecard used when a call names none.
    scorecards_dir: Path = REPO_ROOT / "scorecards"
    default_scorecard: str = "inbound_inquiry"
    # A call whose CRM sidecar gives its direction gets this scorecard, unless it names one.
    direction_scorecards: dict[str, str] = {"inbound": "inbound_inquiry", "outbound": "outbound_followup"}
    # The folder the nightly run scans; empty means data_dir/inbox.
    inbox_dir: Path | None = None
    # Inbox files changed more recently than this may still be being written: the next run takes them.
    inbox_settle_s: float = Field(default=60, ge=0)
    # Time zone of the sales team: sidecar times without an offset, and the nightly schedule.
    timezone: str = "Europe/Moscow"
    schedule_cron: str = "0 2 * * *"
    # A worker holds a call this long per stage; if it dies, another worker takes the call over.
    claim_lease_s: float = Field(default=900, gt=0)
    # A call whose worker died (or that failed) this many times is left as failed.
    max_attempts: int = Field(default=3, ge=1)
    # Recordings shorter than this are quarantined as too short to judge.
    min_call_s: float = Field(default=2.0, ge=0)
    # Keys the hashes of client phone numbers; empty means a random key kept in data_dir.
    secret_key: str = ""
    # Take personal data (cards, phones, e-mails, passports, ...) out of transcripts before
    # they are stored, and put a tone over it in the audio reviewers hear.
    redact: bool = True
    # Days after which the original audio, the reviewers' audio and the transcript text are
    # deleted (assessments and KPIs stay); unset keeps them.
    retention_original_audio_days: int | None = Field(default=None, ge=0)
    retention_review_audio_days: int | None = Field(default=None, ge=0)
    retention_transcript_days: int | None = Field(default=None, ge=0)
    # For crash tests only: the worker kills itself at this point (see pipeline.worker).
    failpoint: Literal["", "after_register", "before_transcript_commit", "before_assessment_commit"] = ""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = os.environ.get("CALLQA_CONFIG")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'callqa.db'}"

    @property
    def resolved_model_cache_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"

    @property
    def cue_model_cache_dir(self) -> Path:
        return self.resolved_model_cache_dir / "cues"

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def review_audio_dir(self) -> Path:
        return self.data_dir / "review_audio"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def resolved_inbox_dir(self) -> Path:
        return self.inbox_dir or self.data_dir / "inbox"

    def resolved_secret_key(self) -> str:
        """The configured key, else one made once and kept beside the data (workers on
        several machines must configure the same key)."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret.key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            draft = key_file.with_name(f"secret.key.{os.getpid()}")
            with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
                f.write(secrets.token_hex(32))
            try:
                os.link(draft, key_file)  # atomic: of workers starting together, one key wins
            except FileExistsError:
                pass
            draft.unlink()
        return key_file.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment and config file on first use."""
    config_file = os.environ.get("CALLQA_CONFIG")
    if config_file and not Path(config_file).is_file():
        raise ConfigError(f"config file {config_file} (from CALLQA_CONFIG) does not exist")
    try:
        return Settings()
    except ValidationError as e:
        raise ConfigError(f"invalid settings{' in ' + config_file if config_file else ''}: {e}") from e
