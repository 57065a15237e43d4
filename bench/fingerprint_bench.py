"""Benchmark: how well the perceptual fingerprints tell a reused photo from another one.

    .venv/bin/python bench/fingerprint_bench.py [--pairs 500] [--seed 29]

On generated phone photos of shop fronts (tests/photos.py), with the workspace's own
``fingerprints.perceptual_hash`` and ``MAX_DISTANCE``, it prints for each kind of pair the
share flagged as "possibly reused" and the distances seen:

- reused: a photo recompressed at 60 % and resized to 50 % (should be flagged: detection rate);
- cropped 2 % / 5 % a side (a little cropping: how far detection reaches);
- same shop front: another shot of the same street from a step aside (should not be flagged);
- random pairs: two photos of different streets (should not: the false-positive rate).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from photos import cropped, resaved, save, shot, street  # noqa: E402

from investigate.cases.fingerprints import MAX_DISTANCE, distance, perceptual_hash  # noqa: E402


def fingerprint(img, folder: Path, name: str) -> str:
    return perceptual_hash(save(img, folder / f"{name}.jpg"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=29)
    args = parser.parse_args()
    started = time.perf_counter()
    kinds: dict[str, list[int]] = {"reused (60 %, 50 % size)": [], "cropped 2 % a side": [],
                                   "cropped 5 % a side": [], "same shop front, another shot": [],
                                   "random pairs": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        variants = max(50, args.pairs // 5)
        for i in range(variants):
            scene = street(args.seed * 100_000 + i)
            original = shot(scene)
            base = fingerprint(original, folder, "o")
            kinds["reused (60 %, 50 % size)"].append(
                distance(base, fingerprint(resaved(original, quality=60, scale=0.5), folder, "r")))
            kinds["cropped 2 % a side"].append(distance(base, fingerprint(cropped(original, 0.02), folder, "c2")))
            kinds["cropped 5 % a side"].append(distance(base, fingerprint(cropped(original, 0.05), folder, "c5")))
            step = 160 if i % 2 else -160
            kinds["same shop front, another shot"].append(
                distance(base, fingerprint(shot(scene, dx=step, dy=40, zoom=1.1, light=0.85), folder, "s")))
        for i in range(args.pairs):
            a = fingerprint(shot(street(args.seed * 1_000_000 + 2 * i)), folder, "a")
            b = fingerprint(shot(street(args.seed * 1_000_000 + 2 * i + 1)), folder, "b")
            kinds["random pairs"].append(distance(a, b))
    print(f"pHash, 64 bits; flagged when at most {MAX_DISTANCE} bits apart")
    print(f"{'pairs':<32} {'n':>5} {'flagged':>9} {'min':>4} {'median':>7} {'max':>4}")
    for kind, apart in kinds.items():
        flagged = sum(d <= MAX_DISTANCE for d in apart)
        print(f"{kind:<32} {len(apart):>5} {flagged / len(apart):>8.1%} {min(apart):>4} "
              f"{statistics.median(apart):>7g} {max(apart):>4}")
    random_pairs = kinds["random pairs"]
    false = sum(d <= MAX_DISTANCE for d in random_pairs)
    print(f"false-positive rate over {len(random_pairs)} random photo pairs: {false}/{len(random_pairs)} "
          f"= {false / len(random_pairs):.2%}")
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
