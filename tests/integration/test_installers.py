"""The fast unpacking installer lays out exactly what `pip install --target` does."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]


def build_both(tmp_path: Path, run_cli: RunCli, req: Path) -> dict[str, dict[str, object]]:
    reps = {}
    for installer in ("unpack", "pip"):
        out = tmp_path / f"{installer}.zip"
        code = run_cli("build", str(req), "-o", str(out), "--json",
                       str(tmp_path / f"{installer}.json"), "--installer", installer,
                       "--no-result-cache", "-q", cwd=tmp_path)
        assert code == 0
        reps[installer] = json.loads((tmp_path / f"{installer}.json").read_text())
    return reps


def test_data_dirs_scripts_and_records(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                       py312: Path) -> None:
    house = tmp_path / "house"
    make_wheel(house, "withdata", "1.0", {
        "withdata/__init__.py": "from withdata_extra import X\n",
        "withdata-1.0.data/purelib/withdata_extra.py": "X = 1\n",
        "withdata-1.0.data/scripts/withdata-cli": "#!python\nprint('hi')\n",
        "withdata-1.0.data/headers/withdata.h": "#define X 1\n",
    })
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "withdata")
    reps = build_both(tmp_path, run_cli, req)
    assert reps["unpack"]["zip_sha256"] == reps["pip"]["zip_sha256"]
    assert reps["unpack"]["verify"]["status"] == "passed"  # type: ignore[index]
    pkgs = {p["name"]: p for p in reps["unpack"]["packages"]}  # type: ignore[attr-defined]
    assert "(unowned)" not in pkgs or pkgs["(unowned)"]["installed_bytes"] < 100


def test_real_native_wheels_give_identical_layers(tmp_path: Path, run_cli: RunCli,
                                                  py312: Path) -> None:
    (tmp_path / "requirements.txt").write_text("markupsafe\npython-dateutil\n")
    reps = build_both(tmp_path, run_cli, tmp_path / "requirements.txt")
    assert reps["unpack"]["zip_sha256"] == reps["pip"]["zip_sha256"]
    assert reps["unpack"]["final_bytes"] == reps["pip"]["final_bytes"]
