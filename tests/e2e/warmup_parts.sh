#!/usr/bin/env bash
# Issue 18's warm-up (world.warmup_days) with the parts that keep state by day or tick, one
# small world each (seconds): with a warm-up, 1 and 2 threads give identical results, and the
# part's state shows the warm-up happened (or, for schedules of the recorded days, that none
# of it ran before day 0).
. "$(dirname "$0")/lib.sh"
cd "$TMP"
. "$(dirname "$0")/warm_world.sh" warmup_parts
# py FILE... <<'PY': runs a check with h5py, the files as sys.argv[1:].
py() { "$PY" - "$@"; }

# Safety: moderation runs before day 0, so the catalog is scored during the warm-up, not on
# day 0 (a cold run's first tick scores all 800 catalog notes).
S="--set world.violation_spam=0.1 --set world.violation_unsafe=0.05 --set engine.safety.action=remove"
warm3 safety $S
py safety_cold.h5 safety1.h5 <<'PY' && pass "safety: the catalog was moderated before day 0" || fail "safety: day 0 scored"
import sys, h5py
c, w = (h5py.File(f, "r")["days/all/mod_scored"][0] for f in sys.argv[1:])
print("  day-0 notes scored: cold %d, warm %d" % (c, w))
assert c >= 800 and w < 800 - 300, (c, w)
PY
# AIGC: the tool launches at day 0, so a warm-up's notes are human: day 0's share of feed
# impressions on AI-generated notes is no higher than a cold start's (were the warm-up's days
# counted as days since launch, every creator would have adopted and the catalog be AI-made).
A="--set behaviour.aigc_adoption_per_day=0.05"
warm3 aigc $A
py aigc_cold.h5 aigc1.h5 <<'PY' && pass "aigc: nobody adopted before day 0" || fail "aigc: AI-generated notes before day 0"
import sys, h5py
share = [h5py.File(f, "r")["days/all/aigc_impression_share"][0] for f in sys.argv[1:]]
adopters = [h5py.File(f, "r")["aigc/arms/all/adopters"][0] for f in sys.argv[1:]]
print("  day-0 AI impression share: cold %.4f, warm %.4f; adopters %d, %d" % (*share, *adopters))
assert share[1] <= share[0] + 0.01 and adopters[0] == adopters[1], (share, adopters)
PY
# Media: the pipeline runs before day 0 (signed ticks), so a slow one starts day 0 with the
# warm-up's backlog: day 0 releases notes submitted before it (a delay of 8 ticks, a day, or
# more), which a cold start, whose pipeline starts empty, cannot.
M="--set engine.media.review_capacity=10"
warm3 media $M
py media_cold.h5 media1.h5 <<'PY' && pass "media: day 0 releases the warm-up's backlog" || fail "media: no backlog at day 0"
import sys, h5py
d = [h5py.File(f, "r")["media/days/delay_max"][0] for f in sys.argv[1:]]
print("  day-0 longest publish delay (ticks): cold %d, warm %d" % tuple(d))
assert d[0] < 8 <= d[1], d
PY
# Notify: digests go out before day 0, so day 0's digest lists the warm-up's last day's notes
# (a cold start's day 0 has no previous day: no digest).
N="--set engine.notify.digest_size=5"
warm3 notify $N
py notify_cold.h5 notify1.h5 <<'PY' && pass "notify: day 0 has the warm-up's digests" || fail "notify: day 0's digests"
import sys, h5py
d = [h5py.File(f, "r")["days/all/digests"][0] for f in sys.argv[1:]]
print("  day-0 digests: cold %d, warm %d" % tuple(d))
assert d[0] == 0 < d[1], d
PY
# Promotions: coupons and promotion days are the recorded run's calendar (claim windows from
# day 0's tick, days by number), so none runs before day 0: every claim in the coupons' books
# is a claim of a recorded day, and the calendar column marks day 2 alone.
P="--set world.n_users=600 --set world.n_notes=1200 --set world.ticks_per_day=12 -d 3"
promo() { "$FLYWHEEL" run "$SRC/tests/data/tiny_coupon.yaml" -q -t "$2" -o "$1.h5" $P "${@:3}" 2>err.txt || fail "run $1 ($(cat err.txt))"; }
promo promo_cold 1
promo promo1 1 --set world.warmup_days=2
promo promo2 2 --set world.warmup_days=2
same "promotions" promo1.h5 promo2.h5
py promo_cold.h5 promo1.h5 <<'PY' && pass "promotions: no coupon claimed before day 0; the calendar's day 2 alone" || fail "promotions before day 0"
import sys, h5py
for name in sys.argv[1:]:
    f = h5py.File(name, "r")
    books = int(f["promotions/coupon_books"][:, 0].sum())
    days = int(sum(f["days"][a]["coupon_claims"][:].sum() for a in ("control", "coupon")))
    cal = f["promotions/days/promotion_day"][:].tolist()
    print("  %s: claims in the books %d, on the recorded days %d; calendar %s" % (name, books, days, cal))
    assert books == days > 0 and cal == [0, 0, 1], (books, days, cal)
PY
# Live selling: the warm-up's days draw sessions as any day (stream day -k), so sessions of two
# days' length started before day 0 are live on day 0 beside day 0's own; the recorded days'
# sessions are those a cold run draws, and /live/sessions lists them alone.
L="--set world.live_sessions_per_day=3 --set world.live_duration_min_ticks=16 --set world.live_duration_max_ticks=16"
L="$L --set engine.live.enabled=1 --set behaviour.live_card_click=0.1"
warm3 live $L
py live_cold.h5 live1.h5 <<'PY' && pass "live: sessions before day 0, the recorded days' schedule unchanged" || fail "live sessions"
import sys, h5py
c, w = (h5py.File(f, "r") for f in sys.argv[1:])
tc, tw = c["live/sessions"][:], w["live/sessions"][:]
on = [f["days/all/live_sessions"][0] for f in (c, w)]
print("  recorded sessions: cold %d, warm %d; sessions live on day 0: cold %d, warm %d" % (len(tc), len(tw), *on))
assert len(tc) == len(tw) > 0 and (tc[:, :5] == tw[:, :5]).all() and (tw[:, 0] >= 0).all(), (tc[:, :5], tw[:, :5])
assert on[0] < on[1], on
PY
# Arrivals: a warm-up's days have their arrivals too (ids 400-449 on days -2 and -1, 450-474 on
# day 0, 475-499 on day 1), so day 0 starts with 450 users present; each recorded day counts
# only its own 25 arrivals; the warm-up's arrivals are regular users on day 0 (active there).
R="--set world.arrivals_per_day=25"
run arr1 1 $R --set world.warmup_days=2
run arr2 2 $R --set world.warmup_days=2
same "arrivals" arr1.h5 arr2.h5
py arr1.h5 <<'PY' && pass "arrivals: the warm-up's are present at day 0" || fail "arrivals with a warm-up"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
arr, present = f["days/all/arrivals"][:].tolist(), f["days/all/users_present"][:].tolist()
act = f["users/all/exp/active_days"][:]
print("  arrivals %s, users present %s, users in the file %d; active days of the warm-up's arrivals %d, "
      "of day 1's %d" % (arr, present, len(act), act[400:450].sum(), act[475:].max()))
assert arr == [25, 25] and present == [475, 500] and len(act) == 500, (arr, present, len(act))
assert act[400:450].sum() > 0 and act[475:].max() <= 1, act[400:]
PY
# Joining advertisers: they join on the recorded days (1 .. join_days); a warm-up's days are
# before every first day (the engine takes days as signed), so the joiners stay out of its
# auctions: the engine's check (no spend before joining) holds, and day 0's budgets are a
# cold start's.
J="--set world.n_users=800 --set world.n_notes=1600 --set world.ticks_per_day=12 -d 2"
J="$J --set world.join_share=0.5 --set world.join_days=1"
ads() { "$FLYWHEEL" run "$SRC/tests/data/tiny_ads.yaml" -q -t "$2" -o "$1.h5" $J "${@:3}" 2>err.txt || fail "run $1 ($(cat err.txt))"; }
ads join_cold 1
ads join1 1 --set world.warmup_days=2
ads join2 2 --set world.warmup_days=2
same "joining advertisers" join1.h5 join2.h5
py join_cold.h5 join1.h5 <<'PY' && pass "joining advertisers: none before day 1" || fail "joining advertisers with a warm-up"
import sys, h5py
c, w = (h5py.File(f, "r")["ads/days/budget_cents"][:].tolist() for f in sys.argv[1:])
print("  budgets joined by day: cold %s, warm %s" % (c, w))
assert c == w and c[0] < c[1], (c, w)
PY
# Retention: the recommender forgets opens older than engine.privacy.retention_days, days
# taken as signed (a warm-up's below 0): at day 0's end a 1-day window forgets the warm-up's
# last day's opens, where a cold start has none to forget (taken unsigned, a warm-up's opens
# were never forgotten).
T="--set engine.feed.algorithm=rec --set engine.privacy.retention_days=1"
warm3 ret $T
py ret_cold.h5 ret1.h5 <<'PY' && pass "retention: day 0 forgets the warm-up's opens" || fail "retention with a warm-up"
import sys, h5py
c, w = (h5py.File(f, "r")["privacy/days/forgotten_opens"][:].tolist() for f in sys.argv[1:])
print("  opens forgotten by day: cold %s, warm %s" % (c, w))
assert c[0] == 0 < w[0], (c, w)
PY
# DP: the platform releases its noisy trending and co-engagement counts on a warm-up's days
# too (noise keyed apart from the recorded days'), and the accounting counts them: the users'
# data was released then. So day 0's epsilon to date is three days' after two warm-up days,
# one day's cold.
D="--set engine.feed.algorithm=rec --set engine.privacy.dp=laplace --set engine.privacy.epsilon=1"
warm3 dp $D
py dp_cold.h5 dp1.h5 <<'PY' && pass "DP: the warm-up's releases are accounted" || fail "DP accounting with a warm-up"
import sys, h5py
(cd, ct, cn), (wd, wt, wn) = ([h5py.File(f, "r")["privacy/days/" + k][:].tolist()
                               for k in ("eps_day_ueps", "eps_total_ueps", "noise_draws")] for f in sys.argv[1:])
print("  epsilon (micro) by day: cold %s to date %s, warm %s to date %s; noise draws warm %s" % (cd, ct, wd, wt, wn))
assert cd == wd and cd[0] > 0 and ct == [cd[0], cd[0] + cd[1]] and wt == [3 * wd[0], 3 * wd[0] + wd[1]], (ct, wt)
assert min(wn) > 0, wn
PY
py dp_cold.h5 dp1.h5 <<'PY' && pass "DP: day 0 serves what the warm-up released" || fail "DP releases during a warm-up"
# A DP cell's trending pool is its last release: empty until a cold run's first release at
# day 0's end, so the recommender's trending ('hot') channel recalls nothing on day 0; after a
# warm-up it recalls the warm-up's released pool from day 0's first tick.
import sys, h5py
c, w = (h5py.File(f, "r")["work/recalled_hot"][:].tolist() for f in sys.argv[1:])
print("  trending recalls by day: cold %s, warm %s" % (c, w))
assert c[0] == 0 < c[1] and w[0] > 0, (c, w)
PY
finish
