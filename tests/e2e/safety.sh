#!/usr/bin/env bash
# Moderation end to end (tiny_safety: violating notes; the control does not moderate, the
# other arm removes): per class, the removing arm's users see fewer violating impressions per
# 10,000 than the control's; the control's moderation counters are 0 and the removing arm's
# add up (wrongful and violating actions make the actions; proactive ones are among them;
# p50 <= p99); one and two threads agree bit for bit; a review queue that cannot drain is
# reported in the run summary; a run with no violations and no moderation has no safety data;
# fake planting ends in returns: with half the notes fake (tiny_shop, 6 days), raising
# world.violation_fake_return from 0 to 3 raises the share of fake-planted deliveries
# returned, by far more than chance.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
"$FLYWHEEL" run "$SRC/tests/data/tiny_safety.yaml" -t 2 -o s2.h5 >out.txt 2>err.txt && pass "tiny_safety runs" || fail "run ($(cat err.txt))"
grep -q "^  safety  *prev/10k" out.txt && pass "the summary has the safety lines" || fail "no safety line in the summary: $(cat out.txt)"
"$PY" - <<'PY' && pass "removal lowers prevalence per class; counters add up" || fail "safety checks"
import h5py, numpy as np
f = h5py.File("s2.h5", "r")
c, r = f["days/control"], f["days/remove"]
for k in ("mod_scored", "mod_actioned", "mod_queued", "wrongful_removals", "review_backlog", "tta_p99_ticks"):
    assert (c[k][:] == 0).all(), ("control", k, c[k][:])
for cls in ("spam", "fake", "clickbait", "unsafe"):
    pc = 1e4 * c["viol_impressions_" + cls][:].sum() / c["safety_impressions"][:].sum()
    pr = 1e4 * r["viol_impressions_" + cls][:].sum() / r["safety_impressions"][:].sum()
    print(f"  {cls:9s} per 10k: control {pc:7.1f}  remove {pr:7.1f}")
    assert pr < pc, (cls, pc, pr)
act = r["mod_actioned"][:]
assert act.sum() > 0, act
assert (r["wrongful_removals"][:] + r["mod_actioned_violating"][:] == act).all()
assert (r["mod_proactive"][:] <= act).all() and (r["mod_auto_actioned"][:] <= act).all()
assert (r["tta_p50_ticks"][:] <= r["tta_p99_ticks"][:]).all()
assert (r["review_capacity_day"][:] == 20 * 24).all(), r["review_capacity_day"][:]
viol = sum(r["viol_impressions_" + k][:] for k in ("spam", "fake", "clickbait", "unsafe"))
assert (viol == r["viol_impressions"][:]).all()
assert np.allclose(r["prevalence"][:], 1e4 * r["viol_impressions"][:] / r["safety_impressions"][:])
assert np.allclose(r["proactive_rate"][:], r["mod_proactive"][:] / act)
assert "safety" in f and f["safety/days/scored"][:].sum() == r["mod_scored"][:].sum()
PY
# The report's safety section (index.html only: a stand-in gnuplot draws nothing, quickly).
mkdir -p fakebin && printf '#!/bin/sh\nexit 0\n' >fakebin/gnuplot && chmod +x fakebin/gnuplot
PATH="$PWD/fakebin:$PATH" "$FLYWHEEL" report s2.h5 -o rep >rep.txt 2>&1
if grep -q 'id="safety"' rep/index.html && grep -q '<tr><td>remove</td>' rep/index.html && grep -q 'arm control, by day' rep/index.html; then
  pass "the report has the safety section (run totals and days per arm)"
else
  fail "no safety section in the report: $(cat rep.txt)"
fi
"$FLYWHEEL" run "$SRC/tests/data/tiny_safety.yaml" -q -t 1 -o s1.h5 2>err.txt || fail "1-thread run ($(cat err.txt))"
h5diff -q --exclude-path /latency --exclude-attribute / s1.h5 s2.h5 && pass "1 and 2 threads agree" || fail "1 and 2 threads differ"
# Everything queued (band [0, 1)) with 1 note a tick for the control: it cannot drain.
"$FLYWHEEL" run "$SRC/tests/data/tiny_safety.yaml" -t 2 -d 1 --set world.n_users=600 --set engine.safety.action=remove \
  --set engine.safety.threshold_lo=0.0 --set engine.safety.threshold_hi=1.0 --set engine.safety.review_capacity=1 \
  -o jam.h5 >jam.txt 2>err.txt || fail "jammed run ($(cat err.txt))"
grep -q "WARNING: arm control: the review queue cannot drain" jam.txt && pass "a queue that cannot drain is reported: $(grep WARNING jam.txt | head -1 | cut -c1-90)..." \
  || fail "no cannot-drain warning: $(cat jam.txt)"
grep -q "WARNING" out.txt && fail "tiny_safety (capacity 20 a tick) reported jammed: $(grep WARNING out.txt)" || pass "a queue that drains is not reported"
"$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" -q -t 2 -d 1 --set world.n_users=600 -o off.h5 2>err.txt || fail "run without safety ($(cat err.txt))"
"$PY" - <<'PY' && pass "no violations, no moderation: no safety datasets" || fail "safety datasets in a run without safety"
import h5py
f = h5py.File("off.h5", "r")
assert "safety" not in f, list(f)
for arm in f["days"]:
    if arm == "day":
        continue
    assert not [k for k in f["days"][arm] if k.startswith(("viol_", "mod_", "prevalence"))], arm
PY
for fr in 0 3; do
  "$FLYWHEEL" run "$SRC/tests/data/tiny_shop.yaml" -q -t 2 --set world.violation_fake=0.5 \
    --set world.violation_fake_plant=100 --set world.violation_fake_return=$fr -o fake$fr.h5 2>err.txt ||
    fail "fake planting run ($fr): $(cat err.txt)"
done
"$PY" - <<'PY' && pass "fake planting raises the returns of what it planted (world.violation_fake_return)" || fail "fake planting returns"
import h5py, math
def books(path):
    f = h5py.File(path, "r")
    t = {}
    for a, d in f["days"].items():
        if isinstance(d, h5py.Group):
            for k in ("fake_planted_deliveries", "fake_planted_returns", "delivered_orders", "returns"):
                t[k] = t.get(k, 0) + int(d[k][:].sum())
    return t
lo, hi = books("fake0.h5"), books("fake3.h5")
n0, n3 = lo["fake_planted_deliveries"], hi["fake_planted_deliveries"]
assert n0 >= 40 and n3 >= 40, (lo, hi)   # enough deliveries for the comparison to mean something
r0, r3 = lo["fake_planted_returns"] / n0, hi["fake_planted_returns"] / n3
pool = (lo["fake_planted_returns"] + hi["fake_planted_returns"]) / (n0 + n3)
z = (r3 - r0) / math.sqrt(pool * (1 - pool) * (1 / n0 + 1 / n3))
assert r3 - r0 > 0.1 and z > 2.5, (r0, r3, z)
print(f"  returned among fake-planted deliveries: {r0:.3f} of {n0} (fake_return 0), {r3:.3f} of {n3} (3), z {z:.1f}")
PY
finish
