#!/usr/bin/env bash
# The shop inside a run (tests/data/tiny_shop.yaml: unified vs separate shop-tab profile, with
# knobs that make every order path happen in a few days). From the result file: each checkout
# is created, a duplicate or refused for stock; every path (duplicate, stock-out, failed
# payment, cancellation, payment, shipping, delivery, return, refund) happens; the lifecycle
# counts are ordered; the shop's books (/shop/days) agree with the per-arm counters and keep
# stock conserved; per-brand sales add up to the books; /shop is self-describing; 1 and 2
# threads give the same bits. The default scenario's funnel against the calibration is
# tests/e2e/funnel.sh (label slow).
. "$(dirname "$0")/lib.sh"
cd "$TMP"
for t in 1 2; do
  "$FLYWHEEL" run "$SRC/tests/data/tiny_shop.yaml" -q -t $t -o shop$t.h5 2>err.txt || fail "run -t $t ($(cat err.txt))"
done

# check.py GROUP FILE [FILE2]: one group of checks; prints what it measured, exits 1 with
# every failed check listed.
cat >check.py <<'PY'
import sys
import h5py
import numpy as np

group, path = sys.argv[1], sys.argv[2]
f = h5py.File(path, "r")
bad = []


def check(cond, what):
    if not cond:
        bad.append(what)


arms = [k for k in f["days"].keys() if k != "day"]
D = int(f.attrs["days_completed"])


def counters(arm):
    g = f["days"][arm]
    return {k: g[k][:] for k in g.keys()}


per = {a: counters(a) for a in arms}
# "all": the arms summed (one layer, so the arms partition the users).
per["all"] = {k: sum(per[a][k] for a in arms) for k in per[arms[0]]}
S = {k: f["shop/days"][k][:] for k in f["shop/days"].keys()}
msg = ""

if group == "checkouts":
    for a, v in per.items():
        lhs = v["orders"]
        rhs = v["order_requests"] - v["duplicate_requests"] - v["stockout_rejections"]
        check(np.array_equal(lhs, rhs),
              f"{a}: orders {lhs} != requests - duplicates - stock-outs {rhs}")
        check(np.all(v["duplicate_requests"] <= v["order_requests"]), f"{a}: more duplicates than requests")
    v = per["all"]
    msg = (f"requests {v['order_requests'].sum()}, duplicates {v['duplicate_requests'].sum()}, "
           f"stock-outs {v['stockout_rejections'].sum()}, orders {v['orders'].sum()}")

elif group == "paths":
    paths = ["duplicate_requests", "stockout_rejections", "payment_failures", "cancelled_orders",
             "paid_orders", "shipped_orders", "delivered_orders", "returns", "refunds"]
    for a, v in per.items():
        for k in paths:
            check(v[k].sum() > 0, f"{a}: no {k} in {D} days")
    check(per["all"]["paid_orders"].sum() >= 100, f"only {per['all']['paid_orders'].sum()} paid orders")
    msg = ", ".join(f"{k} {per['all'][k].sum()}" for k in paths)

elif group == "lifecycle":
    # Each step needs the one before it, so to-date counts are ordered on every day.
    for a, v in per.items():
        c = {k: np.cumsum(v[k]) for k in v}
        chain = ["refunds", "returns", "delivered_orders", "shipped_orders", "paid_orders"]
        for lo, hi in zip(chain, chain[1:]):
            check(np.all(c[lo] <= c[hi]), f"{a}: {lo} {c[lo]} > {hi} {c[hi]} to date")
        check(np.all(c["paid_orders"] + c["cancelled_orders"] <= c["orders"]),
              f"{a}: paid {c['paid_orders']} + cancelled {c['cancelled_orders']} > orders {c['orders']}")
        check(np.all(c["refund_cents"] <= c["gmv_cents"]), f"{a}: refunds {c['refund_cents']} > GMV {c['gmv_cents']}")
        # payment_retries 1: a cancelled order failed twice; a paid or pending one at most once.
        extra = c["payment_failures"] - 2 * c["cancelled_orders"]
        pending = c["orders"] - c["paid_orders"] - c["cancelled_orders"]
        check(np.all(extra >= 0) and np.all(extra <= c["paid_orders"] + pending),
              f"{a}: payment failures {c['payment_failures']} vs cancelled {c['cancelled_orders']}")
    v = per["all"]
    msg = (f"paid {v['paid_orders'].sum()} >= shipped {v['shipped_orders'].sum()} >= delivered "
           f"{v['delivered_orders'].sum()} >= returns {v['returns'].sum()} >= refunds {v['refunds'].sum()}; "
           f"cancelled {v['cancelled_orders'].sum()}")

elif group == "books":
    v = per["all"]
    for k, s in S.items():
        check(s.shape == (D,), f"/shop/days/{k} shape {s.shape}")
    check(np.array_equal(S["gmv_cents"], S["paid_cents"] - S["refunded_cents"]),
          f"GMV {S['gmv_cents']} != paid {S['paid_cents']} - refunded {S['refunded_cents']}")
    held = S["units_available"] + S["units_reserved"] + S["units_sold"]
    initial = held[0] - S["units_restocked"][0]
    check(np.all(held == initial + S["units_restocked"]),
          f"stock not conserved: available + reserved + sold {held} != {initial} + restocked {S['units_restocked']}")
    check(initial > 0 and np.all(np.diff(S["units_restocked"]) >= 0) and S["units_restocked"][-1] > 0,
          f"initial {initial}, restocked {S['units_restocked']}: no restocking seen")
    check(np.all(S["stocked_out_products"] > 0), f"stocked-out products {S['stocked_out_products']}")
    # The books to date against the per-arm counters, summed over arms and days so far.
    for book, counter in (("paid_cents", "gmv_cents"), ("refunded_cents", "refund_cents"), ("orders", "orders")):
        check(np.array_equal(S[book], np.cumsum(v[counter])),
              f"/shop/days/{book} {S[book]} != to-date sum of /days/*/{counter} {np.cumsum(v[counter])}")
    # Every order is one unit: reserved units are the orders awaiting payment, sold units the
    # paid orders not refunded.
    c = {k: np.cumsum(v[k]) for k in ("orders", "paid_orders", "cancelled_orders", "refunds")}
    check(np.array_equal(S["units_reserved"], c["orders"] - c["paid_orders"] - c["cancelled_orders"]),
          f"units reserved {S['units_reserved']} != orders awaiting payment")
    check(np.array_equal(S["units_sold"], c["paid_orders"] - c["refunds"]),
          f"units sold {S['units_sold']} != paid - refunded orders {c['paid_orders'] - c['refunds']}")
    msg = (f"paid {S['paid_cents'][-1]} - refunded {S['refunded_cents'][-1]} = GMV {S['gmv_cents'][-1]} cents; "
           f"stock initial {initial} + restocked {S['units_restocked'][-1]}")

elif group == "brands":
    rev, units = f["shop/brand_revenue_cents"], f["shop/brand_units"]
    names = rev.attrs["arms"].split("\n")
    nb = int(f["world"].attrs["n_brands"])
    check(rev.shape == (len(arms), nb) and units.shape == rev.shape, f"brand shapes {rev.shape} {units.shape}")
    check(sorted(names) == sorted(arms) and units.attrs["arms"] == rev.attrs["arms"], f"brand rows {names}")
    R, U = rev[:], units[:]
    check(R.sum() == S["gmv_cents"][-1], f"brand revenue {R.sum()} != GMV {S['gmv_cents'][-1]}")
    check(U.sum() == S["units_sold"][-1], f"brand units {U.sum()} != units sold {S['units_sold'][-1]}")
    for i, a in enumerate(names):
        net = per[a]["gmv_cents"].sum() - per[a]["refund_cents"].sum()
        check(R[i].sum() == net, f"{a}: brand revenue {R[i].sum()} != GMV - refunds {net}")
        nu = per[a]["paid_orders"].sum() - per[a]["refunds"].sum()
        check(U[i].sum() == nu, f"{a}: brand units {U[i].sum()} != paid - refunded orders {nu}")
        check(np.all(U[i] >= 0) and np.all(R[i] >= 0), f"{a}: negative brand sales")
    check(np.count_nonzero(R.sum(axis=0)) > 1, "sales concentrated on one brand")
    msg = ", ".join(f"{a} {R[i].sum()} cents" for i, a in enumerate(names))

elif group == "funnel":
    out = []
    for a, v in per.items():
        views, carts, paid = (v[k].sum() for k in ("product_views", "cart_adds", "paid_orders"))
        c2p, k2p = paid / views, paid / carts
        check(0 < c2p <= 1, f"{a}: click_to_purchase {c2p}")
        check(0 < k2p <= 1, f"{a}: cart_to_purchase {k2p}")
        out.append(f"{a} click->buy {c2p:.4f} cart->buy {k2p:.3f}")
        # The recorded daily rates are the same ratios.
        with np.errstate(invalid="ignore", divide="ignore"):
            if a != "all":
                check(np.allclose(v["click_to_purchase"], v["paid_orders"] / v["product_views"], equal_nan=True),
                      f"{a}: click_to_purchase dataset")
                check(np.allclose(v["cart_to_purchase"], v["paid_orders"] / v["cart_adds"], equal_nan=True),
                      f"{a}: cart_to_purchase dataset")
    msg = "; ".join(out)

elif group == "attrs":
    seen = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            seen.append(name)
            check("units" in obj.attrs, f"/shop/{name}: no units")
            d = obj.attrs.get("description", "")
            d = d.decode() if isinstance(d, bytes) else str(d)
            check(d.strip() != "", f"/shop/{name}: no description")

    f["shop"].visititems(visit)
    check(len(seen) >= 11, f"only {len(seen)} datasets under /shop: {seen}")
    msg = f"{len(seen)} datasets"

elif group == "threads":
    g = h5py.File(sys.argv[3], "r")
    n = 0

    def compare(name, obj):
        global n
        if not isinstance(obj, h5py.Dataset):
            return
        n += 1
        other = g[obj.name] if obj.name in g else None
        a = obj[()]
        check(other is not None and other.dtype == obj.dtype and other.shape == obj.shape
              and other[()].tobytes() == a.tobytes(), f"{obj.name} differs between thread counts")

    for top in ("days", "shop"):
        f[top].visititems(compare)
        # and nothing only in the other file
        g[top].visititems(lambda name, o: check(o.name in f, f"{o.name} only in {sys.argv[3]}"))
    check(n > 100, f"only {n} datasets compared")
    msg = f"{n} datasets under /days and /shop identical"

else:
    bad.append(f"unknown group {group}")

if bad:
    print("\n".join(bad))
    sys.exit(1)
print(msg)
PY

for g in checkouts paths lifecycle books brands funnel attrs; do
  if out=$("$PY" check.py $g shop1.h5 2>&1); then pass "$g: $out"; else fail "$g: $out"; fi
done
if out=$("$PY" check.py threads shop1.h5 shop2.h5 2>&1); then pass "1 vs 2 threads: $out"; else fail "1 vs 2 threads: $out"; fi

finish
