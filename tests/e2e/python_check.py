"""The Python package (python/flywheel) against the build: run a scenario through ctypes, read
the result as pandas, bad input as FlywheelError, and RankerEnv -- a Python policy that
computes the built-in baseline's score must give exactly the built-in baseline's result file
(the bridge plug-in, the callbacks and the copies lose nothing), and close() ends an episode.
Usage: python_check.py SOURCE_DIR TMPDIR FLYWHEEL (with PYTHONPATH, FLYWHEEL_LIB and
FLYWHEEL_POLICY_DIR set by python.sh). Prints the Python path's requests per second."""
import os
import subprocess
import sys
import time

import numpy as np

import flywheel

src, tmp, exe = sys.argv[1:4]
scenario = os.path.join(src, "tests", "data", "tiny.yaml")
small = {"world.n_users": 600, "world.n_notes": 1200, "world.ticks_per_day": 12, "days": 2}
fails = 0


def check(ok, what):
    global fails
    print(("ok: " if ok else "FAIL: ") + what)
    fails += not ok


check(flywheel.version().startswith("0.1.0"), f"version {flywheel.version()}")
out = os.path.join(tmp, "py_run.h5")
flywheel.run(scenario, output=out, sets=small, threads=1)
r = flywheel.open_result(out)
check(r.attrs["status"] == "complete" and list(r.days.index.get_level_values("arm").unique()) == ["all"]
      and len(r.days) == 2 and (r.days["ctr"] > 0).all(), f"run + open_result: {r!r}, ctr {list(r.days['ctr'].round(4))}")
check(not r.latency.empty and "feed" in r.latency.index.get_level_values("stage"), "latency percentiles per day and stage")
x = r.to_xarray()
check(x["days_ctr"].dims == ("arm", "day") and list(x["days_ctr"].sel(arm="all").values) == list(r.days["ctr"].values)
      and x.attrs.get("status") == "complete", f"to_xarray: {dict(x.sizes)}, days_ctr equals the pandas column")
try:
    flywheel.run(scenario, output=os.path.join(tmp, "bad.h5"), sets=["world.n_users=lots"])
    check(False, "bad override accepted")
except flywheel.FlywheelError as e:
    check(e.code == 2 and "world.n_users" in e.message, f"bad input: code {e.code}: {e.message[:100]}")

# RankerEnv with the built-in baseline's score: identical to the built-in baseline.
base = os.path.join(tmp, "py_base.h5")
flywheel.run(scenario, output=base, sets=small, threads=1)
env = flywheel.RankerEnv(scenario, sets=small, output=os.path.join(tmp, "py_env.h5"))
hl, fresh = 48.0 * 12 / 24, 24.0 * 12 / 24   # engine.feed defaults, in ticks
obs, _ = env.reset()
t0, total = time.time(), 0.0
while True:
    c = obs["candidates"]
    age = c["age_ticks"].astype(np.float64)
    s = np.where(c["trending"] > 0, np.log1p(c["trending"]), 0.0) + c["followed"] * 1.0 + (age < fresh) * 0.5
    obs, reward, done, _, info = env.step(s * np.exp2(-age / hl))
    total += reward
    if done:
        break
dt = time.time() - t0
print(f"python path: {env.requests} requests in {dt:.2f} s = {env.requests / dt:.0f} requests/s")
same = subprocess.run(["h5diff", "-q", "--exclude-path", "/latency", "--exclude-attribute", "/", base, info["result"]])
check(same.returncode == 0, "RankerEnv with the baseline's score gives the built-in baseline's result exactly")
ropen = flywheel.open_result(info["result"])
check(total > 0 and total <= ropen.days["opens"].sum(),
      f"rewards: {total:.0f} feed opens (the result's opens: {ropen.days['opens'].sum()})")

env2 = flywheel.RankerEnv(scenario, sets=small, output=os.path.join(tmp, "py_closed.h5"))
obs, _ = env2.reset()
for _ in range(5):
    obs, *_ = env2.step(np.zeros(len(obs["candidates"])))
env2.close()
check(env2._thread is None, "close() ends a running episode")

# engine.feed.plugin_vectors: every observation and batch carries the learned vectors.
env3 = flywheel.RankerEnv(scenario, sets=dict(small, **{"engine.feed.plugin_vectors": 1, "days": 1}),
                          output=os.path.join(tmp, "py_vec.h5"))
obs, _ = env3.reset()
steps = batches = 0
shapes_ok = True
dim = obs["user_vec"].shape[0] if "user_vec" in obs else 0
while True:
    shapes_ok &= dim > 0 and obs["cand_vec"].shape == (len(obs["candidates"]), dim)
    obs, _, term, _, info = env3.step(obs["cand_vec"] @ obs["user_vec"])
    for b in info["batches"]:
        if len(b["events"]):
            shapes_ok &= b["user_vec"].shape == b["cand_vec"].shape == (len(b["events"]), dim)
            batches += 1
    steps += 1
    if term:
        break
check(shapes_ok and batches > 0, f"plugin_vectors: {steps} requests and {batches} batches carried {dim}-float learned vectors")
sys.exit(1 if fails else 0)
