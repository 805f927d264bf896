#!/usr/bin/env bash
# The A/B result file as a researcher reads it (tests/e2e/stats_file.py, h5py and numpy only):
# units on every /experiment dataset, the arms' overrides as written and resolved, and every
# daily look's p-value and sequential p recomputed from /experiment/days -- for user units
# with CUPED, cluster units over two layers, and creator units. Also the printed table's
# columns. Small worlds: about 8 s of CPU in all.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
# User units, a pre-period (CUPED), three looks; overrides written loosely ("3", "12") so that
# the resolved values differ from the written ones.
sed -e 's/engine.feed.w_fresh=3.0/engine.feed.w_fresh=3/' -e '/engine.feed.w_fresh/a\        - engine.feed.page_size=12' \
  "$SRC/tests/data/tiny_ab.yaml" >ab.yaml
SMALL=(--set world.n_users=1500 --set world.n_notes=3000)
if "$FLYWHEEL" run ab.yaml "${SMALL[@]}" --set experiment.pre_days=1 --days 4 -o ab.h5 >out.txt 2>err.txt; then
  pass "user-unit run"
else
  fail "user-unit run ($(cat err.txt))"
fi
"$PY" "$SRC/tests/e2e/stats_file.py" ab.h5 --expect-set fresh_boost engine.feed.w_fresh 3.0 \
  --expect-set fresh_boost engine.feed.page_size 12 && pass "user units: file" || fail "user units: file"
for col in units control treatment cuped_ctl cuped_trt diff lift "95% CI" MDE p_holm p_seq; do
  grep -q -- "$col" out.txt || fail "printed table has no '$col' column"
done
grep -q "look 3 of 3 planned daily looks" out.txt && grep -Eq "^  gmv_per_user +cents/user " out.txt &&
  grep -Eq "^  ad_revenue_per_user +millicents/user " out.txt && pass "printed table: looks, units" ||
  fail "printed table: $(grep -A3 '^experiment' out.txt)"
# Cluster units, two layers (no CUPED: a cluster is not one person).
if "$FLYWHEEL" run "$SRC/tests/data/tiny_layers.yaml" "${SMALL[@]}" -q -o layers.h5 2>err.txt; then
  "$PY" "$SRC/tests/e2e/stats_file.py" layers.h5 --expect-set pages_5 engine.feed.page_size 5 &&
    pass "cluster units, layers: file" || fail "cluster units, layers: file"
else
  fail "layers run ($(cat err.txt))"
fi
# Creator units (producer-side), fewer users and days than the planted test's.
if "$FLYWHEEL" run "$SRC/tests/data/creator_ab.yaml" -q -o creator.h5 --set world.n_users=2000 \
     --set world.n_notes=4000 --days 3 2>err.txt; then
  "$PY" "$SRC/tests/e2e/stats_file.py" creator.h5 && pass "creator units: file" || fail "creator units: file"
else
  fail "creator run ($(cat err.txt))"
fi
finish
