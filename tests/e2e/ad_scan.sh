#!/usr/bin/env bash
# The bounded auction scan (engine.ads.scan bounded, the default) against the full scan, its
# oracle: on tests/data/tiny_ads.yaml with 400 campaigns (two arms, GSP and VCG, per-arm
# learners and budgets), each configuration is run both ways and the files must be identical
# outside /latency and /work (the winners, prices, books and every metric), while the bounded
# scan computes fewer bids (/work/ad_bidders). Configurations: manual bids; autobidders under
# first price (their shades and values bound); throttle pacing with a frequency cap of 1 (cap
# tables fill, campaigns drop out mid-day); search ads and one shared learned state.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
Y="$SRC/tests/data/tiny_ads.yaml"
base=(--set world.n_campaigns=400 --set world.ad_budget_cents=300)
configs=(
  "manual|"
  "autobid_first|--set world.goal_max_conversions=0.3 --set world.goal_target_cpa=0.3 --set world.goal_target_roas=0.2 --set engine.ads.pay_rule=first"
  "throttle_cap1|--set engine.ads.pacing=throttle --set engine.ads.freq_cap=1"
  "shared_reserve|--set experiment.isolation=shared --set experiment.budget_split=false --set engine.ads.reserve_cpm_cents=2000"
)
for c in "${configs[@]}"; do
  name=${c%%|*}
  read -r -a extra <<<"${c#*|}"
  ok=1
  for scan in full bounded; do
    if ! "$FLYWHEEL" run "$Y" -q -t 2 -d 2 "${base[@]}" "${extra[@]}" --set engine.ads.scan=$scan \
         -o "$name.$scan.h5" 2>err.txt; then
      fail "$name: run with scan $scan ($(cat err.txt))"
      ok=0
    fi
  done
  [ $ok = 1 ] || continue
  if h5diff -q --exclude-path /latency --exclude-path /work --exclude-attribute / "$name.full.h5" "$name.bounded.h5" &&
     h5diff -q --exclude-path /latency --exclude-path /work --exclude-attribute / "$name.bounded.h5" "$name.full.h5"; then
    pass "$name: bounded and full scans give identical results"
  else
    fail "$name: the bounded scan changed results: $(h5diff --exclude-path /latency --exclude-path /work --exclude-attribute / "$name.full.h5" "$name.bounded.h5" 2>&1 | head -5)"
  fi
  if out=$("$PY" - "$name.full.h5" "$name.bounded.h5" <<'PY'
import sys
import h5py
full, bnd = (h5py.File(p, "r")["work"] for p in sys.argv[1:3])
a, b = full["ad_bidders"][:].sum(), bnd["ad_bidders"][:].sum()
n = full["auctions_run"][:].sum()
ok = n > 0 and n == bnd["auctions_run"][:].sum() and b < a
print(f"{n} auctions; bids computed per auction {a / max(n, 1):.1f} full, {b / max(n, 1):.1f} bounded")
sys.exit(0 if ok else 1)
PY
  ); then
    pass "$name: $out"
  else
    fail "$name: the bounded scan did not compute fewer bids: $out"
  fi
done
finish
