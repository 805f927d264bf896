#!/usr/bin/env python3
"""Checks the datasets of issue 16 in result files, loading each table the README's way:
    pd.DataFrame({k: v[:] for k, v in f["events/impressions"].items()})
usage: datasets.py FULL.h5 SAMPLED.h5 KILLED.h5.partial SAMPLE
       datasets.py --one FILE.h5
FULL: a complete run with output.events and output.entities (every user logged); SAMPLED:
the same run logging a share SAMPLE of users; KILLED: a run killed after some days. --one:
the accounting of FILE's log, and of its tables where it has them (e2e_warmup)."""
import re
import sys

import h5py
import numpy as np
import pandas as pd

failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def table(f, path):
    return pd.DataFrame({k: v[:] for k, v in f[path].items()})


def arms_of(f):
    """Cell -> arm name, from /events/cell_arm (one layer)."""
    ca = f["events/cell_arm"]
    names = ca.attrs["arms"].split("\n")
    return {c: names[int(ca[c, 0])] for c in range(ca.shape[0])}


def accounting(f, label):
    """Row counts and outcomes of the log against the daily series, per day and arm."""
    ev = table(f, "events/impressions")
    tr = table(f, "truth/impressions")
    sr = table(f, "events/searches")
    orders = table(f, "events/orders")
    charges = table(f, "events/ad_charges")
    days = int(f.attrs["days_completed"])
    check(len(tr) == len(ev) and len(table(f, "truth/searches")) == len(sr),
          f"{label}: /truth has a row for every row of /events ({len(ev)} impressions, {len(sr)} searches)")
    check(len(ev) > 0 and int(ev.day.max()) == days - 1, f"{label}: the log covers the {days} finished days")
    arms = arms_of(f)
    bad = []
    for cell, arm in arms.items():
        d = f["days"][arm]
        e = ev[ev.cell == cell]
        def per_day(mask, col=None):
            x = e[mask] if col is None else e[mask & (e[col] == 1)]
            return x.groupby("day").size().reindex(range(days), fill_value=0).to_numpy()
        pairs = {
            "impressions": per_day(e.surface == 0),
            "opens": per_day(e.surface == 0, "open"),
            "likes": per_day(e.surface == 0, "like"),
            "saves": per_day(e.surface == 0, "save"),
            "comments": per_day(e.surface == 0, "comment"),
            "follows": per_day(e.surface == 0, "follow"),
            "search_impressions": per_day(e.surface == 1),
            "search_clicks": per_day(e.surface == 1, "open"),
            "shop_impressions": per_day(e.surface == 2),
            "shop_clicks": per_day(e.surface == 2, "open"),
            "ad_impressions": per_day(e.surface >= 3),
            "search_ad_impressions": per_day(e.surface == 4),
            "ad_clicks": per_day(e.surface >= 3, "open"),
            "card_clicks": per_day(e.surface <= 1, "card_click"),
        }
        for name, got in pairs.items():
            want = d[name][:days]
            if not np.array_equal(got, want):
                bad.append(f"{arm}/{name}: log {got.tolist()} vs /days {want.tolist()}")
        o = orders[orders.cell == cell]
        for name, got in (("orders", o[o.change == 0]), ("paid_orders", o[o.change == 2]), ("refunds", o[o.change == 7])):
            got = got.groupby("day").size().reindex(range(days), fill_value=0).to_numpy()
            if not np.array_equal(got, d[name][:days]):
                bad.append(f"{arm}/{name}: log {got.tolist()} vs /days {d[name][:days].tolist()}")
        a = charges[charges.cell == cell]
        billed = a.groupby("day").billed_millicents.sum().reindex(range(days), fill_value=0).to_numpy()
        conv = a[a.event == 2].groupby("day").size().reindex(range(days), fill_value=0).to_numpy()
        if not np.array_equal(billed, d["ad_revenue_millicents"][:days]) or not np.array_equal(conv, d["ad_conversions"][:days]):
            bad.append(f"{arm}/ad charges: billed {billed.tolist()} vs {d['ad_revenue_millicents'][:days].tolist()}, "
                       f"conversions {conv.tolist()} vs {d['ad_conversions'][:days].tolist()}")
        s = sr[sr.cell == cell].groupby("day").size().reindex(range(days), fill_value=0).to_numpy()
        if not np.array_equal(s, d["searches"][:days]):
            bad.append(f"{arm}/searches: log {s.tolist()} vs /days {d['searches'][:days].tolist()}")
    check(not bad, f"{label}: rows and outcomes (impressions, searches, orders, ad charges) per day and arm equal the daily series" +
          ("" if not bad else ": " + "; ".join(bad[:4])))
    # Requests: every impression's request is unique to one user; ids grow in log order.
    check(bool((np.diff(ev.request.to_numpy().astype(np.int64)) >= 0).all()), f"{label}: request ids grow in log order")
    check(int(ev.groupby("request").user.nunique().max()) == 1, f"{label}: a request belongs to one user")
    check(bool(((tr.p_open > 0) & (tr.p_open < 1)).all()), f"{label}: true open probabilities in (0, 1)")
    feed = ev.surface == 0
    check(bool(tr.best_alternative[~feed].isna().all()) and bool(tr.best_alternative[feed].notna().any()),
          f"{label}: the oracle's best alternative is on (some) feed rows only")
    check(bool((ev.propensity == 1).all()), f"{label}: propensity 1 (a deterministic policy)")
    # Every organic feed note was ranked by its request (the page is cut from the ranking),
    # so it has the engine's score; the other surfaces expose none.
    check(bool(feed.any()) and bool(np.isfinite(ev.score[feed]).all()) and bool(ev.score[~feed].isna().all()),
          f"{label}: the engine's score on every feed row ({int(feed.sum())}), NaN elsewhere")
    return ev


def entities(f, label):
    days = int(f.attrs["days_completed"])
    # With a warm-up (issue 18) the engine's books (/ads) count from its first day.
    warm = re.search(r"^  warmup_days: ([1-9][0-9]*)$", f.attrs["scenario_resolved"], re.M) is not None
    arms = arms_of(f)
    nd = table(f, "entities/note_days")
    notes = table(f, "entities/notes")
    new_notes = int(sum(f["days"][a]["new_notes"][:days].sum() for a in set(arms.values())))
    initial = int((notes.published_tick < 0).sum())
    check(len(notes) == initial + new_notes and bool((notes.published_tick < days * int(f.attrs["ticks_per_day"])).all()),
          f"{label}: /entities/notes: {initial} initial notes + {new_notes} published")
    imp = sum(f["days"][a]["impressions"][:days] + f["days"][a]["search_impressions"][:days] for a in set(arms.values()))
    opens = sum(f["days"][a]["opens"][:days] + f["days"][a]["search_clicks"][:days] for a in set(arms.values()))
    g = nd.groupby("day")[["impressions", "opens"]].sum().reindex(range(days), fill_value=0)
    check(np.array_equal(g.impressions.to_numpy(), imp) and np.array_equal(g.opens.to_numpy(), opens),
          f"{label}: note days sum to the daily impressions and opens (feed + search)")
    check(int(nd.note.max()) < len(notes), f"{label}: note days name known notes")
    sr = table(f, "entities/search_rank")
    ud = table(f, "entities/user_days")
    bad = []
    for cell, arm in arms.items():
        d = f["days"][arm]
        s = sr[sr.cell == cell].groupby("day")[["examined", "clicked"]].sum().reindex(range(days), fill_value=0)
        u = ud[ud.cell == cell].groupby("day").agg(n=("user", "size"), s=("sessions", "sum"),
                                                   p=("paid_orders", "sum")).reindex(range(days), fill_value=0)
        for name, got in (("search_impressions", s.examined), ("search_clicks", s.clicked),
                          ("active_users", u.n), ("sessions", u.s), ("paid_orders", u.p)):
            if not np.array_equal(got.to_numpy(), d[name][:days]):
                bad.append(f"{arm}/{name}")
    check(not bad, f"{label}: search by rank and user days equal the daily series" + ("" if not bad else ": " + ", ".join(bad)))
    first = ud[ud.first_day == 1].groupby("user").size()
    check(int(first.max()) == 1 and len(first) == ud.user.nunique(), f"{label}: every user has one first active day")
    cd = table(f, "entities/campaign_days")
    if len(cd):
        check(bool((cd.spend_cents <= cd.budget_cents).all()), f"{label}: no campaign spends above its daily budget")
        camps = table(f, "entities/campaigns")
        check(len(camps) == cd.campaign.nunique(), f"{label}: every campaign has its day rows")
        gmv = cd.groupby("campaign").attributed_gmv_cents.sum().groupby(camps.brand).sum()
        books = f["ads/brand_attributed_gmv_cents"][:]
        if warm:
            check(all(int(gmv.get(b, 0)) <= int(books[b]) for b in range(len(books))) and gmv.sum() < books.sum(),
                  f"{label}: campaigns' attributed GMV within the brands' books (/ads, which count the warm-up too)")
        else:
            check(all(int(gmv.get(b, 0)) == int(books[b]) for b in range(len(books))),
                  f"{label}: campaigns' attributed GMV adds up to the brands' books (/ads)")
    pdays = table(f, "entities/product_days")
    check(len(pdays) > 0 and int(pdays["product"].max()) < len(table(f, "entities/products")),
          f"{label}: product days name known products")
    crd = table(f, "entities/creator_days")
    check(len(crd) == days * crd.creator.nunique(), f"{label}: one row per creator per day")


if sys.argv[1] == "--one":
    one = h5py.File(sys.argv[2], "r")
    accounting(one, "one")
    if "entities" in one:
        entities(one, "one")
    print(f"{len(failures)} failed")
    sys.exit(1 if failures else 0)

full = h5py.File(sys.argv[1], "r")
samp = h5py.File(sys.argv[2], "r")
killed = h5py.File(sys.argv[3], "r")
share = float(sys.argv[4])

ev = accounting(full, "full")
entities(full, "full")

# Sampling keeps whole histories: the sampled log is exactly the full log's rows of its users.
es = table(samp, "events/impressions")
users = np.unique(es.user)
active = full["entities/user_days"]["user"][:]
frac = len(users) / len(np.unique(active))
check(abs(frac - share) < 0.1, f"sampled: {len(users)} users logged, {frac:.2f} of the active ones (asked {share})")
cols = [c for c in es.columns if c != "request"]
mine = ev[ev.user.isin(users)][cols].reset_index(drop=True)
check(mine.equals(es[cols].reset_index(drop=True)), "sampled: every logged user's whole history, row for row")
ts = table(samp, "truth/impressions")
tf = table(full, "truth/impressions")[ev.user.isin(users).to_numpy()].reset_index(drop=True)
check(ts.equals(tf), "sampled: the truth rows follow their events")

# A killed run keeps the log of its finished days.
check(killed.attrs["status"] == "running" and int(killed.attrs["days_completed"]) >= 2,
      f"killed: partial file with {int(killed.attrs['days_completed'])} finished days")
accounting(killed, "killed")
entities(killed, "killed")

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
