#!/usr/bin/env bash
# The recommender inside a run (tests/data/tiny_rec.yaml: baseline vs rec): it serves, learns
# and is measured. Its models are calibrated, it beats the baseline on CTR and on the oracle
# NDCG, its NDCG rises as it learns, every channel contributes, and reserved ad slots are
# left out of the impressions.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
"$FLYWHEEL" run "$SRC/tests/data/tiny_rec.yaml" -q -o rec.h5 2>err.txt || fail "run ($(cat err.txt))"
"$PY" - <<'PY' && pass "recommender learns, beats the baseline and is measured" || fail "recommender checks"
import h5py, numpy as np, sys
f = h5py.File("rec.h5", "r")
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
b, r = f["days/baseline"], f["days/rec"]
ctr_b, ctr_r = b["ctr"][:], r["ctr"][:]
check(ctr_r.mean() > 1.1 * ctr_b.mean(), f"rec CTR {ctr_r} not 10% above baseline {ctr_b}")
nb, nr = b["oracle_ndcg"][:], r["oracle_ndcg"][:]
check(np.all(nr > nb), f"rec NDCG {nr} not above baseline {nb} every day")
check(nr[-1] > nr[0], f"rec NDCG did not rise: {nr}")
check(np.all(r["oracle_requests"][:] > 0) and np.all(r["oracle_corpus_requests"][:] > 0), "no oracle samples")
for arm in (b, r):
    check(np.all((arm["coverage"][:] > 0) & (arm["coverage"][:] <= 1)), "coverage out of (0, 1]")
    check(np.all((arm["creator_gini"][:] >= 0) & (arm["creator_gini"][:] < 1)), "gini out of [0, 1)")
    check(np.all(arm["oracle_regret_corpus"][:] >= 0), "negative corpus regret")
# Ad slot 6 of every rec page is left empty: fewer than 10 impressions per full page.
check(r["impressions"][:].sum() <= 9 * f["days/rec/feed_requests"][:].sum(), "reserved slots served")
# Calibration: the open model's mean prediction within 10% of the observed rate on the last day.
m = f["model/open"]
check(np.all(m["samples"][:] > 0), "open model has no samples")
pred, obs = m["predicted"][-1], m["observed"][-1]
check(abs(pred / obs - 1) < 0.1, f"open model uncalibrated: predicted {pred} observed {obs}")
for task in ("like", "save", "comment", "follow"):
    check(np.all(np.isfinite(f["model"][task]["log_loss"][:])), f"{task} log loss not finite")
w = f["work"]
for ch in ("social", "hot", "content", "cf", "graph", "fresh"):
    check(w["recalled_" + ch][1:].sum() > 0, f"channel {ch} recalled nothing")
for s in ("recall_social", "recall_cf", "feed_rerank", "train"):
    check(f["latency"][s]["count"][:].sum() > 0, f"no latency for {s}")
if bad:
    print("\n".join(bad))
    sys.exit(1)
print("ctr baseline", ctr_b.round(4), "rec", ctr_r.round(4), "ndcg rec", nr.round(3))
PY
finish
