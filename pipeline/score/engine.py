"""Score stage: a pure function from a transcript and a scorecard to an assessment.

No database, files or clock: the same transcript and scorecard version always give the
same assessment, byte for byte. Verdicts:
- pass / fail: the behaviour was (or, for a forbidden item, was not) found;
- na: the situation never arose (no objection, nothing to answer);
- needs_review: the deciding segment was heard with low confidence, or a learned cue is
  in its uncertain band: a doubtful call goes to a human instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.score.features import DetectorHits, TranscriptFeatures, features_for
from pipeline.score.learned import fitted_classifier
from pipeline.score.scorecard import (
    CompanyDetector,
    CueDetector,
    Item,
    LearnedDetector,
    LoadedScorecard,
    NameDetector,
    QuestionDetector,
)
from pipeline.score.text import Phrase, Vocabulary, find_phrase, normal_form, tokens
from pipeline.types import (
    Assessment,
    Evidence,
    ItemResult,
    ItemStatus,
    ScorecardRef,
    Segment,
    Transcript,
    TranscriptRef,
)

_WHO = {"agent": "the manager", "client": "the client", "any": "someone"}


def _cue_hits(detector: CueDetector):
    def compute(features: TranscriptFeatures) -> DetectorHits:
        phrases = [Phrase.of(text) for texts in detector.cues.values() for text in texts]
        # A phrase can only match a segment holding a word like its first one: find those
        # words once per transcript, not once per segment.
        vocabulary = Vocabulary({key for segment in features.segments for key in segment.forms})
        openers = [vocabulary.like(p.forms[0]) if p.forms else frozenset() for p in phrases]
        fires, detail = [], []
        for segment in features.segments:
            words = set(segment.forms)
            found = next(
                (
                    p
                    for p, opener in zip(phrases, openers)
                    if opener & words and find_phrase(p, segment.forms, negation_aware=detector.negation_aware) is not None
                ),
                None,
            )
            fires.append(found is not None)
            detail.append(found.text if found else None)
        return DetectorHits(fires=tuple(fires), uncertain=(False,) * len(fires), detail=tuple(detail), phrase=tuple(detail))

    return compute


def _question_hits(detector: QuestionDetector):
    def compute(features: TranscriptFeatures) -> DetectorHits:
        fires = tuple(
            bool(s.questions) if detector.kind == "any" else detector.kind in s.questions for s in features.segments
        )
        detail = tuple(f"an {detector.kind} question" if hit else None for hit in fires)
        return DetectorHits(fires=fires, uncertain=(False,) * len(fires), detail=detail)

    return compute


def _flag_hits(flag: str, detail: str):
    def compute(features: TranscriptFeatures) -> DetectorHits:
        fires = tuple(getattr(s, flag) for s in features.segments)
        return DetectorHits(fires=fires, uncertain=(False,) * len(fires), detail=tuple(detail if f else None for f in fires))

    return compute


def _learned_hits(detector: LearnedDetector, scorecard: LoadedScorecard):
    def compute(features: TranscriptFeatures) -> DetectorHits:
        classifier = fitted_classifier(scorecard.examples[detector.examples])
        probabilities = classifier.positive_probability([s.text for s in features.transcript.segments])
        low, high = detector.uncertain
        return DetectorHits(
            fires=tuple(p >= detector.threshold and not low <= p < high for p in probabilities),
            uncertain=tuple(low <= p < high for p in probabilities),
            detail=tuple(f"{detector.examples} p={p:.2f}" for p in probabilities),
        )

    return compute


@dataclass(frozen=True)
class _Hit:
    index: int
    detail: str
    uncertain: bool
    phrase: str | None  # the cue phrase that decided, or None when the whole segment did


def _doubt(hit: _Hit, where: str) -> str:
    return f"possibly {hit.detail}{where}; heard or judged with low confidence"


class _Scorer:
    def __init__(self, transcript: Transcript, scorecard: LoadedScorecard):
        self.transcript = transcript
        self.scorecard = scorecard
        self.card = scorecard.card
        self.features = features_for(transcript)
        self.segments = transcript.segments
        self.language = transcript.language if transcript.language in self.card.languages else self.card.languages[0]
        self.call_end = max((s.end for s in self.segments), default=0.0)
        self._hits: dict[str, DetectorHits] = {}

    def detector(self, name: str) -> DetectorHits:
        if name not in self._hits:
            self._hits[name] = self._compute(name)
        return self._hits[name]

    def _compute(self, name: str) -> DetectorHits:
        detector = self.card.detectors[name]
        key = self.scorecard.detector_keys[name]
        if isinstance(detector, CueDetector):
            return self.features.hits(key, _cue_hits(detector))
        if isinstance(detector, QuestionDetector):
            return self.features.hits(key, _question_hits(detector))
        if isinstance(detector, NameDetector):
            return self.features.hits(key, _flag_hits("gives_name", "their name"))
        if isinstance(detector, CompanyDetector):
            return self.features.hits(key, _flag_hits("names_company", "the company"))
        return self.features.hits(key, _learned_hits(detector, self.scorecard))

    def clause_hit(self, clause: list[str], index: int) -> _Hit | None:
        """The clause fires on a segment when all its detectors do (and no "!name" does); uncertain if any is unsure."""
        details, phrases, uncertain = [], [], False
        for name in clause:
            if name.startswith("!"):
                if self.detector(name[1:]).fires[index]:
                    return None
                continue
            hits = self.detector(name)
            if not hits.fires[index] and not hits.uncertain[index]:
                return None
            details.append(hits.detail[index])
            phrases.append(hits.phrase[index] if hits.phrase else None)
            uncertain |= not hits.fires[index]
        phrase = " ".join(phrases) if phrases and all(phrases) else None
        return _Hit(index=index, detail=" + ".join(d for d in details if d), uncertain=uncertain, phrase=phrase)

    def first_hit(self, clauses: list[list[str]], indices: list[int]) -> list[_Hit]:
        """Per segment, the first clause that fires (confident hits and uncertain ones)."""
        hits = []
        for index in indices:
            for clause in clauses:
                hit = self.clause_hit(clause, index)
                if hit is not None and not hit.uncertain:
                    hits.append(hit)
                    break
            else:
                hit = next((h for c in clauses if (h := self.clause_hit(c, index)) is not None), None)
                if hit is not None:
                    hits.append(hit)
        return hits

    def candidates(self, item: Item, speaker: str, after: int = -1, before: int | None = None) -> list[int]:
        limit = len(self.segments) if before is None else before
        return [
            i
            for i, segment in enumerate(self.segments)
            if after < i < limit and self._speaker(speaker, segment.speaker) and self._in_window(item, segment)
        ]

    def next_turns(self, item: Item, after: int, turns: int) -> list[int]:
        """Segments of the item speaker's next ``turns`` turns; a turn is an uninterrupted run of
        that speaker's segments (speech recognition often splits one reply in several)."""
        indices, count, previous = [], 0, None
        for i in self.candidates(item, item.speaker, after=after):
            if previous is None or any(not self._speaker(item.speaker, self.segments[j].speaker) for j in range(previous + 1, i)):
                count += 1
                if count > turns:
                    break
            indices.append(i)
            previous = i
        return indices

    @staticmethod
    def _speaker(wanted: str, actual: str) -> bool:
        # A mono call's speaker is unknown: its segments may be either party's.
        return wanted == "any" or actual in (wanted, "unknown")

    def _in_window(self, item: Item, segment: Segment) -> bool:
        if item.window.first_seconds is not None:
            return segment.start < item.window.first_seconds
        if item.window.last_seconds is not None:
            return segment.end > self.call_end - item.window.last_seconds
        return True

    def _where(self, item: Item) -> str:
        if item.window.first_seconds is not None:
            return f" in the first {item.window.first_seconds:g} s"
        if item.window.last_seconds is not None:
            return f" in the last {item.window.last_seconds:g} s"
        return ""

    def heard_badly(self, hit: _Hit) -> bool:
        """Low ASR confidence on the segment, or on a word of what decided: the cue phrase, or
        the whole segment when a classifier or the question analysis decided."""
        segment = self.segments[hit.index]
        threshold = self.card.review_below_confidence
        if segment.confidence is not None and segment.confidence < threshold:
            return True
        doubtful = [w for w in segment.words if w.probability is not None and w.probability < threshold]
        if hit.phrase is None:
            return bool(doubtful)
        phrase_forms = {normal_form(w) for w in tokens(hit.phrase)}
        return any(phrase_forms & {normal_form(t) for t in tokens(w.text)} for w in doubtful)

    def evidence(self, index: int) -> Evidence:
        s = self.segments[index]
        return Evidence(speaker=s.speaker, start=s.start, end=s.end, text=s.text)

    def result(self, item: Item, status: ItemStatus, reason: str, confidence: float, evidence=()) -> ItemResult:
        failed = status == "fail"
        examples = item.examples.get(self.language) or []
        return ItemResult(
            id=item.id,
            title=item.title,
            status=status,
            confidence=round(confidence, 4),
            reason=reason,
            evidence=tuple(evidence),
            critical=item.critical,
            weight=item.weight,
            feedback=item.feedback.get(self.language) if failed else None,
            example=examples[0] if failed and examples else None,
        )

    def confidence_of(self, indices: list[int]) -> float:
        values = [self.segments[i].confidence for i in indices if self.segments[i].confidence is not None]
        return sum(values) / len(values) if values else 1.0

    def score_item(self, item: Item) -> ItemResult:
        if item.metric is not None:
            return self._score_metric(item)
        if item.trigger is not None:
            return self._score_triggered(item)
        before = None
        if item.before:
            offer = self.detector(item.before)
            before = next((i for i, s in enumerate(self.segments) if offer.fires[i] and s.speaker in ("agent", "unknown")), None)
        candidates = self.candidates(item, item.speaker, before=before)
        hits = self.first_hit(item.detect, candidates)
        sure = [h for h in hits if not h.uncertain and not self.heard_badly(h)]
        doubtful = [h for h in hits if h not in sure]
        who, where = _WHO[item.speaker], self._where(item)
        if before is not None:
            where += f" before the first offer ({self.segments[before].start:g} s)"
        if item.kind == "forbidden":
            if sure:
                evidence = [self.evidence(h.index) for h in sure]
                return self.result(item, "fail", f"{who} said: {sure[0].detail}{where}", 1.0, evidence)
            if doubtful:
                return self.result(item, "needs_review", _doubt(doubtful[0], where), 0.5, [self.evidence(h.index) for h in doubtful])
            return self.result(item, "pass", f"{who} showed none of it{where}", self.confidence_of(candidates))

        if not sure and not doubtful:
            return self.result(item, "fail", f"{who} did not do it{where}", self.confidence_of(candidates))
        anchor = (sure or doubtful)[0].index
        near = [i for i in self.candidates(item, item.speaker) if abs(i - anchor) <= item.also_within]
        if item.also and not self.first_hit(item.also, near):
            names = " or ".join(" + ".join(clause) for clause in item.also)
            evidence = [self.evidence(h.index) for h in (sure or doubtful)[:1]]
            return self.result(item, "fail", f"{who} did part of it{where} but not: {names}", self.confidence_of(candidates), evidence)
        if sure:
            return self.result(item, "pass", f"{who}: {sure[0].detail}{where}", self.segments[sure[0].index].confidence or 1.0, [self.evidence(sure[0].index)])
        return self.result(item, "needs_review", _doubt(doubtful[0], where), 0.5, [self.evidence(doubtful[0].index)])

    def _score_triggered(self, item: Item) -> ItemResult:
        """n/a when the trigger never occurs; otherwise every occurrence must get its answer."""
        trigger = item.trigger
        occurrences = [h for h in self.first_hit(trigger.detect, self.candidates(item, trigger.speaker)) if not h.uncertain]
        if not occurrences:
            return self.result(item, "na", "the situation did not arise in this call", 1.0)
        evidence, doubtful_answer = [], False
        answered = 0
        for occurrence in occurrences:
            following = self.next_turns(item, occurrence.index, trigger.answer_within)
            hits = self.first_hit(item.detect, following)
            evidence.append(self.evidence(occurrence.index))
            if not hits:
                text = self.segments[occurrence.index].text
                reason = f'{_WHO[item.speaker]} did not answer "{text}" in the next {trigger.answer_within} turn(s)'
                return self.result(item, "fail", reason, self.confidence_of(following), evidence)
            answer = hits[0]
            doubtful_answer |= answer.uncertain or self.heard_badly(answer)
            evidence.append(self.evidence(answer.index))
            answered += 1
        reason = f"{_WHO[item.speaker]} answered {answered} objection(s) ({occurrences[0].detail})"
        return self.result(item, "needs_review" if doubtful_answer else "pass", reason, 0.5 if doubtful_answer else 1.0, evidence)

    def _score_metric(self, item: Item) -> ItemResult:
        target = item.metric
        value = self.features.metrics[target.name]
        if target.max is not None and value > target.max:
            return self.result(item, "fail", f"{target.name} is {value:g}, above the target {target.max:g}", 1.0)
        if target.min is not None and value < target.min:
            return self.result(item, "fail", f"{target.name} is {value:g}, below the target {target.min:g}", 1.0)
        return self.result(item, "pass", f"{target.name} is {value:g}, within the target", 1.0)

    def flags(self, items: tuple[ItemResult, ...], value: float) -> tuple[str, ...]:
        by_id = {item.id: item for item in items}
        flags = [f"critical_failed:{item.id}" for item in items if item.critical and item.status == "fail"]
        if any(item.status == "needs_review" for item in items):
            flags.append("needs_review")
        if value < self.card.pass_threshold:
            flags.append("low_score")
        if not self.segments:
            flags.append("empty_transcript")
        for rule in self.card.flags:
            metric = self.features.metrics.get(rule.metric) if rule.metric else None
            if (
                (rule.score_below is not None and value < rule.score_below)
                or (rule.item is not None and by_id[rule.item].status == rule.status)
                or (metric is not None and rule.above is not None and metric > rule.above)
                or (metric is not None and rule.below is not None and metric < rule.below)
            ):
                flags.append(rule.id)
        return tuple(dict.fromkeys(flags))


def combine(items, pass_threshold: float, has_speech: bool = True) -> tuple[float, bool]:
    """The weighted share of passed items among the decided ones, and the call's verdict: a
    failed critical item fails the call. Items need `status`, `weight` and `critical`; the
    review app combines items after a person's overrides the same way."""
    decided = [item for item in items if item.status in ("pass", "fail")]
    total_weight = sum(item.weight for item in decided)
    value = sum(item.weight for item in decided if item.status == "pass") / total_weight if total_weight else 0.0
    critical_failed = any(item.critical and item.status == "fail" for item in items)
    return value, has_speech and not critical_failed and value >= pass_threshold


def score(transcript: Transcript, scorecard: LoadedScorecard) -> Assessment:
    """Judge every scorecard item on the transcript and combine them into one assessment."""
    scorer = _Scorer(transcript, scorecard)
    items = tuple(scorer.score_item(item) for item in scorecard.card.items)
    value, passed = combine(items, scorecard.card.pass_threshold, bool(transcript.segments))
    return Assessment(
        scorecard=ScorecardRef(id=scorecard.id, version=scorecard.version, hash=scorecard.content_hash),
        transcript=TranscriptRef(engine=transcript.engine, model=transcript.model),
        language=scorer.language,
        score=round(value, 4),
        passed=passed,
        items=items,
        metrics=dict(scorer.features.metrics),
        flags=scorer.flags(items, value),
    )
