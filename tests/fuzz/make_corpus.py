#!/usr/bin/env python3
"""Writes the crafted seeds of tests/fuzz/corpus/ (the copied scenarios and result files are
committed as they are; this script makes the hand-crafted ones reproducible).

usage: make_corpus.py scenario DIR          hostile scenario files into DIR
       make_corpus.py slow DIR              the quadratic-validation reproducers (crashes/scenario)
       make_corpus.py results SRC.h5 DIR    truncated and bit-flipped copies of SRC.h5 into DIR
Deterministic: the same files every time."""
import os
import random
import sys


def scenario(d):
    def put(name, text):
        data = text.encode() if isinstance(text, str) else text
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)

    put("huge_numbers.yaml", "name: big\nseed: 18446744073709551616\ndays: 1e400\nworld:\n"
        "  n_users: 99999999999999999999999999\n  n_notes: -0\n  topic_zipf: 1e308\n"
        "experiment:\n  arms:\n    - name: a\n      weight: 1e308\n    - name: b\n      weight: 1e308\n")
    put("long_number.yaml", "name: n\ndays: " + "9" * 5000 + "\n")
    put("float_edge.yaml", "name: f\nworld:\n  topic_zipf: .nan\n  activity_a: -.inf\n"
        "  interest_concentration: 4.9e-324\n")
    put("arms_64.yaml", "name: many\nexperiment:\n  arms:\n" +
        "".join("    - name: a%d\n      weight: %d\n" % (i, i + 1) for i in range(64)))
    put("arms_dup.yaml", "name: dup\nexperiment:\n  arms:\n    - name: x\n    - name: x\n")
    put("arm_names_collide.yaml", "name: c\nexperiment:\n  arms:\n    - name: \"\\u5bf9\\u7167\"\n"
        "    - name: \"\\u5b9e\\u9a8c\"\n    - name: \"a b\"\n    - name: \"a_b\"\n")
    put("control_chars.yaml", b"name: \"a\\x01b\\x1b[31mred\\ttab\\u0000nul\"\nseed: 1\x0b\n"
        b"experiment:\n  arms:\n    - name: \"\\x7f\\r\\n\"\n      set: [\"engine.feed.w_fresh=\\x01\"]\n")
    put("raw_control.yaml", bytes(range(0, 32)) + b": 1\nname: \x00\x01\x02\n")
    put("name_path.yaml", "name: ../../escaped\n")
    put("name_empty.yaml", "name: \"\"\n")
    put("deep_seq.yaml", "world: " + "[" * 5000 + "]" * 5000 + "\n")
    put("deep_map.yaml", "world: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n")
    put("deep_block.yaml", "".join("  " * i + "k%d:\n" % i for i in range(100)) + "  " * 100 + "x: 1\n")
    laughs = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        "a%d: &a%d [%s]\n" % (i, i, ", ".join(["*a%d" % (i - 1)] * 9)) for i in range(1, 9))
    put("billion_laughs.yaml", laughs + "name: *a8\n")
    put("anchors.yaml", "base: &b\n  n_users: 100\nworld:\n  <<: *b\n  n_notes: *b\n")
    put("sets_many.yaml", "name: s\nexperiment:\n  arms:\n    - name: c\n    - name: t\n      set:\n" +
        "".join("        - engine.feed.w_fresh=%d\n" % i for i in range(500)))
    put("set_bad.yaml", "name: s\nexperiment:\n  arms:\n    - name: c\n    - name: t\n      set:\n"
        "        - world.n_users=5\n        - engine.feed=5\n        - engine.feed.w_fresh.x=1\n"
        "        - =\n        - engine.feed.w_fresh=\n")
    put("layers.yaml", "name: l\nexperiment:\n  arms:\n    - {name: c, layer: L1}\n"
        "    - {name: t, layer: L1, set: [engine.feed.w_fresh=2]}\n    - {name: p, layer: L2}\n"
        "    - {name: q, layer: L2, set: [engine.feed.w_fresh=3]}\n")
    put("types.yaml", "name: [1, 2]\nseed: {a: 1}\ndays: true\nworld: 5\nexperiment: null\n")
    put("bom_crlf.yaml", b"\xef\xbb\xbfname: w\r\ndays: 2\r\n")
    put("invalid_utf8.yaml", b"name: \xff\xfe\xc0\xaf\n")
    put("empty.yaml", "")
    put("multi_doc.yaml", "name: a\n---\nname: b\n...\n")
    put("tags.yaml", "name: !!binary aGVsbG8=\ndays: !!float 2\nseed: !custom 3\n")


def slow(d):
    """Issue 15, defect 6: validation quadratic in arms and in set entries (minutes under ASan)."""
    with open(os.path.join(d, "arms_32000.yaml"), "w") as f:
        f.write("name: many\nexperiment:\n  arms:\n" + "".join("    - name: a%d\n" % i for i in range(32000)))
    with open(os.path.join(d, "sets_4000_two_layers.yaml"), "w") as f:
        f.write("name: sets\nexperiment:\n  arms:\n")
        for layer, key in (("L1", "engine.feed.w_fresh"), ("L2", "engine.rec.lr")):
            for arm in ("c", "t"):
                f.write("    - name: %s%s\n      layer: %s\n      set:\n" % (arm, layer, layer))
                f.write("".join("        - %s=%d\n" % (key, 1 + i % 3) for i in range(4000)))


def results(src, d):
    data = open(src, "rb").read()
    rng = random.Random(15)
    base = os.path.basename(src).rsplit(".", 1)[0]
    for frac in (0.01, 0.1, 0.5, 0.9, 0.99):
        with open(os.path.join(d, "%s_trunc%02d.h5" % (base, int(frac * 100))), "wb") as f:
            f.write(data[: int(len(data) * frac)])
    for i in range(3):
        b = bytearray(data)
        for _ in range(1 + i * 3):
            p = rng.randrange(len(b))
            b[p] ^= 1 << rng.randrange(8)
        with open(os.path.join(d, "%s_flip%d.h5" % (base, i)), "wb") as f:
            f.write(b)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "scenario":
        scenario(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "slow":
        slow(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "results":
        results(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
