#!/usr/bin/env bash
# Wall time, throughput and peak memory of a scenario at several thread counts, runs
# interleaved (1,2,1,2,...) so machine noise hits every count alike; prints medians.
# usage: bench/threads.sh [SCENARIO] [REPEATS] [THREADS...]   e.g. bench/threads.sh scenarios/builtin.yaml 3 1 2
# (SCENARIO defaults to scenarios/builtin.yaml, the default scenario until December 2026,
# on which the README's figures were measured; scenarios/default.yaml adds a 60-day pilot warm-up)
# FLYWHEEL_ARGS adds run options (e.g. FLYWHEEL_ARGS="--set days=1"). Also prints, per count,
# the figure of merit (impressions/s/core) and the summary's split of the simulation seconds:
# the ticks' parallel phases, their barriers, the days' starts and ends (issue 22).
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-scenarios/builtin.yaml}
repeats=${2:-3}
shift $(( $# >= 2 ? 2 : $# ))
threads=("${@:-1 2}")
[ ${#threads[@]} -eq 1 ] && read -r -a threads <<<"${threads[0]}"
bin=${FLYWHEEL:-./build/flywheel}
read -r -a extra <<<"${FLYWHEEL_ARGS:-}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for ((r = 0; r < repeats; r++)); do
  for t in "${threads[@]}"; do
    /usr/bin/time -f "%e %M" -o "$out/time" "$bin" run "$scenario" -t "$t" -o "$out/r.h5" "${extra[@]}" >"$out/log"
    sessions_per_s=$(sed -n 's/.*throughput: \([0-9]*\) user-sessions\/s.*/\1/p' "$out/log")
    split=$(sed -n 's/.*figure of merit: \([0-9]*\) impressions.*sessions \([0-9.]*\) s, barriers \([0-9.]*\) s, day starts\/ends \([0-9.]*\) s.*/\1 \2 \3 \4/p' "$out/log")
    read -r wall rss_kb <"$out/time"
    echo "$t $wall $sessions_per_s $rss_kb ${split:-NaN NaN NaN NaN}" >>"$out/all"
  done
done
echo "scenario: $scenario ${FLYWHEEL_ARGS:-}, $repeats runs per thread count (medians)"
printf "%8s %10s %18s %12s %8s %14s %8s %10s %8s\n" threads wall_s user-sessions/s peak_MiB speedup \
  impr/s/core sess_s barrier_s day_s
base=""
for t in "${threads[@]}"; do
  med() { awk -v t="$t" -v c="$1" '$1 == t {print $c}' "$out/all" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
  w=$(med 2); s=$(med 3); m=$(med 4); ipc=$(med 5); ps=$(med 6); bs=$(med 7); ds=$(med 8)
  [ -z "$base" ] && base=$w
  awk -v t="$t" -v w="$w" -v s="$s" -v m="$m" -v b="$base" -v ipc="$ipc" -v ps="$ps" -v bs="$bs" -v ds="$ds" \
    'BEGIN {printf "%8s %10.2f %18.0f %12.0f %8.2f %14.0f %8.1f %10.1f %8.1f\n", t, w, s, m / 1024, b / w, ipc, ps, bs, ds}'
done
