from __future__ import annotations

from pathlib import Path

import pytest

from lambda_slim.tree.staging import PlanEntry, Staging
from lambda_slim.verify import diagnose


def setup(tmp_path: Path) -> tuple[Staging, list[PlanEntry]]:
    root = tmp_path / "python"
    root.mkdir()
    entries = []
    for name in "abcdefgh":
        (root / f"{name}.py").write_text(name)
        entries.append(PlanEntry(f"{name}.py", "tests", 1))
    staging = Staging(root, tmp_path / "trash")
    staging.apply(entries)
    return staging, entries


def needs(staging: Staging, *names: str):  # type: ignore[no-untyped-def]
    def probe(items: list[str], deep: bool = False) -> dict[str, str]:
        missing = [n for n in names if not (staging.root / f"{n}.py").exists()]
        return {"mod": f"No module named {missing}"} if missing else {}

    return probe


def test_bisect_finds_every_culprit_and_keeps_the_rest_removed(tmp_path: Path) -> None:
    staging, entries = setup(tmp_path)
    found = diagnose._bisect(needs(staging, "c", "f"), staging, entries, ["mod"])  # type: ignore[arg-type]
    assert {e.rel for e in found} == {"c.py", "f.py"}
    present = sorted(p.name for p in staging.root.iterdir())
    assert present == ["c.py", "f.py"]
    assert {e.rel for e in staging.applied_entries()} == {f"{n}.py" for n in "abdegh"}


def test_bisect_stops_at_the_bound_with_the_pool_still_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(diagnose, "MAX_CULPRITS", 1)
    staging, entries = setup(tmp_path)
    found = diagnose._bisect(needs(staging, "c", "f"), staging, entries, ["mod"])  # type: ignore[arg-type]
    assert [e.rel for e in found] == ["c.py"]
    assert sorted(p.name for p in staging.root.iterdir()) == ["c.py"]
