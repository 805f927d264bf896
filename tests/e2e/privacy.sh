#!/usr/bin/env bash
# Privacy end to end (tiny_privacy: arms dp, keep, optout against control): each knob acts
# (the arm's daily opens differ from the same run with the arm's overrides removed), the
# privacy accounting in /privacy/days is what the knobs say (epsilon 1 split over trending and
# co-engagement, composed over days), retention forgets and rotates, opt-outs are counted,
# and one and two threads give identical files.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
"$FLYWHEEL" run "$SRC/tests/data/tiny_privacy.yaml" -q -t 2 -o p2.h5 2>err.txt && pass "tiny_privacy runs" || fail "run ($(cat err.txt))"
"$FLYWHEEL" run "$SRC/tests/data/tiny_privacy.yaml" -q -t 1 -o p1.h5 2>err.txt || fail "1-thread run ($(cat err.txt))"
h5diff -q --exclude-path /latency --exclude-attribute / p1.h5 p2.h5 && pass "1 and 2 threads agree" || fail "1 and 2 threads differ"
# The same world with no arm overriding anything (opt-outs still drawn, still ignored).
sed -e '/^      set: /d' "$SRC/tests/data/tiny_privacy.yaml" >aa.yaml
"$FLYWHEEL" run aa.yaml -q -t 2 -o aa.h5 2>err.txt || fail "A/A run ($(cat err.txt))"
"$PY" - <<'PY' && pass "accounting, forgetting, opt-outs, and each knob acts" || fail "privacy checks"
import h5py, numpy as np
f, g = h5py.File("p2.h5", "r"), h5py.File("aa.h5", "r")
p = f["privacy/days"]
eq = lambda k, v: np.testing.assert_array_equal(p[k][:], v, err_msg=k)
eq("eps_trending_ueps", [500000, 500000])   # epsilon 1 over 2 aggregates
eq("eps_coeng_ueps", [500000, 500000])
eq("eps_day_ueps", [1000000, 1000000])
eq("eps_total_ueps", [1000000, 2000000])    # basic composition over days
eq("delta_day_pico", [500000, 500000])      # Laplace: delta only for the pair threshold, halved
new = sum(f["days"][a]["new_notes"][:] for a in ("control", "dp", "keep", "optout"))
d = p["noise_draws"][:]   # every published note, twice a day (some published after the first)
assert 2 * 3000 <= d[0] <= 2 * (3000 + new[0]) and 2 * (3000 + new[0]) <= d[1] <= 2 * (3000 + new[0] + new[1]), (d, new)
n_opt = p["optout_users"][:]
assert 350 < n_opt[0] < 550 and (n_opt == n_opt[0]).all(), n_opt   # 30% of 1500
fo, ru = p["forgotten_opens"][:], p["reset_users"][:]
assert fo[0] == 0 and fo[1] > 0, fo   # a day's opens live through the next day
assert (ru > 0).all() and ru[0] == ru[1], ru   # the keep arm's users, every day (1-day rotation)
for arm in ("dp", "keep", "optout"):
    a, b = f["days"][arm]["opens"][:], g["days"][arm]["opens"][:]
    assert not np.array_equal(a, b), (arm, a, b)
    print(f"  {arm}: opens {a.tolist()} vs {b.tolist()} without its overrides")
assert "privacy" in g   # opt-outs alone keep the module on (counted, ignored)
np.testing.assert_array_equal(g["privacy/days/eps_total_ueps"][:], [0, 0])
print(f"  eps_total_ueps {p['eps_total_ueps'][:].tolist()}, forgotten {fo.tolist()}, reset {ru.tolist()}, opted out {n_opt[0]}")
PY
finish
