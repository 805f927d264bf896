"""Trains a small linear ranking policy against the simulated world with flywheel.RankerEnv.

The policy scores a candidate by w . x over six features of the note for the user (bias,
followed, log(1 + decayed engagement), fresh, recency, the note's logged CTR) and learns w by
logistic regression on what the world logs at every barrier: each feed impression is a
sample, labelled 1 when the same user opened the same note in the same batch; a few Newton
steps over every sample so far, every 8 ticks. It starts from w = 0 (every page a tie,
broken by note id) and explores by adding noise to its scores. Prints each day's feed CTR
(opens per impression) as the policy learns.

    PYTHONPATH=python FLYWHEEL_LIB=build/lib/libflywheel.so FLYWHEEL_POLICY_DIR=build/policies \
        python3 python/examples/train_linear.py scenarios/builtin.yaml --users 3000 --days 4
"""
import argparse
import time

import numpy as np

import flywheel
from flywheel.env import feed_opens


def features(c, half_life):
    age = c["age_ticks"].astype(np.float64)
    return np.stack([np.ones(len(c)), c["followed"].astype(np.float64), np.log1p(c["trending"]),
                     (age < 96).astype(np.float64), np.exp2(-age / half_life),
                     (c["opens"] + 0.8) / (c["impressions"] + 10.0) * 10.0], axis=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--users", type=int, default=3000)
    ap.add_argument("--days", type=int, default=4)
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--noise", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    env = flywheel.RankerEnv(a.scenario, sets={"world.n_users": a.users, "world.n_notes": 2 * a.users,
                                               "days": a.days, "world.ticks_per_day": 48})
    rng = np.random.default_rng(a.seed)
    w = np.zeros(6)
    half_life = 96.0  # 48 h at 48 ticks a day
    tpd = 48
    imps, opens = np.zeros(a.days), np.zeros(a.days)
    Xs, ys = [], []
    obs, _ = env.reset()
    t0 = time.time()
    while True:
        x = features(obs["candidates"], half_life)
        scores = x @ w + a.noise * rng.standard_normal(len(x))
        obs, reward, terminated, _, info = env.step(scores)
        for b in info["batches"]:
            ev, c = b["events"], b["candidates"]
            feed = (ev["type"] & flywheel._lib.EV_SEARCH) == 0
            kind = ev["type"] & 0xFF
            imp = feed & (kind == 0)
            day = min(b["tick"] // tpd, a.days - 1)
            imps[day] += imp.sum()
            opens[day] += feed_opens(ev)
            if imp.any():
                opened = {(u, n) for u, n, k, f in zip(ev["user"], ev["note"], kind, feed) if f and k == 1}
                ys.append(np.array([(u, n) in opened for u, n in zip(ev["user"][imp], ev["note"][imp])], dtype=float))
                Xs.append(features(c[imp], half_life))
            if Xs and b["tick"] % 8 == 7:
                X, y = np.concatenate(Xs), np.concatenate(ys)
                Xs, ys = [X], [y]
                for _ in range(3):   # damped Newton steps of the ridge-penalised logistic regression
                    p = 1.0 / (1.0 + np.exp(-np.clip(X @ w, -30, 30)))
                    g = X.T @ (p - y) + a.l2 * w
                    H = (X * (p * (1 - p))[:, None]).T @ X + a.l2 * np.eye(len(w))
                    step = np.linalg.solve(H, g)
                    w -= step / max(1.0, np.linalg.norm(step))
        if terminated:
            break
    dt = time.time() - t0
    print(f"{env.requests} requests ranked in Python in {dt:.1f} s: {env.requests / dt:.0f} requests/s")
    for d in range(a.days):
        print(f"day {d}: feed CTR {opens[d] / max(imps[d], 1):.4f} ({int(opens[d])} opens / {int(imps[d])} impressions)")
    print("learned w (bias, followed, log engagement, fresh, recency, logged CTR x10):", np.round(w, 3))
    r = flywheel.open_result(info["result"])
    print(r.days["ctr"].round(4).to_string())


if __name__ == "__main__":
    main()
