from pathlib import Path

import pytest
import yaml

from pipeline.errors import ScorecardError
from pipeline.score.scorecard import STANDARD_ITEM_IDS, LearnedDetector, load_scorecard, load_scorecard_file

SCORECARDS = Path(__file__).resolve().parent.parent / "scorecards"
SHIPPED = sorted(SCORECARDS.glob("*.yaml"))


def test_there_are_inbound_and_outbound_scorecards():
    assert {p.stem for p in SHIPPED} >= {"inbound_inquiry", "outbound_followup"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_scorecard_loads_with_the_standard_items(path):
    loaded = load_scorecard_file(path)
    card = loaded.card
    assert card.id == path.stem and {"ru", "en"} <= set(card.languages)
    ids = [item.id for item in card.items]
    assert ids[: len(STANDARD_ITEM_IDS)] == list(STANDARD_ITEM_IDS)
    assert next(item for item in card.items if item.id == "no_pressure").critical
    learned = {d.examples for d in card.detectors.values() if isinstance(d, LearnedDetector)}
    assert learned == set(loaded.examples)
    for item in card.items[: len(STANDARD_ITEM_IDS)]:
        assert set(item.feedback) >= {"ru", "en"} and set(item.examples) >= {"ru", "en"}, item.id


def test_content_hash_follows_the_content(tmp_path):
    original = load_scorecard_file(SCORECARDS / "inbound_inquiry.yaml")
    data = yaml.safe_load((SCORECARDS / "inbound_inquiry.yaml").read_text(encoding="utf-8"))
    data["pass_threshold"] = 0.8
    (tmp_path / "examples").symlink_to(SCORECARDS / "examples")
    (tmp_path / "detectors").symlink_to(SCORECARDS / "detectors")
    changed_path = tmp_path / "inbound_inquiry.yaml"
    changed_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    changed = load_scorecard_file(changed_path)
    assert changed.content_hash != original.content_hash
    assert load_scorecard_file(SCORECARDS / "inbound_inquiry.yaml").content_hash == original.content_hash


def _valid() -> dict:
    """The inbound scorecard with its included detectors written out in the file itself."""
    data = yaml.safe_load((SCORECARDS / "inbound_inquiry.yaml").read_text(encoding="utf-8"))
    shared = yaml.safe_load((SCORECARDS / "detectors" / "sales_calls.yaml").read_text(encoding="utf-8"))
    data["detectors"] = shared["detectors"] | (data.get("detectors") or {})
    del data["include"]
    return data


def _load(tmp_path, data) -> None:
    (tmp_path / "examples").mkdir(exist_ok=True)
    for example in (SCORECARDS / "examples").glob("*.yaml"):
        (tmp_path / "examples" / example.name).write_bytes(example.read_bytes())
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    load_scorecard_file(path)


def test_error_names_file_item_and_field(tmp_path):
    data = _valid()
    data["items"][2]["window"] = {"first_seconds": -5}
    with pytest.raises(ScorecardError) as error:
        _load(tmp_path, data)
    message = str(error.value)
    assert "broken.yaml" in message
    assert "items[2].window.first_seconds" in message
    assert "(item needs_discovery)" in message


def test_error_for_unknown_field_bad_kind_and_bad_detector_type(tmp_path):
    data = _valid()
    data["items"][0]["colour"] = "red"
    data["items"][1]["kind"] = "maybe"
    data["detectors"]["greeting_cues"]["type"] = "magic"
    with pytest.raises(ScorecardError) as error:
        _load(tmp_path, data)
    message = str(error.value)
    assert "items[0].colour" in message and "items[1].kind" in message
    assert "detectors.greeting_cues" in message and "magic" in message


def test_error_for_unknown_detector_missing_cues_and_duplicates(tmp_path):
    data = _valid()
    data["items"][0]["detect"] = [["no_such_detector"]]
    with pytest.raises(ScorecardError, match="item greeting: unknown detector.*no_such_detector"):
        _load(tmp_path, data)
    data = _valid()
    del data["detectors"]["greeting_cues"]["cues"]["ru"]
    with pytest.raises(ScorecardError, match="detector greeting_cues: no cues for language.*ru"):
        _load(tmp_path, data)
    data = _valid()
    data["items"].append(dict(data["items"][0]))
    with pytest.raises(ScorecardError, match="duplicate item ids: greeting"):
        _load(tmp_path, data)


def test_error_for_missing_examples_of_a_learned_detector(tmp_path):
    data = _valid()
    data["detectors"]["value_model"]["examples"] = "not_written_yet"
    with pytest.raises(ScorecardError, match="examples/not_written_yet.yaml: examples for the learned detector"):
        _load(tmp_path, data)


def test_error_for_an_item_with_both_or_no_detection(tmp_path):
    data = _valid()
    data["items"][0]["metric"] = {"name": "agent_talk_ratio", "max": 0.7}
    with pytest.raises(ScorecardError, match="exactly one of them"):
        _load(tmp_path, data)


def test_included_detectors_must_exist(tmp_path):
    data = _valid()
    data["include"] = ["detectors/missing.yaml"]
    with pytest.raises(ScorecardError, match="cannot read the file included by broken.yaml"):
        _load(tmp_path, data)


def test_error_for_invalid_yaml_and_unknown_id(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(ScorecardError, match="bad.yaml: not valid YAML"):
        load_scorecard_file(path)
    with pytest.raises(ScorecardError, match="no scorecard 'nope'.*available: inbound_inquiry"):
        load_scorecard("nope", SCORECARDS)
