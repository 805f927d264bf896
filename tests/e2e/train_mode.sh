#!/usr/bin/env bash
# engine.rec.train_mode tick (issue 22) inside a run (tests/data/tiny_rec.yaml, 1 day): the
# same results on 1 and 2 threads (outside /latency and root attributes), other /days than
# online's (the knob does something), and the rec arm still above the baseline's CTR.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
for t in 1 2; do
  "$FLYWHEEL" run "$SRC/tests/data/tiny_rec.yaml" -q -d 1 -t $t --set engine.rec.train_mode=tick -o tick$t.h5 \
    2>err.txt || fail "tick -t $t ($(cat err.txt))"
done
"$FLYWHEEL" run "$SRC/tests/data/tiny_rec.yaml" -q -d 1 -t 2 -o online.h5 2>err.txt || fail "online ($(cat err.txt))"
if h5diff -q --exclude-path /latency --exclude-attribute / tick1.h5 tick2.h5; then
  pass "tick: 1 vs 2 threads identical"
else
  fail "tick differs across threads: $(h5diff -r --exclude-path /latency --exclude-attribute / tick1.h5 tick2.h5 | head -20)"
fi
if h5diff -q tick2.h5 online.h5 /days/rec >/dev/null 2>&1; then fail "tick's /days/rec equal online's"; else pass "tick differs from online"; fi
"$PY" - <<'PY' && pass "tick: rec CTR above the baseline's" || fail "tick: rec CTR"
import h5py, sys
f = h5py.File("tick1.h5", "r")
b, r = f["days/baseline/ctr"][:], f["days/rec/ctr"][:]
print("ctr baseline", b.round(4), "rec (tick)", r.round(4))
sys.exit(0 if r.mean() > 1.1 * b.mean() else 1)
PY
finish
