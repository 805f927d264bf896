"""Checks of e2e_isolation (tests/e2e/isolation.sh) on four result files of one world.

usage: isolation.py AA_PERARM.h5 DOUBLE_PERARM.h5 AA_SHARED.h5 DOUBLE_SHARED.h5
 1. In the A/A run with per-arm isolation and a budget split the arms are statistically
    identical: on every per-user count below, Welch's t-test of treat against control has
    p >= 0.01 / (number of counts) (Bonferroni at 1%), and so has the run's own primary test
    of every metric (over its learner groups).
 2. Doubling treat's ad slots leaves control's ad revenue per user within the 95% interval of
    its A/A value (per-arm isolation, budget split).
 3. With shared isolation and one budget, the same treatment moves control's ad revenue per
    user (the contamination): reported, and required to move it more than (2) did, so that
    (2) is shown able to fail.
 4. The per-arm run's tests are over 8 learner groups per arm (learners_per_arm auto) at every
    look; the shared run's over its users.
Prints one line per check; exit 1 when a check fails."""
import math
import sys

import h5py
import numpy as np

COUNTS = ("active_days", "sessions", "impressions", "opens", "interactions", "searches",
          "search_clicks", "product_views", "paid_orders", "ad_impressions", "ad_clicks",
          "ad_revenue_millicents")


def per_user(path, arm, name):
    with h5py.File(path, "r") as f:
        return f["users/%s/exp/%s" % (arm, name)][:].astype(float)


def mean_se(x):
    return x.mean(), x.std(ddof=1) / math.sqrt(len(x))


def welch_p(a, b):
    """Two-sided p of Welch's t-test (normal approximation: thousands of users an arm)."""
    (ma, sa), (mb, sb) = mean_se(a), mean_se(b)
    se = math.hypot(sa, sb)
    if se == 0.0:
        return 1.0 if ma == mb else 0.0
    return math.erfc(abs(mb - ma) / se / math.sqrt(2.0))


def main():
    aa_iso, dbl_iso, aa_sh, dbl_sh = sys.argv[1:5]
    ok = True
    alpha = 0.01 / len(COUNTS)
    worst = min((welch_p(per_user(aa_iso, "control", c), per_user(aa_iso, "treat", c)), c) for c in COUNTS)
    good = worst[0] >= alpha
    ok &= good
    print("%s: A/A, per_arm + budget_split: arms identical on %d per-user counts (smallest p %.3f, %s; "
          "Bonferroni bound %.4f)" % ("ok" if good else "FAIL", len(COUNTS), worst[0], worst[1], alpha))

    # The same A/A by the run's own tests (over its learner groups): no metric flagged.
    with h5py.File(aa_iso, "r") as f:
        p = f["experiment/treat/p"][:]
        names = f["experiment/metric"].asstr()[:]
    p_ok = ~np.isnan(p)
    bound = 0.01 / max(int(p_ok.sum()), 1)
    k = int(np.argmin(np.where(p_ok, p, np.inf)))
    good = p_ok.any() and p[p_ok].min() >= bound
    ok &= good
    print("%s: A/A, per_arm + budget_split: the file's tests flag no metric (smallest p %.3f, %s; Bonferroni "
          "bound %.4f)" % ("ok" if good else "FAIL", p[k], names[k], bound))

    rev = "ad_revenue_millicents"
    m0, se0 = mean_se(per_user(aa_iso, "control", rev))
    m1, _ = mean_se(per_user(dbl_iso, "control", rev))
    shift_iso = m1 / m0 - 1.0
    good = abs(m1 - m0) <= 1.96 * se0
    ok &= good
    print("%s: treat doubles its ad slots, per_arm + budget_split: control's ad revenue per user %.0f -> %.0f "
          "millicents (%+.2f%%; its A/A 95%% interval +-%.0f)" % ("ok" if good else "FAIL", m0, m1, 100 * shift_iso,
                                                                 1.96 * se0))

    s0, sse0 = mean_se(per_user(aa_sh, "control", rev))
    s1, _ = mean_se(per_user(dbl_sh, "control", rev))
    shift_sh = s1 / s0 - 1.0
    good = abs(shift_sh) > abs(shift_iso)
    ok &= good
    print("%s: the same with shared isolation and one budget: control's ad revenue per user %.0f -> %.0f "
          "millicents (%+.2f%%, %.1f standard errors of its A/A mean): the contamination" %
          ("ok" if good else "FAIL", s0, s1, 100 * shift_sh, (s1 - s0) / sse0))

    # The per-arm run's tests are over its learner groups (experiment.learners_per_arm auto: 8
    # per arm), every look; the shared run's over its users.
    with h5py.File(aa_iso, "r") as f, h5py.File(aa_sh, "r") as g:
        groups = int(f["experiment"].attrs.get("learner_groups", 1))
        n_iso = {arm: f["experiment/days/%s/n" % arm][:] for arm in ("control", "treat")}
        n_sh = g["experiment/days/control/n"][:]
        users = len(g["users/control/exp/sessions"])
        shared_groups = "learner_groups" in g["experiment"].attrs
    tested = n_sh > 0   # [look, metric]: the user-side metrics (creator-side ones are not tested)
    good = groups == 8 and tested.any() and all((n[tested] == 8).all() and (n[~tested] == 0).all()
                                                for n in n_iso.values()) and not shared_groups
    n_sh = n_sh[tested]
    ok &= good
    print("%s: per_arm tests over %d learner groups per arm (n per look and tested metric %s); shared over its control users (%s of %d)" %
          ("ok" if good else "FAIL", groups, sorted({int(x) for n in n_iso.values() for x in n[tested]}),
           sorted({int(x) for x in n_sh}), users))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
