#!/usr/bin/env bash
# The load balance of a run's ticks at more threads than this machine has (issue 22): runs
# SCENARIO at one thread with FLYWHEEL_SESSION_COSTS (every recorded tick's users' session
# costs and its barrier time), then bench/schedule.py replays OpenMP's dynamic schedule on
# those costs at 1, 2, 4, 8 and 16 threads (THREADS=... to change). Builds nothing.
# usage: bench/schedule.sh SCENARIO [flywheel run options...]
#   bench/schedule.sh scenarios/default.yaml -d 1 --set world.warmup_days=0 --set world.warmup_pilot_share=0
# FLYWHEEL=path picks another binary; PY=path another Python 3 (with numpy).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n '2,8p' "$0" >&2; exit 2; }
bin=${FLYWHEEL:-./build/flywheel}
[ -x "$bin" ] || { echo "schedule.sh: $bin not found; build it first: cmake --build build --target flywheel" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
FLYWHEEL_SESSION_COSTS="$out/costs.bin" "$bin" run "$@" -t 1 -q --no-snapshot -o "$out/r.h5"
"${PY:-/usr/bin/python3}" bench/schedule.py "$out/costs.bin" --threads "${THREADS:-1,2,4,8,16}"
