"""Every page the repository points at is in the repository.

Two promises, checked on the files themselves:

- every relative markdown link (and image) in a ``*.md`` file resolves: the file exists, and
  an ``#anchor`` names one of its headings (GitHub's slugs);
- every ``*.md`` file name mentioned in README.md, docs/, research/, tests/ or benchmarks/
  (code comments and docstrings included) exists in the repository, and nothing cites the
  design notes that never were part of it;
- every path into the repository's folders that a page names (``research/engine/ranges.py``,
  ``sweeps/grid.yaml``) exists.

The checks are plain functions over text, so the tests below also feed them a dangling link
and a dangling name and see them fail.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".git", ".venv", "results", "__pycache__", ".pytest_cache", ".ruff_cache",
                ".hypothesis", "build", "dist"}
SCANNED = ("README.md", "docs", "research", "tests", "benchmarks", "sweeps")
TEXT_SUFFIXES = {".md", ".py", ".yaml", ".yml", ".toml", ".txt", ".css", ".js"}
# Names that are sample data in an example, not a page: (file that uses it, name).
SAMPLE_NAMES = {("research/engine/formats/files.py", "notes.md")}  # a non-bar file's name
# The project's design notes stayed outside the repository; a citation of one (with or
# without ".md", as "NAME §3" or "NAME Q12") cannot be followed by a reader. Built from
# parts so that this file does not cite them itself.
OUTSIDE_NOTES = ["ENGINE" + "_SPEC", "DATA" + "_FORMATS", "DECI" + "SIONS",
                 "PARALLEL" + "_PROCESSOR", "BENCH" + "MARK.md", "DESI" + "GN.md",
                 "STY" + "LE.md", "ROBUST" + "NESS.md", "../" + "spec/", "../" + "shared"]
OUTSIDE = re.compile("|".join([*map(re.escape, OUTSIDE_NOTES),
                               r"\b(?:DESIGN|STYLE|ROBUSTNESS) §"]))

LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)
MD_NAME = re.compile(r"(?<![\w./-])([\w][\w./-]*\.md)\b")
REPO_PATH = re.compile(r"(?<![\w./-])((?:research|tests|benchmarks|sweeps|docs)/[\w./-]*\w)")


@functools.cache
def repo_files() -> tuple[Path, ...]:
    """Every file of the working tree, build outputs and environments left out (pruned, not
    walked: a virtual environment holds tens of thousands of files)."""
    found = []
    for folder, dirs, files in os.walk(REPO):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info"))
        found += [Path(folder) / name for name in sorted(files)]
    return tuple(found)


def markdown_files() -> list[Path]:
    return [path for path in repo_files() if path.suffix == ".md"]


def scanned_files() -> list[Path]:
    """The text files whose mentions of ``*.md`` names are checked (this file aside: it
    names dangling pages on purpose, to show that the checks catch them)."""
    roots = [REPO / name for name in SCANNED]
    return [path for path in repo_files()
            if any(path == root or root in path.parents for root in roots)
            and (path.suffix in TEXT_SUFFIXES) and path != Path(__file__).resolve()]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text without markup, lower case, punctuation
    dropped (word characters, spaces and hyphens stay), spaces as hyphens.

    >>> slug("`robustness.json`"), slug("§13 Q1–Q30: the reference's quirks")
    ('robustnessjson', '13-q1q30-the-references-quirks')
    """
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """The anchors of a page's headings; a repeated heading gets -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(FENCE.sub("", markdown)):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return out


def broken_links(page: Path, markdown: str) -> list[str]:
    """Each relative link of `markdown` (the text of `page`) that does not resolve."""
    problems = []
    for target in LINK.findall(INLINE_CODE.sub("", FENCE.sub("", markdown))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        path_text, _, anchor = target.partition("#")
        path = (page.parent / path_text).resolve() if path_text else page
        if not path.exists():
            problems.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path.read_text()):
            problems.append(f"{target}: no heading #{anchor} in {path.name}")
    return problems


def dangling_names(source: Path, text: str, names: set[str]) -> list[str]:
    """Each ``*.md`` name in `text` (from file `source`) that names no file of the
    repository: a path is taken from the source's folder or the repository's root, a bare
    name may live anywhere. `names` holds the repository's file names."""
    problems = []
    relative = source.relative_to(REPO).as_posix() if source.is_relative_to(REPO) else ""
    for name in MD_NAME.findall(text):
        if (relative, name) in SAMPLE_NAMES:
            continue
        if "/" in name:
            if not ((source.parent / name).exists() or (REPO / name).exists()):
                problems.append(name)
        elif name not in names:
            problems.append(name)
    return problems


def missing_repo_paths(text: str) -> list[str]:
    """Each path into the repository's folders (``research/...``, ``tests/...``, ...) that a
    page names and that does not exist (a folder counts)."""
    return [path for path in REPO_PATH.findall(text) if not (REPO / path).exists()]


def outside_citations(text: str) -> list[str]:
    """The lines of `text` that cite a design note outside the repository."""
    return [line.strip() for line in text.splitlines() if OUTSIDE.search(line)]


def test_every_relative_link_resolves():
    problems = [f"{page.relative_to(REPO)}: {problem}" for page in markdown_files()
                for problem in broken_links(page, page.read_text())]
    assert problems == []


def test_the_front_door_and_the_docs_pages_are_checked():
    checked = {page.relative_to(REPO).as_posix() for page in markdown_files()}
    assert {"README.md", "docs/guide.md", "docs/reference.md", "docs/engine.md",
            "docs/robustness.md", "docs/data-formats.md", "docs/architecture.md",
            "docs/benchmarks.md", "docs/STRATEGY.md", "tests/golden/GOLDEN.md"} <= checked


def test_every_md_file_named_exists():
    names = {path.name for path in repo_files()}
    problems = [f"{source.relative_to(REPO)}: {name}" for source in scanned_files()
                for name in dangling_names(source, source.read_text(errors="replace"), names)]
    assert problems == []


def test_every_code_path_a_page_names_exists():
    problems = [f"{page.relative_to(REPO)}: {path}" for page in markdown_files()
                for path in missing_repo_paths(page.read_text())]
    assert problems == []


def test_nothing_cites_the_design_notes_outside_the_repository():
    problems = [f"{source.relative_to(REPO)}: {line}" for source in scanned_files()
                for line in outside_citations(source.read_text(errors="replace"))]
    assert problems == []


# ---- the checks catch what they are for ----

def test_a_dangling_link_is_caught():
    page = REPO / "docs" / "guide.md"
    text = ("[ok](reference.md#exit-codes) [gone](missing-page.md) "
            "[bad anchor](reference.md#no-such-heading) [web](https://example.org/x.md)\n"
            "```\n[in a code block](nowhere.md)\n```\n")
    assert broken_links(page, text) == ["missing-page.md: no such file",
                                        "reference.md#no-such-heading: no heading "
                                        "#no-such-heading in reference.md"]


def test_a_link_to_a_heading_of_the_same_page_is_checked():
    page = REPO / "docs" / "reference.md"
    text = "## Exit codes\n\n[here](#exit-codes) [there](#exit-code)\n"
    assert broken_links(page, text) == ["#exit-code: no heading #exit-code in reference.md"]


@pytest.mark.parametrize(("text", "dangling"), [
    ("# the rule (docs/engine.md Q12)", []),
    ("# see ../tests/golden/GOLDEN.md", []),
    ("# see docs/gone.md and NOPE.md", ["docs/gone.md", "NOPE.md"]),
])
def test_a_dangling_md_name_is_caught(text, dangling):
    names = {path.name for path in repo_files()}
    assert dangling_names(REPO / "docs" / "x.py", text, names) == dangling


@pytest.mark.parametrize(("text", "cited"), [
    ("exact ticks (" + "DECI" + "SIONS Q15)", True),
    ("ranges (" + "ENGINE" + "_SPEC §4-§6)", True),
    ("a stage after the walk (" + "DESI" + "GN §3)", True),
    ("ROBUSTNESS = \"robustness.json\"", False),
    ("exact ticks (docs/engine.md Q15)", False),
])
def test_a_citation_of_an_outside_note_is_caught(text, cited):
    assert bool(outside_citations(text)) is cited


def test_a_missing_code_path_is_caught():
    text = "see `research/engine/entry.py`, research/engine/ and `tests/engine/test_gone.py`"
    assert missing_repo_paths(text) == ["tests/engine/test_gone.py"]


def test_anchors_follow_github():
    markdown = ("# A\n## `robustness.json`\n## A\n```\n# not a heading\n```\n"
                "### 7. Read the report\n")
    assert anchors(markdown) == {"a", "robustnessjson", "a-1", "7-read-the-report"}
