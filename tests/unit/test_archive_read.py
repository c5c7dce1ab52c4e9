from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from lambda_slim.artifact.manifest import manifest_path, read_target_json
from lambda_slim.artifact.zipread import ZipLimits, read_entry, read_zip_listing
from lambda_slim.artifact.zipwrite import write_layer_zip
from lambda_slim.errors import EXIT_USAGE, InputError
from tests.regressions.zipcraft import central_offsets, make_zip, patch


def _write(tmp_path: Path, data: bytes, name: str = "x.zip") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _refused(path: Path, *words: str, limits: ZipLimits | None = None) -> InputError:
    with pytest.raises(InputError) as info:
        read_zip_listing(path, limits)
    assert info.value.exit_code == EXIT_USAGE
    assert str(path) in info.value.message
    for w in words:
        assert w in info.value.message
    assert info.value.hint
    return info.value


def test_reads_layer_zip_written_by_the_writer(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "__init__.py").write_text("x = 1\n" * 100)
    (tree / "six.py").write_text("")
    res = write_layer_zip(tree, tmp_path / "layer.zip")
    listing = read_zip_listing(tmp_path / "layer.zip")
    assert [e.name for e in listing.entries] == ["python/pkg/__init__.py", "python/six.py"]
    assert listing.unzipped_bytes == res.unzipped_bytes == 600
    assert listing.zip_bytes == res.zip_bytes
    entry = listing.entries[0]
    assert read_entry(listing, entry) == b"x = 1\n" * 100
    assert read_entry(listing, entry, limit=4) == b"x = "


def test_stored_and_directory_entries(tmp_path: Path) -> None:
    p = _write(tmp_path, make_zip([("python/", b""), ("python/a.txt", b"abc")], compress=False))
    listing = read_zip_listing(p)
    assert [e.is_dir for e in listing.entries] == [True, False]
    assert [e.name for e in listing.files] == ["python/a.txt"]
    assert read_entry(listing, listing.files[0]) == b"abc"


def test_empty_zip_is_fine(tmp_path: Path) -> None:
    p = _write(tmp_path, make_zip([]))
    assert read_zip_listing(p).entries == ()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Cannot read"):
        read_zip_listing(tmp_path / "nope.zip")


def test_not_a_zip(tmp_path: Path) -> None:
    _refused(_write(tmp_path, b"hello, I am text\n" * 10), "not a zip file")
    _refused(_write(tmp_path, b"", "empty.zip"), "empty or truncated")


def test_truncated(tmp_path: Path) -> None:
    data = make_zip([("python/a.py", b"a" * 1000), ("python/b.py", b"b" * 1000)])
    for cut in (1, 10, 30, len(data) // 2):
        _refused(_write(tmp_path, data[:-cut]), "is not a zip lambda-slim will read")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("../evil.py", "'..'"),
        ("python/../../evil.py", "'..'"),
        ("/etc/passwd", "absolute"),
        ("C:/windows.py", "absolute"),
        ("python\\..\\evil.py", "'..'"),
    ],
)
def test_unsafe_names(tmp_path: Path, name: str, words: str) -> None:
    placeholder = "Z" * len(name.encode())
    data = make_zip([("python/ok.py", b"ok"), (placeholder, b"evil")])
    data = data.replace(placeholder.encode(), name.encode())
    _refused(_write(tmp_path, data), words)


def test_duplicate_names(tmp_path: Path) -> None:
    data = make_zip([("python/a.py", b"1"), ("python/a.py", b"2")])
    _refused(_write(tmp_path, data), "appears more than once")
    data = make_zip([("python/a.py", b"1"), ("python//a.py", b"2")])
    _refused(_write(tmp_path, data, "y.zip"), "appears more than once")


def test_compressed_size_runs_past_next_entry(tmp_path: Path) -> None:
    data = make_zip([("python/a.py", b"a" * 1000), ("python/b.py", b"b" * 1000)])
    first = central_offsets(data)[0]
    csize = struct.unpack_from("<I", data, first + 20)[0]
    bad = patch(data, first + 20, "<I", csize + 500)
    bad = patch(bad, 18, "<I", csize + 500)  # local header agrees, so only the data lies
    _refused(_write(tmp_path, bad), "run past the next entry")


def test_local_header_disagrees_with_central_directory(tmp_path: Path) -> None:
    data = make_zip([("python/a.py", b"a" * 1000)])
    bad = patch(data, 14, "<I", 0xDEADBEEF)  # local CRC
    _refused(_write(tmp_path, bad), "disagree")


def test_overlapping_entries(tmp_path: Path) -> None:
    data = make_zip([("python/a.py", b"a" * 100), ("python/a.pz", b"a" * 100)])
    second = central_offsets(data)[1]
    bad = patch(data, second + 42, "<I", 0)  # both records point at the first local header
    _refused(_write(tmp_path, bad))


def test_declared_size_beyond_deflate(tmp_path: Path) -> None:
    data = make_zip([("python/a.py", b"a" * 1000)])
    first = central_offsets(data)[0]
    bad = patch(data, first + 24, "<I", 0xF0000000)
    bad = patch(bad, 22, "<I", 0xF0000000)
    _refused(_write(tmp_path, bad), "zip bomb")


def test_ratio_bomb(tmp_path: Path) -> None:
    data = make_zip([("python/zeros.bin", bytes(4 * 1024 * 1024))])
    limits = ZipLimits(max_ratio=100, ratio_floor=1024 * 1024)
    _refused(_write(tmp_path, data), "zip bomb", limits=limits)
    assert read_zip_listing(tmp_path / "x.zip").unzipped_bytes == 4 * 1024 * 1024


def test_entry_count(tmp_path: Path) -> None:
    data = make_zip([(f"python/m{i}.py", b"") for i in range(11)])
    _refused(_write(tmp_path, data), "11 entries", limits=ZipLimits(max_entries=10))


def test_encrypted_and_unknown_method(tmp_path: Path) -> None:
    data = make_zip([("python/a.py", b"a" * 100)])
    first = central_offsets(data)[0]
    _refused(_write(tmp_path, patch(data, first + 8, "<H", 0x1)), "encrypted")
    bad = patch(patch(data, first + 10, "<H", 12), 8, "<H", 12)
    _refused(_write(tmp_path, bad, "m.zip"), "compression method 12")


def test_stored_size_mismatch(tmp_path: Path) -> None:
    data = make_zip([("python/a.py", b"a" * 100)], compress=False)
    first = central_offsets(data)[0]
    _refused(_write(tmp_path, patch(data, first + 24, "<I", 5000)), "stored uncompressed")


def test_read_entry_detects_corrupt_data(tmp_path: Path) -> None:
    payload = bytes(range(256)) * 8
    data = make_zip([("python/a.bin", payload)], compress=False)
    p = _write(tmp_path, data.replace(payload[:16], b"\0" * 16, 1))
    listing = read_zip_listing(p)
    with pytest.raises(InputError, match="CRC"):
        read_entry(listing, listing.files[0])
    deflated = make_zip([("python/a.bin", payload)])
    start = 30 + len("python/a.bin")
    broken = bytearray(deflated)
    broken[start: start + 8] = b"\xff" * 8
    p2 = _write(tmp_path, bytes(broken), "d.zip")
    listing2 = read_zip_listing(p2)
    with pytest.raises(InputError):
        read_entry(listing2, listing2.files[0])


def test_zip64_many_entries(tmp_path: Path) -> None:
    data = make_zip([(f"python/{i}", b"") for i in range(70_000)], compress=False)
    listing = read_zip_listing(_write(tmp_path, data))
    assert len(listing.entries) == 70_000
    assert zlib.crc32(b"") == listing.entries[0].crc


def test_manifest_sidecar(tmp_path: Path) -> None:
    z = tmp_path / "layer.zip"
    assert manifest_path(z) == tmp_path / "layer.manifest.json"
    assert read_target_json(manifest_path(z)) is None
    manifest_path(z).write_text('{"target": {"runtime": "python3.11", "arch": "arm64"}}')
    assert read_target_json(manifest_path(z)) == ("python3.11", "arm64")
    manifest_path(z).write_text("{not json")
    with pytest.raises(InputError, match=r"layer\.manifest\.json"):
        read_target_json(manifest_path(z))
    manifest_path(z).write_text('{"target": "x"}')
    with pytest.raises(InputError, match="no \"target\""):
        read_target_json(manifest_path(z))


def test_verify_entry_checks_declared_size_against_data(tmp_path: Path) -> None:
    from lambda_slim.artifact.zipread import verify_entry

    data = make_zip([("python/a.py", b"a" * 5000)])
    good = read_zip_listing(_write(tmp_path, data, "good.zip"))
    with open(good.path, "rb") as fh:
        assert verify_entry(good, good.files[0], fh) == b"aaaa"
    first = central_offsets(data)[0]
    for declared, words in ((4999, "but its data holds more"), (5001, "holds 5,000 bytes")):
        bad = patch(patch(data, first + 24, "<I", declared), 22, "<I", declared)
        listing = read_zip_listing(_write(tmp_path, bad, f"{declared}.zip"))
        with open(listing.path, "rb") as fh, pytest.raises(InputError, match=words):
            verify_entry(listing, listing.files[0], fh)
