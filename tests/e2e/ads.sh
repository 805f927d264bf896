#!/usr/bin/env bash
# Native ads end to end (tiny_ads: 10% and 20% ad load, small budgets): slots are filled by
# auctions and examined, revenue per arm adds up to the ads' books, no campaign spends more
# than its daily budget, budgets run out (throttling) without a charge over budget being
# billed, twice the ad load shows more ads, brand spend adds up, ads are notes (an opened ad's
# creative is liked, saved and commented on, per arm, at a rate below an organic note's; with
# behaviour.ad_engagement 0 the adnotes part does not run), advertisers revise each arm's
# share of a budget by that arm's ROAS and leave (world.budget_elasticity, leave_roas; refused
# when the arms share one budget) or join on a later day (world.join_share), and a world without campaigns
# leaves its slots empty (and refuses an ad_engagement that would do nothing).
. "$(dirname "$0")/lib.sh"
cd "$TMP"
"$FLYWHEEL" run "$SRC/tests/data/tiny_ads.yaml" -q -t 2 -o ads.h5 2>err.txt && pass "tiny_ads runs" || fail "run ($(cat err.txt))"
"$PY" - <<'PY' && pass "ads books, budgets and load" || fail "ads checks"
import h5py, numpy as np
f = h5py.File("ads.h5", "r")
d = {a: f["days"][a] for a in ("load10", "load20")}
tot = lambda a, k: int(d[a][k][:].sum())
for a in d:
    assert (d[a]["ad_fills"][:] <= d[a]["ad_slots"][:]).all(), a
    assert (d[a]["ad_clicks"][:] <= d[a]["ad_impressions"][:]).all(), a
    assert tot(a, "ad_impressions") > 0 and tot(a, "ad_clicks") > 0, a
    assert tot(a, "ad_revenue_millicents") > 0, a
    ctr_ad = tot(a, "ad_clicks") / tot(a, "ad_impressions")
    ctr_org = tot(a, "opens") / tot(a, "impressions")
    assert 0.1 < ctr_ad / ctr_org < 1.0, (a, ctr_ad, ctr_org)
    print(f"  {a}: slots {tot(a,'ad_slots')} fills {tot(a,'ad_fills')} impressions {tot(a,'ad_impressions')}"
          f" clicks {tot(a,'ad_clicks')} conversions {tot(a,'ad_conversions')}"
          f" revenue {tot(a,'ad_revenue_millicents')/1e5:.2f} CNY; ad CTR {ctr_ad:.4f} vs organic {ctr_org:.4f}")
load = {a: tot(a, "ad_impressions") / tot(a, "impressions") for a in d}
slots = {a: tot(a, "ad_slots") / tot(a, "sessions") for a in d}
# twice the slots; the small budgets fill fewer of them, but more ads are shown
assert 1.7 < slots["load20"] / slots["load10"] < 2.3, slots
assert load["load20"] / load["load10"] > 1.2, load
books = f["ads/days"]
rev_days = books["revenue_cents"][:]
arms_mc = sum(d[a]["ad_revenue_millicents"][:] for a in d)
# each campaign's day is rounded down to cents: at most one cent per campaign apart
assert (np.abs(arms_mc / 1000.0 - rev_days) <= 40 + 1).all(), (arms_mc, rev_days)
assert (rev_days <= books["budget_cents"][:]).all()
assert books["campaigns_exhausted"][:].sum() > 0, "budgets never ran out: the test world is too rich"
assert (books["overdelivery_cents"][:] >= 0).all()
spend = f["ads/brand_spend_cents"][:]
assert abs(spend.sum() - arms_mc.sum() / 1000.0) <= 50 + 1, (spend.sum(), arms_mc.sum())
for g in ("ads/days",):
    for k, ds in f[g].items():
        assert ds.attrs["units"] is not None and ds.attrs["description"], k
print(f"  slot ratio {slots['load20']/slots['load10']:.2f}, ad load ratio {load['load20']/load['load10']:.2f}; exhausted campaign-days {books['campaigns_exhausted'][:].sum()};"
      f" revenue {rev_days.tolist()} cents; budgets {books['budget_cents'][0]} cents a day")
PY
"$PY" - <<'PY' && pass "ads are notes: creatives liked, saved and commented on after clicks, per arm" || fail "ads as notes"
import h5py
f = h5py.File("ads.h5", "r")
for a in ("load10", "load20"):
    d = f["days"][a]
    t = {k: int(d[k][:].sum()) for k in ("ad_clicks", "ad_likes", "ad_saves", "ad_comments", "ad_interactions",
                                         "opens", "interactions")}
    assert t["ad_interactions"] > 0, (a, t)
    assert t["ad_interactions"] == t["ad_likes"] + t["ad_saves"] + t["ad_comments"], (a, t)
    ad_rate, org_rate = t["ad_interactions"] / t["ad_clicks"], t["interactions"] / t["opens"]
    # the same interaction model on notes of lower affinity: below an organic note's, not far below
    assert 0.1 < ad_rate / org_rate < 1.5, (a, ad_rate, org_rate)
    print(f"  {a}: {t['ad_likes']} likes, {t['ad_saves']} saves, {t['ad_comments']} comments of {t['ad_clicks']} "
          f"opened ads: {ad_rate:.4f} per click vs {org_rate:.4f} per organic read")
PY
"$FLYWHEEL" run "$SRC/tests/data/tiny_ads.yaml" -q -t 2 -d 1 --set behaviour.ad_engagement=0 -o noeng.h5 2>err.txt ||
  fail "run with ad_engagement 0 ($(cat err.txt))"
"$PY" - <<'PY' && pass "behaviour.ad_engagement 0: no ad likes, the adnotes part off" || fail "ad_engagement 0"
import h5py
f = h5py.File("noeng.h5", "r")
assert f["days/load10/ad_clicks"][:].sum() > 0
assert "ad_likes" not in f["days/load10"] and "ad_interactions_per_click" not in f["days/load10"]
PY
for mode in revise leave; do
  if [ $mode = revise ]; then set=(--set world.budget_elasticity=1 --set world.budget_roas_ref=0.001 --set behaviour.cart_rate=0.05 --set behaviour.buy_now=0.5); else set=(--set world.leave_roas=1000); fi
  "$FLYWHEEL" run "$SRC/tests/data/tiny_ads.yaml" -q -t 2 "${set[@]}" --set output.entities=true -o $mode.h5 2>err.txt ||
    fail "run with advertisers ($mode): $(cat err.txt)"
done
"$PY" - <<'PY' && pass "advertisers revise and leave per arm; the books follow" || fail "advertisers"
import h5py, numpy as np
for mode in ("revise", "leave"):
    f = h5py.File(f"{mode}.h5", "r")
    cd = f["entities/campaign_days"]
    days, camp, budget = cd["day"][:], cd["campaign"][:], cd["budget_cents"][:]
    ad = f["entities/campaign_arm_days"]
    for a in ("load10", "load20"):
        d = f["days"][a]
        t = {k: d[k][:] for k in ("ad_budget_cents", "budgets_raised", "budgets_cut", "campaigns_left", "campaigns_in")}
        if mode == "revise":
            # ROAS above 0.001 raises, no conversion at all cuts: both happen in each arm
            assert t["budgets_raised"].sum() > 0 and t["budgets_cut"].sum() > 0, (mode, a, t)
            assert t["campaigns_left"].sum() == 0, (mode, a, t)
        else:
            assert t["campaigns_left"].sum() > 0 and t["budgets_raised"].sum() + t["budgets_cut"].sum() == 0, (mode, a, t)
            assert (np.diff(t["campaigns_in"].astype(np.int64)) <= 0).all() and t["campaigns_in"][-1] < 40, (mode, a, t)
        print(f"  {mode} {a}: budgets for tomorrow {t['ad_budget_cents'].tolist()} cents; raised {t['budgets_raised'].tolist()}"
              f" cut {t['budgets_cut'].tolist()} left {t['campaigns_left'].tolist()}")
    # The campaigns' budgets on day d + 1 are what the arms' shares were set to at day d's end
    # (each share rounded down to cents: at most one cent per campaign and arm apart).
    for day in range(1, int(days.max()) + 1):
        got = budget[days == day].sum()
        want = sum(int(f["days"][a]["ad_budget_cents"][day - 1]) for a in ("load10", "load20"))
        assert abs(got - want) <= 2 * 40, (mode, day, got, want)
    if mode == "leave":
        # A share that left gets no impressions in its arm afterwards.
        ad_day, ad_impr = ad["day"][:], ad["impressions"][:]
        last_day = int(days.max())
        in_last = sum(int(f["days"][a]["campaigns_in"][last_day - 1]) for a in ("load10", "load20"))
        served = ((ad_day == last_day) & (ad_impr > 0)).sum()
        assert served <= in_last, (served, in_last)
PY
"$FLYWHEEL" run "$SRC/tests/data/tiny_ads.yaml" -q -t 2 -d 4 --set world.join_share=0.5 --set world.join_days=3 \
  --set output.entities=true -o join.h5 2>err.txt || fail "run with joining advertisers: $(cat err.txt)"
"$PY" - <<'PY' && pass "advertisers join on their day: no delivery or budget before it" || fail "joining advertisers"
import h5py, numpy as np
f = h5py.File("join.h5", "r")
fd, obj, bid, budget = (f["entities/campaigns"][k][:] for k in ("first_day", "objective", "bid_cents", "daily_budget_cents"))
cd = f["entities/campaign_days"]
day, camp, bud, imp = (cd[k][:] for k in ("day", "campaign", "budget_cents", "impressions"))
assert 0 < (fd > 0).sum() < len(fd) and fd.max() <= 3, np.bincount(fd)
# A campaign whose arm's half of the budget cannot pay its bid once (a conversion bid, mostly)
# is never in an auction: those are not expected to be served.
affords = budget / 2 >= 1.01 * np.where(obj == 0, bid / 1000.0, bid)
for d in range(4):
    m, out = day == d, fd[camp] > d
    assert imp[m & out].sum() == 0 and bud[m & out].sum() == 0, d
    assert ((imp > 0) & m & ~out).sum() > 0.8 * ((fd <= d) & affords).sum(), d    # those in do get served
    assert imp[m & ~affords[camp]].sum() == 0, d
    assert bud[m].sum() == f["ads/days/budget_cents"][d], d
print(f"  joined by day: {[int((fd <= d).sum()) for d in range(4)]} of {len(fd)}; budgets {f['ads/days/budget_cents'][:].tolist()} cents")
PY
"$FLYWHEEL" validate "$SRC/tests/data/tiny_ads.yaml" --set world.budget_elasticity=1 --set experiment.budget_split=false >out.txt 2>err.txt
rc=$?
[ $rc -eq 2 ] && grep -q "world.budget_elasticity" err.txt && grep -q "budget_split" err.txt &&
  pass "budget revisions with one budget for every arm refused (exit 2)" || fail "revisions without a split: exit $rc, $(cat err.txt)"
"$FLYWHEEL" validate "$SRC/tests/data/tiny.yaml" --set world.n_campaigns=0 --set behaviour.ad_engagement=2 >out.txt 2>err.txt
rc=$?
[ $rc -eq 2 ] && grep -q "behaviour.ad_engagement" err.txt && grep -q "n_campaigns is 0" err.txt &&
  pass "ad_engagement without campaigns refused (exit 2)" || fail "ad_engagement without campaigns: exit $rc, $(cat err.txt)"
"$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" -q -t 2 -d 1 --set world.n_campaigns=0 -o none.h5 2>err.txt || fail "run without campaigns ($(cat err.txt))"
"$PY" - <<'PY' && pass "no campaigns, no ads (slots left empty)" || fail "ads without campaigns"
import h5py
f = h5py.File("none.h5", "r")
g = f["days/all"]
assert g["ad_slots"][:].sum() > 0 and g["ad_fills"][:].sum() == 0 and g["ad_impressions"][:].sum() == 0
PY
finish
