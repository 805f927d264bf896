#!/usr/bin/env python3
"""Compares two state snapshots (sim/driver/snapshot.h) section by section: prints each
section whose bytes differ (but the identity section "run" and the timings' sections, whose
tags name latency) (its tag, both lengths, and the first differing byte), and exits 1
when any does. A section that differs after a resumed day names the module or part whose
snap hook misses something. usage: snapdiff.py A.snap B.snap"""
import struct
import sys


def sections(path):
    data = open(path, "rb").read()
    if data[:8] != b"FWSNAP\r\n":
        sys.exit(f"{path}: not a flywheel snapshot")
    at, out = 24, []
    while at + 32 <= len(data):
        tag = data[at:at + 16].rstrip(b"\0").decode()
        n, _ = struct.unpack_from("<QQ", data, at + 16)
        out.append((tag, data[at + 32:at + 32 + n]))
        at += 32 + n
        if tag == "end":
            break
    return out


a, b = sections(sys.argv[1]), sections(sys.argv[2])
bad = 0
if [t for t, _ in a] != [t for t, _ in b]:
    print("section lists differ:", [t for t, _ in a], [t for t, _ in b])
    bad = 1
for (ta, pa), (tb, pb) in zip(a, b):
    if ta == "run" or "latency" in ta:
        continue   # the days it holds may differ by design; latencies are timings
    if pa != pb:
        first = next((i for i in range(min(len(pa), len(pb))) if pa[i] != pb[i]), min(len(pa), len(pb)))
        print(f"section {ta}: {len(pa)} vs {len(pb)} bytes, first difference at byte {first}")
        bad = 1
sys.exit(bad)
