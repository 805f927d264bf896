"""Reference values for tests/unit/test_stats.c, derived independently of Flywheel's C code
with scipy (and numpy), from the formulas as textbooks state them. Run it to see where every
constant in test_stats.c's "reference" tests comes from:

    /usr/bin/python3 tests/e2e/stats_reference.py

Needs scipy (Debian: python3-scipy); the tests themselves do not.
"""
import math

import numpy as np
from scipy import stats

ALPHA = 0.05


def welch_abs(y_c, y_t):
    """Welch's t on two samples: delta, se, df, ci, p (scipy's ttest_ind for p)."""
    y_c, y_t = np.asarray(y_c, float), np.asarray(y_t, float)
    a, b = y_c.var(ddof=1) / len(y_c), y_t.var(ddof=1) / len(y_t)
    df = (a + b) ** 2 / (a * a / (len(y_c) - 1) + b * b / (len(y_t) - 1))
    d = y_t.mean() - y_c.mean()
    se = math.sqrt(a + b)
    tq = stats.t.ppf(1 - ALPHA / 2, df)
    p = stats.ttest_ind(y_t, y_c, equal_var=False).pvalue
    return dict(delta=d, se=se, df=df, lo=d - tq * se, hi=d + tq * se, p=p,
                m_c=y_c.mean(), m_t=y_t.mean(), se_c=math.sqrt(a), se_t=math.sqrt(b))


def log_lift(m_c, se_c, m_t, se_t, df):
    """Relative lift with the delta-method interval on log(m_t / m_c)."""
    tq = stats.t.ppf(1 - ALPHA / 2, df)
    if not (m_c > 0 and m_t > 0) or m_c <= tq * se_c:
        return None
    lq = math.log(m_t / m_c)
    s = math.hypot(se_t / m_t, se_c / m_c)
    return dict(lift=m_t / m_c - 1, se_log=s, lo=math.exp(lq - tq * s) - 1,
                hi=math.exp(lq + tq * s) - 1, p=2 * stats.t.sf(abs(lq) / s, df))


def section(title):
    print(f"\n== {title}")


# 1. The published Welch vector (../shared/vectors case 1), from its moments: the log-ratio
#    interval of its lift.
section("vector case 1, log-ratio lift")
n_c, s_c, ss_c = 3407, 1396.87, 52377.9767
n_t, s_t, ss_t = 3461, 2422.7, 134698.29
v_c = (ss_c - s_c ** 2 / n_c) / (n_c - 1)
v_t = (ss_t - s_t ** 2 / n_t) / (n_t - 1)
a, b = v_c / n_c, v_t / n_t
df = (a + b) ** 2 / (a * a / (n_c - 1) + b * b / (n_t - 1))
r = log_lift(s_c / n_c, math.sqrt(a), s_t / n_t, math.sqrt(b), df)
print({k: f"{v:.10g}" for k, v in r.items()}, f"df {df:.10g}")
for power in (0.8, 0.9):
    mde = (stats.t.ppf(1 - ALPHA / 2, df) + stats.t.ppf(power, df)) * math.sqrt(a + b)
    print(f"MDE at power {power}: {mde:.10g}")

# 2. A sparse GMV-like A/A pair: 40 units per arm, a few buyers with large amounts.
section("sparse pair: absolute Welch, log-ratio lift, MDE")
y_c = [0] * 34 + [1200, 350, 99, 4500, 780, 2100]
y_t = [0] * 37 + [640, 150, 9900]
w = welch_abs(y_c, y_t)
print({k: f"{v:.10g}" for k, v in w.items()})
r = log_lift(w["m_c"], w["se_c"], w["m_t"], w["se_t"], w["df"])
print("lift:", {k: f"{v:.10g}" for k, v in r.items()} if r else None)
print("MDE 80%:", f"{(stats.t.ppf(0.975, w['df']) + stats.t.ppf(0.8, w['df'])) * w['se']:.10g}")
# The old primary p (delta method on the lift scale, se at the estimated ratio).
q = w["m_t"] / w["m_c"]
se_rel = math.sqrt(w["se_t"] ** 2 / w["m_c"] ** 2 + q * q * w["se_c"] ** 2 / w["m_c"] ** 2)
print(f"old relative p: {2 * stats.t.sf(abs(q - 1) / se_rel, w['df']):.10g}")

# 3. Too sparse a control: 2 buyers in 100 -> the lift is undefined (m_c / se_c < t).
section("too sparse control")
y_c = [0] * 98 + [1, 1]
y_t = [0] * 90 + [1] * 10
w = welch_abs(y_c, y_t)
print(f"m_c/se_c {w['m_c'] / w['se_c']:.6g} vs t {stats.t.ppf(0.975, w['df']):.6g}:",
      log_lift(w["m_c"], w["se_c"], w["m_t"], w["se_t"], w["df"]))

# 4. CUPED, absolute, on a small explicit data set: theta from the pooled data (numpy's
#    covariance), adjusted values y - theta (x - mean x), then Welch on them.
section("CUPED absolute (pooled theta)")
x_c = [3, 0, 5, 2, 8, 1, 0, 4, 6, 2, 7, 3]
y_c = [4, 1, 6, 2, 9, 0, 1, 5, 8, 3, 6, 4]
x_t = [2, 5, 1, 0, 7, 3, 4, 6, 2, 9, 1, 3, 5]
y_t = [3, 7, 2, 1, 9, 5, 4, 8, 2, 11, 3, 3, 7]
xs, ys = np.array(x_c + x_t, float), np.array(y_c + y_t, float)
theta = np.cov(xs, ys, ddof=1)[0, 1] / xs.var(ddof=1)
adj = ys - theta * (xs - xs.mean())
w = welch_abs(adj[:len(x_c)], adj[len(x_c):])
print(f"theta {theta:.10g}", {k: f"{v:.10g}" for k, v in w.items()})
r = log_lift(w["m_c"], w["se_c"], w["m_t"], w["se_t"], w["df"])
print("cuped lift:", {k: f"{v:.10g}" for k, v in r.items()})

# 5. A ratio metric (clicks / impressions per unit), absolute, by the delta method: the
#    linearised unit values (y - R x) / mean_x and Welch on them.
section("ratio absolute (delta method)")
xi_c = [10, 4, 7, 0, 12, 3, 9, 5]
yi_c = [2, 0, 1, 0, 3, 1, 1, 0]
xi_t = [6, 11, 2, 8, 5, 14, 3, 9, 7]
yi_t = [1, 3, 0, 2, 2, 4, 1, 1, 2]
res = {}
for name, (xx, yy) in {"c": (xi_c, yi_c), "t": (xi_t, yi_t)}.items():
    xx, yy = np.array(xx, float), np.array(yy, float)
    R = yy.sum() / xx.sum()
    lin = (yy - R * xx) / xx.mean()
    res[name] = (R, lin.var(ddof=1) / len(xx), len(xx))
(R_c, va, n1), (R_t, vb, n2) = res["c"], res["t"]
df = (va + vb) ** 2 / (va ** 2 / (n1 - 1) + vb ** 2 / (n2 - 1))
se = math.sqrt(va + vb)
p = 2 * stats.t.sf(abs(R_t - R_c) / se, df)
print(f"R_c {R_c:.10g} R_t {R_t:.10g} delta {R_t - R_c:.10g} se {se:.10g} df {df:.10g} p {p:.10g}")

# 6. The sequential shares and a worked sequence of looks (K = 4, alpha 0.05).
section("sequential: shares and p_seq")
K = 4
w = [0.25 / (K - 1)] * (K - 1) + [0.75]
print("shares", w, "sum", sum(w))
ps = [0.02, 0.004, 0.3, 0.03]
run, out = 1.0, []
for k, p in enumerate(ps):
    run = min(run, min(1.0, p / w[k]))
    out.append(run)
print("p", ps, "-> p_seq", [f"{v:.10g}" for v in out])
