"""The README and docs/ pages: every relative link and #anchor resolves, the README stays short.

Anchors are computed the way GitHub renders headings (lowercase, punctuation dropped, spaces to
hyphens, ``-1``/``-2`` for repeats), so a renamed heading breaks the test, not the reader.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
_HEADING = re.compile(r"^(?:>\s*)?(#{1,6})\s+(.*?)\s*#*\s*$")
_HTML_ID = re.compile(r"""<a\s+(?:name|id)=["']([^"']+)["']""")


def _prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (links and headings there are not rendered)."""
    out: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        stripped = line.lstrip()
        marker = stripped[:3]
        if marker in ("```", "~~~"):
            if fence is None:
                fence = marker
                continue
            if marker == fence:
                fence = None
                continue
        if fence is None:
            out.append(line)
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@cache
def anchors(page: Path) -> frozenset[str]:
    seen: dict[str, int] = {}
    found: set[str] = set()
    for line in _prose_lines(page.read_text(encoding="utf-8")):
        found.update(_HTML_ID.findall(line))
        m = _HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return frozenset(found)


def links(page: Path) -> list[str]:
    out: list[str] = []
    for line in _prose_lines(page.read_text(encoding="utf-8")):
        out += _LINK.findall(_CODE_SPAN.sub("code", line))
    return out


def broken_links(page: Path) -> list[str]:
    problems: list[str] = []
    for target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
            continue  # https:, mailto: … are not checked offline
        path_part, _, anchor = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        if not dest.exists():
            problems.append(f"{target}: {dest} does not exist")
            continue
        if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            problems.append(f"{target}: no heading with anchor #{anchor} in {dest.name}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_the_checker_catches_a_broken_link_and_a_broken_anchor(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## A `code` heading (x86_64)\n")
    page = tmp_path / "page.md"
    page.write_text("# Top\n\n[ok](other.md#a-code-heading-x86_64) [ok](#top)\n"
                    "[bad](missing.md) [bad](other.md#nope) [bad](#nowhere)\n"
                    "```\n[ignored](in-a-fence.md)\n```\n`[ignored](in-code.md)`\n")
    problems = broken_links(page)
    assert len(problems) == 3, problems
    assert any("missing.md" in p for p in problems)
    assert any("#nope" in p for p in problems)
    assert any("#nowhere" in p for p in problems)


def test_repeated_headings_get_numbered_anchors(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("# Usage\n\n## Usage\n\n```\n# not a heading\n```\n")
    assert anchors(page) == {"usage", "usage-1"}


def test_readme_is_a_short_front_page_and_the_reference_is_in_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 300
    docs = {p.name for p in PAGES[1:]}
    assert {"commands.md", "configuration.md", "verification.md", "exit-codes.md",
            "development.md"} <= docs
    linked = {Path(t.partition("#")[0]).name for t in links(ROOT / "README.md")}
    assert docs <= linked, f"docs pages the README does not link: {sorted(docs - linked)}"
