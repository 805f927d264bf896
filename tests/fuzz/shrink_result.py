#!/usr/bin/env python3
"""Shrinks a result file into a fuzzing seed: every group and attribute `flywheel report`
reads, without /users and /replicates, with the latency histograms cut to their first BINS bins
and STAGES stages. Run h5repack -l CONTI on the output to drop the chunk indexes.

usage: shrink_result.py IN.h5 OUT.h5 [BINS [STAGES [DROP]]]
DROP: comma-separated top-level groups to leave out as well (default: work,ads,market,shop).
/days/<arm> keeps only the columns the report draws, and /experiment/days (the looks, which
the reader skips) is left out, so that a two-arm seed stays under 100 KB."""
import sys

import h5py

# The /days/<arm> columns the report draws (sim/io/report.c, daily_col) and the CTR's inputs.
DAY_COLS = {"active_users", "sessions", "sessions_per_user", "impressions", "opens", "ctr",
            "interactions", "interactions_per_read", "retention", "follows", "new_notes",
            "oracle_ndcg", "coverage", "gmv_cents", "click_to_purchase"}


def copy_attrs(src, dst):
    for k in src.attrs:
        dst.attrs.create(k, src.attrs[k], dtype=src.attrs.get_id(k).dtype)


def main():
    src, dst = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "w")
    bins = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    stages = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    drop = {"users", "replicates", "items"}
    drop |= set((sys.argv[5] if len(sys.argv) > 5 else "work,ads,market,shop").split(","))
    copy_attrs(src, dst)
    for name, obj in src.items():
        if name in drop:
            continue
        if name == "days":
            days = dst.create_group("days")
            copy_attrs(obj, days)
            for k, v in obj.items():
                if isinstance(v, h5py.Dataset):
                    src.copy(v, days, name=k)
                    continue
                g = days.create_group(k)
                copy_attrs(v, g)
                for kk, vv in v.items():
                    if kk in DAY_COLS:
                        src.copy(vv, g, name=kk)
            continue
        if name == "experiment":
            src.copy(obj, dst, name=name)
            if "days" in dst["experiment"]:
                del dst["experiment/days"]
            continue
        if name != "latency":
            src.copy(obj, dst, name=name)
            continue
        lat = dst.create_group("latency")
        copy_attrs(obj, lat)
        kept = 0
        for k, v in obj.items():
            if isinstance(v, h5py.Dataset):
                data = v[:bins] if k.startswith("bin_") else v[()]
                d = lat.create_dataset(k, data=data, dtype=v.dtype)
                copy_attrs(v, d)
            elif kept < stages:
                kept += 1
                g = lat.create_group(k)
                copy_attrs(v, g)
                for kk, vv in v.items():
                    data = vv[:, :bins] if kk == "counts" else vv[()]
                    d = g.create_dataset(kk, data=data, dtype=vv.dtype)
                    copy_attrs(vv, d)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main()
