"""The documents a reader follows: a short README with a contents list, links that lead somewhere, a true layout."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DESIGN_NOTES = ROOT / "docs" / "design-notes.md"
README_MAX_LINES = 400
# The contents list must start within this many lines of the top, so a reader sees it without scrolling far.
CONTENTS_WITHIN = 40

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)
HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
EXTERNAL = re.compile(r"\b(?:https?|ftp)://|\bwww\.|\bmailto:", re.IGNORECASE)


def documents() -> list[Path]:
    """README, CONTRIBUTING and every page under docs/."""
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


def prose(text: str) -> str:
    """The text a renderer turns into links: fenced blocks and code spans removed."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def links(text: str) -> list[str]:
    """Every link target of a markdown text, inline and reference-style, outside code."""
    body = prose(text)
    return INLINE_LINK.findall(body) + REFERENCE_LINK.findall(body)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = text.replace("`", "").strip().lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a markdown file's headings, duplicates numbered as GitHub numbers them."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for _, title in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        base = slug(title)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def is_external(target: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)) or target.startswith("//")


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """The relative links of one document whose file, or whose heading in a markdown file, does not exist."""
    broken = []
    for target in links(path.read_text(encoding="utf-8")):
        if not target or is_external(target):
            continue
        file_part, _, fragment = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        if not destination.is_relative_to(root):
            broken.append(f"{target} (outside the repository)")
        elif not destination.exists():
            broken.append(f"{target} (no such file)")
        elif fragment and destination.suffix == ".md" and fragment not in anchors(destination):
            broken.append(f"{target} (no such heading in {destination.relative_to(root)})")
    return broken


def contents_anchors(text: str) -> list[str]:
    """The anchors listed under the README's "Contents" heading (up to the next heading)."""
    match = re.search(r"^##?[ \t]+(?:Table of )?Contents[ \t]*\n(.*?)(?=^#)", text, re.MULTILINE | re.DOTALL)
    if match is None:
        return []
    return re.findall(r"^\s*[-*]\s+\[[^\]]+\]\(#([^)\s]+)\)", match.group(1), re.MULTILINE)


def test_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines < README_MAX_LINES, (
        f"README.md has {lines} lines; keep it under {README_MAX_LINES} and move reference material to docs/"
    )


def test_readme_has_a_contents_list_near_the_top_whose_anchors_exist() -> None:
    text = README.read_text(encoding="utf-8")
    heading = re.search(r"^##?[ \t]+(?:Table of )?Contents[ \t]*$", text, re.MULTILINE)
    assert heading is not None, "README.md has no '## Contents' heading"
    line = text[: heading.start()].count("\n") + 1
    assert line <= CONTENTS_WITHIN, f"README.md's contents list starts at line {line}, after line {CONTENTS_WITHIN}"
    listed = contents_anchors(text)
    assert len(listed) >= 5, f"README.md's contents list links {len(listed)} sections"
    missing = sorted(set(listed) - anchors(README))
    assert not missing, f"README.md's contents list links headings that do not exist: {missing}"
    sections = [slug(title) for level, title in HEADING.findall(FENCE.sub("", text)) if len(level) == 2]
    unlisted = [s for s in sections if s not in listed and s != "contents"]
    assert not unlisted, f"README.md's contents list leaves out the sections {unlisted}"


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_to_files_that_exist(path: Path) -> None:
    assert not broken_links(path), f"{path.relative_to(ROOT)} has broken links: {broken_links(path)}"


def test_design_notes_link_nothing_outside_the_repository() -> None:
    text = DESIGN_NOTES.read_text(encoding="utf-8")
    external = [m.group(0) for m in EXTERNAL.finditer(text)]
    assert not external, f"docs/design-notes.md names addresses outside the repository: {external}"
    # A path that climbs out of docs/ (`../x`) must name a file of this repository, read from docs/ or its root.
    escaping = [
        ref
        for ref in re.findall(r"(?:\.\./)+[\w./-]*", text)
        if not any(
            candidate.resolve().is_relative_to(ROOT) and candidate.exists()
            for candidate in (DESIGN_NOTES.parent / ref, ROOT / ref)
        )
    ]
    assert not escaping, f"docs/design-notes.md points at paths outside the repository: {escaping}"
    assert not [t for t in links(text) if is_external(t)]


# The checker's own pieces, on inputs whose answer is known, so a lenient regex cannot make the tests above pass.
def test_slug_follows_githubs_rule() -> None:
    assert slug("When things go wrong: nothing is lost") == "when-things-go-wrong-nothing-is-lost"
    assert slug("MedPerf's server, side by side") == "medperfs-server-side-by-side"
    assert slug("`medperf server` on PostgreSQL") == "medperf-server-on-postgresql"


def test_links_skip_code_and_find_reference_links() -> None:
    text = "see [a](a.md) and `[b](b.md)`\n\n```\n[c](c.md)\n```\n![img](docs/x.png)\n[r]: r.md\n"
    assert links(text) == ["a.md", "docs/x.png", "r.md"]


def test_broken_links_finds_a_missing_file_a_missing_heading_and_an_escape(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "docs" / "notes.md").write_text("# Notes\n\n## A heading\n", encoding="utf-8")
    (tmp_path / "outside.md").write_text("# Outside\n", encoding="utf-8")
    page = repo / "docs" / "page.md"
    page.write_text(
        "# Probe\n[ok](notes.md#a-heading) [gone](nothing-here.md) [h](notes.md#no-such-heading) "
        "[up](../../outside.md) [self](#probe) [web](https://example.org)\n",
        encoding="utf-8",
    )
    assert broken_links(page, repo) == [
        "nothing-here.md (no such file)",
        "notes.md#no-such-heading (no such heading in docs/notes.md)",
        "../../outside.md (outside the repository)",
    ]


def layout_paths(text: str) -> list[str]:
    """The paths CONTRIBUTING's "Layout" block names, nested by indentation (two spaces a level)."""
    match = re.search(r"^## Layout\s*\n+```\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert match is not None, "CONTRIBUTING.md has no '## Layout' section with a code block"
    paths: list[str] = []
    parents: list[str] = []
    for line in match.group(1).splitlines():
        if not line.strip() or line.startswith(" " * 20):  # blank, or a description's continuation
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        names = re.split(r"\s{2,}", line.strip())[0]
        parents = parents[:depth]
        for name in names.split(", "):
            paths.append("".join(parents) + name)
        if names.endswith("/") and "," not in names:
            parents.append(names)
    return paths


def tracked_directories() -> set[str]:
    """The directories a contributor looks for: top level, Python packages two deep, each runner and plugin."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    wanted: set[str] = set()
    for name in files:
        parts = name.split("/")
        if len(parts) > 1 and not parts[0].startswith("."):
            wanted.add(parts[0] + "/")
        if parts[0] == "medperf_core" and parts[-1] == "__init__.py" and 2 < len(parts) <= 4:
            wanted.add("/".join(parts[:-1]) + "/")
        if parts[0] in ("runners", "plugins") and len(parts) > 2:
            wanted.add("/".join(parts[:2]) + "/")
    return wanted


def test_contributing_layout_matches_the_tree() -> None:
    listed = layout_paths((ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8"))
    missing_on_disk = [p for p in listed if not (ROOT / p).exists()]
    assert not missing_on_disk, f"CONTRIBUTING.md's Layout names paths that do not exist: {missing_on_disk}"
    # `runners/docker/` names `runners/` too
    named = {"/".join(p.split("/")[:i]) + "/" for p in listed for i in range(1, p.count("/") + 1)} | set(listed)
    unlisted = sorted(tracked_directories() - named)
    assert not unlisted, f"CONTRIBUTING.md's Layout leaves out the directories {unlisted}"


def test_layout_paths_nest_by_indentation() -> None:
    text = (
        "## Layout\n\n```\ntop/                  a package\n  sub/                a sub-package\n"
        "    leaf/             deeper\n                      a continuation line\n  a.py, b.py          two files\n"
        "other/                another\n```\n"
    )
    assert layout_paths(text) == ["top/", "top/sub/", "top/sub/leaf/", "top/a.py", "top/b.py", "other/"]
