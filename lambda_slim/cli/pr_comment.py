"""The GitHub Action's pull-request comment: post the size diff, or update the action's own
earlier comment: one whose author is ``COMMENT_AUTHOR`` (the token's user, ``github-actions[bot]``
for ``GITHUB_TOKEN``) and whose body starts with the marker. A comment someone else wrote is
never edited, even when it starts with the marker.

Run by ``action.yml`` as ``python -m lambda_slim.cli.pr_comment DIFF.md`` with ``GITHUB_TOKEN``,
``GITHUB_API_URL``, ``GITHUB_REPOSITORY`` and ``PR_NUMBER`` set. REST API: "List issue comments",
"Update an issue comment", "Create an issue comment" (docs.github.com/en/rest/issues/comments).
Exit 0 when posted, 1 when GitHub refused (a fork's read-only token: the action's step has
``continue-on-error`` for forks), 2 when the environment is incomplete.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

MARKER = "<!-- lambda-slim size diff -->"
PAGE = 100


class _Api:
    def __init__(self, base: str, token: str) -> None:
        self.base = base.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: Mapping[str, object] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json",
            "User-Agent": "lambda-slim-action"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")


def own_comment(comments: Sequence[Mapping[str, Any]], author: str) -> Mapping[str, Any] | None:
    """The action's earlier comment: by ``author`` and starting with the marker."""
    for c in comments:
        user = c.get("user") or {}
        if user.get("login") == author and str(c.get("body") or "").startswith(MARKER):
            return c
    return None


def post(api: _Api, repo: str, number: int, body: str, author: str) -> str:
    comments: list[Mapping[str, Any]] = []
    page = 1
    while True:
        got = api.call("GET", f"/repos/{repo}/issues/{number}/comments?per_page={PAGE}&page={page}")
        comments += got
        if len(got) < PAGE:
            break
        page += 1
    mine = own_comment(comments, author)
    if mine is not None:
        api.call("PATCH", f"/repos/{repo}/issues/comments/{mine['id']}", {"body": body})
        return f"updated comment {mine['id']}"
    made = api.call("POST", f"/repos/{repo}/issues/{number}/comments", {"body": body})
    return f"created comment {made.get('id') if isinstance(made, dict) else '?'}"


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    needed = ("GITHUB_TOKEN", "GITHUB_REPOSITORY", "PR_NUMBER")
    missing = [k for k in needed if not env.get(k)]
    if len(args) != 1 or missing or not env.get("PR_NUMBER", "").isdigit():
        print(f"::error::pr_comment: needs DIFF.md and {', '.join(needed)} (missing: "
              f"{', '.join(missing) or 'the Markdown file'})")
        return 2
    body = MARKER + "\n" + Path(args[0]).read_text(encoding="utf-8")
    api = _Api(env.get("GITHUB_API_URL", "https://api.github.com"), env["GITHUB_TOKEN"])
    try:
        print(post(api, env["GITHUB_REPOSITORY"], int(env["PR_NUMBER"]), body,
                   env.get("COMMENT_AUTHOR") or "github-actions[bot]"))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        detail = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        print(f"::warning::could not post the size diff on the pull request ({detail}); a fork's "
              "token is read-only. The diff is in the job summary.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
