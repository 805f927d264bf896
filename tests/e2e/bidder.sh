#!/usr/bin/env bash
# Bidder plug-ins (flywheel/policy.h, "Bidders"), end to end: a plug-in bidding every
# campaign's max bid serves exactly the built-in fixed bids (both unpaced); a randomised one in
# an A/B arm gives identical results at 1 and 2 threads and changes the arm; bidder_campaigns
# limits what it bids for; every plug-in that cannot be loaded is bad input (exit 2, before
# the world is generated, naming the file and what is wrong); and every way a bid can break
# the contract fails the run (exit 1) naming the plug-in, the campaign, the auction and the
# fault, with the finished day kept in the partial file, marked failed.
# Usage: bidder.sh FLYWHEEL PYTHON SOURCE_DIR POLICY_DIR
. "$(dirname "$0")/lib.sh"
POL=${4:?usage: $0 FLYWHEEL PYTHON SOURCE_DIR POLICY_DIR}
AB="$SRC/tests/data/tiny_bidder.yaml"
PACER=(--set engine.ads.bidder_plugin="$POL/pacing_bidder.so")
cd "$TMP"
cmp_files() { h5diff -q --exclude-path /latency --exclude-attribute / "$1" "$2"; }
differ() { h5diff -r --exclude-path /latency --exclude-attribute / "$1" "$2" | grep -v '^0 diff' | head -10; }

# 1. The max bid through the plug-in (no pacing, lr=0) against fixed bids unpaced: the same
# auctions, the same books, bit for bit. One arm each.
sed '/^experiment:/,$d' "$AB" >one.yaml
one=(--set engine.ads.pacing=none)
"$FLYWHEEL" run one.yaml -q -t 2 "${one[@]}" -o fixed.h5 2>err.txt || fail "fixed run ($(cat err.txt))"
"$FLYWHEEL" run one.yaml -q -t 2 "${one[@]}" -o plug.h5 --set engine.ads.bidder=plugin "${PACER[@]}" \
  --set engine.ads.bidder_args="lr=0" 2>err.txt || fail "plug-in run ($(cat err.txt))"
# (/work/ad_bidders aside: the bounded scan, engine.ads.scan, skips campaigns whose bound
# cannot win, but asks a plug-in for every campaign it controls.)
if h5diff -q --exclude-path /latency --exclude-path /work/ad_bidders --exclude-attribute / fixed.h5 plug.h5; then
  pass "a plug-in bidding the max bid gives the fixed bids' results exactly"
else fail "max-bid plug-in differs from fixed bids: $(differ fixed.h5 plug.h5)"; fi
"$FLYWHEEL" run one.yaml -q -t 2 "${one[@]}" -o half.h5 --set engine.ads.bidder=plugin \
  --set engine.ads.bidder_plugin="$POL/bad_bidder.so" --set engine.ads.bidder_args="fault=nan day=99" 2>err.txt ||
  fail "half-bid run ($(cat err.txt))"
if [ ! -s half.h5 ] || cmp_files fixed.h5 half.h5 >/dev/null 2>&1; then fail "bidding half the max bid changed nothing"
else pass "the plug-in's bids reach the auction (half the max bid differs)"; fi

# 2. A randomised bidder in an A/B arm: 1 vs 2 threads identical; its arguments matter.
for t in 1 2; do
  "$FLYWHEEL" run "$AB" -q -t $t -o j$t.h5 "${PACER[@]}" --set engine.ads.bidder_args="jitter=0.3" 2>err.txt ||
    fail "jittered pacing bidder -t $t ($(cat err.txt))"
done
if cmp_files j1.h5 j2.h5; then pass "randomised bidder: 1 vs 2 threads identical"
else fail "randomised bidder differs across threads: $(differ j1.h5 j2.h5)"; fi
"$FLYWHEEL" run "$AB" -q -t 2 -o j_other.h5 "${PACER[@]}" --set engine.ads.bidder_args="jitter=0.1" 2>err.txt ||
  fail "jitter 0.1 ($(cat err.txt))"
if [ ! -s j_other.h5 ] || cmp_files j2.h5 j_other.h5 >/dev/null 2>&1; then fail "bidder_args changed nothing"; else pass "bidder_args reach the plug-in"; fi
"$PY" - j2.h5 <<'PY' || fail "the bidder arm's results"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
for a in ("fixed", "bidder"):
    imp = f["days/%s/ad_impressions" % a][:]
    assert len(imp) == 2 and all(x > 0 for x in imp), (a, imp)
assert list(f["days/fixed/ad_impressions"][:]) != list(f["days/bidder/ad_impressions"][:])
s = f.attrs["status"]
assert (s.decode() if isinstance(s, bytes) else s) == "complete", s
PY
[ $? -eq 0 ] && pass "both arms bought ad impressions; the bidder arm's differ"

# 3. bidder_campaigns: the plug-in is made for campaigns 0..N-1 and asked to bid for those
# only (bad_bidder's expect=K refuses another count and fails a bid for an index >= K); the
# others keep their fixed bids; 0 means all.
for n in 3 30; do
  set_n=$([ $n = 30 ] && echo 0 || echo $n)
  "$FLYWHEEL" run "$AB" -q -t 2 -o sub$n.h5 --set engine.ads.bidder_plugin="$POL/bad_bidder.so" \
    --set engine.ads.bidder_args="fault=nan day=99 expect=$n" --set engine.ads.bidder_campaigns=$set_n >out.txt 2>err.txt
  rc=$?
  if [ $rc -eq 0 ]; then pass "bidder_campaigns=$set_n: the plug-in bids for exactly $n campaigns"
  else fail "bidder_campaigns=$set_n: exit $rc, $(cat err.txt)"; fi
done
if [ -s sub3.h5 ] && [ -s sub30.h5 ] && ! cmp_files sub3.h5 sub30.h5 >/dev/null 2>&1; then
  pass "half bids for 3 campaigns differ from half bids for all 30"
else fail "bidder_campaigns 3 vs all: the same results"; fi
"$FLYWHEEL" run "$AB" -q -t 2 -o subx.h5 --set engine.ads.bidder_plugin="$POL/bad_bidder.so" \
  --set engine.ads.bidder_args="fault=nan day=99 expect=3" >out.txt 2>err.txt
rc=$?
if [ $rc -ne 0 ] && grep -qF "expected 3 campaigns, got 30" err.txt; then pass "an instance refused at engine start: exit $rc, $(head -c 200 err.txt)"
else fail "expect=3 with every campaign: exit $rc, $(cat err.txt)"; fi

# 4. Bad input: exit 2 before the world exists, naming the file and what is wrong.
bad() {  # bad NAME EXPECTED-TEXT SCENARIO --set...
  local name=$1 want=$2 sc=$3
  shift 3
  rm -f bad.h5 bad.h5.partial
  "$FLYWHEEL" run "$sc" -q -t 2 -o bad.h5 "$@" >out.txt 2>err.txt
  local rc=$?
  if [ $rc -ne 2 ]; then fail "$name: exit $rc, expected 2 ($(cat err.txt))"
  elif ! grep -qF -- "$want" err.txt; then fail "$name: message lacks '$want': $(cat err.txt)"
  elif ! grep -qF "engine.ads.bidder" err.txt; then fail "$name: message does not name the key: $(cat err.txt)"
  elif [ -e bad.h5.partial ] || [ -e bad.h5 ]; then fail "$name: a result file was started"
  else pass "$name: exit 2: $(head -c 160 err.txt)"; fi
}
bad "missing file" "$TMP/none.so: cannot read the bidder plug-in: No such file" "$AB" --set engine.ads.bidder_plugin="$TMP/none.so"
echo "not a shared object" >fake.so
bad "not a shared object" "fake.so: cannot load the bidder plug-in" "$AB" --set engine.ads.bidder_plugin="$TMP/fake.so"
bad "wrong ABI version" "built for policy ABI version 3; this flywheel loads version 2" "$AB" \
  --set engine.ads.bidder_plugin="$POL/bad_bidder_abi.so" --set engine.ads.bidder_args=fault=nan
bad "missing symbol" "bad_bidder_symbol.so: the bidder plug-in has no symbol fw_bidder_plugin" "$AB" \
  --set engine.ads.bidder_plugin="$POL/bad_bidder_symbol.so"
bad "missing function" "bad_bidder_table.so: the bidder plug-in's table (fw_bidder_plugin) has no bid function" "$AB" \
  --set engine.ads.bidder_plugin="$POL/bad_bidder_table.so"
bad "arguments refused" "refused to start: unknown fault 'zzz'" "$AB" --set engine.ads.bidder_plugin="$POL/bad_bidder.so" \
  --set engine.ads.bidder_args="fault=zzz"
bad "no path" "(arm 'bidder') bidder plugin needs the path of a bidder plug-in" "$AB"
bad "too many campaigns" "engine.ads.bidder_campaigns: (arm 'bidder') expected at most world.n_campaigns (30), got 31" "$AB" \
  "${PACER[@]}" --set engine.ads.bidder_campaigns=31
bad "no campaigns" "world.n_campaigns is 0: there is nothing to bid for" "$AB" "${PACER[@]}" --set world.n_campaigns=0
bad "named, unused" "no arm sets engine.ads.bidder: plugin" "$SRC/tests/data/tiny.yaml" "${PACER[@]}"
bad "campaigns, unused" "no arm sets engine.ads.bidder: plugin" "$SRC/tests/data/tiny.yaml" --set engine.ads.bidder_campaigns=2
bad "arms differ on one budget" "engine.ads.bidder" "$AB" "${PACER[@]}" --set experiment.budget_split=false

# 5. Faults at run time: exit 1, the plug-in, auction and fault named, day 0 kept.
fault() {  # fault NAME EXPECTED-TEXT
  local name=$1 want=$2
  rm -f f.h5 f.h5.partial
  "$FLYWHEEL" run "$AB" -q -t 2 -o f.h5 --set engine.ads.bidder_plugin="$POL/bad_bidder.so" \
    --set engine.ads.bidder_args="fault=$name day=1" >out.txt 2>err.txt
  local rc=$?
  if [ $rc -ne 1 ]; then fail "fault $name: exit $rc, expected 1 ($(cat err.txt))"; return; fi
  if ! grep -qF "bidder 'bad_bidder' ($POL/bad_bidder.so)" err.txt || ! grep -qF -- "$want" err.txt; then
    fail "fault $name: message lacks the plug-in or '$want': $(cat err.txt)"; return; fi
  "$PY" - f.h5.partial <<'PY' || { fail "fault $name: partial file"; return; }
import sys, h5py
f = h5py.File(sys.argv[1], "r")
s = f.attrs["status"]
assert (s.decode() if isinstance(s, bytes) else s) == "failed", s
assert len(f["days/day"]) == 1 and len(f["days/bidder/ad_impressions"]) == 1
PY
  pass "fault $name: exit 1, $(grep -o "auction for.*\|observe.*" err.txt | head -1 | head -c 150); day 0 kept, marked failed"
}
fault nan "(day 1, tick 0): the bid is NaN or infinite"
fault neg "cents is negative"
fault above "cents is above the campaign's max bid"
fault rc "bid returned -5"
fault observe "observe of tick 12 returned -4"
finish
