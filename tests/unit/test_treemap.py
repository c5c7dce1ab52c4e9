"""The squarified layout: areas, containment, and better aspect ratios than slice-and-dice."""

from __future__ import annotations

import random

import pytest

from lambda_slim.report.treemap import Rect, squarify


def slice_and_dice(values: list[float], x: float, y: float, w: float, h: float) -> list[Rect]:
    """The naive layout squarify improves on: one strip per value along the long side."""
    total = sum(values)
    out, pos = [], 0.0
    for v in values:
        if w >= h:
            out.append(Rect(x + pos, y, w * v / total, h))
            pos += w * v / total
        else:
            out.append(Rect(x, y + pos, w, h * v / total))
            pos += h * v / total
    return out


def assert_tiles(values: list[float], rects: list[Rect], box: Rect) -> None:
    total = sum(values)
    eps = 1e-6 * box.area
    for v, r in zip(values, rects, strict=True):
        assert r.area == pytest.approx(box.area * v / total, rel=1e-9, abs=eps)
        assert r.x >= box.x - 1e-9 and r.y >= box.y - 1e-9
        assert r.x + r.w <= box.x + box.w + 1e-9 and r.y + r.h <= box.y + box.h + 1e-9
    # no two cells overlap (beyond rounding)
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            ox = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
            oy = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
            assert ox <= 1e-9 or oy <= 1e-9, (a, b)


def test_paper_example() -> None:
    """The worked example of Bruls et al.: 6,6,4,3,2,2,1 in a 6x4 rectangle."""
    values = [6.0, 6, 4, 3, 2, 2, 1]
    rects = squarify(values, 0, 0, 6, 4)
    assert_tiles(values, rects, Rect(0, 0, 6, 4))
    # the paper's first row: the two 6s stacked at the left, 3 wide, each 3x2 (ratio 1.5)
    assert rects[0] == Rect(0, 0, 3, 2) and rects[1] == Rect(0, 2, 3, 2)
    worst_sq = max(r.aspect for r in rects)
    worst_sd = max(r.aspect for r in slice_and_dice(values, 0, 0, 6, 4))
    assert worst_sq < 3 < worst_sd  # slice-and-dice's 1-cell is a 0.25 x 4 sliver (16:1)


def test_random_inputs_tile_the_box() -> None:
    rng = random.Random(14)
    for _ in range(200):
        values = [rng.choice([rng.random(), rng.random() * 1000, 1.0]) for _ in range(rng.randint(1, 40))]
        box = Rect(rng.random() * 10, rng.random() * 10, rng.random() * 900 + 1, rng.random() * 500 + 1)
        rects = squarify(values, box.x, box.y, box.w, box.h)
        assert len(rects) == len(values)
        assert_tiles(values, rects, box)


def test_skewed_sizes_beat_slice_and_dice() -> None:
    """A layer's shape: one huge library, a few mid-sized packages, a long tail."""
    values = [120e6, 40e6, 30e6, 8e6, 5e6, 1e6] + [50e3] * 30
    sq = squarify(values, 0, 0, 1200, 700)
    sd = slice_and_dice(values, 0, 0, 1200, 700)
    mean_sq = sum(r.aspect for r in sq) / len(sq)
    mean_sd = sum(r.aspect for r in sd) / len(sd)
    assert mean_sq * 10 < mean_sd
    assert max(r.aspect for r in sq) < 5


def test_zero_and_empty_values() -> None:
    assert squarify([], 0, 0, 10, 10) == []
    rects = squarify([0.0, 5.0, 0.0], 0, 0, 10, 10)
    assert rects[0].area == 0 and rects[2].area == 0
    assert rects[1] == Rect(0, 0, 10, 10)
    assert all(r.area == 0 for r in squarify([0.0, 0.0], 0, 0, 10, 10))
