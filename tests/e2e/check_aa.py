"""A/A checks on a result file run with --replicates: the false-positive rate at alpha,
the always-valid test under daily peeking, uniform SRM p-values, and CUPED narrowing the
intervals. Usage: check_aa.py FILE [--arm a2]"""
import argparse
import sys

import h5py
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("file")
ap.add_argument("--arm", default="a2")
a = ap.parse_args()
fails = []
with h5py.File(a.file, "r") as f:
    alpha = f["experiment"].attrs["alpha"]
    metrics = list(f["experiment/metric"].asstr()[:])
    r = f["replicates"][a.arm]
    p = r["p"][:]
    K = p.shape[0]
    ok = ~np.isnan(p)
    fpr = np.mean(p[ok] < alpha)
    per_metric = {m: np.mean(p[~np.isnan(p[:, i]), i] < alpha)
                  for i, m in enumerate(metrics) if not np.isnan(p[:, i]).all()}
    print(f"{K} replicates x {len(metrics)} metrics: false-positive rate {fpr:.4f} at alpha {alpha}")
    for m, v in per_metric.items():
        print(f"  {m:24s} {v:.3f}")
    if not 0.03 <= fpr <= 0.07:
        fails.append(f"false-positive rate {fpr:.4f} outside [0.03, 0.07]")
    seq = np.mean(r["p_msprt"][:][ok] < alpha)
    print(f"always-valid (mSPRT) rejections under daily looks: {seq:.4f}")
    if seq > alpha:
        fails.append(f"mSPRT rejects {seq:.4f} > alpha")
    srm = np.sort(f["replicates/srm_p"][:])
    d = np.max(np.maximum(np.arange(1, K + 1) / K - srm, srm - np.arange(0, K) / K))
    crit = 1.63 / np.sqrt(K)     # Kolmogorov-Smirnov at the 1% level
    print(f"SRM p-values: KS distance from uniform {d:.4f} (1% critical value {crit:.4f})")
    if d > crit:
        fails.append(f"SRM p-values not uniform: D = {d:.4f} > {crit:.4f}")
    width = r["lift_ci_hi"][:] - r["lift_ci_lo"][:]
    cw = r["cuped_ci_hi"][:] - r["cuped_ci_lo"][:]
    have = ~np.isnan(cw).all(axis=0)
    ratio = np.nanmean(cw[:, have] / width[:, have], axis=0)
    for m, v in zip([m for m, h in zip(metrics, have) if h], ratio):
        print(f"  CUPED interval width / plain: {m:24s} {v:.3f}")
    if not have.any():
        fails.append("no CUPED intervals")
    elif np.mean(ratio) >= 1.0 or np.min(ratio) > 0.95:
        fails.append(f"CUPED did not narrow the intervals: ratios {ratio}")
if fails:
    for x in fails:
        print("FAIL:", x)
    print(f"0 passed, {len(fails)} failed")
    sys.exit(1)
print("A/A checks passed")
