"""`pip install .` ships the knowledge base and the report inside the package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_carries_the_report_and_every_intent_file(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("citizenbot-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"citizenbot/_kb/{p.name}" for p in (ROOT / "intents").iterdir()}
    assert "citizenbot/_kb/report.txt" in shipped
    assert shipped <= names
    assert "citizenbot/cli.py" in names and "citizenbot/py.typed" in names
