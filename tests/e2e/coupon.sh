#!/usr/bin/env bash
# Coupons and promotion days inside a run (tests/data/tiny_coupon.yaml: a platform and a
# brand coupon offered by the arm "coupon" only, a control offering none, a promotion day on
# day 2 for both). From the result file, each check on its own figure: the control claims and
# redeems nothing; the coupon arm claims, redeems and pays; per arm and day the cost is the
# platform's plus the brands'; coupon cost = redeemed face value (the per-arm days against the
# shop's books in /promotions); budgets are never over; net GMV = payments - refunds;
# redemptions never exceed paid orders; the calendar is recorded and the promotion day brings
# more sessions per active user; 1 and 2 threads give the same bits. Then a run without the
# promotions section has no coupon datasets, and bad promotions exit 2 naming FILE:LINE: key.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
for t in 1 2; do
  "$FLYWHEEL" run "$SRC/tests/data/tiny_coupon.yaml" -q -t $t -o c$t.h5 2>err.txt || fail "run -t $t ($(cat err.txt))"
done
if h5diff -q --exclude-path /latency --exclude-attribute / c1.h5 c2.h5; then
  pass "1 and 2 threads: identical results"
else
  fail "1 and 2 threads differ"
fi

cat >check.py <<'PY'
import sys
import h5py
import numpy as np

f = h5py.File(sys.argv[1], "r")
group = sys.argv[2]
bad = []


def check(cond, what):
    if not cond:
        bad.append(what)


d = {a: {k: f["days"][a][k][:] for k in f["days"][a].keys()} for a in ("control", "coupon")}
P = {k: f["promotions/days"][k][:] for k in f["promotions/days"].keys()}
books = f["promotions/coupon_books"][:]   # claims expired applied redeemed released refunded held redeemed_cents budget
S = {k: f["shop/days"][k][:] for k in f["shop/days"].keys()}
msg = ""
if group == "control":
    for k in ("coupon_claims", "coupon_redemptions", "coupon_cost_cents", "coupon_expired"):
        check(d["control"][k].sum() == 0, f"control: {k} = {d['control'][k].sum()}, expected 0")
    check(d["control"]["paid_orders"].sum() > 0, "control: no orders")
    msg = f"control: {d['control']['paid_orders'].sum()} orders, no coupon claimed"
elif group == "coupon":
    c = d["coupon"]
    for k in ("coupon_claims", "coupon_redemptions", "coupon_cost_cents", "coupon_cost_platform_cents",
              "coupon_cost_brand_cents", "coupon_expired", "paid_orders"):
        check(c[k].sum() > 0, f"coupon: {k} is 0")
    check(np.all(c["coupon_redemptions"] <= c["paid_orders"]), "coupon: more redemptions than paid orders on a day")
    msg = (f"coupon: {c['coupon_claims'].sum()} claims, {c['coupon_redemptions'].sum()} redeemed, "
           f"cost {c['coupon_cost_cents'].sum()} cents, {c['paid_orders'].sum()} orders")
elif group == "issuers":
    for a, v in d.items():
        check(np.array_equal(v["coupon_cost_cents"], v["coupon_cost_platform_cents"] + v["coupon_cost_brand_cents"]),
              f"{a}: cost != platform + brand per day")
    msg = "cost = platform + brand, per arm and day"
elif group == "cost":
    # Net cost to date from the arms' days = the shop's books by issuer, every day.
    net = np.cumsum(sum(v["coupon_cost_cents"] - v["coupon_refunded_cents"] for v in d.values()))
    books_net = P["coupon_cost_platform_cents"] + P["coupon_cost_brand_cents"]
    check(np.array_equal(net, books_net), f"arms' net coupon cost to date {net} != books {books_net}")
    check(books[:, 7].sum() == books_net[-1], f"coupons' redeemed face value {books[:, 7].sum()} != cost {books_net[-1]}")
    plat = np.cumsum(sum(v["coupon_cost_platform_cents"] for v in d.values()))
    check(plat[-1] >= P["coupon_cost_platform_cents"][-1], "platform cost above its redemptions")
    red = sum(v["coupon_redemptions"].sum() for v in d.values())
    check(books[:, 3].sum() == red, f"redemptions in the days {red} != books {books[:, 3].sum()}")
    claims = sum(v["coupon_claims"].sum() for v in d.values())
    check(books[:, 0].sum() == claims, f"claims in the days {claims} != books {books[:, 0].sum()}")
    msg = f"coupon cost {books_net[-1]} cents = redeemed face value, {red} redemptions, {claims} claims"
elif group == "budget":
    held, spent, budget = books[:, 6], books[:, 7], books[:, 8]
    check(np.all(held >= 0) and np.all(spent >= 0), "negative books")
    check(np.all(held + spent <= budget), f"over budget: {held + spent} > {budget}")
    # The platform coupon (row 0, six coupons of 2000) runs out: less than one coupon's face
    # value left, but for what refunds gave back (books column 5).
    check(budget[0] - held[0] - spent[0] < 2000 * (1 + books[0, 5]),
          f"platform coupon redeemed {spent[0]} of {budget[0]}: expected it spent")
    check(P["coupon_cost_platform_cents"][-1] <= budget[0], "platform cost above the budget")
    msg = f"held + redeemed {list(held + spent)} within budgets {list(budget)}"
elif group == "gmv":
    check(np.array_equal(S["gmv_cents"], S["paid_cents"] - S["refunded_cents"]), "net GMV != payments - refunds")
    msg = f"net GMV {S['gmv_cents'][-1]} = payments {S['paid_cents'][-1]} - refunds {S['refunded_cents'][-1]}"
elif group == "calendar":
    check(list(P["promotion_day"]) == [0, 0, 1, 0], f"promotion_day {list(P['promotion_day'])}")
    check(list(P["sale_basis_points"]) == [0, 0, 1000, 0], f"sale {list(P['sale_basis_points'])}")
    for a, v in d.items():
        spu = v["sessions"] / np.maximum(v["active_users"], 1)
        check(spu[2] > 1.25 * max(spu[1], spu[3]), f"{a}: sessions per active user {spu} not raised on day 2")
    msg = "day 2 is the promotion day, with more sessions per active user in both arms"
if bad:
    print("\n".join(bad))
    sys.exit(1)
print(msg)
PY
for g in control coupon issuers cost budget gmv calendar; do
  if out=$("$PY" check.py c2.h5 $g 2>&1); then pass "$g: $out"; else fail "$g: $out"; fi
done

# The deal term (behaviour.deal_weight): each arm weighs discounts with its own value. Runs:
# the default (c2.h5, 1.15 everywhere), d0 (0 everywhere) and arm (0 in the base, the coupon
# arm setting 1.15). Before the promotion day the coupon arm's coupons are the only discount:
# arm = the default in both arms on days 0-1, while d0's coupon arm differs (fewer carts:
# the deal no longer pulls); on the promotion day the control's sale is weighed at 0 in arm,
# so its control differs from the default's.
"$FLYWHEEL" run "$SRC/tests/data/tiny_coupon.yaml" -q -t 2 --set behaviour.deal_weight=0 -o d0.h5 2>err.txt ||
  fail "run deal_weight 0 ($(cat err.txt))"
sed 's/^    - name: coupon$/    - name: coupon\n      set: ["behaviour.deal_weight=1.15"]/' "$SRC/tests/data/tiny_coupon.yaml" >arm.yaml
"$FLYWHEEL" run arm.yaml -q -t 2 --set behaviour.deal_weight=0 -o arm.h5 2>err.txt || fail "run arm deal_weight ($(cat err.txt))"
cat >deal.py <<'PY'
import sys
import h5py
import numpy as np

X, Z, Y = (h5py.File(p, "r") for p in sys.argv[1:4])
days = lambda f, a: {k: f["days"][a][k][:] for k in f["days"][a].keys()}
bad = []
for a in ("control", "coupon"):
    x, y = days(X, a), days(Y, a)
    diff = [k for k in x if not np.array_equal(x[k][:2], y[k][:2], equal_nan=True)]
    if diff:
        bad.append(f"{a}: days 0-1 differ from the default run with the coupon arm at the default: {diff[:5]}")
xc, zc, yc = days(X, "coupon"), days(Z, "coupon"), days(Y, "control")
if not xc["cart_adds"][:2].sum() > zc["cart_adds"][:2].sum():
    bad.append(f"coupon arm, days 0-1: cart adds {xc['cart_adds'][:2]} at 1.15, {zc['cart_adds'][:2]} at 0: expected more")
if np.array_equal(days(X, "control")["cart_adds"][2], yc["cart_adds"][2]):
    bad.append("control, promotion day: deal_weight 0 in the arm changed nothing")
if bad:
    print("\n".join(bad))
    sys.exit(1)
print(f"coupon arm cart adds on days 0-1: {xc['cart_adds'][:2].sum()} at 1.15, {zc['cart_adds'][:2].sum()} at 0; "
      f"control's promotion day: {days(X, 'control')['cart_adds'][2]} at 1.15, {yc['cart_adds'][2]} at 0")
PY
if out=$("$PY" deal.py c2.h5 d0.h5 arm.h5 2>&1); then pass "deal_weight per arm: $out"; else fail "deal_weight: $out"; fi

# The resolved scenario in the file (written back by the YAML writer) loads again.
"$PY" -c "import h5py,sys; v=h5py.File('c2.h5','r').attrs['scenario_resolved']; open('resolved.yaml','w').write(v if isinstance(v,str) else v.decode())"
if "$FLYWHEEL" validate resolved.yaml >out.txt 2>&1 && grep -q "brand17_15pct" resolved.yaml && grep -q "^promotions:" resolved.yaml; then
  pass "the resolved scenario keeps the promotions and loads again"
else
  fail "resolved scenario: $(cat out.txt)"
fi

# Without the promotions section: no coupon datasets (results as before promotions existed).
sed '/^promotions:/,$d' "$SRC/tests/data/tiny_coupon.yaml" >plain.yaml
if "$FLYWHEEL" run plain.yaml -q -t 2 -o plain.h5 2>err.txt; then
  if h5ls plain.h5/promotions >/dev/null 2>&1 || h5ls plain.h5/days/coupon/coupon_claims >/dev/null 2>&1; then
    fail "a run without promotions has coupon datasets"
  else
    pass "a run without promotions has no coupon datasets"
  fi
else
  fail "run without promotions ($(cat err.txt))"
fi

# Bad promotions: exit 2, FILE:LINE: key: what was expected.
bad() {  # bad NAME SED-EXPR EXPECTED-MESSAGE-PART
  sed "$2" "$SRC/tests/data/tiny_coupon.yaml" >"$1.yaml"
  "$FLYWHEEL" validate "$1.yaml" >out.txt 2>&1
  rc=$?
  if [ $rc -eq 2 ] && grep -q -- "$3" out.txt; then pass "$1: exit 2, $(cat out.txt)"; else fail "$1: exit $rc, $(cat out.txt)"; fi
}
bad brand_unknown 's/brand: 17/brand: 20/' "brand_unknown.yaml:[0-9]*: promotions.coupons\[1\].brand: expected a brand id below world.n_brands (20), got 20"
bad off_over_threshold 's/off_cents: 2000/off_cents: 9901/' "off_over_threshold.yaml:[0-9]*: promotions.coupons\[0\].off_cents: coupon 'platform20' takes 9901 cents off orders from 9900"
bad percent_100 's/percent: 15/percent: 100/' "percent_100.yaml:[0-9]*: promotions.coupons\[1\].percent: expected a percentage in (0, 100), got '100'"
bad percent_0 's/percent: 15/percent: 0/' "percent_0.yaml:[0-9]*: promotions.coupons\[1\].percent: expected a percentage in (0, 100), got '0'"
bad day_outside 's/- day: 2/- day: 4/' "day_outside.yaml:[0-9]*: promotions.days\[0\].day: expected a day of the run, 0 to 3 (days: 4), got 4"
bad validity_0 's/validity_days: 2/validity_days: 0/' "validity_0.yaml:[0-9]*: promotions.coupons\[0\].validity_days: expected days a claim stays usable"
bad deal_idle 's/^behaviour:$/behaviour:\n  deal_weight: 2/; /^promotions:/,$d' "deal_idle.yaml:[0-9]*: behaviour.deal_weight: 2 would do nothing: no price is ever cut"
# Per arm: the control, offered no coupon, with the sale day cut to 0, cannot weigh a deal...
bad deal_arm_idle 's/discount_percent: 10/discount_percent: 0/; s/^    - name: control$/    - name: control\n      set: ["behaviour.deal_weight=2"]/' "deal_arm_idle.yaml:[0-9]*: behaviour.deal_weight: experiment.arms\[0\] (arm 'control'): 2 would do nothing: no price is ever cut for its users"
# ... but an arm of another layer whose cells include the coupon arm's users can.
sed 's/discount_percent: 10/discount_percent: 0/; s/^    - name: coupon$/    - name: coupon\n    - name: deal_off\n      layer: deal\n    - name: deal_on\n      layer: deal\n      set: ["behaviour.deal_weight=2"]/' \
  "$SRC/tests/data/tiny_coupon.yaml" >deal_layer.yaml
if "$FLYWHEEL" validate deal_layer.yaml >out.txt 2>&1; then pass "deal_weight in another layer's arm, coupons in this one's: accepted"
else fail "deal_weight in another layer's arm refused: $(cat out.txt)"; fi
bad unknown_arm 's/arms: \[coupon\]/arms: [treatment]/' "unknown_arm.yaml:[0-9]*: promotions.coupons\[0\].arms\[0\]: no arm is called 'treatment'"
finish
