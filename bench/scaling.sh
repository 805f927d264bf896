#!/usr/bin/env bash
# OpenMP scaling of a scenario across thread counts on a many-core machine, runs interleaved,
# medians reported; then checks that the largest thread count gives the same deterministic
# datasets as one thread (h5diff outside /latency and root attributes).
# usage: bench/scaling.sh SCENARIO REPEATS "1 2 4 8 16" [extra flywheel args...]
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=$1
repeats=$2
read -r -a threads <<<"$3"
shift 3
bin=${FLYWHEEL:-./build/flywheel}
h5diff=${H5DIFF:-h5diff}
out=${OUT_DIR:-$(mktemp -d)}
mkdir -p "$out"
: >"$out/all"
for ((r = 0; r < repeats; r++)); do
  for t in "${threads[@]}"; do
    s0=$(date +%s.%N)
    "$bin" run "$scenario" -t "$t" -o "$out/t$t.h5" "$@" >"$out/log" 2>&1
    s1=$(date +%s.%N)
    thr=$(sed -n 's/.*throughput: \([0-9]*\) user-sessions\/s.*/\1/p' "$out/log")
    rss=$(sed -n 's/.*peak memory \([0-9]*\) MiB.*/\1/p' "$out/log")
    echo "$t $(awk -v a="$s0" -v b="$s1" 'BEGIN {print b - a}') $thr $rss" >>"$out/all"
  done
done
echo "scenario: $scenario $*; $repeats runs per thread count; $(nproc) cores"
printf "%8s %10s %18s %10s %8s %11s\n" threads wall_s user-sessions/s peak_MiB speedup efficiency
base=""
for t in "${threads[@]}"; do
  med() { awk -v t="$t" -v c="$1" '$1 == t {print $c}' "$out/all" | sort -g |
          awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
  w=$(med 2); s=$(med 3); m=$(med 4)
  [ -z "$base" ] && base=$w
  awk -v t="$t" -v w="$w" -v s="$s" -v m="$m" -v b="$base" \
    'BEGIN {printf "%8s %10.2f %18.0f %10.0f %8.2f %10.0f%%\n", t, w, s, m, b / w, 100 * b / w / t}'
done
last=${threads[${#threads[@]}-1]}
if "$h5diff" -q --exclude-path /latency --exclude-attribute / "$out/t${threads[0]}.h5" "$out/t$last.h5"; then
  echo "determinism: ${threads[0]} vs $last threads identical outside /latency"
else
  echo "determinism: ${threads[0]} vs $last threads DIFFER"
  exit 1
fi
