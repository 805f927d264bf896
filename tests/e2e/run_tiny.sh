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
# Issue 22: the figure of merit counts every impression the file's days record (feed, search,
# ads) over the simulation's seconds times the threads, and the time split adds up.
grep "figure of merit:" out.txt >fom.txt || fail "no figure of merit: $(cat out.txt)"
"$PY" - <<'PY' && pass "figure of merit: impressions and seconds" || fail "figure of merit: $(cat fom.txt)"
import re, h5py
line = open("fom.txt").read()
m = re.search(r"figure of merit: (\d+) impressions/s/core \((\d+) impressions, ([\d.]+) s x (\d+) threads?\); "
              r"sessions ([\d.]+) s, barriers ([\d.]+) s, day starts/ends ([\d.]+) s", line)
assert m, line
fom, n, sim, th, ps, bs, ds = (float(x) for x in m.groups())
d = h5py.File("ab/out.h5", "r")["days"]
want = sum(int(d[a][k][:].sum()) for a in ("control", "fresh_boost")
           for k in ("impressions", "search_impressions", "ad_impressions") if k in d[a])
assert n == want and n > 0, (n, want)
# the seconds are printed to 0.1 s: the figure lies within what that rounding allows
assert sim > 0.05 and n / ((sim + 0.05) * th) - 1 <= fom <= n / ((sim - 0.05) * th) + 1, (fom, n, sim, th)
assert abs(ps + bs + ds - sim) <= 0.2 + 0.01 * sim, (ps, bs, ds, sim)
PY
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
# Two layers: every user is in one arm of each layer, so each layer's arms add up to the
# same totals; both layers' treatment arms are tested against their own control.
if "$FLYWHEEL" run "$SRC/tests/data/tiny_layers.yaml" -o layers.h5 >out.txt 2>err.txt; then pass "layers run"; else fail "layers run ($(cat err.txt))"; fi
grep -q "pages_5 vs pages_10 (layer pages" out.txt && grep -q "fresh_boost vs control (layer main" out.txt && pass "layers table" || fail "layers table: $(cat out.txt)"
"$PY" "$SRC/tests/e2e/check_result.py" layers.h5 --min-days 3 --arms control,fresh_boost,pages_10,pages_5 >/dev/null && pass "layers h5py checks" || fail "layers h5py checks"
"$PY" - <<'PY' && pass "layers add up" || fail "layers do not add up"
import h5py, numpy as np
f = h5py.File("layers.h5", "r")
d = f["days"]
for k in ["impressions", "opens", "sessions", "active_users"]:
    a = d["control"][k][:] + d["fresh_boost"][k][:]
    b = d["pages_10"][k][:] + d["pages_5"][k][:]
    assert np.array_equal(a, b), (k, a, b)
n = f["world"].attrs["n_users"]
assert f["arms/control"].attrs["users"] + f["arms/fresh_boost"].attrs["users"] == n
assert f["arms/pages_10"].attrs["users"] + f["arms/pages_5"].attrs["users"] == n
assert len(f["users/pages_5/user_id"]) == f["arms/pages_5"].attrs["users"]
e = f["experiment"]
assert set(e.keys()) == {"metric", "units", "days", "fresh_boost", "pages_5"}, list(e.keys())
assert e["pages_5"].attrs["control"] == "pages_10" and e["pages_5"].attrs["layer"] == "pages"
assert e.attrs["unit"] == "cluster"
# Smaller pages mean more feed requests per impression in pages_5.
r5 = d["pages_5"]["feed_requests"][1:].sum() / d["pages_5"]["impressions"][1:].sum()
r10 = d["pages_10"]["feed_requests"][1:].sum() / d["pages_10"]["impressions"][1:].sum()
assert r5 > 1.3 * r10, (r5, r10)   # sessions end mid-page, so not quite 2x
PY
# --progress into a log (stderr no terminal): plain lines, one at each day's end, no carriage
# returns or escape codes; the world's generation announced first.
"$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" --progress -o prog.h5 >/dev/null 2>prog.txt || fail "--progress run: $(cat prog.txt)"
if grep -q $'[\r\033]' prog.txt; then fail "--progress into a file wrote control characters: $(cat -A prog.txt)"
elif [ "$(grep -c '^day [123]/3 tick 48/48 ' prog.txt)" = 3 ] && head -1 prog.txt | grep -q '^generating the world: 3000 users'
then pass "--progress into a log: a line per day's end"; else fail "--progress lines: $(cat prog.txt)"; fi
finish
