#!/usr/bin/env bash
# Search inside a run (tests/data/tiny_search.yaml: keyword vs intent): users search about as
# often as calibrated, the intent arm learns colloquial queries (zero-result rate falls far
# below the keyword arm's, which stays at the share of all-colloquial queries), and its
# pages match the true intent better; search engagement stays out of the feed's counters.
# Blended results (tests/data/tiny_search_products.yaml): the arm with a product card per
# search page examines and clicks products and buys from search through both paths, the
# notes-only arm never sees one; the same for 1 and 2 threads.
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
for t in 1 2; do
  "$FLYWHEEL" run "$SRC/tests/data/tiny_search_products.yaml" -q -t $t -o sp$t.h5 2>err.txt || fail "blended run -t $t ($(cat err.txt))"
done
h5diff -q --exclude-path /latency --exclude-path /work --exclude-attribute / sp1.h5 sp2.h5 >/dev/null 2>&1 &&
  pass "blended search: 1 and 2 threads give the same result" || fail "blended search differs between 1 and 2 threads"
"$PY" - <<'PY' && pass "blended search: product results examined, clicked and bought from, per arm" || fail "blended search"
import h5py
f = h5py.File("sp1.h5", "r")
n, b = f["days/notes"], f["days/blended"]
tot = lambda d, k: int(d[k][:].sum())
assert tot(n, "search_product_impressions") == 0 and tot(n, "search_product_clicks") == 0
assert tot(b, "search_product_impressions") > 0 and 0 < tot(b, "search_product_clicks") < tot(b, "search_product_impressions")
# a product click opens the product page: the blended arm views more products per search
pv = lambda d: tot(d, "product_views") / tot(d, "searches")
assert pv(b) > pv(n) + 0.5 * tot(b, "search_product_clicks") / tot(b, "searches"), (pv(b), pv(n))
assert tot(b, "paid_from_search") > tot(n, "paid_from_search"), (tot(b, "paid_from_search"), tot(n, "paid_from_search"))
print(f"  blended: {tot(b,'search_product_clicks')} product clicks of {tot(b,'search_product_impressions')} examined; "
      f"paid from search {tot(b,'paid_from_search')} vs {tot(n,'paid_from_search')} (notes only); "
      f"product views per search {pv(b):.3f} vs {pv(n):.3f}")
PY
finish
