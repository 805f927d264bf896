#!/usr/bin/env bash
# Issue 21's scaling model: one-day runs of SCENARIO (default: scenarios/builtin.yaml, on
# which it was fitted) on one rank and one thread at several user counts (notes twice the users), and, with an MPI build,
# the same world on 2 ranks for the exchanged bytes; then bench/rank_model.py fits the per-user
# costs and prints its predictions (the default ones, or PREDICT="N:R:P ...").
# usage: bench/rank_model.sh [SCENARIO] [USERS...]     e.g. bench/rank_model.sh scenarios/builtin.yaml 20000 50000 100000
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-scenarios/builtin.yaml}
shift || true
users=("$@")
[ ${#users[@]} -gt 0 ] || users=(20000 50000 100000)
bin=${FLYWHEEL:-./build/flywheel}
mpibin=${FLYWHEEL_MPI:-./build-mpi/flywheel}
py=${PYTHON:-/usr/bin/python3}
out=${OUT_DIR:-$(mktemp -d)}
mkdir -p "$out"
logs=()
for n in "${users[@]}"; do
  /usr/bin/time -f "maxrss %M KB" "$bin" run "$scenario" -t 1 -d 1 --set world.n_users="$n" \
    --set world.n_notes=$((2 * n)) -o "$out/u$n.h5" >"$out/u$n.log" 2>&1
  logs+=("$out/u$n.log")
done
if [ -x "$mpibin" ] && command -v mpirun >/dev/null; then
  n=${users[0]}
  mpirun --allow-run-as-root --oversubscribe -np 2 "$mpibin" run "$scenario" -t 1 -d 1 \
    --set world.n_users="$n" --set world.n_notes=$((2 * n)) -o "$out/r2.h5" >"$out/r2.log" 2>&1
  logs+=("$out/r2.log")
  grep 'ranks:' "$out/r2.log"
fi
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); logs in $out"
read -r -a predict <<<"${PREDICT:-1000000:1:16 1000000:4:4 10000000:16:16 100000000:64:16}"
args=()
for p in "${predict[@]}"; do args+=(--predict "$p"); done
"$py" bench/rank_model.py "${logs[@]}" "${args[@]}"
