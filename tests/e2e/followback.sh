#!/usr/bin/env bash
# Issue 18's follow-backs (behaviour.follow_back), end to end (a few seconds: one small world,
# 3 days, with follows made often and half the users creators, so that a few hundred follows
# are chances of a follow-back):
#  - on, with unfollows on too: 1 and 2 threads give identical results; follow-backs every day;
#  - the graph adds up: the creators' followers at the end are the initial edges plus follows
#    plus follow-backs minus unfollows (and the run itself fails if the world's and the
#    engine's follower counts of any creator ever differ at a day's end);
#  - the rate: at follow_back 1 nearly every chance is taken (all but the run's last tick's,
#    and the few followed from the feed first); per arm, arms at 0.8, 0.2 and 0 take about
#    that share of their chances (0: none, with chances all the same);
#  - a warm-up runs them (follow-backs every recorded day after a day of warm-up);
#  - off: no follow-back datasets; with the event log (which has no follow-backs) refused.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
cat >w.yaml <<'YAML'
name: followback
seed: 18
days: 3
world:
  n_users: 2000
  n_notes: 3000
  ticks_per_day: 8
  notes_per_dau: 0.5
  creator_share: 0.5
behaviour:
  open_rate: 0.2
  follow_rate: 0.1
  follow_back: 0.5
  unfollow_rate: 0.02
output:
  compression: 0
  oracle_every: 0
YAML
run on1 1
run on2 2
if h5diff -q --exclude-path /latency --exclude-attribute / on1.h5 on2.h5; then pass "on: 1 vs 2 threads identical"
else fail "on differs across threads: $(h5diff -r --exclude-path /latency --exclude-attribute / on1.h5 on2.h5 | head -20)"; fi
run all 1 --set behaviour.follow_back=1 --set behaviour.unfollow_rate=0
run off 1 --set behaviour.follow_back=0
run warm 2 --set world.warmup_days=1
sed -e 's/^  follow_back: 0.5/  follow_back: 0.8/' w.yaml >ab.yaml
cat >>ab.yaml <<'YAML'
experiment:
  arms:
    - name: hi
    - name: lo
      set: ["behaviour.follow_back=0.2"]
    - name: none
      set: ["behaviour.follow_back=0"]
YAML
"$FLYWHEEL" run ab.yaml -q -t 2 -o ab.h5 2>err.txt || fail "run ab ($(cat err.txt))"

PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$SRC/tests/e2e" "$PY" - on1.h5 all.h5 ab.h5 off.h5 warm.h5 <<'PY'
import sys
import h5py
from h5check import check, done, total

on, every, ab, off, warm = (h5py.File(p, "r") for p in sys.argv[1:])
d = on["days/all"]
backs, chances = d["follow_backs"][:], d["follow_back_chances"][:]
check((backs > 0).all(), f"follow-backs every day: {list(backs)} (of {list(chances)} chances)")
edges = int(on["world"].attrs["n_follow_edges"])
end = int(on["world/creator_followers"][:].sum())
fol, unf = total(on, "all", "follows"), total(on, "all", "unfollows")
check(end == edges + fol + backs.sum() - unf,
      f"followers at the end {end} = initial edges {edges} + follows {fol} + follow-backs {backs.sum()} "
      f"- unfollows {unf}")

u = on["users/all/exp"]
uf, ur = int(u["follows"][:].sum()), int(u["follows_received"][:].sum())
check(uf == fol + backs.sum() and ur == fol + backs.sum(),
      f"per-user counts (the A/B tests' follows_per_user) include follow-backs: follows {uf}, received {ur} "
      f"= follows {fol} + follow-backs {backs.sum()}")

b, c = total(every, "all", "follow_backs"), total(every, "all", "follow_back_chances")
check(c >= 200 and 0.9 * c <= b <= c, f"follow_back 1: {b} follow-backs of {c} chances")

rates = {}
for arm, lo, hi in (("hi", 0.65, 0.88), ("lo", 0.1, 0.3), ("none", 0.0, 0.0)):
    b, c = total(ab, arm, "follow_backs"), total(ab, arm, "follow_back_chances")
    rates[arm] = b / c if c else float("nan")
    check(c >= 50 and lo <= rates[arm] <= hi, f"per arm: {arm} took {b} of {c} chances, want a share in [{lo}, {hi}]")
check(rates["hi"] > rates["lo"] + 0.3, f"per arm: the arm at 0.8 takes more than the arm at 0.2 ({rates})")

wb = warm["days/all/follow_backs"][:]
check((wb > 0).all(), f"after a day of warm-up: follow-backs every day {list(wb)}")

fo = off["days/all"]
check("follow_backs" not in fo and "follow_back_chances" not in fo, "off: no follow-back datasets")
done()
PY
[ $? -eq 0 ] && pass "the checks in python" || fail "the checks in python"

"$FLYWHEEL" run w.yaml -q -t 1 -o x.h5 --set behaviour.unfollow_rate=0 --set output.events=true 2>err.txt
rc=$?
if [ $rc -eq 2 ] && grep -q "output.events: the event log does not record follow-backs, and behaviour.follow_back" err.txt &&
  [ ! -e x.h5 ]; then
  pass "the event log with follow-backs refused"
else fail "the event log with follow-backs: exit $rc, $(cat err.txt)"; fi
finish
