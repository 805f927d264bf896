#!/usr/bin/env python3
"""A model of one simulated day's wall time and memory against users, ranks and threads
(issue 21), fitted to `flywheel run` summaries, and its predictions.

usage: bench/rank_model.py LOG... [--predict N:R:P ...] [--alpha S] [--beta BYTES_PER_S]
                           [--thread-eff E]

Each LOG is the output of one `flywheel run ... -d 1` (stdout and stderr together), with
`/usr/bin/time -f "maxrss %M KB"` around it for the memory fit; bench/rank_model.sh makes
them. One-rank, one-thread logs at several user counts fit the per-user costs (seconds per
user-day through the origin, least squares; memory as a line); logs of several ranks give the exchanged bytes per user and day. The model, for N
users on R ranks of P threads each, per day:

  T = s N / (R P e)            sessions: each rank runs its N/R users on P threads, e the
                               threads' efficiency (measured elsewhere; --thread-eff)
    + b N                      barriers: every rank applies every user's events to its own
                               replica of the engine (the design in docs/ARCHITECTURE.md,
                               "Ranks"), so this does not shrink with R (the engine's parallel
                               pieces are a small part of it and are left out: an upper bound)
    + d N                      day starts and ends, replicated the same way
    + 2 K alpha ceil(log2 R)   K ticks, two collectives each (sizes, then the bytes)
    + (R - 1) / R B N / beta   the day's bytes B N, every rank receiving all but its own

  memory per rank = m0 + m N   every rank holds the whole world

alpha and beta are the network's, not fitted here: on this machine the ranks share two
cores, so the exchange's wall time is scheduling. Defaults: alpha 2e-6 s and beta 12.5e9
bytes/s (a 100 Gbit/s InfiniBand link); say which you use. The model is a prediction outside
the measured range, and says so.
"""
import math
import re
import sys

import numpy as np

RAN = re.compile(r"ran '[^']*': (\d+) of (\d+) days, (\d+) users, (\d+) threads?")
SPLIT = re.compile(r"sessions ([\d.]+) s, barriers ([\d.]+) s, day starts/ends ([\d.]+) s")
RANKS = re.compile(r"ranks: (\d+) .*?([\d.]+) per user per day")
RSS = re.compile(r"maxrss (\d+) KB")
TICKS = re.compile(r"in (\d+) exchanges")


def parse(path):
    text = open(path).read()
    m = RAN.search(text)
    s = SPLIT.search(text)
    if not m or not s:
        sys.exit("%s: no run summary (want flywheel run's output with its figure-of-merit line)" % path)
    days = int(m.group(1))
    run = {"path": path, "days": days, "users": int(m.group(3)), "threads": int(m.group(4)), "ranks": 1,
           "sessions": float(s.group(1)) / days, "barriers": float(s.group(2)) / days,
           "day_ends": float(s.group(3)) / days, "bytes_user_day": None, "rss": None, "ticks": None}
    r = RANKS.search(text)
    if r:
        run["ranks"] = int(r.group(1))
        run["bytes_user_day"] = float(r.group(2))
        t = TICKS.search(text)
        run["ticks"] = int(t.group(1)) // days if t else None
    x = RSS.search(text)
    if x:
        run["rss"] = int(x.group(1)) * 1024.0
    return run


def points(runs, key):
    pts = [(r["users"], r[key]) for r in runs if r["ranks"] == 1 and r["threads"] == 1 and r[key] is not None]
    if len(pts) < 2 or len({u for u, _ in pts}) < 2:
        sys.exit("fitting %s needs one-rank, one-thread runs at two user counts at least" % key)
    return (np.array(v, dtype=float) for v in zip(*pts))


def fit_line(runs, key):
    """Least-squares line through (users, key) of the one-rank, one-thread runs: slope, intercept."""
    u, y = points(runs, key)
    slope, icpt = np.polyfit(u, y, 1)
    return slope, icpt


def fit_rate(runs, key):
    """Seconds per user-day through the origin (least squares, so the largest world weighs
    most), and the smallest and largest single run's rate: per-user costs grow with the world
    (caches) and with the machine's load, so a line's intercept would mean nothing."""
    u, y = points(runs, key)
    return float(np.sum(u * y) / np.sum(u * u)), float(np.min(y / u)), float(np.max(y / u))


def main(argv):
    logs, predict = [], []
    alpha, beta, eff = 2e-6, 12.5e9, 0.6
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--predict", "--alpha", "--beta", "--thread-eff"):
            if i + 1 >= len(argv):
                sys.exit("%s needs a value" % a)
            v = argv[i + 1]
            if a == "--predict":
                try:
                    n, r, p = (int(float(x)) for x in v.split(":"))
                except ValueError:
                    sys.exit("--predict wants N:R:P (users:ranks:threads), got %r" % v)
                predict.append((n, r, p))
            elif a == "--alpha":
                alpha = float(v)
            elif a == "--beta":
                beta = float(v)
            else:
                eff = float(v)
            i += 2
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            logs.append(a)
            i += 1
    if not logs:
        print(__doc__)
        return 2
    runs = [parse(p) for p in logs]
    s, s_lo, s_hi = fit_rate(runs, "sessions")
    b, b_lo, b_hi = fit_rate(runs, "barriers")
    d, d_lo, d_hi = fit_rate(runs, "day_ends")
    have_rss = [r for r in runs if r["rss"] is not None and r["ranks"] == 1 and r["threads"] == 1]
    m, m0 = fit_line(runs, "rss") if len({r["users"] for r in have_rss}) >= 2 else (float("nan"),) * 2
    multi = [r for r in runs if r["ranks"] > 1]
    B = float(np.median([r["bytes_user_day"] for r in multi])) if multi else 2890.0
    K = multi[0]["ticks"] if multi and multi[0]["ticks"] else 96

    print("fitted on %d runs (one rank, one thread: %s users)" %
          (len(runs), ", ".join(str(r["users"]) for r in runs if r["ranks"] == 1 and r["threads"] == 1)))
    print("  sessions   %.3f ms per user-day (runs: %.3f to %.3f)" % (s * 1e3, s_lo * 1e3, s_hi * 1e3))
    print("  barriers   %.2f us per user-day (runs: %.2f to %.2f)" % (b * 1e6, b_lo * 1e6, b_hi * 1e6))
    print("  day ends   %.2f us per user-day (runs: %.2f to %.2f)" % (d * 1e6, d_lo * 1e6, d_hi * 1e6))
    if not math.isnan(m):
        print("  memory     %.0f bytes per user (+ %.0f MiB)" % (m, m0 / 2**20))
    print("  exchange   %.0f bytes per user and day (%s), %d ticks a day" %
          (B, "measured on %d runs of several ranks" % len(multi) if multi else "default: no multi-rank log", K))
    print("network: alpha %.3g s per collective step, beta %.3g bytes/s; thread efficiency %.2f" % (alpha, beta, eff))
    if not predict:
        return 0
    print("%12s %5s %4s %10s %10s %10s %10s %10s %10s %8s %12s %s" %
          ("users", "ranks", "thr", "sessions_s", "barrier_s", "dayend_s", "network_s", "day_s",
           "speedup", "eff", "mem/rank", "notes"))
    for n, r, p in predict:
        t_s = s * n / (r * p * (eff if p > 1 else 1.0))
        t_b, t_d = b * n, d * n
        t_n = (2 * K * alpha * math.ceil(math.log2(r)) + (r - 1) / r * B * n / beta) if r > 1 else 0.0
        day = t_s + t_b + t_d + t_n
        serial = s * n + t_b + t_d   # one core
        notes = []
        tick_bytes = B * n / K
        if r > 1 and tick_bytes > 2**31 - 1:
            notes.append("a tick's exchange %.1f GiB: %d rounds of 2 GiB" % (tick_bytes / 2**30,
                                                                              math.ceil(tick_bytes / (2**31 - 1))))
        mem = m0 + m * n if not math.isnan(m) else float("nan")
        if day > 0:
            notes.append("replicated serial share %.0f%%" % (100 * (t_b + t_d) / day))
        else:   # logs of runs too short for the summary's 0.1 s resolution
            notes.append("no time measured in the logs")
        ratio = serial / day if day > 0 else float("nan")
        print("%12d %5d %4d %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f %7.1f%% %10.1f GiB %s" %
              (n, r, p, t_s, t_b, t_d, t_n, day, ratio, 100 * ratio / (r * p), mem / 2**30,
               "; ".join(notes)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
