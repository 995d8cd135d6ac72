import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from callqa.cli import cli
from pipeline import worker as worker_module
from pipeline.score import STANDARD_ITEM_IDS
from tests.fakes import FakeTranscriber

DATA = Path(__file__).resolve().parent / "data"
COMMANDS = sorted(cli.commands)


@pytest.fixture
def runner():
    return CliRunner()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(runner, command):
    result = runner.invoke(cli, [command, "-h"])
    assert result.exit_code == 0
    assert "Example:" in result.output


@pytest.mark.parametrize("language", ["ru", "en"])
def test_score_prints_assessment_json_with_all_items(runner, settings_env, language):
    result = runner.invoke(cli, ["score", "--transcript", str(DATA / f"transcript_{language}_handwritten.json")])
    assert result.exit_code == 0, result.output
    assessment = json.loads(result.output)
    assert [item["id"] for item in assessment["items"]][:8] == list(STANDARD_ITEM_IDS)
    assert assessment["scorecard"]["id"] == "inbound_inquiry" and assessment["scorecard"]["version"] == 1
    assert assessment["passed"] is True


def test_score_rejects_an_invalid_transcript_clearly(runner, settings_env, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"language": "ru", "segments": [{"speaker": "boss", "start": 0, "end": 1, "text": "x"}]}))
    result = runner.invoke(cli, ["score", "--transcript", str(bad)])
    assert result.exit_code == 1
    assert "bad.json: not a valid transcript: segments.0.speaker" in result.output


def test_unknown_scorecard_is_a_one_line_error(runner, settings_env):
    result = runner.invoke(cli, ["score", "--transcript", str(DATA / "transcript_en_handwritten.json"), "--scorecard", "nope"])
    assert result.exit_code == 1
    assert result.output.startswith("error: no scorecard 'nope'")


@pytest.mark.prefect
def test_run_then_show_then_rerun(runner, settings_env, calls_folder, monkeypatch):
    monkeypatch.setattr(worker_module, "get_transcriber", lambda options: FakeTranscriber())
    folder = calls_folder("ru_good_vacuum", "ru_poor_vacuum")
    first = runner.invoke(cli, ["run", str(folder)])
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines[0].split()[:6] == ["file", "call", "lang", "length", "score", "verdict"]
    poor_row = next(line for line in lines if line.startswith("ru_poor_vacuum.wav"))
    assert poor_row.split()[5:7] == ["FAIL", "processed"] and "no_pressure" in poor_row
    assert "2 processed, 0 skipped, 0 quarantined, 0 failed" in first.output
    assert f"Database: sqlite:///{settings_env.data_dir / 'callqa.db'}" in first.output

    second = runner.invoke(cli, ["run", str(folder)])
    assert second.exit_code == 0
    assert "Nothing new to process" in second.output

    shown = runner.invoke(cli, ["show", str(folder / "ru_poor_vacuum.wav")])
    assert shown.exit_code == 0, shown.output
    assert "agent: Алло. Да, слушаю." in shown.output
    assert "FAILED" in shown.output and "no_pressure" in shown.output

    call_id = poor_row.split()[1]
    as_json = json.loads(runner.invoke(cli, ["show", call_id, "--json"]).output)
    assert as_json["transcript"]["language"] == "ru"
    assert {i["id"]: i["status"] for i in as_json["assessment"]["items"]}["greeting"] == "fail"

    listed = runner.invoke(cli, ["calls"])
    assert call_id in listed.output


def test_show_unknown_call_is_a_clear_error(runner, settings_env):
    result = runner.invoke(cli, ["show", "deadbeef"])
    assert result.exit_code == 1
    assert "'deadbeef' matches no call" in result.output


def test_scorecards_command_validates_files(runner, settings_env, tmp_path):
    assert "inbound_inquiry.yaml: ok (inbound_inquiry v1, 10 items" in runner.invoke(cli, ["scorecards"]).output
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nversion: 0\ntitle: t\nlanguages: [ru]\nitems: []\n")
    result = runner.invoke(cli, ["scorecards", str(broken)])
    assert result.exit_code == 1 and "version" in result.output and "broken.yaml" in result.output


def test_config_file_selects_the_database(runner, settings_env, tmp_path, monkeypatch):
    config = tmp_path / "callqa.toml"
    other_db = tmp_path / "other.db"
    config.write_text(f'database_url = "sqlite:///{other_db}"\n')
    monkeypatch.setenv("CALLQA_CONFIG", str(config))  # so the variable the CLI sets is removed afterwards
    result = runner.invoke(cli, ["--config", str(config), "calls"])
    assert result.exit_code == 0, result.output
    assert other_db.exists()
