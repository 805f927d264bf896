#!/usr/bin/env bash
# Issue 18's follow suggestions (behaviour.suggest_follow), end to end (a few seconds: one small
# world, 3 days, 8 ticks a day):
#  - on, with follow-backs and unfollows on too: 1 and 2 threads give identical results;
#    suggested follows every day, every session shown suggestions;
#  - the graph adds up: the creators' followers at the end are the initial edges plus follows
#    plus follow-backs plus suggested follows minus unfollows, and the per-user follows and
#    follows received include them (the run itself fails if the world's and the engine's
#    follower counts of any creator ever differ at a day's end);
#  - per arm: arms at 0.3, 0.1 and 0 follow from about that share of their sessions (0: none);
#  - preferential attachment emerges: with the feed's follows off and one candidate per
#    suggestion (no homophily), the top tenth of creators by day-0 followers gains several
#    times as many suggested follows per creator as the bottom half; with every candidate
#    drawn uniformly (world.follow_uniform 1) about as many;
#  - homophily emerges: with 4 candidates (the default) the followed creators' interests are
#    nearer the followers' than a uniformly drawn creator's; with 1 candidate they are not;
#  - a creator's suggested follow of a small creator is a chance of a follow-back (with the
#    feed's follows off, follow-backs still come, nearly all chances taken at follow_back 1);
#  - a warm-up runs them; off: no datasets; with the event log (which has no suggested follows)
#    refused.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
cat >w.yaml <<'YAML'
name: suggest
seed: 18
days: 3
world:
  n_users: 2000
  n_notes: 3000
  ticks_per_day: 8
  notes_per_dau: 0.5
behaviour:
  open_rate: 0.2
  follow_rate: 0.05
  suggest_follow: 0.05
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
only=(--set behaviour.follow_rate=0 --set behaviour.follow_back=0 --set behaviour.unfollow_rate=0)
run pa0 1 "${only[@]}" --set world.follow_choices=1 --set behaviour.suggest_follow=0
run pa1 1 "${only[@]}" --set world.follow_choices=1 --set behaviour.suggest_follow=0.2
run un0 1 "${only[@]}" --set world.follow_choices=1 --set world.follow_uniform=1 --set behaviour.suggest_follow=0
run un1 1 "${only[@]}" --set world.follow_choices=1 --set world.follow_uniform=1 --set behaviour.suggest_follow=0.2
run bk 1 "${only[@]}" --set behaviour.follow_back=1 --set behaviour.suggest_follow=0.2
run warm 2 --set world.warmup_days=1
sed -e 's/^  suggest_follow: 0.05/  suggest_follow: 0.3/' w.yaml >ab.yaml
cat >>ab.yaml <<'YAML'
experiment:
  arms:
    - name: hi
    - name: lo
      set: ["behaviour.suggest_follow=0.1"]
    - name: none
      set: ["behaviour.suggest_follow=0"]
YAML
"$FLYWHEEL" run ab.yaml -q -t 2 -o ab.h5 2>err.txt || fail "run ab ($(cat err.txt))"

PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$SRC/tests/e2e" "$PY" - on1.h5 ab.h5 pa0.h5 pa1.h5 un0.h5 un1.h5 warm.h5 bk.h5 <<'PY'
import sys
import h5py
import numpy as np
from h5check import check, done, total

on, ab, pa0, pa1, un0, un1, warm, bk = (h5py.File(p, "r") for p in sys.argv[1:])
d = on["days/all"]
sug, shown = d["suggested_follows"][:], d["suggest_sessions"][:]
check((sug > 0).all(), f"suggested follows every day: {list(sug)}")
check((shown == d["sessions"][:]).all(), f"every session is shown suggestions: {list(shown)} of {list(d['sessions'][:])}")
edges = int(on["world"].attrs["n_follow_edges"])
end = int(on["world/creator_followers"][:].sum())
fol, back, unf = total(on, "all", "follows"), total(on, "all", "follow_backs"), total(on, "all", "unfollows")
check(back > 0 and unf > 0, f"follow-backs ({back}) and unfollows ({unf}) happen beside them")
check(end == edges + fol + back + sug.sum() - unf,
      f"followers at the end {end} = initial edges {edges} + follows {fol} + follow-backs {back} "
      f"+ suggested {sug.sum()} - unfollows {unf}")
u = on["users/all/exp"]
uf, ur = int(u["follows"][:].sum()), int(u["follows_received"][:].sum())
want = fol + back + sug.sum()
check(uf == want and ur == want, f"per-user follows {uf} and follows received {ur} = follows + follow-backs + suggested {want}")

rates = {}
for arm, lo, hi in (("hi", 0.25, 0.31), ("lo", 0.07, 0.11), ("none", 0.0, 0.0)):
    s, n = total(ab, arm, "suggested_follows"), total(ab, arm, "suggest_sessions")
    rates[arm] = s / n if n else float("nan")
    check(n >= 1000 and lo <= rates[arm] <= hi, f"per arm: {arm} followed from {s} of {n} sessions, want a share in [{lo}, {hi}]")


def gains(before, after):
    """Mean suggested follows gained per creator: top tenth and bottom half by day-0 followers."""
    b = before["world/creator_followers"][:].astype(float)
    g = after["world/creator_followers"][:].astype(float) - b
    o = np.argsort(-b, kind="stable")
    n = len(b)
    return g[o[: n // 10]].mean(), g[o[n // 2:]].mean(), int(g.sum())


top, bottom, n = gains(pa0, pa1)
check(n == total(pa1, "all", "suggested_follows") and n >= 2000, f"all {n} follows gained are suggested")
check(top > 3 * bottom, f"preferential attachment: the top tenth gains {top:.1f} suggested follows per creator, "
      f"the bottom half {bottom:.1f}")
utop, ubottom, _ = gains(un0, un1)
check(0.7 * ubottom < utop < 1.4 * ubottom, f"candidates drawn uniformly: the top tenth gains {utop:.1f}, the bottom half {ubottom:.1f}")


def match(f):
    return (total(f, "all", "suggested_match_micro") / total(f, "all", "suggested_follows") * 1e-6,
            total(f, "all", "uniform_match_micro") / total(f, "all", "suggested_follows") * 1e-6)


m4, b4 = match(on)
m1, b1 = match(pa1)
check(m4 > b4 + 0.08, f"homophily: of 4 candidates the followed one's interest match is {m4:.3f}, a uniform creator's {b4:.3f}")
check(abs(m1 - b1) < 0.03, f"one candidate: the followed creator's interest match {m1:.3f}, a uniform creator's {b1:.3f}")

b, c, s = total(bk, "all", "follow_backs"), total(bk, "all", "follow_back_chances"), total(bk, "all", "suggested_follows")
k = bk["world/creator_followers"][:].astype(int).sum() - int(bk["world"].attrs["n_follow_edges"])
check(c >= 20 and 0.8 * c <= b <= c and k == s + b,
      f"with the feed's follows off, suggested follows are chances of a follow-back: {b} follow-backs of {c} chances "
      f"at follow_back 1; followers gained {k} = suggested {s} + follow-backs {b}")

ws = warm["days/all/suggested_follows"][:]
check((ws > 0).all(), f"after a day of warm-up: suggested follows every day {list(ws)}")
fo = pa0["days/all"]
check("suggested_follows" not in fo and "suggest_sessions" not in fo, "off (suggest_follow 0): no suggestion datasets")
done()
PY
[ $? -eq 0 ] && pass "the checks in python" || fail "the checks in python"

"$FLYWHEEL" run w.yaml -q -t 1 -o x.h5 --set behaviour.unfollow_rate=0 --set behaviour.follow_back=0 \
  --set output.events=true 2>err.txt
rc=$?
if [ $rc -eq 2 ] && grep -q "output.events: the event log does not record suggested follows, and behaviour.suggest_follow" err.txt &&
  [ ! -e x.h5 ]; then
  pass "the event log with suggested follows refused"
else fail "the event log with suggested follows: exit $rc, $(cat err.txt)"; fi
finish
