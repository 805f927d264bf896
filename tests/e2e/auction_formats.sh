#!/usr/bin/env bash
# scenarios/auction_formats.yaml made small (3,000 users, 2 days): GSP, VCG and first price
# with autobidding campaigns. Per arm: scripts/auction_welfare.py finds revenue, value,
# surplus and welfare that add up (welfare = surplus + revenue); each arm's campaign shares
# (/entities/campaign_arm_days) were billed exactly what the arm's users were billed
# (/days/<arm>/ad_revenue_millicents, to within the cents each campaign-day rounds away);
# target CPA and ROAS shares that spent moved their goal multipliers, manual and
# max-conversions ones stayed at 1; first price's goal campaigns shade (bid_shade < 1,
# learned from the minimum bids to win), and under GSP and VCG nobody does.
# Usage: auction_formats.sh FLYWHEEL PYTHON SOURCE_DIR
. "$(dirname "$0")/lib.sh"
cd "$TMP"
"$FLYWHEEL" run "$SRC/scenarios/auction_formats.yaml" -q -t 2 -o af.h5 --set world.n_users=3000 \
  --set world.n_notes=6000 --set days=2 2>err.txt || fail "run ($(cat err.txt))"
"$PY" "$SRC/scripts/auction_welfare.py" af.h5 --csv >welfare.csv 2>err.txt || fail "auction_welfare.py ($(cat err.txt))"
"$PY" - af.h5 welfare.csv <<'PY'
import sys
import h5py, numpy as np, pandas as pd
fails = 0
def check(ok, what):
    global fails
    print(("ok: " if ok else "FAIL: ") + what)
    fails += not ok
w = pd.read_csv(sys.argv[2], index_col=0)
f = h5py.File(sys.argv[1], "r")
check(list(w.index) == ["gsp", "vcg", "first"], f"one row per arm: {list(w.index)}")
for arm, r in w.iterrows():
    check(r.revenue_cents > 0 and r.value_cents > 0, f"{arm}: revenue {r.revenue_cents:.0f}, value {r.value_cents:.0f} cents")
    check(abs(r.welfare_cents - (r.surplus_cents + r.revenue_cents)) < 1e-6 * max(1.0, r.welfare_cents),
          f"{arm}: welfare = surplus + revenue")
g = f["entities/campaign_arm_days"]
d = pd.DataFrame({k: g[k][:] for k in g.keys()})
camps = pd.DataFrame({k: f["entities/campaigns"][k][:] for k in f["entities/campaigns"].keys()})
n_camp, n_days = len(camps), len(f["days/day"])
for i, arm in enumerate(["gsp", "vcg", "first"]):
    billed = f[f"days/{arm}/ad_revenue_millicents"][:].sum() / 1000.0
    shares = d[d.cell == i].spend_cents.sum()
    check(0 <= billed - shares <= n_camp * n_days, f"{arm}: the campaigns' shares {shares} cents = the arm's users' billing {billed:.1f} (within rounding)")
dm = d.merge(camps[["goal"]], left_on="campaign", right_index=True)
last = dm[dm.day == dm.day.max()]
check(bool((last[last.goal == 0].goal_multiplier == 1.0).all()), "manual campaigns' goal multiplier stays 1")
spent = dm.groupby(["cell", "campaign"]).spend_cents.sum().rename("spent")
last = last.join(spent, on=["cell", "campaign"])
ctl = last[(last.goal >= 2) & (last.spent > 0)]   # target CPA / ROAS shares that spent something
moved = (ctl.goal_multiplier != 1.0).mean()
check(len(ctl) > 0 and moved == 1.0, f"target CPA and ROAS shares that spent: multipliers moved for {moved:.0%} of {len(ctl)}")
check(bool((last[last.goal == 1].goal_multiplier == 1.0).all()), "max-conversions campaigns' multiplier stays 1 (pacing alone)")
fp = last[(last.cell == 2) & (last.goal > 0) & (last.spend_cents > 0)]   # goal shares that spent on the last day
share = (fp.bid_shade < 1.0).mean()
check(len(fp) > 0 and share >= 0.5 and fp.bid_shade.median() < 1.0, f"first price: {share:.0%} of {len(fp)} goal shares that spent on the last day shade (median {fp.bid_shade.median():.2f})")
check(bool((last[last.cell < 2].bid_shade == 1.0).all()), "GSP and VCG: nobody shades")
def per_imp(cell):
    x = dm[(dm.cell == cell) & (dm.goal > 0)]
    return x.spend_cents.sum() / max(1, x.impressions.sum())
# Shown, not asserted: at this size (about 2,500 goal impressions an arm a day) what goal
# campaigns pay per impression under first price against GSP flips from day to day and
# between nearby settings (measured: 2.51 vs 2.96 cents over the run without ad engagement,
# 2.59 vs 2.55 with it; day by day each way in both) -- a noise-sized difference is no test of
# shading, which the bid_shade checks above test directly.
print(f"info: goal campaigns pay {per_imp(2):.3f} cents an impression under first price, {per_imp(0):.3f} under GSP")
sys.exit(1 if fails else 0)
PY
[ $? -eq 0 ] && pass "auction formats: per-arm books and welfare" || fail "auction formats"
finish
