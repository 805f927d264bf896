#!/usr/bin/env python3
"""Hostile knobs: every knob at the ends of its range, one at a time.

Reads the knob table from `flywheel defaults` (each knob's range, or its enum values), then
runs a small scenario with one knob set to its minimum, then its maximum (an enum: each of
its values), each run under a timeout. Every outcome must be a finished run (exit 0) or a
refusal (exit 2 with a message on stderr); a crash, a sanitizer report (build with FW_ASAN/FW_UBSAN,
see tests/sanitizers/env.sh), exit 1 or another code is a finding, printed with the knob and
the end of its stderr. A run past the timeout is listed as slow (a size knob at its
maximum runs long by design), not as a finding.

With --together, two more runs set every selected knob with a range at once: all at their
minimums, then all at their maximums (extremes that pass one at a time can fail together:
money knobs whose sums pass what 64-bit counts hold).

usage: knob_extremes.py FLYWHEEL WORKDIR [--only PREFIX,...] [--together] [--timeout S]
                        [--threads T] [--jobs J] -- SCENARIO [run options...]
  e.g. python3 tests/e2e/knob_extremes.py build-asan/flywheel /tmp/kx -- \\
         tests/data/tiny_resume.yaml -d 2
Exit status: 0 when there is no finding, 1 otherwise."""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys

RANGE = re.compile(r"range \[([^,\]]+), ([^\]]+)\]")
ENUM = re.compile(r"one of: ([^)]+)\)")
KEY = re.compile(r"^( *)([a-z_0-9]+):(.*)$")


def knobs(flywheel):
    """[(dotted key, [values to try], has a range)] from `flywheel defaults`."""
    out = subprocess.run([flywheel, "defaults"], capture_output=True, text=True, check=True).stdout
    stack, comment, found = [], "", []
    for line in out.splitlines():
        s = line.strip()
        if s.startswith("#"):
            comment = s
            continue
        m = KEY.match(line)
        if not m:
            comment = ""
            continue
        indent, name, value = len(m.group(1)), m.group(2), m.group(3).strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if not value:
            stack.append((indent, name))
            comment = ""
            continue
        key = ".".join([n for _, n in stack] + [name])
        r, e = RANGE.search(comment), ENUM.search(comment)
        if r:
            found.append((key, [r.group(1), r.group(2)], True))
        elif e:
            found.append((key, [v.strip() for v in e.group(1).split(",")], False))
        elif "true or false" in comment:
            found.append((key, ["true", "false"], False))
        comment = ""
    return found


def run_one(a, sets, n):
    """Runs the scenario with sets [(key, value)]; (label, rc or None on timeout, stderr)."""
    out = os.path.join(a.workdir, f"k{n}.h5")
    label = " ".join(f"{k}={v}" for k, v in sets)
    cmd = [a.flywheel, "run", "-q", "-t", str(a.threads), *a.scenario, "-o", out, "--force"]
    for k, v in sets:
        cmd += ["--set", f"{k}={v}"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
        rc, err = p.returncode, p.stderr
    except subprocess.TimeoutExpired:
        rc, err = None, ""
    for suffix in ("", ".partial", ".ckpt", ".snap", ".prev.h5"):
        try:
            os.unlink(out + suffix if suffix != ".prev.h5" else out[:-3] + ".prev.h5")
        except FileNotFoundError:
            pass
    return label, rc, err


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("flywheel")
    ap.add_argument("workdir")
    ap.add_argument("--only", help="knobs whose keys start with one of these prefixes (comma-separated)")
    ap.add_argument("--together", action="store_true", help="also every selected range knob at its minimum, "
                    "then at its maximum, in one run each")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2, help="runs at once")
    ap.add_argument("--refusals", action="store_true", help="list each refusal's message too")
    a, rest = ap.parse_known_args()
    if rest[:1] == ["--"]:
        rest = rest[1:]
    if not rest:
        ap.error("give the scenario (and run options) after --")
    a.scenario = rest
    os.makedirs(a.workdir, exist_ok=True)
    table = knobs(a.flywheel)
    if a.only:
        pre = tuple(a.only.split(","))
        table = [t for t in table if t[0].startswith(pre)]
    todo = [[(k, v)] for k, vs, _ in table for v in vs]
    if a.together:
        todo += [[(k, vs[i]) for k, vs, ranged in table if ranged] for i in (0, 1)]
    print(f"{len(table)} knobs, {len(todo)} runs", flush=True)
    findings, slow, ok, refused, why = [], [], 0, 0, []
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        futs = [pool.submit(run_one, a, sets, n) for n, sets in enumerate(todo)]
        for f in concurrent.futures.as_completed(futs):
            label, rc, err = f.result()
            sanitizer = "runtime error" in err or "Sanitizer" in err
            if rc is None:
                slow.append(label)
            elif rc in (0, 2) and not sanitizer and (rc == 0 or err.strip()):
                ok += rc == 0
                refused += rc == 2
                if rc == 2:
                    why.append(f"{label}: {err.strip().splitlines()[-1]}")
            else:
                tail = "\n    ".join(err.strip().splitlines()[-6:])
                findings.append(f"{label}: exit {rc}\n    {tail}")
                print(f"FINDING {label}: exit {rc}", flush=True)
    print(f"{ok} ran, {refused} refused (exit 2), {len(slow)} past {a.timeout:g} s, {len(findings)} findings")
    if slow:
        print("slow: " + ", ".join(sorted(slow)))
    for x in sorted(why) if a.refusals else []:
        print("refused: " + x)
    for x in sorted(findings):
        print("finding: " + x)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
