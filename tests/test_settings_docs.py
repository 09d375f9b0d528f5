"""The settings cannot drift apart: config.SETTINGS is the single list, and the settings the
code reads, deploy/example.env and the settings table of docs/operations.md all name exactly
its names."""

from __future__ import annotations

import inspect
import re
from collections import Counter
from pathlib import Path

from citizenbot import config
from citizenbot.config import SETTINGS, load_settings, read_env_file

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_ENV = ROOT / "deploy" / "example.env"
SETTINGS_PAGE = ROOT / "docs" / "operations.md"
SRC = ROOT / "src" / "citizenbot"
# Read by config.default_db_path, but the operating system's variable, not one of ours.
NOT_OURS = {"XDG_DATA_HOME"}
SETTING_LINE = re.compile(r"#?([A-Z][A-Z0-9_]*)=(.*)")


def example_env_names() -> list[str]:
    """Names on `NAME=value` and `#NAME=value` lines (prose comments start with "# ")."""
    return [m.group(1) for line in EXAMPLE_ENV.read_text(encoding="utf-8").splitlines()
            if (m := SETTING_LINE.fullmatch(line.strip()))]


def settings_table_names() -> list[str]:
    """Names of the rows "| `NAME` | default | meaning |" under "## Settings"."""
    text = SETTINGS_PAGE.read_text(encoding="utf-8")
    match = re.search(r"^## Settings\n(.*?)(?=^## )", text, flags=re.M | re.S)
    assert match, 'docs/operations.md has no "## Settings" section'
    return re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", match.group(1), flags=re.M)


def test_every_setting_the_code_reads_is_in_settings() -> None:
    # Every "NAME" literal in load_settings: merged.get("NAME"), _number(merged, "NAME", ...)
    read = set(re.findall(r'"([A-Z][A-Z0-9]*_[A-Z0-9_]+)"',
                          inspect.getsource(config.load_settings)))
    assert read, "the scan found nothing: has load_settings changed shape?"
    assert read - set(SETTINGS) == set(), "read by load_settings but missing from SETTINGS"
    assert set(SETTINGS) - read == set(), "in SETTINGS but never read by load_settings"
    env_names = set(re.findall(r'env\.get\("([A-Z_]+)"', inspect.getsource(config)))
    assert env_names - set(SETTINGS) <= NOT_OURS


def test_only_config_reads_the_environment() -> None:
    readers = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if p.name != "config.py"
               and re.search(r"os\.environ|os\.getenv|getenv\(", p.read_text(encoding="utf-8"))]
    assert readers == [], "settings are read in config.py only (add them to SETTINGS)"


def test_example_env_lists_exactly_the_settings() -> None:
    names = example_env_names()
    assert [n for n, k in Counter(names).items() if k > 1] == [], "listed twice"
    assert set(SETTINGS) - set(names) == set(), "missing from deploy/example.env"
    assert set(names) - set(SETTINGS) == set(), "in deploy/example.env but not read by the code"


def test_the_settings_table_lists_exactly_the_settings() -> None:
    names = settings_table_names()
    assert [n for n, k in Counter(names).items() if k > 1] == [], "listed twice"
    assert set(SETTINGS) - set(names) == set(), "missing from the settings table"
    assert set(names) - set(SETTINGS) == set(), "in the settings table but not read by the code"


def test_example_env_documents_each_setting_with_its_default(tmp_path: Path) -> None:
    lines = EXAMPLE_ENV.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        m = SETTING_LINE.fullmatch(line.strip())
        if not m:
            continue
        comments = []
        j = i - 1
        while j >= 0 and lines[j].startswith("# "):
            comments.insert(0, lines[j][2:])
            j -= 1
        assert comments, f"{m.group(1)} has no comment saying what it means"
        default, _meaning = SETTINGS[m.group(1)]
        assert any(c.startswith("Default: ") for c in comments), m.group(1)
        if default and not default.startswith("<"):
            assert m.group(2) == default, f"{m.group(1)}: the example shows another default"


def test_example_env_loads_and_its_shown_defaults_are_the_real_ones(tmp_path: Path) -> None:
    # As shipped (only the empty token set) ...
    assert load_settings({}, env_file=EXAMPLE_ENV) == load_settings({})
    # ... and with every "#NAME=default" line switched on: still exactly the defaults.
    uncommented = tmp_path / "all.env"
    uncommented.write_text("\n".join(
        line[1:] if SETTING_LINE.fullmatch(line) and line.startswith("#") else line
        for line in EXAMPLE_ENV.read_text(encoding="utf-8").splitlines()) + "\n",
        encoding="utf-8")
    assert set(read_env_file(uncommented)) == set(SETTINGS)
    assert load_settings({}, env_file=uncommented) == load_settings({})
