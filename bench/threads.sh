#!/usr/bin/env bash
# Wall time, throughput and peak memory of a scenario at several thread counts, runs
# interleaved (1,2,1,2,...) so machine noise hits every count alike; prints medians.
# usage: bench/threads.sh [SCENARIO] [REPEATS] [THREADS...]   e.g. bench/threads.sh scenarios/default.yaml 3 1 2
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-scenarios/default.yaml}
repeats=${2:-3}
shift $(( $# >= 2 ? 2 : $# ))
threads=("${@:-1 2}")
[ ${#threads[@]} -eq 1 ] && read -r -a threads <<<"${threads[0]}"
bin=${FLYWHEEL:-./build/flywheel}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for ((r = 0; r < repeats; r++)); do
  for t in "${threads[@]}"; do
    /usr/bin/time -f "%e %M" -o "$out/time" "$bin" run "$scenario" -t "$t" -o "$out/r.h5" >"$out/log"
    sessions_per_s=$(sed -n 's/.*throughput: \([0-9]*\) user-sessions\/s.*/\1/p' "$out/log")
    read -r wall rss_kb <"$out/time"
    echo "$t $wall $sessions_per_s $rss_kb" >>"$out/all"
  done
done
echo "scenario: $scenario, $repeats runs per thread count (medians)"
printf "%8s %10s %18s %12s %8s\n" threads wall_s user-sessions/s peak_MiB speedup
base=""
for t in "${threads[@]}"; do
  med() { awk -v t="$t" -v c="$1" '$1 == t {print $c}' "$out/all" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
  w=$(med 2); s=$(med 3); m=$(med 4)
  [ -z "$base" ] && base=$w
  awk -v t="$t" -v w="$w" -v s="$s" -v m="$m" -v b="$base" \
    'BEGIN {printf "%8s %10.2f %18.0f %12.0f %8.2f\n", t, w, s, m / 1024, b / w}'
done
