#!/usr/bin/env bash
# Search inside a run (tests/data/tiny_search.yaml: keyword vs intent): users search about as
# often as calibrated, the intent arm learns colloquial queries (zero-result rate falls far
# below the keyword arm's, which stays at the share of all-colloquial queries), and its
# pages match the true intent better; search engagement stays out of the feed's counters.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
"$FLYWHEEL" run "$SRC/tests/data/tiny_search.yaml" -q -o s.h5 2>err.txt || fail "run ($(cat err.txt))"
"$PY" - <<'PY' && pass "search runs, learns intents and is measured" || fail "search checks"
import h5py, numpy as np, sys
f = h5py.File("s.h5", "r")
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
k, i = f["days/keyword"], f["days/intent"]
for arm in (k, i):
    share = arm["searchers"][:] / arm["active_users"][:]
    check(np.all((share > 0.35) & (share < 0.65)), f"searchers / DAU {share} not about 0.5")
    per_dau = arm["searches"][:] / arm["active_users"][:]
    check(np.all((per_dau > 3) & (per_dau < 8)), f"searches per DAU {per_dau} not about 5")
    check(np.all(arm["search_impressions"][:] > 0) and np.all(arm["search_clicks"][:] > 0), "no search clicks")
zk, zi = k["zero_result_rate"][:], i["zero_result_rate"][:]
check(zk.min() > 0.03, f"keyword zero-result rate {zk} too low for colloquial queries")
check(zi[-1] < 0.3 * zk[-1], f"intent zero-result rate {zi} not far below keyword's {zk}")
check(i["search_ndcg"][-1] > k["search_ndcg"][-1], "intent NDCG not above keyword's")
check(i["search_success_rate"][1:].mean() > k["search_success_rate"][1:].mean(), "intent success not above keyword")
# The feed's impressions are feed impressions only.
check(np.all(f["work/notes_served"][:] >= k["impressions"][:] + i["impressions"][:]), "search counted as feed")
for s in ("search", "search_retrieve", "search_rank", "search_learn"):
    check(f["latency"][s]["count"][:].sum() > 0, f"no latency for {s}")
check(f["work/postings_traversed"][:].sum() > 0, "no postings traversed")
if bad:
    print("\n".join(bad))
    sys.exit(1)
print("zero-result keyword", zk.round(3), "intent", zi.round(3))
PY
finish
