#!/usr/bin/env bash
# Many A/A replicates of scenarios/aa.yaml (2,000 users, 2 pre-period days, 14 experiment days,
# so 14 daily looks, and a few tens of buyers per arm: GMV per user is sparse; one learned
# state for both arms, so the arms are identical in distribution): per metric, the
# false-positive rate of the primary test and of the sequential test and the spread of its
# z-statistics, the rate of runs with any Holm-adjusted rejection, uniform SRM p-values, CUPED
# narrowing the intervals. Every rate is printed with its Wilson interval; check_aa.py says
# what fails and why that is honest for the number of replicates. ctest runs 200
# (AA_REPLICATES overrides): up to 20 minutes on two busy cores, hence label slow.
#
# AA_ISOLATION=per_arm (ctest's e2e_aa_per_arm) runs the defaults instead: per-arm learned
# state in 8 learner groups an arm, tested as clusters, and a budget split; 60 replicates
# (AA_REPLICATES overrides) are enough for the spread check to catch one learner per arm
# (var(z) 4.4 for ad CTR against a bound of 1.72), about 4 minutes.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
start=$(date +%s)
reps=${AA_REPLICATES:-200}
sets=()
if [ "${AA_ISOLATION:-}" = per_arm ]; then
  reps=${AA_REPLICATES:-60}
  sets=(--set experiment.isolation=per_arm --set experiment.budget_split=true)
fi
if "$FLYWHEEL" run "$SRC/scenarios/aa.yaml" -q -o aa.h5 --replicates $reps "${sets[@]}" 2>err.txt; then
  pass "A/A run with $reps replicates ${sets[*]} ($(( $(date +%s) - start )) s)"
else
  fail "A/A run ($(cat err.txt))"
fi
"$PY" "$SRC/tests/e2e/check_aa.py" aa.h5 && pass "A/A statistics" || fail "A/A statistics"
finish
