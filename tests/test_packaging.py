"""`pip install .` ships what the bot needs at run time inside the package: the knowledge base
with the report, and the staff report's template and stylesheet. Checked in the built wheel,
not in the source tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_carries_the_knowledge_base_and_the_report_template(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("citizenbot-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"citizenbot/_kb/{p.name}" for p in (ROOT / "intents").iterdir()}
    assert "citizenbot/_kb/report.txt" in shipped and "citizenbot/_kb/texts.staff.yml" in shipped
    assert shipped <= names
    templates = {f"citizenbot/staff/templates/{p.name}"
                 for p in (ROOT / "src" / "citizenbot" / "staff" / "templates").iterdir()}
    assert {"citizenbot/staff/templates/report.html",
            "citizenbot/staff/templates/report.css"} <= templates <= names
    assert "citizenbot/cli.py" in names and "citizenbot/py.typed" in names
    assert "citizenbot/telegram/app.py" in names and "citizenbot/store/db.py" in names
