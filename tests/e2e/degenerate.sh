#!/usr/bin/env bash
# Degenerate worlds: a world without creators used to reach qsort(NULL, 0) in the driver and
# memset(NULL, 0) in the reach part (a UBSan build, FW_UBSAN with -fno-sanitize-recover, aborts
# on both; the guards stay for worlds built through the API). From a scenario such a world is
# now refused (creator_share 0: nobody would post); the smallest worlds the loader accepts --
# ten users, ten notes, a share so small that only the one closest draw becomes a creator --
# run to completion. Run this test under that build too (the CI's ASan+UBSan stage does).
. "$(dirname "$0")/lib.sh"
cd "$TMP"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
T=$SRC/tests/data/tiny.yaml
"$FLYWHEEL" run "$T" -q -d 2 --set world.n_users=300 --set world.creator_share=0 -o none.h5 >out.txt 2>err.txt
rc=$?
if [ $rc -eq 2 ] && grep -qF "world.creator_share: expected a share > 0" err.txt && [ ! -e none.h5 ]; then
  pass "no creators: refused with exit 2, no file"
else
  fail "no creators: exit $rc ($(head -3 err.txt))"
fi
if "$FLYWHEEL" run "$T" -q -d 2 --set world.n_users=10 --set world.n_notes=10 --set world.creator_share=1e-9 \
     -o tiny.h5 >out.txt 2>err.txt; then
  pass "ten users, ten notes, one creator: run exits 0"
else
  fail "smallest world: exit $? ($(head -5 err.txt))"
fi
grep -q "runtime error" err.txt && fail "UBSan: $(grep -m1 'runtime error' err.txt)" || pass "no undefined behaviour reported"
"$PY" - <<'PY' && pass "file complete with 2 days and one creator" || fail "file"
import h5py
f = h5py.File("tiny.h5", "r")
assert f.attrs["status"] == "complete" and f.attrs["days_completed"] == 2, dict(f.attrs)
assert f["world"].attrs["n_creators"] == 1, f["world"].attrs["n_creators"]
PY
finish
