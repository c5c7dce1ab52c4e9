"""Per-file sizes and fates, in a compact tree the HTML report lays out as a treemap.

The report's ``tree`` key::

    {"fates": ["kept", "compiled", "bytecode", "tests", ...],   # index 0 is always "kept"
     "dists": {"numpy": FOLDER, ...}}                             # canonical name -> tree

A FOLDER maps a path component to a FOLDER or a leaf. A leaf is

- ``n``                     a file kept as installed, ``n`` bytes;
- ``[after, fate, before]`` a file that changed: ``fate`` indexes ``fates`` (a rule name,
  ``compiled`` for bytecode added by ``--compile``, ``overflow`` for packed files); ``after``
  is 0 when the file was removed, ``before`` is 0 when it was added;
- ``[0, fate, before, files]`` a whole folder of ``files`` files that one rule removed,
  folded into one leaf (``pandas/tests`` is one entry, not 1,500).

Paths are the layer's (relative to ``python/``). This keeps the seed stack's 10,000-file
report compact; the numbers are in the README.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

KEPT = "kept"
COMPILED = "compiled"
OVERFLOW = "overflow"

Leaf = int | list[int]
Folder = dict[str, "Folder | Leaf"]
#: The report's ``tree``: ``{"fates": [...], "dists": {name: Folder}}``.
FileTree = dict[str, object]

#: A change to one file: (path, fate, bytes before, bytes after or None when removed).
Change = tuple[str, str, int, int | None]


def fate_tree(
    owner_of: Callable[[str], str],
    installed: Mapping[str, int],
    final: Mapping[str, int],
    changes: Iterable[Change],
) -> FileTree:
    """Every installed or final file, under its distribution, with what happened to it."""
    fates: list[str] = [KEPT]
    index: dict[str, int] = {KEPT: 0}

    def fate_id(name: str) -> int:
        if name not in index:
            index[name] = len(fates)
            fates.append(name)
        return index[name]

    leaves: dict[str, Leaf] = {}
    for rel, fate, before, after in changes:
        now = final.get(rel, 0) if after is not None else 0
        leaves[rel] = [now, fate_id(fate), before]
    for rel, size in final.items():
        if rel in leaves:
            continue
        leaves[rel] = size if rel in installed else [size, fate_id(COMPILED), 0]
    dists: dict[str, Folder] = {}
    for rel in sorted(leaves):
        folder = dists.setdefault(owner_of(rel), {})
        *parents, name = rel.split("/")
        for p in parents:
            nxt = folder.setdefault(p, {})
            if not isinstance(nxt, dict):  # a file and a folder of the same name: keep both
                nxt = folder.setdefault(p + "/", {})
            assert isinstance(nxt, dict)
            folder = nxt
        folder[name] = leaves[rel]
    for tree in dists.values():
        _fold(tree)
    return {"fates": fates, "dists": dict(sorted(dists.items()))}


def _fold(folder: Folder) -> tuple[int, int, int] | None:
    """Fold sub-folders whose files one rule removed into one leaf. Returns (fate, bytes,
    files) when the whole of ``folder`` was removed by one rule, else None."""
    common: tuple[int, int, int] | None = (-1, 0, 0)
    for name, child in list(folder.items()):
        if isinstance(child, dict):
            sub = _fold(child)
            if sub is not None:
                folder[name] = [0, sub[0], sub[1], sub[2]]
        else:
            sub = _removed(child)
        if common is None or sub is None or (common[0] not in (-1, sub[0])):
            common = None
        else:
            common = (sub[0], common[1] + sub[1], common[2] + sub[2])
    return common if common is not None and common[0] >= 0 else None


def _removed(leaf: Leaf) -> tuple[int, int, int] | None:
    if isinstance(leaf, int) or leaf[0] != 0 or leaf[2] == 0:
        return None
    return leaf[1], leaf[2], leaf[3] if len(leaf) > 3 else 1


def walk_leaves(folder: Folder, prefix: str = "") -> Iterable[tuple[str, Leaf]]:
    """(path, leaf) for every leaf, folded folders included (their path is the folder's)."""
    for name, child in folder.items():
        path = prefix + name.rstrip("/")
        if isinstance(child, dict):
            yield from walk_leaves(child, path + "/")
        else:
            yield path, child


def tree_fates(tree: Mapping[str, object]) -> list[str]:
    """The fate names a tree's leaves index (none for a report without a tree)."""
    fates = tree.get("fates")
    return [f for f in fates if isinstance(f, str)] if isinstance(fates, list) else []
