import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from callqa.cli import cli
from pipeline.score import STANDARD_ITEM_IDS
from pipeline.score.evaluate import _report

DEVSET = Path(__file__).resolve().parent / "data" / "devset"


@pytest.fixture(scope="module")
def devset_report():
    result = CliRunner().invoke(cli, ["eval", str(DEVSET), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_devset_has_both_languages_and_both_directions():
    files = [json.loads(p.read_text(encoding="utf-8")) for p in DEVSET.rglob("*.json")]
    assert len(files) >= 40
    assert sum(f["language"] == "ru" for f in files) == sum(f["language"] == "en" for f in files)
    assert {f["scorecard"] for f in files} == {"inbound_inquiry", "outbound_followup"}


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("item", STANDARD_ITEM_IDS)
def test_scoring_agrees_with_the_quality_lead_on_the_devset(devset_report, item, language):
    (report,) = [r for r in devset_report["items"] if r["item"] == item and r["language"] == language]
    assert report["n"] >= 20
    assert report["accuracy"] >= 0.9, report
    assert report["kappa"] >= 0.8, report


def test_report_arithmetic():
    pairs = [("fail", "fail"), ("fail", "pass"), ("pass", "pass"), ("pass", "fail"), ("na", "na"), ("pass", "needs_review")]
    report = _report("x", "ru", pairs)
    assert report.accuracy == pytest.approx(3 / 6, abs=1e-4)
    assert report.precision == 0.5 and report.recall == 0.5
    assert report.needs_review == 1
    assert report.confusion["pass"] == {"pass": 1, "fail": 1, "na": 0, "needs_review": 1}
    perfect = _report("x", "ru", [("pass", "pass")] * 3)
    assert perfect.kappa == 1.0 and perfect.accuracy == 1.0


def test_eval_prints_a_table_and_confusions():
    output = CliRunner().invoke(cli, ["eval", str(DEVSET), "--disagreements"]).output
    assert output.splitlines()[1].split()[:5] == ["item", "lang", "n", "accuracy", "kappa"]
    assert "Confusion" in output and "Disagreements" in output
