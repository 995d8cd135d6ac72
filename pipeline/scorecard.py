"""Scorecards: YAML checklists of a sales script, validated before any call is scored."""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipeline.errors import ScorecardError
from pipeline.text import Phrase

STANDARD_ITEM_IDS = (
    "greeting",
    "introduction",
    "needs_discovery",
    "value_presentation",
    "objection_handling",
    "next_step",
    "no_pressure",
    "closing",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Strict):
    """Where in the call an item looks: the first or the last seconds, or everywhere."""

    first_seconds: float | None = Field(default=None, gt=0)
    last_seconds: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_side(self) -> Window:
        if self.first_seconds is not None and self.last_seconds is not None:
            raise ValueError("give first_seconds or last_seconds, not both")
        return self


CueLists = dict[str, list[str]]  # language code -> phrases


class Trigger(_Strict):
    """A situation that makes an item applicable, e.g. the client raising an objection."""

    speaker: Literal["agent", "client", "any"] = "client"
    cues: CueLists
    # How many of the agent's following segments may hold the answer.
    answer_within_segments: int = Field(default=2, ge=1)


class Item(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    description: str = ""
    weight: float = Field(default=1.0, ge=0)
    # A failed critical item fails the whole call, whatever the score.
    critical: bool = False
    # required: a cue must be said; forbidden: no cue may be said.
    kind: Literal["required", "forbidden"] = "required"
    speaker: Literal["agent", "client", "any"] = "agent"
    window: Window = Window()
    cues: CueLists
    # When set, the item is n/a unless the trigger occurs, and the cue must follow it.
    trigger: Trigger | None = None
    feedback: str = ""

    def phrases(self, language: str) -> tuple[Phrase, ...]:
        return tuple(Phrase.of(text) for text in self.cues.get(language, ()))


class Scorecard(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    title: str
    languages: list[str] = Field(min_length=1)
    # Share of the weighted applicable items that must pass.
    pass_threshold: float = Field(default=0.7, ge=0, le=1)
    # Below this ASR confidence the segment deciding an item is sent to a human.
    review_below_confidence: float = Field(default=0.45, ge=0, le=1)
    items: list[Item] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Scorecard:
        ids = [item.id for item in self.items]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate item ids: {', '.join(duplicates)}")
        for item in self.items:
            cue_sets = [item.cues] + ([item.trigger.cues] if item.trigger else [])
            for cues in cue_sets:
                missing = [lang for lang in self.languages if not cues.get(lang)]
                if missing:
                    raise ValueError(f"item {item.id}: no cues for language(s) {', '.join(missing)}")
        return self

    @cached_property
    def content_hash(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


def _location(error: dict) -> str:
    """'items[3] (needs_discovery).window.first_seconds' from a pydantic error location."""
    parts: list[str] = []
    for part in error["loc"]:
        if isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part}]" if parts else f"[{part}]"
        else:
            parts.append(str(part))
    return ".".join(parts) or "(top level)"


def parse_scorecard(data: object, source: str) -> Scorecard:
    if not isinstance(data, dict):
        raise ScorecardError(f"{source}: a scorecard must be a YAML mapping, got {type(data).__name__}")
    try:
        return Scorecard.model_validate(data)
    except ValidationError as e:
        problems = []
        for error in e.errors():
            where = _location(error)
            item_index = error["loc"][1] if len(error["loc"]) > 1 and error["loc"][0] == "items" else None
            if isinstance(item_index, int) and item_index < len(data.get("items") or []):
                item = data["items"][item_index]
                if isinstance(item, dict) and "id" in item:
                    where += f" (item {item['id']})"
            problems.append(f"{where}: {error['msg']}")
        raise ScorecardError(f"{source}: invalid scorecard:\n  " + "\n  ".join(problems)) from e


def load_scorecard_file(path: Path) -> Scorecard:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ScorecardError(f"{path}: cannot read ({e.strerror})") from e
    except yaml.YAMLError as e:
        raise ScorecardError(f"{path}: not valid YAML: {e}") from e
    return parse_scorecard(data, str(path))


def load_scorecard(scorecard_id: str, folder: Path) -> Scorecard:
    """The scorecard with this id from a folder of YAML files (file name = id)."""
    path = folder / f"{scorecard_id}.yaml"
    if not path.is_file():
        available = sorted(p.stem for p in folder.glob("*.yaml"))
        raise ScorecardError(f"no scorecard '{scorecard_id}' in {folder}; available: {', '.join(available) or 'none'}")
    scorecard = load_scorecard_file(path)
    if scorecard.id != scorecard_id:
        raise ScorecardError(f"{path}: id is '{scorecard.id}' but the file name says '{scorecard_id}'")
    return scorecard
