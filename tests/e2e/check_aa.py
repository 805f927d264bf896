"""A/A checks on a result file run with --replicates (scenarios/aa.yaml): per metric, the
false-positive rate of the primary test at alpha and of the sequential test over the daily
looks; the rate of runs with any Holm-adjusted rejection; uniform SRM p-values; CUPED
narrowing the intervals; lift intervals never below -100%.

Usage: check_aa.py FILE... [--arm a2] [--strict]  (several files: their replicates pooled, e.g.
runs with disjoint seeds and salts)

Every rate is printed with its Wilson 95% interval. What fails, and why it is honest for the
number of replicates R:

- A metric's false-positive rate should lie in [0.03, 0.07]. With R replicates a perfectly
  calibrated test's observed rate has a binomial sd of sqrt(0.05 * 0.95 / R) (0.011 at
  R = 400, 0.015 at 200), so requiring the observed rate itself to lie in the band would fail
  a calibrated test often (at R = 400, each of 19 metrics falls outside by chance about 7% of
  the time). The check fails a metric only when the data rule out every rate in the band: its
  Wilson interval at 99% family-wise confidence over the metrics (Bonferroni: 1 - 0.01/M each)
  lies wholly below 0.03 or wholly above 0.07. --strict also fails an observed rate outside
  the band (meant for thousands of replicates).
- "Any Holm-adjusted rejection" should happen in <= 6% of runs, and the sequential test
  should reject in <= 5% of runs per metric: each fails when the one-sided 99% Wilson lower
  bound (Bonferroni over the metrics for the sequential test) exceeds the limit.
- The spread of each metric's z over the replicates (the normal score of its p, signed like
  its difference; difference / standard error for tests with many df): with the right
  standard errors var(z) is about 1 and (R - 1) var(z) about chi-square(R - 1).
  Counting rejections needs thousands of runs to see a test that is 1.5 times too
  confident; the spread shows it in a hundred. Fails when var(z) exceeds the chi-square
  bound at 99% family-wise confidence (the standard errors understate the run-to-run spread,
  e.g. when the arms differ by more than their users: learned state per arm).
"""
import argparse
import math
import sys

import h5py
import numpy as np


def wilson(x, n, conf=0.95):
    """Wilson score interval for x successes in n trials at two-sided confidence conf."""
    if n == 0:
        return float("nan"), float("nan")
    z = normal_quantile(1 - (1 - conf) / 2)
    p = x / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def normal_quantile(q):
    """The standard normal quantile by bisection on erf (no scipy needed)."""
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def chi2_quantile(q, k):
    """Chi-square quantile by Wilson-Hilferty (accurate to a few parts in a thousand for
    k >= 50)."""
    z = normal_quantile(q)
    return k * (1 - 2 / (9 * k) + z * math.sqrt(2 / (9 * k))) ** 3


def fmt(x, n):
    lo, hi = wilson(x, n)
    return f"{x / n:.4f} [{lo:.4f}, {hi:.4f}]" if n else "n/a"


ap = argparse.ArgumentParser()
ap.add_argument("files", nargs="+")
ap.add_argument("--arm", default="a2")
ap.add_argument("--strict", action="store_true",
                help="also fail an observed false-positive rate outside [0.03, 0.07]")
a = ap.parse_args()
fails = []
FIELDS = ["p", "p_holm", "p_seq", "lift", "lift_ci_lo", "delta", "delta_se", "cuped_delta", "cuped_delta_se"]
rep = {k: [] for k in FIELDS + ["srm_p"]}
buyers = []
groups = set()
for path in a.files:
    with h5py.File(path, "r") as f:
        alpha = f["experiment"].attrs["alpha"]
        groups.add(int(f["experiment"].attrs.get("learner_groups", 1)))
        looks = int(f["experiment"].attrs.get("planned_looks", -1))
        metrics = list(f["experiment/metric"].asstr()[:])
        for k in FIELDS:
            rep[k].append(f["replicates"][a.arm][k][:])
        rep["srm_p"].append(f["replicates/srm_p"][:])
        if "users" in f:
            buyers.append({arm: int((f[f"users/{arm}/exp/paid_orders"][:] > 0).sum()) for arm in f["users"]})
rep = {k: np.concatenate(v) for k, v in rep.items()}
p, p_holm, p_seq = rep["p"], rep["p_holm"], rep["p_seq"]
R = p.shape[0]
tested = [i for i in range(len(metrics)) if not np.isnan(p[:, i]).all()]
M = len(tested)
fam = 1 - 0.01 / max(M, 1)           # each metric's confidence: 99% family-wise
print(f"{R} replicates ({len(a.files)} file(s)) x {M} metrics, alpha {alpha}, {looks} planned daily "
      f"looks; rates with Wilson 95% intervals")
if buyers:
    print(f"buyers per arm in each file's recorded run (the sparsity of gmv_per_user): {buyers}")
cuped_on = ~np.isnan(rep["cuped_delta_se"])
# Each test's normal score: the z whose two-sided normal p is the test's p, with the sign of its
# difference. N(0, 1) under the null whatever the test's degrees of freedom (difference / se of
# a t test with few df, e.g. over learner groups, has variance df / (df - 2), not 1).
diff = np.where(cuped_on, rep["cuped_delta"], rep["delta"])
nq = np.vectorize(lambda q: normal_quantile(q) if 0 < q < 1 else float("nan"))
with np.errstate(invalid="ignore"):
    z_all = np.sign(diff) * nq(np.clip(1 - p / 2, 0.5, 1 - 1e-16))
print(f"  {'metric':24s} {'n':>4s}  {'false-positive rate':24s}  {'sequential (p_seq)':24s}  var(z)")
seq_x = seq_n = 0
for i in tested:
    ok = ~np.isnan(p[:, i])
    n, x = int(ok.sum()), int((p[ok, i] < alpha).sum())
    sok = ~np.isnan(p_seq[:, i])
    sn, sx = int(sok.sum()), int((p_seq[sok, i] < alpha).sum())
    seq_x += sx
    seq_n += sn
    z = z_all[:, i][~np.isnan(z_all[:, i])]
    vz = float(np.var(z, ddof=1)) if len(z) > 2 else float("nan")
    print(f"  {metrics[i]:24s} {n:4d}  {fmt(x, n):24s}  {fmt(sx, sn):24s}  {vz:.2f}")
    if len(z) > 2 and vz > chi2_quantile(fam, len(z) - 1) / (len(z) - 1):
        fails.append(f"{metrics[i]}: var(z) = {vz:.2f} over {len(z)} replicates, above the 99% family-wise "
                     f"chi-square bound {chi2_quantile(fam, len(z) - 1) / (len(z) - 1):.2f}: the standard errors "
                     f"understate the spread between runs")
    lo, hi = wilson(x, n, fam)
    if hi < 0.03 or lo > 0.07:
        fails.append(f"{metrics[i]}: false-positive rate {x / n:.4f}, 99% family-wise interval "
                     f"[{lo:.4f}, {hi:.4f}] excludes [0.03, 0.07]")
    elif a.strict and not 0.03 <= x / n <= 0.07:
        fails.append(f"{metrics[i]}: false-positive rate {x / n:.4f} outside [0.03, 0.07] (--strict)")
    slo, _ = wilson(sx, sn, 1 - 2 * (1 - fam))   # one-sided at fam
    if sn and slo > alpha:
        fails.append(f"{metrics[i]}: sequential test rejects {sx / sn:.4f}, one-sided 99% family-wise "
                     f"lower bound {slo:.4f} > alpha")
print(f"  {'(all metrics pooled)':24s} {seq_n:4d}  {'':24s}  {fmt(seq_x, seq_n):24s}")

# Any Holm-adjusted rejection in a run (the family-wise error of the readout).
any_holm = np.array([np.any(p_holm[k, tested][~np.isnan(p_holm[k, tested])] < alpha)
                     for k in range(R)])
x = int(any_holm.sum())
print(f"runs with any Holm-adjusted rejection: {fmt(x, R)}")
lo, _ = wilson(x, R, 0.98)
if lo > 0.06:
    fails.append(f"any Holm rejection in {x / R:.4f} of runs, one-sided 99% lower bound {lo:.4f} > 0.06")

# Lift intervals respect their range.
lo_all = rep["lift_ci_lo"]
below = np.sum(lo_all[~np.isnan(lo_all)] <= -1)
undefined = np.mean(np.isnan(rep["lift"][:, tested]), axis=0)
print(f"lift intervals reaching -100%: {below}; share of undefined lifts (sparse control) per "
      f"metric: " + ", ".join(f"{metrics[i]} {u:.2f}" for i, u in zip(tested, undefined) if u > 0))
if below:
    fails.append(f"{below} lift intervals reach -100%")

srm = np.sort(rep["srm_p"])
d = np.max(np.maximum(np.arange(1, R + 1) / R - srm, srm - np.arange(0, R) / R))
crit = 1.63 / np.sqrt(R)     # Kolmogorov-Smirnov at the 1% level
print(f"SRM p-values: KS distance from uniform {d:.4f} (1% critical value {crit:.4f})")
if d > crit:
    fails.append(f"SRM p-values not uniform: D = {d:.4f} > {crit:.4f}")

se = rep["delta_se"]
cse = rep["cuped_delta_se"]
have = ~np.isnan(cse).all(axis=0)
ratio = np.nanmean(cse[:, have] / se[:, have], axis=0)
for m, v in zip([m for m, h in zip(metrics, have) if h], ratio):
    print(f"  CUPED standard error / plain: {m:24s} {v:.3f}")
if groups != {1}:
    print(f"learner groups per arm {sorted(groups)}: tests over groups, no CUPED (nothing to check)")
elif not have.any():
    fails.append("no CUPED intervals")
elif np.mean(ratio) >= 1.0 or np.min(ratio) > 0.95:
    fails.append(f"CUPED did not narrow the intervals: ratios {ratio}")
if fails:
    for x in fails:
        print("FAIL:", x)
    print(f"0 passed, {len(fails)} failed")
    sys.exit(1)
print("A/A checks passed")
