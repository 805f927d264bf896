#!/usr/bin/env bash
# Isolation by arm (issue 14): tests/data/isolation.yaml as an A/A and with "treat" doubling
# its ad slots, under experiment.isolation per_arm with a budget split (the defaults) and
# under shared isolation with one budget; tests/e2e/isolation.py says what must hold.
# Also: the per-arm runs are the same for 1 and 2 threads (the learners fork and train at
# barriers only).
. "$(dirname "$0")/lib.sh"
cd "$TMP"
BASE=$SRC/tests/data/isolation.yaml
cp "$BASE" aa.yaml
{ cat "$BASE"; printf '      set: ["engine.feed.ad_first_slot=3", "engine.feed.ad_every=5"]\n'; } >double.yaml
ISO=(--set experiment.isolation=per_arm --set experiment.budget_split=true)
SHARED=(--set experiment.isolation=shared --set experiment.budget_split=false)
run() {  # run OUT SCENARIO ARGS...
  local out=$1
  shift
  "$FLYWHEEL" run "$@" -q -t 2 -o "$out" 2>err.txt || fail "run $*: $(cat err.txt)"
}
run aa_iso.h5 aa.yaml "${ISO[@]}"
run double_iso.h5 double.yaml "${ISO[@]}"
run aa_shared.h5 aa.yaml "${SHARED[@]}"
run double_shared.h5 double.yaml "${SHARED[@]}"
if out=$("$PY" "$(dirname "$0")/isolation.py" aa_iso.h5 double_iso.h5 aa_shared.h5 double_shared.h5 2>&1); then
  pass "isolation checks:"
else
  fail "isolation checks:"
fi
echo "$out"

# With a pre-period: every arm's learned state forks from the pre-period's at its end.
SMALL=(--set days=2 --set experiment.pre_days=1 --set world.n_users=1500 --set world.n_notes=3000)
"$FLYWHEEL" run double.yaml "${ISO[@]}" "${SMALL[@]}" -q -t 1 -o t1.h5 2>err.txt || fail "run -t 1: $(cat err.txt)"
"$FLYWHEEL" run double.yaml "${ISO[@]}" "${SMALL[@]}" -q -t 2 -o t2.h5 2>err.txt || fail "run -t 2: $(cat err.txt)"
if h5diff -q --exclude-path /latency --exclude-attribute / t1.h5 t2.h5 >/dev/null 2>&1; then
  pass "per-arm isolation with a pre-period (forked state): 1 and 2 threads give the same results"
else
  fail "per-arm isolation with a pre-period: 1 and 2 threads differ"
fi
finish
