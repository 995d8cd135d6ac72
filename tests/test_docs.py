"""The README's promises: its commands exist and its settings are real."""

import re
from pathlib import Path

from callqa.cli import cli
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_gives_the_two_commands_and_the_makefile_has_them():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("demo", "test"):
        assert f"make {target}" in README
        assert re.search(rf"^{target}:", makefile, re.MULTILINE)
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_callqa_command_in_the_readme_exists():
    used = set(re.findall(r"(?:`|\.venv/bin/)callqa (?:--config [^\s`]+ )?([a-z][a-z-]*)", README))
    assert used, "the README shows no callqa command"
    assert used <= set(cli.commands), used - set(cli.commands)


def test_every_setting_in_the_readme_exists():
    documented = set(re.findall(r"`CALLQA_([A-Z_]+)`", README)) - {"CONFIG"}
    assert {"DATA_DIR", "DATABASE_URL"} <= documented
    assert {name.lower() for name in documented} <= set(Settings.model_fields)
