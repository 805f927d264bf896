#!/usr/bin/env python3
"""Revenue, advertiser value, surplus and welfare per arm of a result with a budget split and
output.entities (for example scenarios/auction_formats.yaml), from /entities/campaigns and
/entities/campaign_arm_days.

A campaign's value is what its advertiser says an outcome is worth: for an autobidding
campaign (goal 1 max conversions, 2 target CPA) its target per conversion, for goal 3 (target
ROAS) the attributed GMV divided by its target ROAS (an order is worth what the target lets it
pay); for a manual campaign its bid per unit of its objective (impressions / 1000, clicks or
conversions). Surplus = value - spend; welfare = value = surplus + the platform's revenue
(spend is a transfer). Prints one row per arm and, with --csv, a CSV.

Usage: auction_welfare.py RESULT.h5 [--csv]"""
import sys

import h5py
import numpy as np
import pandas as pd


def table(f, path):
    g = f[path]
    return pd.DataFrame({k: g[k][:] for k in g.keys()})


def welfare(path):
    with h5py.File(path, "r") as f:
        if "entities/campaign_arm_days" not in f or len(f["entities/campaign_arm_days/day"]) == 0:
            raise SystemExit(f"{path}: no /entities/campaign_arm_days rows: run with output.entities: true, "
                             "experiment.budget_split: true and two or more arms")
        camps = table(f, "entities/campaigns")
        days = table(f, "entities/campaign_arm_days")
        names = None
        if "entities/cell_arm" in f:   # [cell, layer] arm indices; attribute arms: the names, one a line
            ca = f["entities/cell_arm"]
            arms = ca.attrs["arms"]
            arms = (arms.decode() if isinstance(arms, bytes) else str(arms)).split("\n")
            names = ["/".join(arms[i] for i in row) for row in ca[:]]
    camps.index.name = "campaign"
    d = days.merge(camps[["goal", "target", "objective", "bid_cents"]], left_on="campaign", right_index=True)
    manual = d.goal == 0
    per_unit = np.where(d.objective == 0, d.impressions * d.bid_cents / 1000.0,
                        np.where(d.objective == 1, d.clicks * d.bid_cents, d.conversions * d.bid_cents))
    goal_value = np.where(d.goal == 3, d.attributed_gmv_cents / d.target.where(d.target > 0, 1.0),
                          d.conversions * d.target)
    d["value"] = np.where(manual, per_unit, goal_value)
    out = d.groupby("cell").agg(revenue_cents=("spend_cents", "sum"), value_cents=("value", "sum"),
                                impressions=("impressions", "sum"), clicks=("clicks", "sum"),
                                conversions=("conversions", "sum"), gmv_cents=("attributed_gmv_cents", "sum"))
    out["surplus_cents"] = out.value_cents - out.revenue_cents
    out["welfare_cents"] = out.value_cents
    g = d[~manual].groupby("cell")
    out["autobid_revenue_cents"] = g.spend_cents.sum()
    out["autobid_cpa_cents"] = g.spend_cents.sum() / g.conversions.sum().replace(0, np.nan)
    if names is not None:
        out.index = [names[c] if c < len(names) else str(c) for c in out.index]
    out.index.name = "arm"
    return out


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    out = welfare(argv[1])
    if "--csv" in argv:
        out.to_csv(sys.stdout)
    else:
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(out.round(1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
