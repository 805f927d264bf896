#!/usr/bin/env bash
# A planted effect (scenarios/planted.yaml: the treatment ends sessions less readily) is
# detected with the right sign, and its intervals cover the true simulated effect -- the
# difference between the same world run with everybody treated and with nobody treated --
# in most replicates (about 95% expected; at least 80% required over 20). The recorded run
# also has experiment.counterfactual: its stored global treatment effect must agree with that
# truth and be covered as often.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
# The truth: one arm gets the smallest weight the loader takes (1e-6), so (almost) every user
# is on the other side, served by one learned state as in a rollout (and as the counterfactual
# runs are; the A/B run deals each arm's users into 8 learner groups).
awk '/weight:/ && ++n == 1 {sub(/weight: 1/, "weight: 0.000001")} {print}' "$SRC/scenarios/planted.yaml" >all_treated.yaml
awk '/weight:/ && ++n == 2 {sub(/weight: 1/, "weight: 0.000001")} {print}' "$SRC/scenarios/planted.yaml" >all_control.yaml
for side in treated control; do
  "$FLYWHEEL" run all_$side.yaml -q -o $side.h5 --set experiment.learners_per_arm=1 2>err.txt || fail "truth run $side ($(cat err.txt))"
done
if "$FLYWHEEL" run "$SRC/scenarios/planted.yaml" -q -o ab.h5 --replicates ${PLANTED_REPLICATES:-20} \
     --set experiment.counterfactual=true 2>err.txt; then
  pass "A/B run with replicates"
else
  fail "A/B run ($(cat err.txt))"
fi
"$PY" - <<'PY' && pass "planted effect detected and covered" || fail "planted effect"
import h5py, numpy as np
def per_user(path, arm):
    f = h5py.File(path, "r")
    pre = int(f["users"].attrs["pre_days"])
    return f["days"][arm]["impressions"][pre:].sum() / f["arms"][arm].attrs["users"]
truth = per_user("treated.h5", "longer_sessions") / per_user("control.h5", "control") - 1
f = h5py.File("ab.h5", "r")
m = list(f["experiment/metric"].asstr()[:]).index("impressions_per_user")
e = f["experiment/longer_sessions"]
r = f["replicates/longer_sessions"]
lift = np.where(np.isnan(r["cuped_lift"][:, m]), r["lift"][:, m], r["cuped_lift"][:, m])
lo = np.where(np.isnan(r["cuped_ci_lo"][:, m]), r["lift_ci_lo"][:, m], r["cuped_ci_lo"][:, m])
hi = np.where(np.isnan(r["cuped_ci_hi"][:, m]), r["lift_ci_hi"][:, m], r["cuped_ci_hi"][:, m])
cover = np.mean((lo <= truth) & (truth <= hi))
print(f"true effect on impressions per user {truth:+.4f}; A/B lift {e['lift'][m]:+.4f} "
      f"(p {e['p'][m]:.2g}); replicates: mean lift {lift.mean():+.4f}, coverage {cover:.2f}")
assert truth > 0.05, "the planted change should raise impressions per user"
assert e["p"][m] < 0.05 and e["lift"][m] > 0, "the recorded run should detect it"
assert np.all(lift > 0), "every replicate should see the right sign"
assert cover >= 0.8, f"coverage {cover:.2f} < 0.8"
# The counterfactual's GTE is everyone on each arm exactly (the truth runs above leave a
# 1e-6 weight), so the two agree closely, not exactly.
gte = e["gte"][m]
cover_gte = np.mean((lo <= gte) & (gte <= hi))
print(f"counterfactual GTE {gte:+.4f} (truth runs {truth:+.4f}); bias of the recorded lift "
      f"{e['bias'][m]:+.4f}; replicates' intervals cover the GTE in {cover_gte:.2f}")
assert abs(gte - truth) < 0.01, f"GTE {gte:+.4f} far from the truth runs' {truth:+.4f}"
assert np.isclose(e["bias"][m], e["lift"][m] - gte)
assert cover_gte >= 0.8, f"GTE coverage {cover_gte:.2f} < 0.8"
PY
# Producer-side: creator units, the treatment boosts its creators' notes for every viewer.
# Every replicate must see its creators receive more impressions, and user-side metrics are
# not tested (NaN) when the unit is the creator.
if "$FLYWHEEL" run "$SRC/tests/data/creator_ab.yaml" -q -o creator.h5 --replicates 8 2>err.txt; then
  pass "creator-unit run"
else
  fail "creator-unit run ($(cat err.txt))"
fi
"$PY" - <<'PY' && pass "producer-side effect detected" || fail "producer-side effect"
import h5py, numpy as np
f = h5py.File("creator.h5", "r")
metrics = list(f["experiment/metric"].asstr()[:])
i = metrics.index("impressions_received")
r = f["replicates/boosted"]
lift = np.where(np.isnan(r["cuped_lift"][:, i]), r["lift"][:, i], r["cuped_lift"][:, i])
print("impressions received per creator, lift by replicate:", np.round(lift, 3))
assert np.all(lift > 0) and lift.mean() > 0.2, lift
assert f["experiment"].attrs["unit"] == "creator"
assert np.isnan(f["experiment/boosted/lift"][metrics.index("ctr")])
assert not np.isnan(f["experiment/boosted/lift"][i])
PY
finish
