#!/usr/bin/env python3
"""Structure-aware mutation of state snapshots (sim/driver/snapshot.h, engine/include/flywheel/
snap.h): a snapshot is untrusted input, and its checksums stop a random byte before any state
is read, so a fuzzer that flips bytes never gets past them. This one mutates a section's
payload (a flipped bit, an aligned 32- or 64-bit word set to an extreme: 0, -1, INT_MIN,
INT_MAX, NaN, inf, ...), then recomputes that section's checksum, so every mutant reaches the
hooks that read it; each is resumed by `flywheel run --resume` on a copy of a run stopped
after day 1 of 2, which loads the snapshot and simulates day 2 from it.

A mutant may load (the state is different but valid: exit 0) or be refused (exit 2, naming
the snapshot file: what a bad input must give). Anything else is a finding: another exit
code, a sanitizer's report (run it with an ASan+UBSan build), a crash, or a run past the
time limit. Findings are printed with the mutation and stderr's tail, and each mutant kept
under --keep DIR (when given) to reproduce: copy it over the base run's .snap and resume.

usage: snap_mutate.py FLYWHEEL WORKDIR [--count N] [--seed S] [--keep DIR] [--timeout S]
                      [--threads T] [--sections TAG,...] -- SCENARIO [run options...]
Exit 0 when every mutant loaded or was refused, 1 when any is a finding, 2 on a bad setup.
Deterministic: the same seed gives the same mutants."""
import argparse
import os
import random
import shutil
import struct
import subprocess
import sys
import zlib

MAGIC = b"FWSNAP\r\n"
HEADER = 24   # magic, u32 byte-order mark, u32 format, u64 0
W32 = [0, 1, 2, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE, 0x10000, 0x40000000]
W64 = [0, 1, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFFFFFFFFFFFFFFF, 0x100000000,
       struct.unpack("<Q", struct.pack("<d", float("nan")))[0],
       struct.unpack("<Q", struct.pack("<d", float("inf")))[0],
       struct.unpack("<Q", struct.pack("<d", -float("inf")))[0],
       struct.unpack("<Q", struct.pack("<d", -1.0))[0],
       struct.unpack("<Q", struct.pack("<d", 1e300))[0],
       struct.unpack("<Q", struct.pack("<d", -0.0))[0]]


def checksum(b):
    """A section's checksum as flywheel writes it (snapshot format 2): zlib's CRC-32."""
    return zlib.crc32(b)


def parse(data):
    """The snapshot's header and its sections [(tag, payload)], up to and with "end"."""
    if data[:8] != MAGIC or len(data) < HEADER:
        raise ValueError("not a flywheel snapshot")
    at, out = HEADER, []
    while at + 32 <= len(data):
        tag = data[at:at + 16]
        n, _ = struct.unpack_from("<QQ", data, at + 16)
        out.append((tag, bytearray(data[at + 32:at + 32 + n])))
        at += 32 + n
        if tag.rstrip(b"\0") == b"end":
            break
    return data[:HEADER], out


def build(header, secs):
    parts = [header]
    for tag, pay in secs:
        parts.append(tag + struct.pack("<QQ", len(pay), checksum(pay)) + bytes(pay))
    return b"".join(parts)


def mutate(secs, rng, only):
    """Mutates one section's payload in place (one of only's, when given); returns what was
    done, in words."""
    pick = [i for i, (tag, pay) in enumerate(secs) if pay and tag.rstrip(b"\0") not in (b"run", b"end") and
            (not only or tag.rstrip(b"\0").decode() in only)]
    i = rng.choice(pick)
    tag, pay = secs[i]
    name = tag.rstrip(b"\0").decode()
    kind = rng.choice(["bit", "w32", "w32", "w64", "w64"])
    # Half the mutants hit a section's first 256 bytes, where its scalars are (counts,
    # capacities, the clock): a section is mostly arrays, whose elements are rarely trusted.
    span = len(pay) if rng.random() < 0.5 else min(len(pay), 256)
    if kind == "bit" or len(pay) < 8:
        at, bit = rng.randrange(span), rng.randrange(8)
        pay[at] ^= 1 << bit
        return f"section {name} ({len(pay)} bytes): bit {bit} of byte {at} flipped"
    if kind == "w32":
        at = rng.randrange(max(span // 4, 1)) * 4
        v = rng.choice(W32)
        old = struct.unpack_from("<I", pay, at)[0]
        struct.pack_into("<I", pay, at, v)
        return f"section {name} ({len(pay)} bytes): u32 at byte {at} {old:#x} -> {v:#x}"
    at = rng.randrange(max(span // 8, 1)) * 8
    v = rng.choice(W64)
    old = struct.unpack_from("<Q", pay, at)[0]
    struct.pack_into("<Q", pay, at, v)
    return f"section {name} ({len(pay)} bytes): u64 at byte {at} {old:#x} -> {v:#x}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("flywheel")
    ap.add_argument("workdir")
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sections", help="mutate only these sections (comma-separated tags)")
    argv = sys.argv[1:]
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        ap.error("give the scenario (and run options) after --")
    cut = argv.index("--")
    a, run = ap.parse_args(argv[:cut]), argv[cut + 1:]
    os.makedirs(a.workdir, exist_ok=True)
    base = os.path.join(a.workdir, "base.h5")
    env = dict(os.environ, FLYWHEEL_STOP_AFTER_DAY="1")
    p = subprocess.run([a.flywheel, "run", "-q", "-t", str(a.threads), *run, "-d", "2", "-o", base],
                       env=env, capture_output=True, text=True)
    files = [base + ".partial", base + ".ckpt", base + ".snap"]
    if not all(os.path.exists(f) for f in files):
        print(f"setup: the base run left {os.listdir(a.workdir)} (exit {p.returncode}): {p.stderr[-2000:]}")
        return 2
    header, clean = parse(open(base + ".snap", "rb").read())
    tags = [t.rstrip(b"\0").decode() for t, _ in clean]
    if a.sections and not set(a.sections.split(",")) & set(tags):
        print(f"setup: no section {a.sections} in the snapshot, which has {', '.join(tags)}")
        return 2
    env = dict(os.environ)
    env.pop("FLYWHEEL_STOP_AFTER_DAY", None)
    rng = random.Random(a.seed)
    tally, findings = {"loaded": 0, "refused": 0, "not used": 0}, 0
    for k in range(a.count):
        secs = [(t, bytearray(pl)) for t, pl in clean]
        what = mutate(secs, rng, a.sections.split(",") if a.sections else None)
        d = os.path.join(a.workdir, f"m{k}")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for f in files[:2]:
            shutil.copy(f, d)
        snap = os.path.join(d, "base.h5.snap")
        with open(snap, "wb") as f:
            f.write(build(header, secs))
        try:
            q = subprocess.run([a.flywheel, "run", "-q", "-t", str(a.threads), "--resume",
                                os.path.join(d, "base.h5.partial")], env=env, capture_output=True, text=True,
                               timeout=a.timeout)
            rc, err = q.returncode, q.stderr
        except subprocess.TimeoutExpired as t:
            rc, err = None, (t.stderr or b"").decode(errors="replace") if isinstance(t.stderr, bytes) else (t.stderr or "")
        san = "runtime error" in err or "Sanitizer" in err
        if rc == 0 and not san:
            tally["not used" if "not using the snapshot" in err else "loaded"] += 1
        elif rc == 2 and not san and "cannot be loaded" in err and "base.h5.snap" in err:
            tally["refused"] += 1
        else:
            findings += 1
            how = "timed out" if rc is None else f"exit {rc}"
            print(f"FINDING {k}: {what}: {how}\n  " + "\n  ".join(err.strip().splitlines()[-12:]))
            if a.keep:
                os.makedirs(a.keep, exist_ok=True)
                shutil.copy(snap, os.path.join(a.keep, f"mutant{k}.snap"))
        shutil.rmtree(d, ignore_errors=True)   # a finding's mutant is under --keep
    print(f"{a.count} mutants (seed {a.seed}): {tally['loaded']} loaded and ran day 2, {tally['refused']} refused "
          f"(exit 2, the file named), {tally['not used']} not used; {findings} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
