"""The cache of deflate streams: a second zip of the same bytes copies the stream the first
one deflated, byte for byte; a damaged entry is deflated again and never copied; the level
and the zlib are part of the key (real files, real zlib)."""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

import pytest

from lambda_slim.artifact.deflatecache import MIN_BYTES, DeflateCache, settings_id
from lambda_slim.artifact.zipahead import deflate
from lambda_slim.artifact.zipwrite import write_layer_zip


def _text(n: int, seed: str = "x") -> bytes:
    out = b"".join(hashlib.sha256(f"{seed}{i % 97}".encode()).hexdigest().encode() + b"\n"
                   for i in range(n // 65 + 1))
    return out[:n]


@pytest.fixture
def big(tmp_path: Path) -> Path:
    p = tmp_path / "tree" / "lib.so"
    p.parent.mkdir()
    p.write_bytes(_text(300_000))
    return p


def _entries(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*") if p.is_file()]


def test_a_second_pack_copies_the_stored_stream(tmp_path: Path, big: Path) -> None:
    want = deflate(big, 6)
    assert want is not None
    cache = DeflateCache(tmp_path / "cache", 6)
    first, second = cache.pack(big), cache.pack(big)
    assert cache.hits == 1 and len(_entries(tmp_path / "cache")) == 1
    assert first is not None and second is not None
    assert first[0] == second[0] == want[0] and second[1] == want[1]
    assert zlib.decompress(second[0][0], -15) == big.read_bytes()


def test_a_damaged_entry_is_deflated_again(tmp_path: Path, big: Path) -> None:
    want = deflate(big, 6)
    assert want is not None
    cache = DeflateCache(tmp_path / "cache", 6)
    cache.pack(big)
    [entry] = _entries(tmp_path / "cache")
    raw = bytearray(entry.read_bytes())
    raw[-10] ^= 0xFF  # the stream, same length
    entry.write_bytes(bytes(raw))
    got = cache.pack(big)
    assert cache.hits == 0 and got is not None and got[0] == want[0]
    again = cache.pack(big)  # stored over the damaged one
    assert cache.hits == 1 and again is not None and again[0] == want[0]
    # an entry recorded for other bytes (its CRC-32 and size) is not believed either
    raw = bytearray(entry.read_bytes())
    raw[8] ^= 0x01  # the CRC-32 in the header
    entry.write_bytes(bytes(raw))
    got = cache.pack(big)
    assert cache.hits == 1 and got is not None and got[0] == want[0]
    entry.write_bytes(b"LSDEFL1\n")  # truncated
    got = cache.pack(big)
    assert cache.hits == 1 and got is not None and got[0] == want[0]


def test_the_level_and_the_zlib_are_in_the_key(tmp_path: Path, big: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    six, nine = DeflateCache(tmp_path / "cache", 6), DeflateCache(tmp_path / "cache", 9)
    six.pack(big)
    got = nine.pack(big)
    want = deflate(big, 9)
    assert nine.hits == 0 and got is not None and want is not None and got[0] == want[0]
    before = settings_id(6)
    monkeypatch.setattr(zlib, "ZLIB_RUNTIME_VERSION", "9.9.9-another-zlib")
    assert settings_id(6) != before
    other = DeflateCache(tmp_path / "cache", 6)
    other.pack(big)
    assert other.hits == 0


def test_refresh_and_small_files_deflate(tmp_path: Path, big: Path) -> None:
    DeflateCache(tmp_path / "cache", 6).pack(big)
    fresh = DeflateCache(tmp_path / "cache", 6, read=False)
    fresh.pack(big)
    assert fresh.hits == 0
    small = tmp_path / "tree" / "small.py"
    small.write_bytes(_text(MIN_BYTES - 1))
    cache = DeflateCache(tmp_path / "cache", 6)
    cache.pack(small)
    cache.pack(small)
    assert cache.hits == 0 and len(_entries(tmp_path / "cache")) == 1  # only big's


def test_the_zip_is_the_same_with_the_cache(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    for i in range(6):
        (root / f"pkg{i}").mkdir(parents=True)
        (root / f"pkg{i}" / "data.bin").write_bytes(_text(40_000 + 7_000 * i, seed=str(i)))
        (root / f"pkg{i}" / "tiny.py").write_bytes(b"X = 1\n")
    plain = write_layer_zip(root, tmp_path / "plain.zip", jobs=2)
    cache = DeflateCache(tmp_path / "cache", 6)
    cold = write_layer_zip(root, tmp_path / "cold.zip", jobs=2, cache=cache)
    warm = write_layer_zip(root, tmp_path / "warm.zip", jobs=1, cache=cache)
    assert cache.hits == 6
    assert plain.sha256 == cold.sha256 == warm.sha256
    assert (tmp_path / "plain.zip").read_bytes() == (tmp_path / "warm.zip").read_bytes()
