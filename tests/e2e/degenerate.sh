#!/usr/bin/env bash
# Valid degenerate worlds run: no creators (creator_share 0: no notes, no queue of new notes)
# used to reach qsort(NULL, 0) in the driver and memset(NULL, 0) in the reach part, which
# a UBSan build (FW_UBSAN, -fno-sanitize-recover) aborts on. Run this test under that build.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
T=$SRC/tests/data/tiny.yaml
if "$FLYWHEEL" run "$T" -q -d 2 --set world.n_users=300 --set world.creator_share=0 -o none.h5 >out.txt 2>err.txt; then
  pass "no creators: run exits 0"
else
  fail "no creators: exit $? ($(head -5 err.txt))"
fi
grep -q "runtime error" err.txt && fail "UBSan: $(grep -m1 'runtime error' err.txt)" || pass "no undefined behaviour reported"
"$PY" - <<'PY' && pass "file complete with 2 days" || fail "file"
import h5py
f = h5py.File("none.h5", "r")
assert f.attrs["status"] == "complete" and f.attrs["days_completed"] == 2
assert f["world"].attrs["n_creators"] == 0
PY
finish
