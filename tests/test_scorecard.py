from pathlib import Path

import pytest
import yaml

from pipeline.errors import ScorecardError
from pipeline.scorecard import STANDARD_ITEM_IDS, load_scorecard, load_scorecard_file

SCORECARDS = Path(__file__).resolve().parent.parent / "scorecards"


@pytest.mark.parametrize("path", sorted(SCORECARDS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scorecard_loads(path):
    card = load_scorecard_file(path)
    assert card.id == path.stem
    assert {"ru", "en"} <= set(card.languages)


def test_default_scorecard_has_the_standard_items():
    card = load_scorecard("default", SCORECARDS)
    assert [item.id for item in card.items][: len(STANDARD_ITEM_IDS)] == list(STANDARD_ITEM_IDS)
    assert next(item for item in card.items if item.id == "no_pressure").critical


def _write(tmp_path, data) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _valid() -> dict:
    return yaml.safe_load((SCORECARDS / "default.yaml").read_text(encoding="utf-8"))


def test_error_names_file_item_and_field(tmp_path):
    data = _valid()
    data["items"][2]["window"] = {"first_seconds": -5}
    with pytest.raises(ScorecardError) as error:
        load_scorecard_file(_write(tmp_path, data))
    message = str(error.value)
    assert "broken.yaml" in message
    assert "items[2].window.first_seconds" in message
    assert "needs_discovery" in message


def test_error_for_unknown_field_and_bad_kind(tmp_path):
    data = _valid()
    data["items"][0]["colour"] = "red"
    data["items"][1]["kind"] = "maybe"
    with pytest.raises(ScorecardError) as error:
        load_scorecard_file(_write(tmp_path, data))
    assert "items[0].colour" in str(error.value)
    assert "items[1].kind" in str(error.value)


def test_error_for_missing_language_cues_and_duplicates(tmp_path):
    data = _valid()
    del data["items"][0]["cues"]["ru"]
    with pytest.raises(ScorecardError, match="item greeting: no cues for language"):
        load_scorecard_file(_write(tmp_path, data))
    data = _valid()
    data["items"].append(dict(data["items"][0]))
    with pytest.raises(ScorecardError, match="duplicate item ids: greeting"):
        load_scorecard_file(_write(tmp_path, data))


def test_error_for_invalid_yaml_and_unknown_id(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(ScorecardError, match="bad.yaml: not valid YAML"):
        load_scorecard_file(path)
    with pytest.raises(ScorecardError, match="no scorecard 'nope'.*available: default"):
        load_scorecard("nope", SCORECARDS)
