#!/usr/bin/env bash
# Live-stream selling end to end (issue 19; tiny_live: a control arm without live selling, an
# arm with it, 2 days): one and two threads agree bit for bit; the control's live counters are
# 0 and the live arm's add up (joins by source make the joins, flash orders are among the
# orders, live GMV is part of GMV, mean viewers = viewer-ticks / ticks on); the per-session
# table agrees with the arm's day counters and never sells more flash units than it has; the
# summary and the report show live GMV; a run without live sessions has no live data; bad
# live input exits 2 with file:line: key.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
Y="$SRC/tests/data/tiny_live.yaml"
"$FLYWHEEL" run "$Y" -t 1 -o l1.h5 >out.txt 2>err.txt && pass "tiny_live runs (1 thread)" || fail "run ($(cat err.txt))"
"$FLYWHEEL" run "$Y" -t 2 -o l2.h5 >/dev/null 2>err2.txt && pass "tiny_live runs (2 threads)" || fail "run ($(cat err2.txt))"
if h5diff -q --exclude-path /latency --exclude-attribute / l1.h5 l2.h5; then pass "1 vs 2 threads identical"; else fail "1 vs 2 threads differ: $(h5diff -r --exclude-path /latency --exclude-attribute / l1.h5 l2.h5 | head -20)"; fi
grep -q "^  live  *sessions" out.txt && pass "the summary has the live lines" || fail "no live line in the summary: $(cat out.txt)"
"$PY" - <<'PY' && pass "live counters add up; sessions agree with the days; flash never over-sold" || fail "live checks"
import h5py, numpy as np
f = h5py.File("l1.h5", "r")
c, l = f["days/control"], f["days/live"]
names = [k for k in l.keys() if k.startswith("live_") and k not in ("live_mean_viewers", "live_orders_per_viewer", "live_gmv_share")]
assert len(names) == 12, names
for k in names:
    assert (c[k][:] == 0).all(), ("control", k, c[k][:])
v = lambda k: l[k][:].astype(np.int64)
print("  live arm by day: sessions", v("live_sessions"), "joins", v("live_viewers"), "peak", v("live_peak_viewers"),
      "paid", v("live_paid_orders"), "live GMV", v("live_gmv_cents"), "GMV", v("gmv_cents"))
assert (v("live_sessions") > 0).all() and v("live_viewers").sum() > 0 and v("live_paid_orders").sum() > 0
assert (v("live_joins_feed") + v("live_joins_follow") + v("live_joins_notify") == v("live_viewers")).all()
assert v("live_joins_feed").sum() > 0 and v("live_joins_notify").sum() + v("live_joins_follow").sum() > 0
assert (v("live_flash_orders") <= v("live_orders")).all() and v("live_flash_orders").sum() > 0
assert (v("live_paid_orders") <= v("live_orders")).all()
assert (v("live_gmv_cents") <= v("gmv_cents")).all() and (v("live_paid_orders") <= v("paid_orders")).all()
assert (v("live_peak_viewers") <= v("live_viewers") + 10**9).all() and (v("live_peak_viewers") > 0).all()
assert (v("live_peak_viewers") * v("live_ticks_on") >= v("live_viewer_ticks")).all()
assert np.allclose(l["live_mean_viewers"][:], v("live_viewer_ticks") / v("live_ticks_on"))
assert np.allclose(l["live_orders_per_viewer"][:], v("live_paid_orders") / v("live_viewers"))
s = f["live/sessions"][:]
cols = [x.strip() for x in f["live/sessions"].attrs["columns"].split(",")] if isinstance(f["live/sessions"].attrs["columns"], str) else [x.strip() for x in f["live/sessions"].attrs["columns"].decode().split(",")]
C = {k: i for i, k in enumerate(cols)}
assert len(cols) == s.shape[1] == 14, cols
assert (s[:, C["end_tick"]] > s[:, C["start_tick"]]).all() and (np.diff(s[:, C["start_tick"]]) >= 0).all()
assert (s[:, C["products"]] >= 1).all()
assert (s[:, C["flash_sold"]] <= s[:, C["flash_units"]]).all()
assert (s[:, C["flash_sold"]] == s[:, C["flash_orders"]]).all() and s[:, C["flash_sold"]].sum() > 0   # one unit an order
assert ((s[:, C["orders"]] > s[:, C["flash_orders"]]) & (s[:, C["flash_orders"]] > 0)).any(), "no list-price live order beside flash ones"
assert s[:, C["paid_orders"]].sum() == v("live_paid_orders").sum(), (s[:, C["paid_orders"]].sum(), v("live_paid_orders"))
assert s[:, C["gmv_cents"]].sum() == v("live_gmv_cents").sum()
assert s[:, C["viewers"]].sum() == v("live_viewers").sum()
assert s[:, C["flash_orders"]].sum() == v("live_flash_orders").sum()
assert (s[:, C["peak_viewers"]] <= s[:, C["viewers"]]).all()
PY
# The report's live section (index.html only: a stand-in gnuplot draws nothing, quickly).
mkdir -p fakebin && printf '#!/bin/sh\nexit 0\n' >fakebin/gnuplot && chmod +x fakebin/gnuplot
PATH="$PWD/fakebin:$PATH" "$FLYWHEEL" report l1.h5 -o rep >rep.txt 2>&1
grep -q '<h2 id="live">Live selling</h2>' rep/index.html 2>/dev/null && grep -q "live GMV share" rep/index.html \
  && pass "the report has the live section" || fail "no live section in the report: $(cat rep.txt)"
# Without live sessions: no live datasets at all.
grep -v "  live_\|^behaviour:" "$Y" | sed 's/"engine.live.enabled=1"//' >off.yaml
"$FLYWHEEL" run off.yaml -t 1 -d 1 -o off.h5 >/dev/null 2>erro.txt && pass "a run without live sessions" || fail "run off ($(cat erro.txt))"
"$PY" -c "
import h5py; f = h5py.File('off.h5', 'r')
assert 'live' not in f and not any(k.startswith('live_') for a in f['days'] if a != 'day' for k in f['days'][a]), 'live data'
" && pass "no live data without live sessions" || fail "live data in a run without live sessions"
# Bad input: exit 2 with file:line: key.
bad() {  # name, sed expression, expected key
  sed "$2" "$Y" >"$1.yaml"
  "$FLYWHEEL" validate "$1.yaml" >/dev/null 2>"$1.err"; rc=$?
  if [ $rc -eq 2 ] && grep -q "$1.yaml:[0-9]*: $3" "$1.err"; then pass "$1: exit 2 at $3"; else fail "$1: rc $rc: $(cat "$1.err")"; fi
}
bad noproducts 's/live_products_per_session: 4/live_products_per_session: 0/' "world.live_products_per_session: 0 while live sessions are on"
bad idle 's/live_sessions_per_day: 6/live_sessions_per_day: 0/' "world.live_duration_min_ticks: 2 would do nothing"
bad noarm 's/"engine.live.enabled=1"/"behaviour.live_buy=0.5"/' "world.live_sessions_per_day: 6, but no arm shows live sessions"
bad order 's/live_duration_min_ticks: 2/live_duration_min_ticks: 40/' "world.live_duration_min_ticks: expected at most"
bad range 's/live_buy: 0.03/live_buy: 1.5/' "behaviour.live_buy: expected a number in"
bad discount 's/live_flash_units: 1/live_discount: 0.95/' "world.live_discount: expected a number in"
bad creator 's/  salt: 3/  salt: 3\n  unit: creator/' "engine.live.enabled: arm 'live' sets it, but with experiment.unit creator"
grep -v "  live_\|^behaviour:" "$Y" >armidle.yaml
"$FLYWHEEL" validate armidle.yaml >/dev/null 2>armidle.err; rc=$?
[ $rc -eq 2 ] && grep -q "armidle.yaml:[0-9]*: engine.live.enabled: experiment.arms\[1\] (arm 'live'): 1 would do nothing" armidle.err \
  && pass "an arm's live knob with sessions off: exit 2 at the arm" || fail "armidle: rc $rc: $(cat armidle.err)"
finish
