#!/usr/bin/env bash
# The default scenario's shop funnel against the calibration (../shared/calibration.md): 3 of
# its 7 days, about 50 s of CPU (minutes under the sanitizers), hence label slow; e2e_shop
# checks the shop's code paths on a tiny world.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
# The default scenario's shop funnel (its world, 3 of its 7 days, about 50 s of CPU): product
# click -> purchase 0.5-2% and add-to-cart -> purchase about a third, with slack. A smaller
# world has fewer users per campaign, more ad clicks per user and a lower click -> purchase.
# Search runs in its capped mode here (a third of the run's time under exact retrieval at this
# size, and search is not what this checks).
"$FLYWHEEL" run "$SRC/scenarios/default.yaml" -q --set days=3 --set engine.search.retrieval=newest \
  --set engine.search.max_postings=2000 -o default.h5 2>err.txt || fail "default run ($(cat err.txt))"
if out=$("$PY" - <<'PY' 2>&1
import sys
import h5py
f = h5py.File("default.h5", "r")
tot = {k: int(sum(f["days"][a][k][:].sum() for a in f["days"] if a != "day"))
       for k in ("product_views", "cart_adds", "paid_orders")}
c2p = tot["paid_orders"] / tot["product_views"]
k2p = tot["paid_orders"] / tot["cart_adds"]
print(f"click->purchase {c2p:.4f}, cart->purchase {k2p:.3f} ({tot['paid_orders']} paid of "
      f"{tot['product_views']} views, {tot['cart_adds']} carts)")
sys.exit(0 if 0.005 <= c2p <= 0.03 and 0.2 <= k2p <= 0.5 else 1)
PY
); then pass "default funnel: $out"; else fail "default funnel outside click 0.5-3%, cart 20-50%: $out"; fi
finish
