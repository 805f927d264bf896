"""Reads a Flywheel result file with h5py, as a researcher would, and checks its shape,
provenance and accounting identities. Usage: check_result.py FILE [--status S] [--min-days N]"""
import argparse
import sys

import h5py
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("file")
ap.add_argument("--status", default="complete")
ap.add_argument("--min-days", type=int, default=1)
ap.add_argument("--arms", default=None, help="comma-separated arm names expected")
a = ap.parse_args()

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


with h5py.File(a.file, "r") as f:
    at = f.attrs
    for k in ["flywheel_version", "git_revision", "scenario_text", "scenario_resolved", "seed",
              "threads", "start_time", "end_time", "status", "days_planned", "days_completed"]:
        check(k in at, f"root attribute {k} missing")
    check(at["status"] == a.status, f"status {at['status']!r} != {a.status!r}")
    D = int(at["days_completed"])
    check(D >= a.min_days, f"days_completed {D} < {a.min_days}")
    if a.status == "complete":
        check(D == int(at["days_planned"]), "complete run with days_completed != days_planned")
    check(f["days/day"].shape == (D,), "days/day shape")
    check(list(f["days/day"][:]) == list(range(D)), "days/day values")
    arms = [k for k in f["days"].keys() if k != "day"]
    if a.arms:
        check(sorted(arms) == sorted(a.arms.split(",")), f"arms {arms}")
    check(sorted(arms) == sorted(f["arms"].keys()), "/arms and /days/<arm> disagree")
    for arm in arms:
        g = f["days"][arm]
        v = {k: g[k][:] for k in g.keys()}
        for k, ds in g.items():
            check(ds.shape == (D,), f"{arm}/{k} shape {ds.shape}")
            check("units" in ds.attrs and "description" in ds.attrs, f"{arm}/{k} units/description")
            check(ds.dims[0].label == "day", f"{arm}/{k} dimension label")
            check(ds.chunks is not None and ds.maxshape[0] is None, f"{arm}/{k} not chunked/extendible")
        if D == 0:
            continue
        check(np.all(v["opens"] <= v["impressions"]), f"{arm}: opens > impressions")
        check(np.all(v["likes"] <= v["opens"]), f"{arm}: likes > opens")
        check(np.all(v["saves"] <= v["opens"]), f"{arm}: saves > opens")
        check(np.all(v["comments"] <= v["opens"]), f"{arm}: comments > opens")
        check(np.all(v["follows"] <= v["opens"]), f"{arm}: follows > opens")
        check(np.all(v["interactions"] == v["likes"] + v["saves"] + v["comments"]), f"{arm}: interactions")
        check(np.all(v["sessions"] >= v["active_users"]), f"{arm}: sessions < active users")
        check(np.all(v["feed_requests"] >= v["sessions"]), f"{arm}: feed requests < sessions")
        check(np.all(v["retained_users"] <= np.minimum(v["active_users"], v["prev_active_users"])),
              f"{arm}: retained > active")
        check(v["prev_active_users"][0] == 0, f"{arm}: day 0 has previous actives")
        check(np.all(v["prev_active_users"][1:] == v["active_users"][:-1]), f"{arm}: prev_active != yesterday")
        check(np.allclose(v["ctr"], v["opens"] / v["impressions"]), f"{arm}: ctr")
        check(np.all(v["impressions"] > 0), f"{arm}: no impressions")
        ctr = v["opens"].sum() / v["impressions"].sum()
        check(0.02 < ctr < 0.3, f"{arm}: CTR {ctr:.4f} implausible")
    lat = f["latency"]
    nb = lat["bin_lower_ns"].shape[0]
    check(np.all(lat["bin_upper_ns"][:] > lat["bin_lower_ns"][:]), "latency bins")
    for stage in ["feed", "feed_recall", "feed_rank", "log", "publish", "end_tick", "end_day"]:
        g = lat[stage]
        check(g["counts"].shape == (D, nb), f"latency/{stage}/counts shape")
        for k in ["p50", "p90", "p99", "p999", "max", "mean", "count"]:
            check(g[k].shape == (D,), f"latency/{stage}/{k} shape")
        if D:
            check(np.all(g["counts"][:].sum(axis=1) == g["count"][:]), f"latency/{stage} counts sum")
            check(np.all(g["p50"][:] <= g["p99"][:]), f"latency/{stage} p50 > p99")
    if D:
        # Every user is in one arm of each layer: count requests over one layer's arms.
        first = f["arms"][arms[0]].attrs["layer"]
        reqs = sum(f["days"][arm]["feed_requests"][:] for arm in arms
                   if f["arms"][arm].attrs["layer"] == first)
        check(np.all(lat["feed"]["count"][:] == reqs), "feed latency count != feed requests")
    # The engine's work counters: deterministic, and consistent with the day metrics.
    wk = f["work"]
    for k in ["feed_requests", "candidates_recalled", "candidates_scored", "notes_served",
              "events_logged", "pool_offers"]:
        check(wk[k].shape == (D,) and "units" in wk[k].attrs, f"work/{k}")
    if D:
        first = f["arms"][arms[0]].attrs["layer"]
        one_layer = [a for a in arms if f["arms"][a].attrs["layer"] == first]
        reqs = sum(f["days"][a]["feed_requests"][:] for a in one_layer)
        impr = sum(f["days"][a]["impressions"][:] for a in one_layer)
        check(np.all(wk["feed_requests"][:] == reqs), "work/feed_requests != feed requests")
        check(np.all(wk["notes_served"][:] >= impr), "fewer notes served than impressions")
        check(np.all(wk["candidates_scored"][:] >= wk["notes_served"][:]), "scored < served")
        check(np.all(wk["candidates_recalled"][:] >= wk["candidates_scored"][:]), "recalled < scored")
    w = f["world"].attrs
    check(w["n_users"] > 0 and w["n_creators"] > 0, "world summary")

if failures:
    for x in failures:
        print("FAIL:", x)
    print(f"0 passed, {len(failures)} failed")
    sys.exit(1)
print(f"{a.file}: ok ({D} days)")
