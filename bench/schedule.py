#!/usr/bin/python3
"""The load balance of a run's ticks at more threads than this machine has (issue 22), from
the sessions' measured costs.

usage: bench/schedule.py COSTS [--threads 1,2,4,8,16]

COSTS is what `FLYWHEEL_SESSION_COSTS=COSTS flywheel run ...` wrote (bench/schedule.sh makes
one): a header (the bytes "FWCOSTS1", then the run's thread count, uint64), then for every
tick after the warm-up the number of runs n (users with sessions in the tick) and the barrier's
nanoseconds (two uint64), each run's nanoseconds (n int64, in user order) and its sessions (n
uint32), little-endian.

A tick's sessions run under OpenMP's dynamic schedule (sim/driver/clock.c fw_par_for): the
runs in user order, cut into chunks of g, each free thread taking the next chunk; the tick
ends when its last chunk does. Replaying that schedule with the measured costs gives the
session phase's efficiency at P threads (its work over P times the sum of the ticks'
makespans) for
  - g = 16 (the grain before 2026-12-08),
  - the grain flywheel uses now (run.c session_grain: n / (P x 64), between 1 and 16),
  - g = 1, and
  - an oracle: the runs longest first in chunks of 1 (no schedule that keeps user order
    does better than it; it needs the costs before running them).
The costs were measured at the run's thread count (1 gives uncontended costs); the replay
adds no contention, no memory-bandwidth limit and no scheduling overhead, so it bounds the
session phase from above. With the barriers' measured time, the day's speedup at P threads
lies between the barrier all serial (bound low) and all parallel (bound high).
"""
import argparse
import heapq
import struct
import sys

import numpy as np

MAGIC = b"FWCOSTS1"


def load(path):
    """The file's thread count and its ticks as (costs ns float64, sessions, barrier ns)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 16 or data[:8] != MAGIC:
        sys.exit(f"{path}: not a FLYWHEEL_SESSION_COSTS file (expected the bytes {MAGIC!r} first)")
    (threads,) = struct.unpack_from("<Q", data, 8)
    off, ticks = 16, []
    while off < len(data):
        if off + 16 > len(data):
            sys.exit(f"{path}: byte {off}: a tick's header cut short ({len(data) - off} of 16 bytes)")
        n, barrier_ns = struct.unpack_from("<QQ", data, off)
        off += 16
        if n > (len(data) - off) // 12:
            sys.exit(f"{path}: byte {off - 16}: a tick of {n} runs, more than the file holds")
        cost = np.frombuffer(data, "<i8", n, off).astype(float)
        off += 8 * n
        sessions = np.frombuffer(data, "<u4", n, off)
        off += 4 * n
        if n and (cost.min() < 0 or sessions.min() < 1):
            sys.exit(f"{path}: tick {len(ticks)}: a negative cost or a run of no session")
        ticks.append((cost, sessions, float(barrier_ns)))
    if not ticks:
        sys.exit(f"{path}: no tick recorded (a run of no recorded day?)")
    return threads, ticks


def makespan(cost, threads, grain):
    """The tick's end under dynamic scheduling: chunks of grain runs, in order, each to the
    first thread free."""
    if grain > 1:
        cost = np.add.reduceat(cost, np.arange(0, len(cost), grain)) if len(cost) else cost
    if threads == 1:
        return float(cost.sum())
    free = [0.0] * threads
    for c in cost:
        heapq.heapreplace(free, free[0] + c)
    return max(free)


def flywheel_grain(n, threads):
    """run.c session_grain."""
    return max(1, min(16, n // (threads * 64)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("costs")
    ap.add_argument("--threads", default="1,2,4,8,16", help="thread counts to replay (default 1,2,4,8,16)")
    a = ap.parse_args()
    try:
        counts = [int(t) for t in a.threads.split(",")]
    except ValueError:
        sys.exit(f"--threads: expected thread counts separated by commas, got '{a.threads}'")
    if not counts or min(counts) < 1 or max(counts) > 4096:
        sys.exit(f"--threads: expected thread counts in [1, 4096], got '{a.threads}'")
    measured_at, ticks = load(a.costs)
    work = sum(c.sum() for c, _, _ in ticks)
    barrier = sum(b for _, _, b in ticks)
    runs = np.array([len(c) for c, _, _ in ticks])
    allc = np.concatenate([c for c, _, _ in ticks])
    alls = np.concatenate([s for _, s, _ in ticks])
    print(f"{a.costs}: measured at {measured_at} thread{'s' if measured_at != 1 else ''}; {len(ticks)} ticks; "
          f"runs a tick min {runs.min()}, median {int(np.median(runs))}, max {runs.max()}")
    print(f"sessions {work / 1e9:.2f} s (a run: mean {allc.mean() / 1e3:.0f} us, p99 "
          f"{np.percentile(allc, 99) / 1e3:.0f} us, max {allc.max() / 1e3:.0f} us; {alls.mean():.2f} sessions); "
          f"barriers {barrier / 1e9:.2f} s")
    policies = [("chunks of 16", lambda c, p: makespan(c, p, 16)),
                ("flywheel's grain", lambda c, p: makespan(c, p, flywheel_grain(len(c), p))),
                ("chunks of 1", lambda c, p: makespan(c, p, 1)),
                ("oracle (longest first)", lambda c, p: makespan(np.sort(c)[::-1], p, 1))]
    print("\nsession phase efficiency (work / (threads x sum of the ticks' makespans)):")
    print(f"{'threads':>24s}" + "".join(f"{p:>9d}" for p in counts))
    spans = {}
    for name, f in policies:
        spans[name] = [sum(f(c, p) for c, _, _ in ticks) for p in counts]
        print(f"{name:>24s}" + "".join(f"{work / (s * p) * 100:8.1f}%" for s, p in zip(spans[name], counts)))
    base = work + barrier
    print("\nday speedup (sessions and barriers; day starts and ends left out), flywheel's grain:")
    print(f"{'threads':>24s}" + "".join(f"{p:>9d}" for p in counts))
    low = [base / (s + barrier) for s in spans["flywheel's grain"]]
    high = [base / (s + barrier / p) for s, p in zip(spans["flywheel's grain"], counts)]
    print(f"{'barrier serial':>24s}" + "".join(f"{x:8.2f}x" for x in low))
    print(f"{'barrier parallel':>24s}" + "".join(f"{x:8.2f}x" for x in high))
    print("(a replay of measured costs: no contention, memory bandwidth or scheduling overhead)")


if __name__ == "__main__":
    main()
