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
#  - the event log and the entity tables hold the run's days only (their counts equal /days:
#    datasets.py --one);
#  - experiment.counterfactual: the side worlds run the same warm-up (the all-control one equals
#    a plain run with the warm-up; an A/A's GTE is 0);
#  - --replicates: each replicate runs its own warm-up (one equals a single run with its seed);
#  - plug-ins: the baseline as a plug-in equals the built-in one; a ranker and a bidder are
#    called in the warm-up with its negative ticks;
#  - --resume: killed after a day and resumed, a warm-up run ends identical to the uninterrupted
#    one (the warm-up runs again; the finished days are checked against their digests);
#  - nothing is refused any more: every part and option runs with a warm-up (the parts that
#    keep state by day: e2e_warmup_parts).
. "$(dirname "$0")/lib.sh"
cd "$TMP"
. "$(dirname "$0")/warm_world.sh" warmup
val() { h5dump -y -w0 -d "$2" "$1" 2>/dev/null | awk '/DATA \{/ { getline; gsub(/ /, ""); print; exit }'; }
day() { val "$1" "$2" | cut -d, -f$(($3 + 1)); }

run cold 1
run warm1 1 --set world.warmup_days=3
run warm2 2 --set world.warmup_days=3
same "warm-up, 1 vs 2 threads" warm1.h5 warm2.h5
L="--set world.warmup_days=2 --set world.creator_response=1 --set world.churn_base=0.02"
run live1 1 $L
run live2 2 $L
same "warm-up with creators who respond and churn, 1 vs 2 threads" live1.h5 live2.h5
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
same "warm-up in an A/B run, 1 vs 2 threads" ab1.h5 ab2.h5
# The event log and the entity tables start at day 0: the log's rows and outcomes per day and
# arm equal /days (none of the warm-up's sessions in day 0's counts), and so do the tables'
# (note days, user days with their paid orders -- a pre-period day too, whose per-user counts
# the warm-up's end zeroes --, search ranks); every note (the warm-up's too), product and
# campaign is described; each user has one first active day among the recorded days. Both are
# the same for 1 and 2 threads and change no outcome (the run equals the same run without them
# outside /events, /truth and /entities).
E=(--set world.warmup_days=2 --set output.oracle_every=4 --set experiment.pre_days=1)
run noev 2 "${E[@]}"
run ev1 1 "${E[@]}" --set output.events=true --set output.entities=true
run ev2 2 "${E[@]}" --set output.events=true --set output.entities=true
same "warm-up with the event log and the entity tables, 1 vs 2 threads" ev1.h5 ev2.h5
X=(--exclude-path /latency --exclude-attribute / --exclude-path /events --exclude-path /truth --exclude-path /entities)
if h5diff -q "${X[@]}" noev.h5 ev2.h5 && h5diff -q "${X[@]}" ev2.h5 noev.h5; then
  pass "the event log and the entity tables change no outcome"
else fail "the event log or the tables changed the run: $(h5diff -r "${X[@]}" noev.h5 ev2.h5 | head -5)"; fi
"$PY" "$SRC/tests/e2e/datasets.py" --one ev2.h5 >ds.out 2>&1 &&
  pass "the event log and the entity tables hold days 0,1 only and add up to /days" ||
  fail "event log or tables: $(grep -v '^ok' ds.out)"
# --replicates: each replicate runs its own warm-up under its own seed. Replicate 1 (seed 19,
# salt 2) has exactly the tests of a single run with that seed and salt, and differs from
# replicate 0 (this file's run).
run reps 2 --set world.warmup_days=2 --replicates 2
run seed19 1 --set world.warmup_days=2 -s 19 --set experiment.salt=2
if out=$("$PY" - reps.h5 seed19.h5 2>&1 <<'PY'
import sys, h5py, numpy as np
r, s = (h5py.File(f, "r") for f in sys.argv[1:])
rep, one = r["replicates/rec"], s["experiment/rec"]
bad = [k for k in rep if not np.array_equal(rep[k][1], one[k][()], equal_nan=True)]
if bad or not len(rep):
    sys.exit("replicate 1 differs from the run with seed 19 in " + ", ".join(bad))
if np.array_equal(rep["delta"][0], rep["delta"][1], equal_nan=True):
    sys.exit("replicates 0 and 1 have the same deltas")
print(len(rep), "fields")
PY
); then pass "replicate 1 equals a single run with its seed and salt ($out), and differs from replicate 0"
else fail "replicates: $out"; fi

# experiment.counterfactual: the side worlds (everyone on one arm) run the A/B run's warm-up
# (everyone on the control), then the arm from day 0. With a baseline treatment (w_fresh) the
# all-control world's values equal a plain run's with the same warm-up (its per-user counts
# from day 0), bit for bit; with an A/A arm the two worlds are the same, so every GTE is 0.
# (The all-control world of the rec A/B above is not a plain run even cold: a rec arm in the
# scenario changes the control's world.)
cf() {   # cf NAME W_FRESH: an A/B run with the counterfactual, treatment engine.feed.w_fresh
  sed "s/engine.feed.algorithm=rec/engine.feed.w_fresh=$2/" plain_ab.yaml >w.yaml
  run "$1" 2 --set world.warmup_days=2 --set experiment.counterfactual=true
}
cp w.yaml plain_ab.yaml
cf cf 3.0
cf cfaa 0.5
cp plain.yaml w.yaml
run cfplain 2 --set world.warmup_days=2
if out=$("$PY" - cf.h5 cfplain.h5 cfaa.h5 2>&1 <<'PY'
import sys, h5py, numpy as np
f, p, aa = (h5py.File(x, "r") for x in sys.argv[1:])
metrics = list(f["experiment/metric"].asstr()[:])
value = f["experiment/counterfactual/value"][:]
last = int(f["experiment/counterfactual"].attrs["days"]) - 1
u = p["users/all/exp"]
defs = {"active_days_per_user": ("active_days", None), "sessions_per_user": ("sessions", None),
        "impressions_per_user": ("impressions", None), "ctr": ("opens", "impressions"),
        "searches_per_user": ("searches", None), "gmv_per_user": ("gmv_cents", None),
        "ad_revenue_per_user": ("ad_revenue_millicents", None)}
bad = []
for m, (a, b) in defs.items():
    want = u[a][:].astype(float).sum() / (u[b][:].astype(float).sum() if b else len(u[a]))
    if value[0, last, metrics.index(m)] != want:
        bad.append(f"{m}: all-control world {value[0, last, metrics.index(m)]!r}, plain run {want!r}")
gte = aa["experiment/rec/gte"][:]
if not np.isfinite(gte).any() or np.nanmax(np.abs(gte)) != 0:
    bad.append(f"A/A GTE not 0: {gte}")
if value[1, last, metrics.index("impressions_per_user")] == value[0, last, metrics.index("impressions_per_user")]:
    bad.append("the w_fresh world equals the control world")
print("\n".join(bad) if bad else f"{len(defs)} metrics")
sys.exit(1 if bad else 0)
PY
); then pass "counterfactual: the all-control world equals a plain warm-up run ($out); A/A GTE 0"
else fail "counterfactual: $out"; fi

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

# Plug-ins serve the warm-up like any day, with its negative ticks (policy.h, "Days and
# ticks"): the baseline as a ranker plug-in equals the built-in baseline with a warm-up; a
# ranker and a bidder that fail from day -1 on fail the run on the warm-up's last day, named
# as such (a plug-in not called before day 0 would fail on day 0, a tick read without its
# sign as day 0 too).
POL=$(dirname "$FLYWHEEL")/policies
run plugbase 2 --set world.warmup_days=3 --set engine.feed.algorithm=plugin --set engine.feed.plugin="$POL/baseline.so"
same "the baseline as a plug-in vs built in, with a warm-up" warm2.h5 plugbase.h5
plugin_fails() {   # plugin_fails WHAT ARGS...: exit 1 on the warm-up's last day
  local what=$1
  shift
  "$FLYWHEEL" run w.yaml -q -o pf.h5 --force --set world.warmup_days=2 "$@" 2>pf.err
  local rc=$?
  if [ $rc -eq 1 ] && grep -q "(day -1, tick [0-7])" pf.err && grep -q "day -1 (of the warm-up) failed" pf.err; then
    pass "$what: called in the warm-up, fails on day -1"
  else fail "$what: exit $rc, $(cat pf.err)"; fi
}
plugin_fails "a ranker plug-in" --set engine.feed.algorithm=plugin --set engine.feed.plugin="$POL/faulty.so" \
  --set engine.feed.plugin_args="fault=rc day=-1"
plugin_fails "a bidder plug-in" --set engine.ads.bidder=plugin --set engine.ads.bidder_plugin="$POL/bad_bidder.so" \
  --set engine.ads.bidder_args="fault=rc day=-1"

# The pilot (world.warmup_pilot_users): its users alone on the warm-up's first days, everyone
# on its last world.warmup_full_days. 1 and 2 threads agree, alone and with the living world
# (arrivals join the pilot at its rate, creators respond to its attention, users leave); the
# summary's active users a day are at most the pilot's on its days and above it after; the
# pilot is a different warm-up from the plain one of the same length; a resumed pilot run
# (the warm-up run again) equals the uninterrupted one.
cp plain.yaml w.yaml
P=(--set world.warmup_days=4 --set world.warmup_pilot_users=100 --set world.warmup_full_days=1)
"$FLYWHEEL" run w.yaml -t 1 -o pilot1.h5 "${P[@]}" >pilot1.out 2>err.txt || fail "pilot run: $(cat err.txt)"
run pilot2 2 "${P[@]}"
same "pilot warm-up, 1 vs 2 threads" pilot1.h5 pilot2.h5
# world.warmup_pilot_share (the default scenario's way): 0.25 of the 400 users is the pilot of 100
run pshare 2 --set world.warmup_days=4 --set world.warmup_pilot_share=0.25 --set world.warmup_full_days=1
same "a pilot share of 0.25 and a pilot of 100 of 400 users" pilot1.h5 pshare.h5
run pshare2 1 --set world.warmup_days=4 --set world.warmup_pilot_share=0.2 --set world.warmup_full_days=1
if h5diff -q --exclude-path /latency --exclude-attribute / pshare2.h5 pilot1.h5 >/dev/null 2>&1; then
  fail "a pilot share of 0.2 equals one of 0.25"
else pass "the pilot share changes the pilot (0.2 against 0.25)"; fi
run plain4 1 --set world.warmup_days=4
if h5diff -q --exclude-path /latency --exclude-attribute / plain4.h5 pilot1.h5 >/dev/null 2>&1; then
  fail "the pilot warm-up equals the plain warm-up of the same length"
else pass "the pilot warm-up differs from the plain one"; fi
line=$(grep "warm-up:" pilot1.out)
pa=$(sed -n 's/.*pilot of 100 users for 3 days (\([0-9]*\) active a day).*/\1/p' <<<"$line")
fa=$(sed -n 's/.*everyone for 1 day (\([0-9]*\) active a day).*/\1/p' <<<"$line")
if [ -n "$pa" ] && [ -n "$fa" ] && [ "$pa" -ge 1 ] && [ "$pa" -le 100 ] && [ "$fa" -gt 100 ]; then
  pass "pilot days: $pa active users a day (of 100), full days: $fa"
else fail "pilot summary: '$line'"; fi
"$FLYWHEEL" run w.yaml -t 1 -o plain4s.h5 --set world.warmup_days=4 >plain4.out 2>err.txt || fail "plain run: $(cat err.txt)"
grep -q "creator-exposure and shop metrics start off" pilot1.out && grep -q "warm-up: 4 days" plain4.out &&
  ! grep -q "start off" plain4.out &&
  pass "the summary says what a pilot does not carry" || fail "the pilot's caveat: $(cat pilot1.out)"
# With no full day the handover comes after the pilot's last day, before day 0.
run pz1 1 --set world.warmup_days=3 --set world.warmup_pilot_users=100 --set world.warmup_full_days=0
run pz2 2 --set world.warmup_days=3 --set world.warmup_pilot_users=100 --set world.warmup_full_days=0
same "pilot warm-up without full days, 1 vs 2 threads" pz1.h5 pz2.h5
PL=("${P[@]}" --set world.creator_response=1 --set world.churn_base=0.02 --set world.arrivals_per_day=20)
run plive1 1 "${PL[@]}"
run plive2 2 "${PL[@]}"
same "pilot warm-up with arrivals, creators who respond and churn, 1 vs 2 threads" plive1.h5 plive2.h5
"$FLYWHEEL" run w.yaml -q -t 2 --no-snapshot -o pk.h5 "${P[@]}" 2>/dev/null &&
  FLYWHEEL_STOP_AFTER_DAY=1 "$FLYWHEEL" run w.yaml -q -t 2 --no-snapshot -o pk2.h5 "${P[@]}" 2>/dev/null
"$FLYWHEEL" run -t 1 --resume pk2.h5.partial >pk.out 2>pk.err || fail "pilot resume: $(cat pk.err)"
grep -q "a pilot of 100 users" pk.out && same "pilot warm-up, stopped after day 1 and resumed" pk.h5 pk2.h5 ||
  fail "pilot resume summary: $(cat pk.out)"
# What it refuses (exit 2, naming the key): a pilot (count or share) without a warm-up, a
# pilot of everyone, no pilot day left, full days without a pilot, a count and a share.
refuse() {   # refuse WHAT KEY ARGS...
  local what=$1 key=$2
  shift 2
  "$FLYWHEEL" run w.yaml -q -o ref.h5 "$@" >/dev/null 2>ref.err
  local rc=$?
  if [ $rc -eq 2 ] && grep -q "$key" ref.err && [ ! -e ref.h5 ]; then pass "refused: $what"
  else fail "$what: exit $rc, '$(cat ref.err)'"; fi
}
refuse "a pilot without a warm-up" world.warmup_pilot_users --set world.warmup_pilot_users=100
refuse "a pilot of every user" world.warmup_pilot_users --set world.warmup_days=4 --set world.warmup_pilot_users=400
refuse "full days covering the warm-up" world.warmup_full_days "${P[@]}" --set world.warmup_full_days=4
refuse "full days without a pilot" world.warmup_full_days --set world.warmup_days=4 --set world.warmup_full_days=2
refuse "a pilot share without a warm-up" world.warmup_pilot_share --set world.warmup_pilot_share=0.1
refuse "a pilot share of every user" world.warmup_pilot_share --set world.warmup_days=4 --set world.warmup_pilot_share=1
refuse "a pilot both as a count and a share" world.warmup_pilot_share "${P[@]}" --set world.warmup_pilot_share=0.1

# --resume: a warm-up run killed after day 1's checkpoint and resumed (at another thread
# count) without a snapshot (--no-snapshot; resuming from one, warm-up included, is
# e2e_snapshot's) runs the warm-up again, re-simulates the finished days against their
# digests (a day 0 not from the same warm-up would not match) and ends identical to the
# uninterrupted run, its event log and entity tables included.
ck_days() { [ -f "$1" ] && od -An -tu4 -j32 -N4 "$1" | tr -d ' ' || echo -1; }
R=(--days 3 --set world.warmup_days=2 --set output.events=true --set output.entities=true)
run rfull 2 "${R[@]}"
FLYWHEEL_PLANT_DELAY=end_tick=40000000 "$FLYWHEEL" run w.yaml -q -t 2 --no-snapshot -o rk.h5 "${R[@]}" 2>rk.err &
pid=$!
for _ in $(seq 1 1200); do [ "$(ck_days rk.h5.ckpt)" -ge 1 ] 2>/dev/null && break; sleep 0.05; done
kill -KILL $pid
wait $pid
k=$(ck_days rk.h5.ckpt)
if [ "$k" -ge 1 ] && [ "$k" -lt 3 ] && [ -f rk.h5.partial ]; then pass "killed after day $k of a warm-up run"
else fail "kill: checkpoint days $k, $(ls rk.h5*) ($(cat rk.err))"; fi
if h5diff -q --exclude-path /latency --exclude-attribute / rfull.h5 rk.h5.partial >/dev/null 2>&1; then
  fail "a partial file compared identical"; fi
"$FLYWHEEL" run -t 1 --resume rk.h5.partial >rk.out 2>rk2.err || fail "resume: $(cat rk2.err)"
grep -q "warm-up: 2 days before day 0" rk.out && grep -q "resumed: $k finished day" rk.out &&
  pass "the resumed run ran the warm-up and re-simulated $k day(s)" || fail "resume summary: $(cat rk.out)"
same "killed and resumed (2 then 1 threads)" rfull.h5 rk.h5

finish
