#!/usr/bin/env bash
# A tiny run end to end: exit code, the final file (and no .partial), read back with h5py
# and with the C API, the summary on stdout.
. "$(dirname "$0")/lib.sh"
CREADER=${4:?}
cd "$TMP"
if "$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" -q >out.txt 2>err.txt; then pass "run exits 0"; else fail "run exit $? ($(cat err.txt))"; fi
[ -f results/tiny.h5 ] && pass "results/tiny.h5 written" || fail "no results/tiny.h5"
[ ! -e results/tiny.h5.partial ] && pass "no partial left" || fail "partial left behind"
"$PY" "$SRC/tests/e2e/check_result.py" results/tiny.h5 --min-days 3 --arms all && pass "h5py checks" || fail "h5py checks"
"$CREADER" results/tiny.h5 && pass "C API checks" || fail "C API checks"
# Two arms, summary printed, -o honoured.
if "$FLYWHEEL" run "$SRC/tests/data/tiny_ab.yaml" -o ab/out.h5 >out.txt 2>err.txt; then pass "A/B run"; else fail "A/B run ($(cat err.txt))"; fi
grep -q "fresh_boost" out.txt && grep -q "result: ab/out.h5" out.txt && pass "summary names arms and file" || fail "summary: $(cat out.txt)"
"$PY" "$SRC/tests/e2e/check_result.py" ab/out.h5 --min-days 2 --arms control,fresh_boost && pass "A/B h5py checks" || fail "A/B h5py checks"
# --days / --seed / --set land in the provenance.
"$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" -q -d 1 -s 99 --set world.n_users=1000 -o s.h5 2>err.txt || fail "run with overrides ($(cat err.txt))"
"$PY" - <<'PY' && pass "overrides recorded" || fail "overrides not recorded"
import h5py
f = h5py.File("s.h5", "r")
assert f.attrs["days_completed"] == 1 and f.attrs["seed"] == 99, dict(f.attrs)
assert "world.n_users=1000" in f.attrs["overrides"]
assert f["world"].attrs["n_users"] == 1000
assert "n_users: 1000" in f.attrs["scenario_resolved"]
PY
finish
