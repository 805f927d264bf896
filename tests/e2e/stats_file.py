"""What a researcher reads from an A/B result file, checked with nothing but h5py and numpy:

- every /experiment dataset has units, and none says "1";
- /arms/<arm> records the overrides as written (set) and resolved (key, value);
- every look's primary p under /experiment/days/<arm>/p is recomputed from that look's
  sufficient statistics (the delta method for ratios, CUPED with theta pooled over both arms,
  Welch-Satterthwaite df, Student's t from the regularised incomplete beta function written
  here), and so is the sequential p from /experiment/days/alpha_spent; the last look is
  /experiment's;
- lift intervals never reach -100%.

Usage: stats_file.py FILE [--expect-set ARM KEY VALUE]...
"""
import argparse
import math
import sys

import h5py
import numpy as np


def betainc(a, b, x):
    """Regularised incomplete beta I_x(a, b): the continued fraction (modified Lentz), on the
    side of x where it converges fast."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    if x > (a + 1) / (a + b + 2):
        return 1.0 - betainc(b, a, 1.0 - x)
    front = math.exp(a * math.log(x) + b * math.log1p(-x) + math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)) / a
    tiny = 1e-300
    f, c, d = 1.0, 1.0, 0.0
    for i in range(1000):
        m = i // 2
        if i == 0:
            num = 1.0
        elif i % 2 == 0:
            num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        else:
            num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1.0 + num * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + num / c
        c = c if abs(c) > tiny else tiny
        f *= c * d
        if abs(1.0 - c * d) < 1e-15:
            break
    return front * (f - 1.0)


def t_two_sided(t, df):
    """P(|T| >= |t|) for Student's t with df degrees of freedom."""
    if not math.isfinite(t):
        return 0.0
    return betainc(df / 2, 0.5, df / (df + t * t))


def moments(n, s, ss):
    return s / n, (ss - s * s / n) / (n - 1)


def cov(n, sx, sy, sxy):
    return (sxy - sx * sy / n) / (n - 1)


def arm_estimate(st, cuped, pooled_theta, pooled_mean_pre):
    """(estimate, var of the estimate, n) of one arm from its sufficient statistics."""
    n = st["n"]
    if cuped:
        my, vy = moments(n, st["sum_y"], st["sum_yy"])
        mz, vz = moments(n, st["sum_pre"], st["sum_pre_sq"])
        c = cov(n, st["sum_pre"], st["sum_y"], st["sum_y_pre"])
        th = pooled_theta
        return my - th * (mz - pooled_mean_pre), max(vy - 2 * th * c + th * th * vz, 0.0) / n, n
    r = st["sum_y"] / st["sum_x"]
    mx, vx = moments(n, st["sum_x"], st["sum_xx"])
    _, vy = moments(n, st["sum_y"], st["sum_yy"])
    c = cov(n, st["sum_x"], st["sum_y"], st["sum_xy"])
    return r, max(vy - 2 * r * c + r * r * vx, 0.0) / (mx * mx) / n, n


STATS = ["n", "sum_y", "sum_x", "sum_yy", "sum_xx", "sum_xy", "sum_pre", "sum_pre_sq", "sum_y_pre"]

ap = argparse.ArgumentParser()
ap.add_argument("file")
ap.add_argument("--expect-set", nargs=3, action="append", default=[], metavar=("ARM", "KEY", "VALUE"))
a = ap.parse_args()
fails = []


def check(cond, what):
    if not cond:
        fails.append(what)


with h5py.File(a.file, "r") as f:
    e = f["experiment"]
    alpha = e.attrs["alpha"]
    metrics = list(e["metric"].asstr()[:])
    units = list(e["units"].asstr()[:])
    check(len(units) == len(metrics) and all(u and u != "1" for u in units), f"/experiment/units {units}")

    # Units everywhere under /experiment.
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and name not in ("metric", "units"):   # labels, not values
            u = obj.attrs.get("units")
            check(u is not None, f"/experiment/{name}: no units")
            if u is None:
                return
            vals = [u] if isinstance(u, str) else list(u)
            vals = [v.decode() if isinstance(v, bytes) else str(v) for v in vals]
            check(all(v and v != "1" for v in vals), f"/experiment/{name}: units {vals[:3]}")
    e.visititems(visit)
    treated = [k for k in e if k not in ("metric", "units", "days")]
    check(len(treated) > 0, "no treatment arm under /experiment")
    for arm in treated:
        check(list(e[arm]["control"].attrs["units"]) == units, f"{arm}/control: units are not the metrics'")

    # Provenance of the arms.
    for arm in f["arms"]:
        g = f["arms"][arm]
        for k in ("set", "key", "value"):
            check(k in g, f"/arms/{arm}/{k} missing")
        sets, keys, vals = (list(g[k].asstr()[:]) for k in ("set", "key", "value"))
        check(len(sets) == len(keys) == len(vals), f"/arms/{arm}: set/key/value lengths differ")
        for s, k, v in zip(sets, keys, vals):
            check(s.split("=", 1)[0] == k and v != "", f"/arms/{arm}: {s} resolved as {k} = {v!r}")
    for arm, key, value in a.expect_set:
        g = f["arms"][arm]
        got = dict(zip(g["key"].asstr()[:], g["value"].asstr()[:]))
        check(got.get(key) == value, f"/arms/{arm}: {key} resolved to {got.get(key)!r}, expected {value!r}")

    # Every look's p and p_seq, recomputed.
    d = e["days"]
    L = len(d["look"])
    check(L == e.attrs["days"], f"{L} looks stored, /experiment says {e.attrs['days']}")
    spent = d["alpha_spent"][:]
    check(abs(spent.sum() - alpha) < 1e-12 or L < d.attrs["planned_looks"],
          f"alpha spent over the planned looks {spent.sum()} != alpha {alpha}")
    n_checked, worst = 0, 0.0
    for arm in treated:
        ctl = e[arm].attrs["control"]
        cuped = e[arm]["cuped"][:] == 1
        p_file, seq_file = d[arm]["p"][:], d[arm]["p_seq"][:]
        run = np.ones(len(metrics))
        for k in range(L):
            for i in range(len(metrics)):
                if np.isnan(p_file[k, i]):
                    continue
                sc = {s: float(d[ctl][s][k, i]) for s in STATS}
                stt = {s: float(d[arm][s][k, i]) for s in STATS}
                th = mz = 0.0
                if cuped[i]:
                    n = sc["n"] + stt["n"]
                    sz, sy = sc["sum_pre"] + stt["sum_pre"], sc["sum_y"] + stt["sum_y"]
                    vz = (sc["sum_pre_sq"] + stt["sum_pre_sq"] - sz * sz / n) / (n - 1)
                    czy = (sc["sum_y_pre"] + stt["sum_y_pre"] - sz * sy / n) / (n - 1)
                    th, mz = (czy / vz if vz > 0 else 0.0), sz / n
                mc, vc, nc = arm_estimate(sc, cuped[i], th, mz)
                mt, vt, nt = arm_estimate(stt, cuped[i], th, mz)
                df = (vc + vt) ** 2 / (vc * vc / (nc - 1) + vt * vt / (nt - 1))
                p = t_two_sided((mt - mc) / math.sqrt(vc + vt), df)
                err = abs(p - p_file[k, i]) / max(p, 1e-12)
                worst = max(worst, err)
                n_checked += 1
                check(err < 1e-6, f"{arm} look {k + 1} {metrics[i]}: p {p_file[k, i]} recomputed {p}")
                run[i] = min(run[i], min(1.0, p_file[k, i] / (spent[k] / alpha)))
            ok = ~np.isnan(seq_file[k])
            check(np.allclose(run[ok], seq_file[k][ok], rtol=1e-12, atol=0),
                  f"{arm} look {k + 1}: p_seq {seq_file[k][ok]} recomputed {run[ok]}")
        check(np.array_equal(p_file[-1], e[arm]["p"][:], equal_nan=True), f"{arm}: last look's p != /experiment p")
        check(np.array_equal(seq_file[-1], e[arm]["p_seq"][:], equal_nan=True), f"{arm}: last p_seq differs")
        lo = e[arm]["lift_ci_lo"][:]
        check(np.all(lo[~np.isnan(lo)] > -1), f"{arm}: a lift interval reaches -100%")
    print(f"{n_checked} look p-values recomputed from /experiment/days (largest relative error {worst:.2e}); "
          f"{L} looks, alpha spent {spent.round(5).tolist()}")
    check(n_checked > 0, "no p-value recomputed")
if fails:
    for x in fails:
        print("FAIL:", x)
    print(f"0 passed, {len(fails)} failed")
    sys.exit(1)
print("result file checks passed")
