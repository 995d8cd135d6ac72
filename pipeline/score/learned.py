"""Learned cues: a small calibrated classifier per behaviour, trained on example utterances.

Example utterances (positive and negative, Russian and English) live beside the scorecards
in scorecards/examples/CUE.yaml. Character n-grams make the model robust to inflection and
to words misspelt by speech recognition; calibration makes its probability mean what it
says, so a scorecard can send the uncertain middle band to a human.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

log = logging.getLogger(__name__)


def prepare(text: str) -> str:
    return " ".join(text.lower().replace("ё", "е").split())


class CueClassifier(ClassifierMixin, BaseEstimator):
    """TF-IDF over character n-grams, logistic regression, sigmoid calibration."""

    def __init__(self, ngram_range: tuple[int, int] = (2, 5), C: float = 4.0, calibration_folds: int = 5):
        self.ngram_range = ngram_range
        self.C = C
        self.calibration_folds = calibration_folds

    def fit(self, texts: list[str], labels: list[int]) -> CueClassifier:
        # One vectoriser in front of the calibrated ensemble: a transcript is vectorised once,
        # not once per calibration fold.
        self.model_ = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=self.ngram_range, sublinear_tf=True),
            CalibratedClassifierCV(
                LogisticRegression(C=self.C, max_iter=2000), method="sigmoid", cv=self.calibration_folds
            ),
        )
        self.model_.fit([prepare(t) for t in texts], np.asarray(labels))
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.model_.predict_proba([prepare(t) for t in texts])

    def positive_probability(self, texts: list[str]) -> list[float]:
        if not texts:
            return []
        column = list(self.classes_).index(1)
        return [round(float(p), 4) for p in self.predict_proba(texts)[:, column]]


@dataclass(frozen=True)
class CueExamples:
    """Positive and negative example utterances of one behaviour, per language."""

    cue: str
    positive: tuple[str, ...]
    negative: tuple[str, ...]

    @property
    def content_hash(self) -> str:
        payload = json.dumps([self.cue, self.positive, self.negative], ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


_FITTED: dict[str, CueClassifier] = {}


def warm_classifiers(examples: list[CueExamples], cache_dir: Path) -> None:
    """Load (or fit and save) the classifiers of these examples before scoring starts, so a
    new process reads them from disk instead of training them again."""
    for cue_examples in examples:
        fitted_classifier(cue_examples, cache_dir)


def fitted_classifier(examples: CueExamples, cache_dir: Path | None = None) -> CueClassifier:
    """The classifier for these examples, fitted once and kept in memory (and on disk if given)."""
    key = examples.content_hash
    if key in _FITTED:
        return _FITTED[key]
    cache_file = cache_dir / f"cue-{examples.cue}-{key}.pkl" if cache_dir else None
    if cache_file is not None and cache_file.exists():
        classifier = pickle.loads(cache_file.read_bytes())
    else:
        log.info("training cue classifier %s on %d examples", examples.cue, len(examples.positive) + len(examples.negative))
        texts = list(examples.positive) + list(examples.negative)
        labels = [1] * len(examples.positive) + [0] * len(examples.negative)
        classifier = CueClassifier().fit(texts, labels)
        if cache_file is not None:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps(classifier))
            tmp.replace(cache_file)
    _FITTED[key] = classifier
    return classifier
