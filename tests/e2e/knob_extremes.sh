#!/usr/bin/env bash
# Hostile knobs (tests/e2e/knob_extremes.py), the money knobs: each at both ends of its range,
# then all at their minimums and all at their maximums together, on the kitchen-sink scenario
# (every capability with state on) with live selling on too. Every run must finish (exit 0) or
# be refused with a message (exit 2); under ASan+UBSan (.ci/run's asan stage) a sanitizer
# report fails it too. With the scenario's 20 campaigns even every money knob at its maximum
# fits the books; 10,000 campaigns at the largest budget do not, and are refused before any
# file is written (README, "Every book of money has a bound"). The whole knob table, one at a
# time: python3 tests/e2e/knob_extremes.py FLYWHEEL DIR -- SCENARIO [run options].
. "$(dirname "$0")/lib.sh"
cd "$TMP"
MONEY=world.price_,world.budget_median,world.cpm_bid,world.cpc_bid,world.cpa_bid,world.ad_budget,world.task_budget,world.quote_per,engine.ads.reserve,world.live_discount
"$PY" "$SRC/tests/e2e/knob_extremes.py" "$FLYWHEEL" kx --only "$MONEY" --together --refusals --timeout 120 --jobs 2 \
  -- "$SRC/tests/data/tiny_resume.yaml" -d 2 --set world.live_sessions_per_day=2 --set engine.live.enabled=1 >out.txt 2>&1
rc=$?
cat out.txt
[ $rc -eq 0 ] && pass "money knobs at their extremes: every run finished or was refused" || fail "money knobs: findings above"
# 10,000 campaigns at the largest budget: refused for the ads' books, before any file.
"$FLYWHEEL" run -q -t 1 "$SRC/tests/data/tiny_resume.yaml" -d 2 -o max.h5 --set world.ad_budget_cents=1e12 \
  --set world.n_campaigns=10000 --set world.cpa_bid_cents=1e9 >/dev/null 2>err.txt
rc=$?
[ $rc -eq 2 ] && grep -qF "world.ad_budget_cents" err.txt && [ ! -e max.h5 ] && [ ! -e max.h5.partial ] &&
  pass "10,000 campaigns at the largest budget: refused (exit 2), nothing written" || fail "largest budgets: exit $rc, $(cat err.txt)"
finish
