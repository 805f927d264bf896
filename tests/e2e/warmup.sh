#!/usr/bin/env bash
# Issue 18's warm-up (world.warmup_days), end to end on one small world (seconds):
#  - 1 and 2 threads give identical results with a warm-up, alone, beside the living world's
#    creators and churn, and in an A/B run (everyone on the control during the warm-up, placed
#    in their cells at day 0);
#  - nothing of the warm-up is recorded: the file holds exactly the run's days, numbered from 0;
#  - the warm-up acts: the notes live before day 0 are the initial catalog alone without it
#    (notes_live - new_notes on day 0 = world.n_notes) and the catalog plus the warm-up's notes
#    with it; the recommender starts day 0 trained (its day-0 normalised entropy and
#    calibration error below a cold start's);
#  - what a warm-up cannot do yet is refused, exit 2, naming world.warmup_days (the event log,
#    the entity tables) or the option (--replicates).
. "$(dirname "$0")/lib.sh"
cd "$TMP"
cat >w.yaml <<'YAML'
name: warmup
seed: 18
days: 2
world:
  n_users: 400
  n_notes: 800
  n_brands: 30
  n_products: 200
  ticks_per_day: 8
  notes_per_dau: 1.0
output:
  compression: 0
  oracle_every: 0
YAML
same() {   # same WHAT A B
  if h5diff -q --exclude-path /latency --exclude-attribute / "$2" "$3"; then pass "$1: 1 vs 2 threads identical"
  else fail "$1 differs across threads: $(h5diff -r --exclude-path /latency --exclude-attribute / "$2" "$3" | head -20)"; fi
}
val() { h5dump -y -w0 -d "$2" "$1" 2>/dev/null | awk '/DATA \{/ { getline; gsub(/ /, ""); print; exit }'; }
day() { val "$1" "$2" | cut -d, -f$(($3 + 1)); }

run cold 1
run warm1 1 --set world.warmup_days=3
run warm2 2 --set world.warmup_days=3
same "warm-up" warm1.h5 warm2.h5
L="--set world.warmup_days=2 --set world.creator_response=1 --set world.churn_base=0.02"
run live1 1 $L
run live2 2 $L
same "warm-up with creators who respond and churn" live1.h5 live2.h5
cp w.yaml plain.yaml
cat >>w.yaml <<'YAML'
experiment:
  arms:
    - name: base
      weight: 1
    - name: rec
      weight: 1
      set: ["engine.feed.algorithm=rec"]
YAML
run ab1 1 --set world.warmup_days=2
run ab2 2 --set world.warmup_days=2
same "warm-up in an A/B run" ab1.h5 ab2.h5
cp plain.yaml w.yaml

# Nothing of the warm-up is recorded.
[ "$(val warm1.h5 /days/day)" = "0,1" ] && pass "the file holds days 0,1 only" || fail "days: $(val warm1.h5 /days/day)"
dc=$(h5dump -a /days_completed warm1.h5 2>/dev/null | awk '/\(0\)/ { print $2 }')
[ "$dc" = "2" ] && pass "days_completed 2" || fail "days_completed '$dc'"

# The notes before day 0.
before() { echo $(($(day "$1" /days/all/notes_live 0) - $(day "$1" /days/all/new_notes 0))); }
bc=$(before cold.h5) bw=$(before warm1.h5)
[ "$bc" -eq 800 ] && pass "cold: 800 notes before day 0 (the catalog)" || fail "cold: $bc notes before day 0"
[ "$bw" -gt 900 ] && pass "warm: $bw notes before day 0 (the catalog and 3 days of posts)" || fail "warm: $bw notes before day 0"

# The recommender starts day 0 trained: its day-0 open model has a lower normalised entropy
# (log loss / the entropy of the observed open rate: the log loss alone moves with the rate)
# and a calibration nearer 1 than a cold start's.
run rcold 1 --set engine.feed.algorithm=rec
run rwarm 1 --set engine.feed.algorithm=rec --set world.warmup_days=3
model() {   # model FILE: "NE calibration" of day 0's open model
  "$PY" -c "import math, sys
ll, p, o = (float(x) for x in sys.argv[1:])
print('%.4f %.4f' % (ll / -(o * math.log(o) + (1 - o) * math.log(1 - o)), abs(p / o - 1)))" \
    "$(day "$1" /model/open/log_loss 0)" "$(day "$1" /model/open/predicted 0)" "$(day "$1" /model/open/observed 0)"
}
read -r nc cc <<<"$(model rcold.h5)"
read -r nw cw <<<"$(model rwarm.h5)"
if "$PY" -c "import sys; sys.exit(0 if $nw < $nc - 0.02 else 1)"; then
  pass "the recommender's day-0 normalised entropy: $nw warm < $nc cold"
else fail "day-0 normalised entropy: $nw warm, $nc cold"; fi
if "$PY" -c "import sys; sys.exit(0 if $cw < $cc else 1)"; then
  pass "the recommender's day-0 calibration error: $cw warm < $cc cold"
else fail "day-0 calibration error: $cw warm, $cc cold"; fi

# Refusals.
refused() {   # refused WHAT PATTERN ARGS...
  local what=$1 pat=$2
  shift 2
  "$FLYWHEEL" run w.yaml -q -o r.h5 --force --set world.warmup_days=2 "$@" 2>err.txt
  local rc=$?
  if [ $rc -eq 2 ] && grep -q -- "$pat" err.txt; then pass "refused: $what"
  else fail "$what: exit $rc, $(cat err.txt)"; fi
}
refused "the event log" "world.warmup_days: .*output.events" --set output.events=true
refused "the entity tables" "world.warmup_days: .*output.entities" --set output.entities=true
refused "--replicates" "world.warmup_days (2) is not supported with --replicates" --replicates 2
finish
