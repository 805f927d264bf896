#!/usr/bin/env bash
# Many A/A replicates of a small world (scenarios/aa.yaml, scaled down): false-positive rate
# at alpha 0.05 in [0.03, 0.07], mSPRT at or below alpha under daily looks, uniform SRM
# p-values, CUPED narrowing intervals. bench/aa.sh runs the full-size version.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
if "$FLYWHEEL" run "$SRC/scenarios/aa.yaml" -q -o aa.h5 --replicates ${AA_REPLICATES:-200} \
     --set world.n_users=2000 --set world.n_notes=4000 --set world.ticks_per_day=24 \
     --days 4 2>err.txt; then pass "A/A run with replicates"; else fail "A/A run ($(cat err.txt))"; fi
"$PY" "$SRC/tests/e2e/check_aa.py" aa.h5 && pass "A/A statistics" || fail "A/A statistics"
finish
