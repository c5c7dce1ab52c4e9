"""The ``test-modules`` rule: native modules a package builds only for its own test suite,
and pytest's ``conftest.py`` files, unless runtime code imports them.

The packages' own builds say which modules are test-only: numpy installs ``_simd``,
``_multiarray_tests``, ``_umath_tests``, ``_rational_tests``, ``_struct_ufunc_tests`` and
``_operand_flag_tests`` with meson's ``install_tag: 'tests'`` (numpy/_core/meson.build), so
``meson install --tags runtime`` leaves them out, and scipy does the same for its
``_test_*``, ``_ctest`` and ``_cytest`` helpers. A wheel carries no install tags, so the rule
goes by those names: a private extension module one of whose ``_``-separated words is
``test``/``tests``/``ctest``/``cytest`` (pandas' public ``pandas._libs.testing``, which
``pandas._testing`` imports, does not match), plus the few test-only modules named otherwise
(:data:`TEST_ONLY`). Any of them that a ``.py`` file outside test folders and ``conftest.py``
imports stays (numpy's ``print_coercion_tables`` imports ``_multiarray_tests``); the
verification's imports still run on what remains.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..tree.staging import PlanEntry
from .context import PruneContext, Rule
from .imports import imported_names

_TEST_WORDS = frozenset({"test", "tests", "ctest", "cytest"})
#: Test-only extension modules whose names do not say so, with the build file that installs
#: them for tests only.
TEST_ONLY = frozenset({
    "numpy._core._simd",  # numpy/_core/meson.build: install_tag: 'tests'
})
_TEST_DIRS = ("tests", "test")


def extension_module(rel: str) -> str | None:
    """``a/b/_x.cpython-312-x86_64-linux-gnu.so`` (or ``_x.abi3.so``, ``_x.so``) -> ``a.b._x``;
    None for anything that is not a native extension module."""
    parts = rel.split("/")
    if not parts[-1].endswith(".so") or parts[0].endswith((".dist-info", ".data", ".libs")):
        return None
    stem = parts[-1].split(".", 1)[0]
    if not stem.isidentifier() or not all(p.isidentifier() for p in parts[:-1]):
        return None
    return ".".join([*parts[:-1], stem])


def is_test_module(dotted: str) -> bool:
    last = dotted.rsplit(".", 1)[-1]
    return dotted in TEST_ONLY or (last.startswith("_") and bool(
        _TEST_WORDS & set(last.strip("_").split("_"))))


def _imported(ctx: PruneContext, wanted: dict[str, str]) -> set[str]:
    """The modules of ``wanted`` (dotted -> path) that runtime code imports."""
    tops = {d.split(".", 1)[0] for d in wanted}
    stems = {d.rsplit(".", 1)[-1] for d in wanted}
    found: set[str] = set()
    for rel in ctx.inventory.sizes:
        parts = rel.split("/")
        if (not rel.endswith(".py") or parts[0] not in tops or parts[-1] == "conftest.py"
                or any(p in _TEST_DIRS for p in parts[1:-1])):
            continue
        try:
            text = (ctx.inventory.root / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if any(s in text for s in stems):
            found.update(n for n in imported_names(rel, text) if n in wanted)
    return found


def rule_test_modules(ctx: PruneContext) -> Iterable[PlanEntry]:
    sizes = ctx.inventory.sizes
    wanted = {d: rel for rel in sizes for d in [extension_module(rel)]
              if d is not None and is_test_module(d)}
    used = _imported(ctx, wanted) if wanted else set()
    for dotted, rel in wanted.items():
        if dotted not in used:
            yield PlanEntry(rel, "test-modules", sizes[rel])
    for rel, size in sizes.items():
        parts = rel.split("/")
        if parts[-1] == "conftest.py" and len(parts) > 1 and not parts[0].endswith(".dist-info"):
            yield PlanEntry(rel, "test-modules", size)


RULE = Rule(
    "test-modules",
    "native modules built only for a package's test suite (numpy's _simd, _*_tests, "
    "scipy's _test_*) and pytest conftest.py files, unless runtime code imports them",
    rule_test_modules,
    order=55,
)
