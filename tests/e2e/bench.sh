#!/usr/bin/env bash
# flywheel bench as a CI gate: a baseline, then the same build again passes (exit 0, no
# regression, deterministic figures identical), then a planted slowdown in one stage
# (FLYWHEEL_PLANT_DELAY, a busy wait that changes no result) is caught (exit 1, that stage
# regressed) while the work and quality figures still match exactly; a baseline older than a
# knob section still compares while the new knobs are at their defaults; a run count that cannot
# reach --alpha is refused; bad input exits 2.
# Runs alone (RUN_SERIAL): other tests on the machine would be noise in its timings. Shared CI
# machines still drift between the baseline and the later runs (one CI run saw eight timings
# "improved" by more than 20% with all five runs apart; another, 2026-12-08, the p99 of two
# stages of a few microseconds worse by 51% and 75%, recall_hot 2.4 -> 3.6 us and shop 2.7 ->
# 4.8 us, every run of the same build above every run of the baseline), so the timing
# tolerance here is 100%: the planted delay (40 us a call) is about nine times the feed_rank
# cost (about 4.7 us) and stays far above it, and an "improved" verdict is noise the gate
# rightly ignores (exit 0), so it does not fail the test.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
SC="$SRC/tests/data/tiny_rec.yaml"
N=${BENCH_RUNS:-5}
"$FLYWHEEL" bench "$SC" -n $N -t 2 -q --save-baseline base.h5 -o first.h5 >first.txt 2>err.txt \
  && pass "baseline recorded" || fail "baseline ($(cat err.txt))"
"$FLYWHEEL" bench "$SC" -n $N -t 2 -q --tolerance 100 --baseline base.h5 -o same.h5 >same.txt 2>err.txt
rc=$?
if [ $rc -eq 0 ] && grep -q " 0 regressed, [0-9]* improved, 0 nondeterministic" same.txt; then
  pass "same build passes"
else
  fail "same build: exit $rc: $(grep -E 'REGRESSED|NONDET|regressed' same.txt | head -5) $(cat err.txt)"
fi
FLYWHEEL_PLANT_DELAY=feed_rank=40000 "$FLYWHEEL" bench "$SC" -n $N -t 2 -q --tolerance 100 --baseline base.h5 -o slow.h5 >slow.txt 2>err.txt
rc=$?
if [ $rc -eq 1 ] && grep -E "^latency\.feed_rank\.p50 .*REGRESSED" slow.txt >/dev/null &&
   grep -E "^latency\.feed\.p50 .*REGRESSED" slow.txt >/dev/null; then
  pass "planted slowdown in feed_rank caught"
else
  fail "planted slowdown not caught (exit $rc): $(grep -E 'feed_rank|^latency\.feed\.' slow.txt)"
fi
if grep -E "^(work|quality)\." slow.txt | grep -v " ok$" >/dev/null; then
  fail "a planted delay changed deterministic figures: $(grep -E '^(work|quality)\.' slow.txt | grep -v ' ok$' | head -3)"
else
  pass "work and quality identical under the planted delay"
fi
"$PY" - <<'PY' && pass "comparison written to HDF5" || fail "comparison file"
import h5py
f = h5py.File("slow.h5", "r")
assert f.attrs["flywheel_bench"] == 1
c = f["comparison"]
names = list(c["name"].asstr()[:])
verdict = dict(zip(names, c["verdict"].asstr()[:]))
assert verdict["latency.feed_rank.p50"] == "REGRESSED", verdict["latency.feed_rank.p50"]
assert c.attrs["regressed"] >= 1
v = f["figures/values"]
assert v.shape[0] == len(f["figures/name"]) and v.shape[1] == int(f.attrs["repeat"])
for g in ("figures", "comparison"):
    for name, ds in f[g].items():
        assert "units" in ds.attrs and ds.attrs["description"], (g, name)
PY
"$FLYWHEEL" bench "$SC" -n 1 --baseline "$SC" >/dev/null 2>err.txt
[ $? -eq 2 ] && grep -q "not an HDF5 file" err.txt && pass "a scenario as baseline: exit 2" || fail "bad baseline: $(cat err.txt)"
"$FLYWHEEL" bench "$SC" -n 1 -t 2 -q --no-timings --baseline base.h5 --set days=1 >/dev/null 2>err.txt
[ $? -eq 2 ] && grep -q "different scenario" err.txt && pass "another scenario's baseline: exit 2" || fail "scenario mismatch: $(cat err.txt)"
# A baseline saved before a knob section existed (here: engine.notify cut out of its
# resolved scenario) is still this scenario while the new knobs keep their defaults, and is
# another one once a new knob is set.
"$PY" - <<'PY' || fail "could not make the older baseline"
import h5py, re, shutil
shutil.copy("base.h5", "old.h5")
f = h5py.File("old.h5", "r+")
t = f.attrs["scenario_resolved"]
t = t.decode() if isinstance(t, bytes) else t
cut = re.sub(r"  notify:\n(    .*\n)+", "", t)
assert cut != t, "no engine.notify section in the resolved scenario"
f.attrs["scenario_resolved"] = cut
PY
"$FLYWHEEL" bench "$SC" -n 1 -t 2 -q --no-timings --baseline old.h5 -o old_cmp.h5 >/dev/null 2>err.txt
[ $? -eq 0 ] && pass "a baseline older than a knob section compares (its knobs at their defaults)" \
  || fail "older baseline refused: $(cat err.txt)"
"$FLYWHEEL" bench "$SC" -n 1 -t 2 -q --no-timings --baseline old.h5 --set engine.notify.digest_size=3 >/dev/null 2>err.txt
[ $? -eq 2 ] && grep -q "different scenario" err.txt && pass "... and not once a new knob is set" \
  || fail "older baseline with a new knob set: $(cat err.txt)"
FLYWHEEL_PLANT_DELAY=nosuchstage=5 "$FLYWHEEL" bench "$SC" -n 1 >/dev/null 2>err.txt
[ $? -eq 2 ] && grep -q "expected STAGE=NS" err.txt && pass "bad FLYWHEEL_PLANT_DELAY: exit 2" || fail "bad plant: $(cat err.txt)"
# A run count whose rank test cannot reach --alpha is refused before anything runs, with the
# count that can; --no-timings judges work and quality alone with any count.
"$FLYWHEEL" bench "$SC" -n 2 -t 2 -q --baseline base.h5 >/dev/null 2>err.txt
[ $? -eq 2 ] && grep -q "cannot flag a timing regression at --alpha 0.01: 2 runs against $N .*use -n [0-9]* or more" err.txt \
  && pass "-n too small for --alpha: exit 2 with the smallest -n" || fail "-n 2 against $N: $(cat err.txt)"
"$FLYWHEEL" bench "$SC" -n 3 -t 2 -q --save-baseline b3.h5 >/dev/null 2>err.txt
[ $? -eq 2 ] && grep -q "3 runs against 3 give p >= 0.05; use -n 5 or more" err.txt && [ ! -e b3.h5 ] \
  && pass "a 3-run baseline is refused (3 against 3: p >= 0.05)" || fail "-n 3 baseline: $(cat err.txt)"
"$FLYWHEEL" bench "$SC" -n 1 -t 2 -q --no-timings --baseline base.h5 -o nt.h5 >nt.txt 2>err.txt
[ $? -eq 0 ] && ! grep -E "^latency\..* (REGRESSED|ok)$" nt.txt >/dev/null && grep -qE "^work\..* ok$" nt.txt \
  && pass "--no-timings: one run, work and quality judged, timings info" || fail "--no-timings: $(cat err.txt) $(head -5 nt.txt)"
"$FLYWHEEL" bench "$SC" -n 0 >/dev/null 2>err.txt
[ $? -eq 2 ] && grep -q "repeat" err.txt && pass "--repeat 0: exit 2" || fail "repeat 0: $(cat err.txt)"
finish
