#!/usr/bin/env python3
"""Median wall time of a command: timeit.py RUNS COMMAND [ARG...]

Runs COMMAND RUNS times (stdin empty, output discarded) and prints the median wall time in
milliseconds with one decimal. Exits 1, showing the command's stderr, if a run fails.
"""

import statistics
import subprocess
import sys
import time


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    runs = int(sys.argv[1])
    command = sys.argv[2:]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            sys.stderr.write(done.stderr.decode(errors="replace"))
            print(f"timeit: exit {done.returncode}: {' '.join(command)}", file=sys.stderr)
            return 1
        times.append(elapsed * 1000)
    print(f"{statistics.median(times):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
