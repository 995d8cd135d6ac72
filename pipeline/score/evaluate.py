"""Measure scoring against human labels: per item accuracy, Cohen's kappa, precision and recall.

A labelled call is a transcript JSON file with ``"labels": {"greeting": "pass", ...}``
(pass / fail / na) and optionally ``"scorecard": "outbound_followup"``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from sklearn.metrics import cohen_kappa_score

from pipeline.errors import TranscriptFormatError
from pipeline.score.engine import score
from pipeline.score.scorecard import LoadedScorecard
from pipeline.types import Transcript

LABELS = ("pass", "fail", "na")
PREDICTIONS = ("pass", "fail", "na", "needs_review")
_NOT_TRANSCRIPT_KEYS = ("labels", "scorecard", "scenario")


@dataclass(frozen=True)
class LabelledCall:
    path: Path
    transcript: Transcript
    labels: dict[str, str]
    scorecard_id: str | None


def read_labelled(folder: Path) -> list[LabelledCall]:
    calls = []
    for path in sorted(folder.rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        labels = data.get("labels")
        if not labels:
            continue
        bad = {item: label for item, label in labels.items() if label not in LABELS}
        if bad:
            raise TranscriptFormatError(f"{path}: labels must be one of {', '.join(LABELS)}: {bad}")
        try:
            transcript = Transcript.model_validate({k: v for k, v in data.items() if k not in _NOT_TRANSCRIPT_KEYS})
        except ValidationError as e:
            raise TranscriptFormatError(f"{path}: not a valid transcript: {e.errors()[0]['msg']}") from e
        calls.append(LabelledCall(path=path, transcript=transcript, labels=labels, scorecard_id=data.get("scorecard")))
    return calls


@dataclass(frozen=True)
class ItemReport:
    item: str
    language: str  # a language code, or "all"
    n: int
    accuracy: float
    kappa: float
    precision: float  # of "fail" verdicts, how many a human also failed
    recall: float  # of human fails, how many were failed
    f1: float
    needs_review: int
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)  # label -> prediction -> count


def _report(item: str, language: str, pairs: list[tuple[str, str]]) -> ItemReport:
    truth = [label for label, _ in pairs]
    predicted = [prediction for _, prediction in pairs]
    correct = sum(t == p for t, p in pairs)
    if truth == predicted:
        kappa = 1.0  # also when only one class occurs, where kappa is undefined
    else:
        kappa = float(cohen_kappa_score(truth, predicted, labels=list(PREDICTIONS)))
    true_fail = sum(t == "fail" and p == "fail" for t, p in pairs)
    predicted_fail = predicted.count("fail")
    actual_fail = truth.count("fail")
    precision = true_fail / predicted_fail if predicted_fail else 1.0
    recall = true_fail / actual_fail if actual_fail else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    counts = Counter(pairs)
    confusion = {t: {p: counts[(t, p)] for p in PREDICTIONS} for t in LABELS}
    return ItemReport(
        item=item,
        language=language,
        n=len(pairs),
        accuracy=round(correct / len(pairs), 4),
        kappa=round(kappa, 4),
        precision=round(precision, 4),
        recall=round(recall, 4),
        f1=round(f1, 4),
        needs_review=predicted.count("needs_review"),
        confusion=confusion,
    )


@dataclass(frozen=True)
class Disagreement:
    path: str
    item: str
    label: str
    predicted: str
    reason: str


@dataclass(frozen=True)
class EvalReport:
    calls: int
    items: tuple[ItemReport, ...]
    disagreements: tuple[Disagreement, ...]


def evaluate(calls: list[LabelledCall], scorecard_for: Callable[[str | None], LoadedScorecard]) -> EvalReport:
    """Score every labelled call and compare each labelled item with the human label."""
    pairs: dict[tuple[str, str], list[tuple[str, str]]] = {}
    disagreements = []
    for call in calls:
        assessment = score(call.transcript, scorecard_for(call.scorecard_id))
        results = {item.id: item for item in assessment.items}
        for item_id, label in call.labels.items():
            if item_id not in results:
                continue
            predicted = results[item_id].status
            for language in (call.transcript.language, "all"):
                pairs.setdefault((item_id, language), []).append((label, predicted))
            if predicted != label:
                disagreements.append(Disagreement(str(call.path), item_id, label, predicted, results[item_id].reason))
    order = {item_id: i for i, item_id in enumerate(dict.fromkeys(i for i, _ in pairs))}
    reports = tuple(
        _report(item, language, item_pairs)
        for (item, language), item_pairs in sorted(pairs.items(), key=lambda kv: (order[kv[0][0]], kv[0][1] == "all", kv[0][1]))
    )
    return EvalReport(calls=len(calls), items=reports, disagreements=tuple(disagreements))
