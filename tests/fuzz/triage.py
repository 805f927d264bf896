#!/usr/bin/env python3
"""Says whose a fuzzer crash is, from libFuzzer's log: exit 0 when it happened inside libhdf5
on memory libhdf5 owns (HDF5's own parser trusting a corrupt file: reported upstream, not
fixable here), exit 1 for anything else (ours: fix it), printing a one-line summary.

usage: triage.py FUZZ_LOG

Rules: the first frame of the crash's stack that is not the sanitizer runtime or libc must be
in libhdf5, and if the report says where the memory was allocated or freed, the first such
frame there must be in libhdf5 too (a buffer of ours overrun by H5Dread is ours). Timeouts,
out-of-memory, leaks and UBSan reports are always ours, except a timeout whose stack, when the
alarm fired, was inside libhdf5 (its parser looping on a corrupt heap)."""
import re
import sys

RUNTIME = re.compile(r"AlarmCallback|PrintStackTrace|__interceptor_|__asan|__sanitizer|__lsan|__ubsan|\bfree\b|\bmalloc\b|\bcalloc\b|"
                     r"\brealloc\b|\bmemcpy\b|\bmemmove\b|\bstrlen\b|libc\.so|libc_start|csu/|"
                     r"compiler-rt|fuzzer::")
FRAME = re.compile(r"^\s+#\d+ 0x[0-9a-f]+ in (.*)$|^\s+#\d+ 0x[0-9a-f]+ +\((.*)\)")


def first_frame(lines):
    for ln in lines:
        m = FRAME.match(ln)
        if not m:
            if ln.strip() == "" and lines:
                break
            continue
        text = m.group(1) or m.group(2)
        if not RUNTIME.search(text):
            return text
    return None


def main():
    log = open(sys.argv[1], errors="replace").read().splitlines()
    start = next((i for i, ln in enumerate(log) if "ERROR: AddressSanitizer" in ln or "runtime error:" in ln
                  or "ERROR: libFuzzer" in ln or "ERROR: LeakSanitizer" in ln), None)
    if start is None:
        print("triage: no sanitizer or libFuzzer report found: ours")
        return 1
    head = log[start]
    if "libFuzzer: timeout" in head:
        frame = first_frame(log[start + 1:])
        third = frame is not None and "libhdf5" in frame
        print("triage: %s: timeout; stack at the alarm in %s" % ("libhdf5's own" if third else "ours", frame))
        return 0 if third else 1
    if "AddressSanitizer" not in head:
        print("triage: ours: " + head.strip())
        return 1
    body = log[start + 1:]
    frame = first_frame(body)
    where = [i for i, ln in enumerate(body) if re.search(r"(allocated|freed) by thread", ln)]
    owner = first_frame(body[where[0] + 1:]) if where else None
    hdf5 = lambda f: f is not None and "libhdf5" in f  # noqa: E731
    third = hdf5(frame) and (owner is None or hdf5(owner))
    print("triage: %s: %s; crashing frame %s; memory from %s" % (
        "libhdf5's own" if third else "ours", head.split("ERROR: ")[-1].strip()[:80], frame,
        owner or "(not said)"))
    return 0 if third else 1


if __name__ == "__main__":
    sys.exit(main())
