"""Score stage: a pure function from a transcript and a scorecard to an assessment.

No database, files or clock here: the same transcript and scorecard always give the same
assessment, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.scorecard import Item, Scorecard
from pipeline.text import Phrase, find_phrase, normal_forms
from pipeline.types import Assessment, Evidence, ItemResult, ItemStatus, ScorecardRef, Segment, Transcript


@dataclass(frozen=True)
class _Match:
    index: int
    segment: Segment
    phrase: str


_WHO = {"agent": "the manager", "client": "the client", "any": "someone"}


def _speaker_matches(wanted: str, actual: str) -> bool:
    # A mono call's speaker is unknown: its segments may be either party's.
    return wanted == "any" or actual in (wanted, "unknown")


def _in_window(item: Item, segment: Segment, call_end: float) -> bool:
    if item.window.first_seconds is not None:
        return segment.start < item.window.first_seconds
    if item.window.last_seconds is not None:
        return segment.end > call_end - item.window.last_seconds
    return True


def _evidence(segment: Segment) -> Evidence:
    return Evidence(speaker=segment.speaker, start=segment.start, end=segment.end, text=segment.text)


def _find(
    phrases: tuple[Phrase, ...], segments: tuple[Segment, ...], forms: list[tuple[str, ...]], indices: list[int]
) -> list[_Match]:
    matches = []
    for index in indices:
        for phrase in phrases:
            if find_phrase(phrase, forms[index]):
                matches.append(_Match(index, segments[index], phrase.text))
                break
    return matches


class _Scorer:
    def __init__(self, transcript: Transcript, scorecard: Scorecard):
        self.transcript = transcript
        self.scorecard = scorecard
        self.language = transcript.language if transcript.language in scorecard.languages else scorecard.languages[0]
        self.segments = transcript.segments
        self.forms = [normal_forms(segment.text) for segment in self.segments]
        self.call_end = max((s.end for s in self.segments), default=0.0)

    def _candidates(self, item: Item, speaker: str, after: int = -1) -> list[int]:
        return [
            i
            for i, segment in enumerate(self.segments)
            if i > after and _speaker_matches(speaker, segment.speaker) and _in_window(item, segment, self.call_end)
        ]

    def _confidence(self, indices: list[int]) -> float:
        values = [self.segments[i].confidence for i in indices if self.segments[i].confidence is not None]
        return round(sum(values) / len(values), 4) if values else 1.0

    def _doubtful(self, segment: Segment) -> bool:
        return segment.confidence is not None and segment.confidence < self.scorecard.review_below_confidence

    def _result(self, item: Item, status: ItemStatus, reason: str, confidence: float, evidence=()) -> ItemResult:
        return ItemResult(
            id=item.id,
            title=item.title,
            status=status,
            confidence=confidence,
            reason=reason,
            evidence=tuple(evidence),
            critical=item.critical,
            weight=item.weight,
        )

    def score_item(self, item: Item) -> ItemResult:
        if item.trigger is not None:
            return self._score_triggered(item)
        candidates = self._candidates(item, item.speaker)
        matches = _find(item.phrases(self.language), self.segments, self.forms, candidates)
        who, where = _WHO[item.speaker], self._where(item)
        if item.kind == "forbidden":
            if not matches:
                return self._result(item, "pass", f"{who} said none of the listed phrases{where}", self._confidence(candidates))
            match = matches[0]
            status: ItemStatus = "needs_review" if self._doubtful(match.segment) else "fail"
            evidence = [_evidence(m.segment) for m in matches]
            return self._result(item, status, f'{who} said "{match.phrase}"{where}', match.segment.confidence or 1.0, evidence)
        if not matches:
            return self._result(item, "fail", f"{who} said none of the expected phrases{where}", self._confidence(candidates))
        match = matches[0]
        status = "needs_review" if self._doubtful(match.segment) else "pass"
        return self._result(item, status, f'{who} said "{match.phrase}"{where}', match.segment.confidence or 1.0, [_evidence(match.segment)])

    def _score_triggered(self, item: Item) -> ItemResult:
        """n/a when the trigger never occurs; otherwise every occurrence must get its answer."""
        trigger = item.trigger
        trigger_phrases = tuple(Phrase.of(text) for text in trigger.cues.get(self.language, ()))
        triggers = _find(trigger_phrases, self.segments, self.forms, self._candidates(item, trigger.speaker))
        if not triggers:
            return self._result(item, "na", "the situation did not arise in this call", 1.0)
        evidence: list[Evidence] = []
        answers: list[_Match] = []
        for occurrence in triggers:
            following = self._candidates(item, item.speaker, after=occurrence.index)[: trigger.answer_within_segments]
            found = _find(item.phrases(self.language), self.segments, self.forms, following)
            evidence.append(_evidence(occurrence.segment))
            if not found:
                reason = f'{_WHO[item.speaker]} did not answer "{occurrence.segment.text}" in the next {len(following)} turn(s)'
                return self._result(item, "fail", reason, self._confidence(following), evidence)
            answers.append(found[0])
            evidence.append(_evidence(found[0].segment))
        doubtful = any(self._doubtful(answer.segment) for answer in answers)
        reason = f'{_WHO[item.speaker]} answered {len(triggers)} time(s), e.g. "{answers[0].phrase}"'
        confidence = min(answer.segment.confidence or 1.0 for answer in answers)
        return self._result(item, "needs_review" if doubtful else "pass", reason, confidence, evidence)

    def _where(self, item: Item) -> str:
        if item.window.first_seconds is not None:
            return f" in the first {item.window.first_seconds:g} s"
        if item.window.last_seconds is not None:
            return f" in the last {item.window.last_seconds:g} s"
        return ""

    def metrics(self) -> dict[str, float]:
        talk = {"agent": 0.0, "client": 0.0, "unknown": 0.0}
        for segment in self.segments:
            talk[segment.speaker] += max(0.0, segment.end - segment.start)
        spoken = sum(talk.values())
        agent_questions = sum(1 for s in self.segments if s.speaker == "agent" and "?" in s.text)
        return {
            "duration_s": round(self.transcript.duration or self.call_end, 2),
            "agent_talk_s": round(talk["agent"], 2),
            "client_talk_s": round(talk["client"], 2),
            "agent_talk_ratio": round(talk["agent"] / spoken, 4) if spoken else 0.0,
            "agent_questions": float(agent_questions),
            "segments": float(len(self.segments)),
        }


def score(transcript: Transcript, scorecard: Scorecard) -> Assessment:
    """Judge every scorecard item on the transcript and combine them into one assessment."""
    scorer = _Scorer(transcript, scorecard)
    items = tuple(scorer.score_item(item) for item in scorecard.items)
    decided = [item for item in items if item.status in ("pass", "fail")]
    total_weight = sum(item.weight for item in decided)
    value = sum(item.weight for item in decided if item.status == "pass") / total_weight if total_weight else 0.0
    critical_failed = [item.id for item in items if item.critical and item.status == "fail"]
    flags = [f"critical_failed:{item_id}" for item_id in critical_failed]
    flags += [f"needs_review:{item.id}" for item in items if item.status == "needs_review"]
    if value < scorecard.pass_threshold:
        flags.append("low_score")
    if not transcript.segments:
        flags.append("empty_transcript")
    return Assessment(
        scorecard=ScorecardRef(id=scorecard.id, version=scorecard.version),
        language=scorer.language,
        score=round(value, 4),
        passed=bool(transcript.segments) and not critical_failed and value >= scorecard.pass_threshold,
        items=items,
        metrics=scorer.metrics(),
        flags=tuple(flags),
    )
