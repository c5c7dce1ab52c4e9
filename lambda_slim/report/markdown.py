"""Markdown for pull-request comments and job summaries, from values nobody vetted.

Names, versions, paths and messages come from reports, locks and zips that a pull request can
change. Every value goes through :func:`text` (prose and table cells) or :func:`code` (a code
span that shows a path exactly as it is), so none can start a heading, a list, a link, raw HTML
or an ``@`` mention, close a table cell, or break out of its line.

GitHub Flavored Markdown: a backslash escapes any ASCII punctuation (spec 0.29-gfm, "Backslash
escapes"); backslash escapes do nothing inside code spans ("Code spans"), whose content is
literal and delimited by a backtick run longer than any run inside; in a table, ``\\|`` is a
literal pipe even inside a code span ("Tables (extension)").
"""

from __future__ import annotations

import re

#: What can start markup mid-line: emphasis, code, links and images, tables, strike-through,
#: headings, and the ``:`` of an autolink (``https://…``).
_PUNCT = re.compile(r"([\\`*_\[\]|~#!:])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
#: A zero-width space after ``@`` keeps GitHub from treating ``@name`` as a mention (its
#: mention filter skips code spans, so :func:`code` needs none).
_NO_MENTION = "@\u200b"


def _one_line(s: str) -> str:
    return _CONTROL.sub("", _LINE_BREAKS.sub(" ", s))


def text(s: object) -> str:
    """``s`` as inert Markdown inside a line (a table cell, after a heading's ``###``): one
    line, so it can never start a block; no markup, no HTML, no mention."""
    out = _PUNCT.sub(r"\\\1", _one_line(str(s)))
    out = "".join(_HTML.get(c, c) for c in out)
    return re.sub(r"(?i)\bwww\.", r"www\\.", out).replace("@", _NO_MENTION)


def code(s: object, *, table: bool = False) -> str:
    """``s`` verbatim in a code span (one line); ``table``: inside a table cell, where a pipe
    must be written ``\\|`` even in a code span."""
    body = _one_line(str(s))
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * (longest + 1)
    if body.startswith("`") or body.endswith("`") or (body.startswith(" ") and body.endswith(" ")
                                                          and body.strip()):
        body = f" {body} "
    if table:
        body = body.replace("|", "\\|")
    return f"{fence}{body}{fence}" if body else "` `"
