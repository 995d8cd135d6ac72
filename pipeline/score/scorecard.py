"""Scorecards (schema v1): YAML checklists of a sales script, validated before use.

A scorecard names its *detectors* once (cue phrases, question analysis, learned cues,
conversation metrics) and its *items* combine them: an item's ``detect`` is a list of
clauses, each a list of detector names that must all fire on the same segment; the item
fires when any clause does. A name written "!name" must *not* fire on that segment. See
scorecards/README.md for every field.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipeline.errors import ScorecardError
from pipeline.score.learned import CueExamples

SCHEMA_VERSION = 1
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
METRICS = (
    "agent_talk_ratio",
    "longest_agent_monologue_s",
    "agent_questions",
    "agent_open_questions",
    "agent_interruptions",
    "client_interruptions",
    "silence_share",
    "agent_words_per_minute",
)
Speaker = Literal["agent", "client", "any"]
Clauses = list[list[str]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CueDetector(_Strict):
    """Fires on a segment that says one of the phrases (any word form, ASR slips tolerated)."""

    type: Literal["cues"]
    cues: dict[str, list[str]]  # language -> phrases
    negation_aware: bool = True  # "не могу предложить" is not an offer


class QuestionDetector(_Strict):
    """Fires on a segment that asks a question of the given kind."""

    type: Literal["question"]
    kind: Literal["open", "closed", "any"] = "open"


class NameDetector(_Strict):
    """Fires on a segment where the speaker gives a personal name ("меня зовут Ирина", "this is Joe")."""

    type: Literal["name"]


class CompanyDetector(_Strict):
    """Fires on a segment that names a company: a quoted or capitalised name that is not a person's."""

    type: Literal["company"]


class LearnedDetector(_Strict):
    """A calibrated classifier trained on scorecards/examples/<examples>.yaml."""

    type: Literal["learned"]
    examples: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    threshold: float = Field(default=0.5, gt=0, lt=1)  # fires at or above this probability
    # Probabilities in [low, high) are too close to call: the item goes to a human.
    uncertain: tuple[float, float] = (0.4, 0.6)

    @model_validator(mode="after")
    def _band(self) -> LearnedDetector:
        low, high = self.uncertain
        if not 0 <= low <= self.threshold <= high <= 1:
            raise ValueError("uncertain must be [low, high] with low <= threshold <= high")
        return self


Detector = Annotated[Union[CueDetector, QuestionDetector, NameDetector, CompanyDetector, LearnedDetector], Field(discriminator="type")]


class Window(_Strict):
    """Where in the call an item looks: the first or the last seconds, or everywhere."""

    first_seconds: float | None = Field(default=None, gt=0)
    last_seconds: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_side(self) -> Window:
        if self.first_seconds is not None and self.last_seconds is not None:
            raise ValueError("give first_seconds or last_seconds, not both")
        return self


class Trigger(_Strict):
    """A situation that makes an item applicable, e.g. the client raising an objection."""

    speaker: Speaker = "client"
    detect: Clauses = Field(min_length=1)
    # How many of the answering speaker's next turns may hold the answer.
    answer_within: int = Field(default=1, ge=1)


class MetricTarget(_Strict):
    """The item passes while a conversation metric stays within [min, max]."""

    name: Literal[METRICS]  # type: ignore[valid-type]
    min: float | None = None
    max: float | None = None


class Item(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    description: str = ""
    weight: float = Field(default=1.0, ge=0)
    # A failed critical item fails the whole call, whatever the score.
    critical: bool = False
    # required: the behaviour must occur; forbidden: it must not.
    kind: Literal["required", "forbidden"] = "required"
    speaker: Speaker = "agent"
    window: Window = Window()
    detect: Clauses = []
    # Clauses of which one must also fire (the name, and also the company) in the same
    # segment as the main evidence or within also_within segments of it.
    also: Clauses = []
    also_within: int = Field(default=1, ge=0)
    # The evidence must come before the first segment where this detector fires (discovery before the offer).
    before: str | None = None
    trigger: Trigger | None = None
    metric: MetricTarget | None = None
    # Phrasings that pass, shown to the manager with the feedback of a failed item.
    examples: dict[str, list[str]] = {}
    feedback: dict[str, str] = {}

    @model_validator(mode="after")
    def _detects_something(self) -> Item:
        if bool(self.detect) == bool(self.metric):
            raise ValueError("give either detect (detector clauses) or metric, exactly one of them")
        if any(not clause for clause in self.detect + self.also):
            raise ValueError("a detect clause must name at least one detector")
        return self

    def detector_names(self) -> set[str]:
        names = {name.lstrip("!") for clause in self.detect + self.also for name in clause}
        if self.trigger:
            names |= {name.lstrip("!") for clause in self.trigger.detect for name in clause}
        return names | ({self.before} if self.before else set())


class FlagRule(_Strict):
    """Raise a flag on the call when its condition holds."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    score_below: float | None = None
    item: str | None = None
    status: Literal["pass", "fail", "na", "needs_review"] | None = None
    metric: Literal[METRICS] | None = None  # type: ignore[valid-type]
    above: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _one_condition(self) -> FlagRule:
        conditions = [self.score_below is not None, self.item is not None, self.metric is not None]
        if sum(conditions) != 1:
            raise ValueError("a flag rule needs exactly one of score_below, item (+ status), metric (+ above/below)")
        if self.item is not None and self.status is None:
            raise ValueError("a flag rule on an item needs a status")
        if self.metric is not None and self.above is None and self.below is None:
            raise ValueError("a flag rule on a metric needs above or below")
        return self


class Scorecard(_Strict):
    schema_version: Literal[1] = SCHEMA_VERSION
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    title: str
    description: str = ""
    languages: list[str] = Field(min_length=1)
    # Share of the weighted decided items that must pass.
    pass_threshold: float = Field(default=0.7, ge=0, le=1)
    # Below this ASR confidence (segment, or a word of the deciding phrase) a verdict goes to a human.
    review_below_confidence: float = Field(default=0.5, ge=0, le=1)
    # Files (relative to the scorecard) whose ``detectors`` are merged into this one's.
    include: list[str] = []
    detectors: dict[str, Detector] = {}
    items: list[Item] = Field(min_length=1)
    flags: list[FlagRule] = []

    @model_validator(mode="after")
    def _consistent(self) -> Scorecard:
        ids = [item.id for item in self.items]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate item ids: {', '.join(duplicates)}")
        for item in self.items:
            unknown = sorted(item.detector_names() - set(self.detectors))
            if unknown:
                raise ValueError(f"item {item.id}: unknown detector(s) {', '.join(unknown)}; defined: {', '.join(self.detectors)}")
        for name, detector in self.detectors.items():
            if isinstance(detector, CueDetector):
                missing = [lang for lang in self.languages if not detector.cues.get(lang)]
                if missing:
                    raise ValueError(f"detector {name}: no cues for language(s) {', '.join(missing)}")
        for rule in self.flags:
            if rule.item is not None and rule.item not in ids:
                raise ValueError(f"flag {rule.id}: unknown item {rule.item}")
        return self


@dataclass(frozen=True)
class LoadedScorecard:
    """A validated scorecard with the example utterances its learned detectors train on."""

    card: Scorecard
    examples: dict[str, CueExamples] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.card.id

    @property
    def version(self) -> int:
        return self.card.version

    @cached_property
    def detector_keys(self) -> dict[str, str]:
        """Per detector, a hash of its definition (and examples), so that its results on a
        transcript can be reused by another version of the scorecard."""
        keys = {}
        for name, detector in self.card.detectors.items():
            extra = self.examples[detector.examples].content_hash if isinstance(detector, LearnedDetector) else ""
            keys[name] = hashlib.sha256((detector.model_dump_json() + extra).encode()).hexdigest()
        return keys

    @cached_property
    def content_hash(self) -> str:
        """Changes with any change of the scorecard or of its examples."""
        payload = [self.card.model_dump(mode="json"), sorted(e.content_hash for e in self.examples.values())]
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def _location(error: dict, data: dict) -> str:
    """'items[3].window.first_seconds (item needs_discovery)' from a pydantic error location."""
    parts: list[str] = []
    for part in error["loc"]:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}[{part}]" if parts else f"[{part}]"]
        elif part in ("cues", "question", "name", "company", "learned") and parts and parts[0] == "detectors":
            continue  # the discriminator's own name adds nothing
        else:
            parts.append(str(part))
    where = ".".join(parts) or "(top level)"
    loc = error["loc"]
    if len(loc) > 1 and loc[0] == "items" and isinstance(loc[1], int):
        items = data.get("items") or []
        if loc[1] < len(items) and isinstance(items[loc[1]], dict) and "id" in items[loc[1]]:
            where += f" (item {items[loc[1]]['id']})"
    return where


def parse_scorecard(data: object, source: str) -> Scorecard:
    if not isinstance(data, dict):
        raise ScorecardError(f"{source}: a scorecard must be a YAML mapping, got {type(data).__name__}")
    try:
        return Scorecard.model_validate(data)
    except ValidationError as e:
        problems = [f"{_location(error, data)}: {error['msg']}" for error in e.errors()]
        raise ScorecardError(f"{source}: invalid scorecard:\n  " + "\n  ".join(problems)) from e


def load_examples(name: str, folder: Path, languages: list[str]) -> CueExamples:
    path = folder / "examples" / f"{name}.yaml"
    if not path.is_file():
        raise ScorecardError(f"{path}: examples for the learned detector '{name}' are missing")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        by_language = data["examples"]
        positive = tuple(text for lang in languages for text in by_language[lang]["positive"])
        negative = tuple(text for lang in languages for text in by_language[lang]["negative"])
    except (yaml.YAMLError, KeyError, TypeError) as e:
        raise ScorecardError(f"{path}: expected examples.<language>.positive/negative lists ({e})") from e
    if len(positive) < 10 or len(negative) < 10:
        raise ScorecardError(f"{path}: at least 10 positive and 10 negative examples are needed")
    return CueExamples(cue=name, positive=positive, negative=negative)


def _read_yaml(path: Path, what: str = "") -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ScorecardError(f"cannot read {what}{path} ({e.strerror})") from e
    except yaml.YAMLError as e:
        raise ScorecardError(f"{path}: not valid YAML: {e}") from e


def _included_detectors(includes: object, path: Path) -> dict:
    if not isinstance(includes, list):
        raise ScorecardError(f"{path}: include must be a list of file names")
    detectors: dict = {}
    for name in includes:
        included = path.parent / str(name)
        data = _read_yaml(included, what=f"the file included by {path.name}: ")
        if not isinstance(data, dict) or not isinstance(data.get("detectors"), dict):
            raise ScorecardError(f"{included}: an included file must hold a 'detectors' mapping")
        detectors.update(data["detectors"])
    return detectors


def load_scorecard_file(path: Path) -> LoadedScorecard:
    data = _read_yaml(path)
    if isinstance(data, dict) and data.get("include"):
        data = {**data, "detectors": {**_included_detectors(data["include"], path), **(data.get("detectors") or {})}}
    card = parse_scorecard(data, str(path))
    examples = {
        detector.examples: load_examples(detector.examples, path.parent, card.languages)
        for detector in card.detectors.values()
        if isinstance(detector, LearnedDetector)
    }
    return LoadedScorecard(card=card, examples=examples)


def load_scorecard(scorecard_id: str, folder: Path) -> LoadedScorecard:
    """The scorecard with this id from a folder of YAML files (file name = id)."""
    path = folder / f"{scorecard_id}.yaml"
    if not path.is_file():
        available = sorted(p.stem for p in folder.glob("*.yaml"))
        raise ScorecardError(f"no scorecard '{scorecard_id}' in {folder}; available: {', '.join(available) or 'none'}")
    loaded = load_scorecard_file(path)
    if loaded.id != scorecard_id:
        raise ScorecardError(f"{path}: id is '{loaded.id}' but the file name says '{scorecard_id}'")
    return loaded
