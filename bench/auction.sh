#!/usr/bin/env bash
# The ad auction at 200 and 2,000 campaigns, full scan against bounded scan (engine.ads.scan),
# side by side in one run: the built-in defaults (scenarios/builtin.yaml) for DAYS days
# (default 1) on THREADS threads (default 1), with manual bids and with 80% autobidders (world.goal_*: 0.3, 0.3, 0.2), the
# four scan/campaign pairs alternated. Per run: the `ads` stage's p50 and p99 per day (from
# /latency), bids computed per auction (/work), user CPU seconds and peak RSS (/usr/bin/time),
# and whether the bounded file equals the full one outside /latency and /work (it must).
# usage: bench/auction.sh [FLYWHEEL]        (default ./build/flywheel; needs python3-h5py)
#   DAYS=2 THREADS=2 bench/auction.sh
set -euo pipefail
F=${1:-./build/flywheel}
S=$(dirname "$0")/../scenarios/builtin.yaml
DAYS=${DAYS:-1}
THREADS=${THREADS:-1}
PY=${PY:-/usr/bin/python3}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
goals=(--set world.goal_max_conversions=0.3 --set world.goal_target_cpa=0.3 --set world.goal_target_roas=0.2)
printf '%-8s %-9s %-8s %-22s %-22s %12s %8s %9s %s\n' bidding campaigns scan "ads p50 (us/day)" "ads p99 (us/day)" \
  "bids/auction" "user s" "peak MiB" "same as full"
for bidding in manual autobid; do
  extra=()
  [ $bidding = autobid ] && extra=("${goals[@]}")
  for n in 200 2000; do
    for scan in full bounded; do
      f="$OUT/$bidding.$n.$scan"
      /usr/bin/time -v "$F" run "$S" -q -t "$THREADS" -d "$DAYS" --set world.n_campaigns=$n "${extra[@]}" \
        --set engine.ads.scan=$scan -o "$f.h5" >/dev/null 2>"$f.time"
      same=-
      if [ $scan = bounded ]; then
        if h5diff -q --exclude-path /latency --exclude-path /work --exclude-attribute / "$OUT/$bidding.$n.full.h5" "$f.h5"; then
          same=yes
        else
          same=NO
        fi
      fi
      "$PY" - "$f.h5" "$f.time" "$bidding" "$n" "$scan" "$same" <<'PY'
import sys
import h5py
f = h5py.File(sys.argv[1], "r")
lat, work = f["latency"]["ads"], f["work"]
t = open(sys.argv[2]).read().splitlines()
def field(name):
    return next(l.split(":")[-1].strip() for l in t if name in l)
p50 = ",".join(f"{v / 1000:.1f}" for v in lat["p50"][:])
p99 = ",".join(f"{v / 1000:.1f}" for v in lat["p99"][:])
bids = work["ad_bidders"][:].sum() / max(work["auctions_run"][:].sum(), 1)
print(f"{sys.argv[3]:<8} {sys.argv[4]:<9} {sys.argv[5]:<8} {p50:<22} {p99:<22} {bids:12.1f} "
      f"{float(field('User time')):8.1f} {int(field('Maximum resident')) / 1024:9.0f} {sys.argv[6]}")
PY
      [ "$same" != NO ] || { echo "bench/auction.sh: the bounded scan changed results" >&2; exit 1; }
    done
  done
done
