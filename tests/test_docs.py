"""The pages a reader follows hold together: every relative link between README.md and the
docs/ pages reaches a file, and every #anchor a heading of that page; the README's two set-up
commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def anchor(heading: str) -> str:
    """GitHub's id for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {anchor(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


def links(page: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8")))


def broken(page: Path) -> list[str]:
    found = []
    for target in links(page):
        if re.match(r"[a-z]+:", target):  # https:, mailto: - not ours to check offline
            continue
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            found.append(f"{page.name}: {target} (no such file)")
            continue
        if fragment and file.suffix == ".md" and fragment not in anchors(file):
            found.append(f"{page.name}: {target} (no heading #{fragment})")
    return found


def test_every_relative_link_and_anchor_between_the_pages_resolves() -> None:
    assert len(PAGES) >= 5
    assert [problem for page in PAGES for problem in broken(page)] == []


def test_the_link_check_sees_a_broken_link_and_a_missing_anchor(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A page\n\n## Set it up\n", encoding="utf-8")
    page = tmp_path / "README.md"
    page.write_text("[ok](docs/a.md#set-it-up) [gone](docs/b.md) [bad](docs/a.md#set-up)\n"
                    "```\n[in code](docs/nothing.md)\n```\n", encoding="utf-8")
    assert broken(page) == ["README.md: docs/b.md (no such file)",
                            "README.md: docs/a.md#set-up (no heading #set-up)"]


def test_the_readme_links_every_docs_page_and_stays_short() -> None:
    readme = ROOT / "README.md"
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in links(readme)}
    for page in PAGES[1:]:
        assert page in linked, f"README.md does not lead to {page.name}"
    assert len(readme.read_text(encoding="utf-8").splitlines()) <= 200


def test_the_readme_has_two_set_up_commands_and_ci_runs_the_same_tests() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.+?)\n```", setup, flags=re.S)
    assert commands[:2] == [
        "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/python bot.py",
        'python3 -m venv .venv && .venv/bin/pip install -e ".[dev]" && .venv/bin/python -m '
        "pytest -q"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'python -m pip install --quiet -e ".[dev]"' in ci
    assert "\npython -m pytest -q\n" in ci
