#!/usr/bin/env bash
# Issue 18's creators who respond, arrivals and churn, end to end (a few seconds, one small
# world, 2 days; creators post much and every brand posts a small task a day, paid at once, so
# that each response has something to respond to): with every mechanism on, 1 and 3 threads give identical results; then each
# knob, changed alone from that run, acts the way it says (a dataset it must move, moved; one
# it must not, not):
#  - arrivals_per_day: exactly that many arrivals a day; users_present follows arrivals - leavers;
#  - arrivals_follows: the arrivals' onboarding follows change the run;
#  - churn_base: more leavers; churn_dissatisfaction: different leavers;
#  - creator_response, creator_income_response, creator_fatigue, creator_memory_days: day 0's
#    notes the same (every creator starts at their base rate), day 1's different;
#  - creator_quiet_days: fewer active creators with a shorter window.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
cat >w.yaml <<'YAML'
name: living
seed: 18
days: 2
world:
  n_users: 400
  n_notes: 800
  n_brands: 30
  n_products: 200
  ticks_per_day: 8
  notes_per_dau: 1.0
  task_rate: 1.0
  task_budget_cents: 2000
  arrivals_per_day: 25
  churn_base: 0.02
  creator_response: 1.0
  creator_income_response: 1.0
  creator_fatigue: 1.0
engine:
  market:
    settle_days: 0
output:
  compression: 0
  oracle_every: 0
YAML
# val FILE DATASET: the values, comma-separated
val() { h5dump -y -w0 -d "$2" "$1" 2>/dev/null | awk '/DATA \{/ { getline; gsub(/ /, ""); print; exit }'; }
day() { val "$1" "$2" | cut -d, -f$(($3 + 1)); }

run on1 1
run on3 3
if h5diff -q --exclude-path /latency --exclude-attribute / on1.h5 on3.h5; then pass "all on: 1 vs 3 threads identical"
else fail "all on differs across threads: $(h5diff -r --exclude-path /latency --exclude-attribute / on1.h5 on3.h5 | head -20)"; fi

# Arrivals and churn.
[ "$(val on1.h5 /days/all/arrivals)" = "25,25" ] && pass "arrivals: 25 a day" || fail "arrivals: $(val on1.h5 /days/all/arrivals)"
p0=$(day on1.h5 /days/all/users_present 0) p1=$(day on1.h5 /days/all/users_present 1)
l0=$(day on1.h5 /days/all/leavers 0) l1=$(day on1.h5 /days/all/leavers 1)
if [ "$p0" -eq $((400 + 25 - l0)) ] && [ "$p1" -eq $((p0 + 25 - l1)) ]; then pass "users_present = previous + arrivals - leavers ($p0, $p1)"
else fail "users_present $p0 $p1 with leavers $l0 $l1"; fi
# creator_quiet_days only counts, so one run checks it beside arrivals_per_day.
run arr50 1 --set world.arrivals_per_day=50 --set world.creator_quiet_days=1
[ "$(val arr50.h5 /days/all/arrivals)" = "50,50" ] && pass "arrivals_per_day 50: 50 a day" || fail "arrivals_per_day 50: $(val arr50.h5 /days/all/arrivals)"
a=$(day on3.h5 /days/all/active_creators 0) b=$(day arr50.h5 /days/all/active_creators 0)
[ "$b" -lt "$a" ] && pass "creator_quiet_days 1: $b active creators vs $a at 14" || fail "creator_quiet_days 1: $b active vs $a"
# Arrivals are cold: users 400-424 join on day 0, 425-449 on day 1 (ids in arrival order), so
# the second day's have at most one active day; their follows are their onboarding picks (and
# what they follow while reading), fewer without them.
sum_from() { val "$1" "$2" | tr ',' '\n' | awk -v lo="$3" 'NR > lo { s += $1 } END { print s + 0 }'; }
max_from() { val "$1" "$2" | tr ',' '\n' | awk -v lo="$3" 'NR > lo && $1 > m { m = $1 } END { print m + 0 }'; }
[ "$(max_from on3.h5 /users/all/exp/active_days 425)" -le 1 ] && pass "day 1's arrivals were away on day 0" \
  || fail "day 1's arrivals active on $(max_from on3.h5 /users/all/exp/active_days 425) days"
# Onboarding picks and churn_base act on different users (today's arrivals make their picks
# before any churn can touch them; a pick adds no leaver), so one run checks both.
run fol0 1 --set world.arrivals_follows=0 --set world.churn_base=0.1
f3=$(sum_from on3.h5 /users/all/exp/follows 400) f0=$(sum_from fol0.h5 /users/all/exp/follows 400)
if [ "$f3" -ge 50 ] && [ "$f0" -lt "$f3" ]; then pass "arrivals_follows: the 50 arrivals follow $f3 creators with 3 picks, $f0 with none"
else fail "arrivals_follows: arrivals' follows $f3 with 3 picks, $f0 with none"; fi
lc=$(day fol0.h5 /days/all/leavers 0)
[ "$lc" -gt $((2 * l0)) ] && pass "churn_base 0.1: $lc leavers on day 0 vs $l0 at 0.02" || fail "churn_base 0.1: $lc leavers vs $l0"
run diss 1 --set world.churn_dissatisfaction=0
[ "$(val diss.h5 /days/all/leavers)" != "$(val on3.h5 /days/all/leavers)" ] && pass "churn_dissatisfaction changes the leavers" \
  || fail "churn_dissatisfaction 0: the same leavers $(val diss.h5 /days/all/leavers)"

# Creators: day 0 at base rates, day 1 moved by each response.
n0=$(day on3.h5 /days/all/new_notes 0) n1=$(day on3.h5 /days/all/new_notes 1)
for k in creator_response creator_income_response creator_fatigue; do
  run "$k" 1 --set "world.$k=0"
  m0=$(day "$k.h5" /days/all/new_notes 0) m1=$(day "$k.h5" /days/all/new_notes 1)
  if [ "$m0" = "$n0" ] && [ "$m1" != "$n1" ]; then pass "$k: day 0 notes the same ($n0), day 1 differs ($n1 on, $m1 off)"
  else fail "$k: notes day 0 $n0/$m0, day 1 $n1/$m1 (on/off)"; fi
done
run mem 1 --set world.creator_memory_days=0.5
m0=$(day mem.h5 /days/all/new_notes 0) m1=$(day mem.h5 /days/all/new_notes 1)
if [ "$m0" = "$n0" ] && [ "$m1" != "$n1" ]; then pass "creator_memory_days 0.5: day 0 notes the same ($n0), day 1 differs ($n1 at 7, $m1)"
else fail "creator_memory_days 0.5: notes day 0 $n0/$m0, day 1 $n1/$m1"; fi
finish
