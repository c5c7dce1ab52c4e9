"""Report JSON from users is untrusted: ``report``, ``diff`` and ``why`` check it against the
schema before use. Every hostile or hand-edited variant is exit 2 naming the file and the
field; none is an internal error (70)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambda_slim.cli import main
from lambda_slim.errors import EXIT_OK, EXIT_USAGE
from lambda_slim.report.jsonio import (
    manifest_extra,
    manifest_json,
    parse_json,
    report_from_json,
    report_json,
)
from lambda_slim.report.jsonio.safe import MAX_DEPTH, JsonFieldError
from lambda_slim.tree.staging import PlanEntry
from tests.reports import full_report

Doc = dict[str, Any]


def good() -> Doc:
    doc: Doc = json.loads(json.dumps(report_json(full_report())))
    return doc


def _set(path: str, value: object) -> Callable[[Doc], object]:
    """A mutation setting ``a.b[0].c`` to ``value`` (or deleting it when value is ...)."""
    def mutate(doc: Doc) -> object:
        *parents, last = path.replace("[", ".[").split(".")
        node: Any = doc
        for p in parents:
            node = node[int(p[1:-1])] if p.startswith("[") else node[p]
        key: Any = int(last[1:-1]) if last.startswith("[") else last
        if value is ...:
            del node[key]
        else:
            node[key] = value
        return doc
    return mutate


def _tree_leaf_out_of_range(doc: Doc) -> object:
    doc["tree"]["dists"]["pkg"]["pkg"]["core.so"] = [2000, 99, 5000]
    return doc


# (name, mutation of the good document or raw text, the field the message must name)
HOSTILE: list[tuple[str, Callable[[Doc], object] | str, str]] = [
    ("string for a size", _set("final_bytes", "12"), "final_bytes"),
    ("nested wrong type", _set("packages[0].final_bytes", [1]), "packages[0].final_bytes"),
    ("list where an object goes", _set("verify", []), "verify"),
    ("object where a list goes", _set("packages", {"a": 1}), "packages"),
    ("missing key", _set("verify.status", ...), "verify.status"),
    ("missing section", _set("rules", ...), "rules"),
    ("true for a count", _set("files", True), "files"),
    ("negative size", _set("installed_bytes", -5), "installed_bytes"),
    ("10**400", "BIG", "budget_bytes"),
    ("1e400", "INF_FLOAT", "packages[0].budget_share"),
    ("NaN", "NAN", "verify.init_ms"),
    ("Infinity", "INFINITY", "timings.total"),
    ("100,000-deep nesting", "DEEP", "tree"),
    ("100,000-deep document", "[" * 100_000 + "]" * 100_000, "(document)"),
    ("unknown runtime", _set("target.runtime", "python2.7"), "target.runtime"),
    ("schema from the future", _set("schema_version", 99), "schema_version"),
    ("tree leaf out of range", _tree_leaf_out_of_range, "tree.dists.pkg.pkg.core.so"),
    ("overflow section mistyped", _set("overflow.ephemeral.needed_bytes", "95 MB"),
     "overflow.ephemeral.needed_bytes"),
    ("function handler mistyped", _set("function.handler.ok", "yes"), "function.handler.ok"),
    ("option bytes as text", _set("over_budget_options[0].bytes", "90000000"),
     "over_budget_options[0].bytes"),
    ("requires not a list", _set("requires.pkg", "other"), "requires.pkg"),
    ("lone surrogate in a name", _set("packages[0].name", "pkg\ud800"), "packages[0].name"),
    ("lone surrogate in a key", "SURROGATE_KEY", "variants.dropped.x\\udfff"),
]


def hostile_text(mutation: Callable[[Doc], object] | str) -> str:
    doc = good()
    if not isinstance(mutation, str):
        mutation(doc)
        return json.dumps(doc)
    if mutation == "BIG":
        return json.dumps(doc).replace(f'"budget_bytes": {doc["budget_bytes"]}',
                                       '"budget_bytes": 1' + "0" * 400)
    if mutation == "INF_FLOAT":
        return json.dumps(doc).replace('"budget_share": 0.0', '"budget_share": 1e400')
    if mutation == "NAN":
        doc["verify"]["init_ms"] = float("nan")
        return json.dumps(doc)
    if mutation == "INFINITY":
        doc["timings"]["total"] = float("inf")
        return json.dumps(doc)
    if mutation == "SURROGATE_KEY":
        doc["variants"]["dropped"]["x\udfff"] = "y"
        return json.dumps(doc)
    if mutation == "DEEP":
        doc["tree"] = {"fates": ["kept"], "dists": {"x": "@"}}
        return json.dumps(doc).replace('"@"', '{"a":' * 100_000 + "1" + "}" * 100_000)
    return mutation


def commands(bad: Path, base: Path, out: Path) -> dict[str, list[str]]:
    return {"report": ["report", str(bad), "--html", str(out)],
            "diff": ["diff", str(base), str(bad)],
            "why": ["why", "pkg", str(bad)]}


@pytest.mark.parametrize("command", ["report", "diff", "why"])
@pytest.mark.parametrize(("name", "mutation", "field"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_report_is_exit_2_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, name: str,
    mutation: Callable[[Doc], object] | str, field: str,
) -> None:
    base = tmp_path / "base.json"
    base.write_text(json.dumps(good()))
    bad = tmp_path / "hostile.json"
    bad.write_text(hostile_text(mutation))
    out = tmp_path / "r.html"
    assert main(commands(bad, base, out)[command]) == EXIT_USAGE, name
    err = capsys.readouterr().err
    assert "hostile.json" in err and "internal error" not in err, err
    if field != "(document)":
        assert f"field {field} " in err, err
    else:
        assert "nested deeper" in err, err
    assert not out.exists()


def test_the_untouched_report_passes_every_command(tmp_path: Path) -> None:
    """The control: the same files, unmutated, are read (exit 0)."""
    base = tmp_path / "base.json"
    base.write_text(json.dumps(good()))
    out = tmp_path / "r.html"
    for argv in commands(base, base, out).values():
        assert main(argv) == EXIT_OK, argv
    assert out.stat().st_size > 10_000


def test_every_section_survives_the_round_trip() -> None:
    rep = full_report()
    assert report_from_json(parse_json(json.dumps(report_json(rep)))) == rep


def test_parse_keeps_numbers_for_the_field_check() -> None:
    """NaN, 1e400 and a 400-digit integer parse (no crash) and are refused by field."""
    doc = parse_json('{"a": NaN, "b": 1e400, "c": 1' + "0" * 400 + ', "d": [[[]]]}')
    assert isinstance(doc, dict) and set(doc) == {"a", "b", "c", "d"}
    with pytest.raises(JsonFieldError, match="nested deeper"):
        parse_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    # brackets inside strings do not count as nesting
    parse_json(json.dumps({"k": "[" * 10_000}))


def good_manifest() -> Doc:
    rep = full_report()
    doc: Doc = json.loads(manifest_json(rep.target, "ab" * 32, [PlanEntry("pkg/t.py", "tests", 7)],
                                        manifest_extra(rep)))
    return doc


@pytest.mark.parametrize(("mutate", "field"), [
    (_set("removed[0].bytes", "7"), "removed[0].bytes"),
    (_set("removed[0].rule", 3), "removed[0].rule"),
    (_set("removed", {"x": 1}), "removed"),
    (_set("packages[0].final_bytes", float("nan")), "packages[0].final_bytes"),
    (_set("packages[0].name", ...), "packages[0].name"),
    (_set("final_bytes", -1), "final_bytes"),
    (_set("target.arch", None), "target.arch"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_hostile_manifest_is_exit_2_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Callable[[Doc], object], field: str,
) -> None:
    """``diff`` reads manifests too (alone, or beside a zip): checked the same way."""
    base = tmp_path / "base.json"
    base.write_text(json.dumps(good()))
    bad = tmp_path / "layer.manifest.json"
    doc = good_manifest()
    assert main(["diff", str(base), str(bad)]) == EXIT_USAGE  # missing: refused, not a crash
    bad.write_text(json.dumps(doc))
    assert main(["diff", str(base), str(bad)]) == EXIT_OK
    capsys.readouterr()
    mutate(doc)
    bad.write_text(json.dumps(doc))
    zipfile.ZipFile(tmp_path / "layer.zip", "w").writestr("python/pkg/__init__.py", "")
    for side in (bad, tmp_path / "layer.zip"):
        assert main(["diff", str(base), str(side)]) == EXIT_USAGE
        err = capsys.readouterr().err
        assert "layer.manifest.json" in err and f"field {field} " in err, err
