#!/usr/bin/env bash
# Issue 18's unfollows (behaviour.unfollow_rate, unfollow_open_keep), end to end (a few
# seconds: one small world, 3 days, where notes are opened often and quality weighs on it, so
# that opening depends visibly on quality):
#  - on: 1 and 2 threads give identical results; unfollows every day;
#  - the graph adds up: the creators' followers at the end are the initial edges plus follows
#    minus unfollows (and the run itself fails if the world's and the engine's follower counts
#    of any creator ever differ at a day's end);
#  - emergence: creators whose notes are of low true quality lose a larger share of their
#    followers than those of high quality (no knob says so: their notes are passed over more);
#  - unfollow_open_keep 1 (opens forgive nothing) changes the unfollows;
#  - per arm: an arm with unfollow_rate 0 has no unfollows beside one with it on;
#  - off: no unfollow datasets, and unfollow_open_keep without unfollow_rate is refused.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
cat >w.yaml <<'YAML'
name: unfollow
seed: 18
days: 3
world:
  n_users: 2000
  n_notes: 3000
  ticks_per_day: 8
  notes_per_dau: 0.5
behaviour:
  open_rate: 0.3
  open_quality: 2.0
  unfollow_rate: 0.02
output:
  compression: 0
  oracle_every: 0
  entities: true
YAML
run on1 1
run on2 2
if h5diff -q --exclude-path /latency --exclude-attribute / on1.h5 on2.h5; then pass "on: 1 vs 2 threads identical"
else fail "on differs across threads: $(h5diff -r --exclude-path /latency --exclude-attribute / on1.h5 on2.h5 | head -20)"; fi
run keep 1 --set behaviour.unfollow_open_keep=1
cat >ab.yaml <<'YAML'
name: unfollow_ab
seed: 18
days: 2
world:
  n_users: 2000
  n_notes: 3000
  ticks_per_day: 8
behaviour:
  unfollow_rate: 0.05
experiment:
  arms:
    - name: on
      weight: 1
    - name: off
      weight: 1
      set:
        - behaviour.unfollow_rate=0
output:
  compression: 0
  oracle_every: 0
YAML
"$FLYWHEEL" run ab.yaml -q -t 2 -o ab.h5 2>err.txt || fail "run ab ($(cat err.txt))"
"$FLYWHEEL" run w.yaml -q -t 2 -o off.h5 --set behaviour.unfollow_rate=0 2>err.txt || fail "run off ($(cat err.txt))"

PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$SRC/tests/e2e" "$PY" - on1.h5 keep.h5 ab.h5 off.h5 <<'PY'
import sys
import h5py
import numpy as np
from h5check import check, done

on, keep, ab, off = (h5py.File(p, "r") for p in sys.argv[1:])
d = on["days/all"]
unf, fol = d["unfollows"][:], d["follows"][:]
check((unf > 0).all(), f"unfollows every day: {list(unf)} (follows {list(fol)})")
check((d["followed_passed"][:] <= d["followed_impressions"][:]).all() and (unf <= d["followed_passed"][:]).all(),
      "unfollows <= followed notes passed over <= followed notes shown")
edges = int(on["world"].attrs["n_follow_edges"])
end = int(on["world/creator_followers"][:].sum())
check(end == edges + fol.sum() - unf.sum(),
      f"followers at the end {end} = initial edges {edges} + follows {fol.sum()} - unfollows {unf.sum()}")
fo = off["days/all"]
end_off = int(off["world/creator_followers"][:].sum())
check(end_off == edges + fo["follows"][:].sum(), f"off: followers at the end {end_off} = edges + follows")

# Emergence: share of followers (at day 0's end) lost by the last day, by creators' mean true
# note quality, lower half against upper half (creators with 5+ followers).
notes, cd = on["entities/notes"], on["entities/creator_days"]
cr, q = notes["creator"][:], notes["quality"][:]
day, cu, fw = cd["day"][:], cd["creator"][:], cd["followers"][:].astype(float)
last = day.max()
f0 = dict(zip(cu[day == 0], fw[day == 0]))
f1 = dict(zip(cu[day == last], fw[day == last]))
qsum, qn = np.bincount(cr, weights=q), np.bincount(cr)
cs = sorted((c for c in f0 if f0[c] >= 5 and c < len(qn) and qn[c] > 0), key=lambda c: qsum[c] / qn[c])
h = len(cs) // 2
lost = [1.0 - sum(f1[c] for c in g) / sum(f0[c] for c in g) for g in (cs[:h], cs[h:])]
check(len(cs) >= 100 and lost[0] > 1.3 * lost[1] > 0,
      f"{len(cs)} creators: the low-quality half lost {lost[0]:.4f} of its followers, the high-quality half {lost[1]:.4f}")

ku = keep["days/all/unfollows"][:]
check(list(ku) != list(unf), f"unfollow_open_keep 1: unfollows {list(ku)} vs {list(unf)} at 0")

a_on, a_off = ab["days/on/unfollows"][:], ab["days/off/unfollows"][:]
check(a_on.sum() > 0 and a_off.sum() == 0, f"per arm: unfollows {list(a_on)} in the arm on, {list(a_off)} in the arm off")

check("unfollows" not in fo and "followed_impressions" not in fo, "off: no unfollow datasets")
done()
PY
[ $? -eq 0 ] && pass "the checks in python" || fail "the checks in python"

"$FLYWHEEL" run w.yaml -q -t 1 -o x.h5 --set behaviour.unfollow_rate=0 --set behaviour.unfollow_open_keep=0.5 2>err.txt
rc=$?
if [ $rc -eq 2 ] && grep -q "unfollow_open_keep.*unfollow_rate is 0" err.txt; then pass "unfollow_open_keep without unfollow_rate refused"
else fail "unfollow_open_keep without unfollow_rate: exit $rc, $(cat err.txt)"; fi
"$FLYWHEEL" run w.yaml -q -t 1 -o x.h5 --set behaviour.unfollow_rate=0.01 --set output.events=true 2>err.txt
rc=$?
if [ $rc -eq 2 ] && grep -q "output.events: the event log does not record unfollows" err.txt && [ ! -e x.h5 ]; then
  pass "the event log with unfollows refused"
else fail "the event log with unfollows: exit $rc, $(cat err.txt)"; fi
finish
