#!/usr/bin/env bash
# experiment.counterfactual: the values stored for "everyone on the control" and "everyone on
# the treatment" must be what a plain run of that configuration alone gives (a scenario with
# no experiment, the treatment's overrides applied to everyone), metric by metric, computed
# here from that run's per-user counts; gte and bias must follow from them and from the A/B
# table; and the side runs must not depend on the thread count.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
SC="$SRC/tests/data/tiny_ab.yaml"
"$FLYWHEEL" run "$SC" -t 2 --set experiment.counterfactual=true -o cf.h5 >out.txt 2>err.txt \
  && pass "A/B run with the counterfactual" || fail "counterfactual run ($(cat err.txt))"
grep -q "^counterfactual: the same world and seed" out.txt && grep -q "GTE" out.txt \
  && pass "summary prints the A/B lift beside the GTE" || fail "no counterfactual table: $(tail -5 out.txt)"
sed '/^experiment:/,$d' "$SC" > plain.yaml
{ cat plain.yaml; echo "engine: { feed: { w_fresh: 3.0 } }"; } > treat.yaml
grep -q "engine.feed.w_fresh=3.0" "$SC" || fail "tiny_ab's treatment is no longer w_fresh=3.0: update this test"
"$FLYWHEEL" run plain.yaml -q -t 2 -o plain.h5 2>err.txt || fail "plain run ($(cat err.txt))"
"$FLYWHEEL" run treat.yaml -q -t 2 -o treat.h5 2>err.txt || fail "treatment-only run ($(cat err.txt))"
cat > check.py <<'PY'
import h5py, numpy as np
# Every user-side metric: numerator and denominator of the per-user counts (None: per user).
defs = {
    "active_days_per_user": ("active_days", None), "sessions_per_user": ("sessions", None),
    "impressions_per_user": ("impressions", None), "opens_per_user": ("opens", None),
    "interactions_per_user": ("interactions", None), "follows_per_user": ("follows", None),
    "ctr": ("opens", "impressions"), "interactions_per_read": ("interactions", "opens"),
    "saves_per_read": ("saves", "opens"), "searches_per_user": ("searches", None),
    "search_clicks_per_user": ("search_clicks", None), "search_ctr": ("search_clicks", "search_impressions"),
    "gmv_per_user": ("gmv_cents", None), "orders_per_user": ("paid_orders", None),
    "product_views_per_user": ("product_views", None), "view_to_purchase": ("paid_orders", "product_views"),
    "ad_impressions_per_user": ("ad_impressions", None), "ad_ctr": ("ad_clicks", "ad_impressions"),
    "ad_revenue_per_user": ("ad_revenue_millicents", None),
}
import sys
cf_path, plain_path, treat_path, arm_name = sys.argv[1:5]
f = h5py.File(cf_path, "r")
metrics = list(f["experiment/metric"].asstr()[:])
value = f["experiment/counterfactual/value"][:]
days = int(f["experiment/counterfactual"].attrs["days"])
assert value.shape[0] == 2 and value.shape[2] == len(metrics), value.shape
bad = []
for arm, path in ((0, plain_path), (1, treat_path)):
    u = h5py.File(path, "r")["users/all/exp"]
    for m, (a, b) in defs.items():
        want = u[a][:].astype(float).sum() / (u[b][:].astype(float).sum() if b else len(u[a]))
        got = value[arm, days - 1, metrics.index(m)]
        if not np.isclose(got, want, rtol=1e-12, atol=0):
            bad.append(f"arm {arm} {m}: stored {got!r}, plain run {want!r}")
g = f["experiment/" + arm_name]
gte = value[1, days - 1] / value[0, days - 1] - 1
ok = ~np.isnan(g["lift"][:])
for k, want in (("gte", gte), ("gte_abs", value[1, days - 1] - value[0, days - 1]),
                ("bias", g["lift"][:] - gte), ("bias_abs", g["delta"][:] - (value[1, days - 1] - value[0, days - 1]))):
    got = g[k][:]
    sel = ok if k.startswith("bias") else ~np.isnan(want)
    if not np.allclose(got[sel], want[sel], rtol=1e-12, atol=1e-15):
        bad.append(f"{k}: {got[sel][:3]} vs {want[sel][:3]}")
    if "units" not in g[k].attrs:
        bad.append(f"{k}: no units")
for b in bad:
    print("  ", b)
assert not bad, f"{len(bad)} mismatches"
print(f"{len(defs)} metrics x 2 arms match the plain runs")
PY
"$PY" check.py cf.h5 plain.h5 treat.h5 fresh_boost && pass "counterfactual values = plain runs, per metric; gte and bias consistent" \
  || fail "counterfactual values"
# A baseline control beside a recommender arm: its world must be the platform without the
# recommender (nothing learned reaches a baseline cell, search included).
RSC="$SRC/tests/data/tiny_rec.yaml"
grep -q "engine.feed.algorithm=rec" "$RSC" && grep -q "engine.feed.ad_first_slot=6" "$RSC" \
  || fail "tiny_rec's treatment is no longer algorithm=rec, ad_first_slot=6: update this test"
sed '/^experiment:/,$d' "$RSC" > rplain.yaml
{ cat rplain.yaml; echo "engine: { feed: { algorithm: rec, ad_first_slot: 6 } }"; } > rtreat.yaml
"$FLYWHEEL" run "$RSC" -q -t 2 --set experiment.counterfactual=true -o rcf.h5 2>err.txt || fail "tiny_rec counterfactual ($(cat err.txt))"
"$FLYWHEEL" run rplain.yaml -q -t 2 -o rplain.h5 2>err.txt || fail "baseline-only run ($(cat err.txt))"
"$FLYWHEEL" run rtreat.yaml -q -t 2 -o rtreat.h5 2>err.txt || fail "rec-only run ($(cat err.txt))"
"$PY" check.py rcf.h5 rplain.h5 rtreat.h5 rec && pass "baseline beside rec: everyone-on-control = a baseline-only run, per metric" \
  || fail "a baseline control beside a rec arm is not the platform without the recommender"
"$FLYWHEEL" run "$SC" -q -t 1 --set experiment.counterfactual=true -o cf1.h5 >/dev/null 2>err.txt || fail "one-thread run ($(cat err.txt))"
h5diff -q --exclude-path /latency --exclude-attribute / cf.h5 cf1.h5 >/dev/null \
  && pass "1 and 2 threads: identical files" || fail "counterfactual depends on the thread count"
"$FLYWHEEL" run "$SC" -q -t 2 -o none.h5 >/dev/null 2>&1
"$PY" -c "import h5py,sys; f=h5py.File('none.h5'); sys.exit('experiment/counterfactual' in f or 'gte' in f['experiment/fresh_boost'])" \
  && pass "off by default: nothing stored" || fail "counterfactual written without the knob"
finish
