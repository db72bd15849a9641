"""Every benchmark, one after the other; each prints its tables and writes its JSON to
bench/results/.

    .venv/bin/python -m bench [--quick]
"""
from __future__ import annotations

import sys

from bench import bench_array, bench_cli, bench_lifecycle, bench_scale, bench_vss


def main(argv: list[str]) -> int:
    quick = ["--quick"] if "--quick" in argv else []
    unknown = [a for a in argv if a != "--quick"]
    if unknown:
        print(f"usage: python -m bench [--quick] (unknown: {' '.join(unknown)})", file=sys.stderr)
        return 2
    for bench in (bench_array, bench_cli, bench_scale, bench_lifecycle, bench_vss):
        print(f"\n##### {bench.__name__}")
        sys.stdout.flush()
        if bench.main(quick) != 0:
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
