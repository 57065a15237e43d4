"""Benchmark: `near` for 50,000 stores against 10,000 places (aim: under 10 s).

    .venv/bin/python bench/near_bench.py [--stores 50000] [--places 10000] [--radius 200]

Stores and places are spread over a Berlin-sized box; the workspace is built with one bulk
insert (timed apart), then `investigate near` runs through the CLI in a child process.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from investigate.store.workspace import init_workspace  # noqa: E402

BIN = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=50_000)
    parser.add_argument("--places", type=int, default=10_000)
    parser.add_argument("--radius", type=float, default=200)
    args = parser.parse_args()
    rnd = random.Random(3)
    folder = Path(tempfile.mkdtemp(prefix="investigate-near-"))
    try:
        t = time.perf_counter()
        ws = init_workspace(folder / "ws", timezone_name="Europe/Berlin")
        now = ws.now().isoformat()
        ws.insert_many("stores", ({"name": f"Store {i}", "channel": "in_person", "lat": 52.35 + rnd.random() * 0.3,
                                   "lon": 13.1 + rnd.random() * 0.6, "coord_source": "import", "created_at": now}
                                  for i in range(args.stores)))
        ws.close()
        places = folder / "places.csv"
        with open(places, "w", encoding="utf-8") as fp:
            fp.write("name,kind,lat,lon\n")
            for i in range(args.places):
                fp.write(f"School {i},school,{52.35 + rnd.random() * 0.3:.6f},{13.1 + rnd.random() * 0.6:.6f}\n")
        print(f"built {args.stores:,} stores and {args.places:,} places in {time.perf_counter() - t:.1f} s")
        start = time.perf_counter()
        proc = subprocess.Popen([str(BIN / "investigate"), "-w", str(folder / "ws"), "near", str(places),
                                 "--radius", f"{args.radius}m", "--json"], stdout=subprocess.PIPE)
        out, _ = proc.communicate()
        elapsed = time.perf_counter() - start
        result = json.loads(out)
        print(f"near: {args.stores:,} stores x {args.places:,} places, radius {args.radius:g} m: "
              f"{elapsed:.2f} s wall (process start included), {result['stores_near']:,} stores near a place")
        print(f"naive pairs avoided: {args.stores * args.places:,} geodesic computations would have been needed")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
