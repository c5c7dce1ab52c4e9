"""The ``tests`` rule: test folders inside packages, unless runtime code imports them."""

from __future__ import annotations

from collections.abc import Iterable

from ..tree.inventory import Inventory
from ..tree.staging import PlanEntry
from .context import PruneContext, Rule
from .imports import imported_names


def _tests_dirs(inv: Inventory) -> set[str]:
    dirs: set[str] = set()
    for rel in inv.sizes:
        parts = rel.split("/")
        for i in range(1, len(parts) - 1):
            if parts[i] in ("tests", "test") and not parts[0].endswith((".dist-info", ".data")):
                dirs.add("/".join(parts[: i + 1]))
                break
    return dirs


def _referenced_tests(inv: Inventory, dirs: set[str]) -> set[str]:
    """Files in test folders that are imported from outside any test folder (numpy.testing
    has done so): those modules, and the ``__init__.py`` files above them, are kept, because
    removing them would break a runtime import."""
    if not dirs:
        return set()
    by_dotted = {d.replace("/", "."): d for d in dirs}
    tops = {d.split("/", 1)[0] for d in dirs}
    keep: set[str] = set()

    def hit(dotted: str) -> None:
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            d = by_dotted.get(".".join(parts[:i]))
            if d is None:
                continue
            path = "/".join(parts)
            for cand in (path + ".py", path + "/__init__.py"):
                if cand in inv.sizes:
                    keep.add(cand)
            for j in range(i, len(parts) + 1):
                init = "/".join(parts[:j]) + "/__init__.py"
                if init in inv.sizes:
                    keep.add(init)
            return

    for rel in inv.sizes:
        parts = rel.split("/")
        if not rel.endswith(".py") or parts[0] not in tops:
            continue
        if any(p in ("tests", "test") for p in parts[1:-1]):
            continue
        try:
            text = (inv.root / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "test" not in text:
            continue
        for name in imported_names(rel, text):
            hit(name)
    return keep


def rule_tests(ctx: PruneContext) -> Iterable[PlanEntry]:
    inv = ctx.inventory
    dirs = _tests_dirs(inv)
    kept = _referenced_tests(inv, dirs)
    ctx.tests_kept = sorted(kept)
    for rel, size in inv.sizes.items():
        parts = rel.split("/")
        for i in range(1, len(parts) - 1):
            if parts[i] in ("tests", "test"):
                if "/".join(parts[: i + 1]) in dirs and rel not in kept:
                    yield PlanEntry(rel, "tests", size)
                break


RULE = Rule(
    "tests",
    "folders named tests/test inside packages (never testing/_testing modules)",
    rule_tests,
    order=50,
)
