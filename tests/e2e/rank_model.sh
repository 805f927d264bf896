#!/usr/bin/env bash
# bench/rank_model.py (issue 21's model of a day's time against ranks): its arithmetic on
# made-up logs with known costs, and its parser on real `flywheel run` summaries (so a change
# of the summary's wording fails here, not in a researcher's hands).
. "$(dirname "$0")/lib.sh"
cd "$TMP"
M="$SRC/bench/rank_model.py"
# Made-up logs: sessions 0.5 ms, barriers 10 us and day ends 5 us per user-day; 3000 bytes per
# user-day on 2 ranks; 2 days each (the model divides by the days).
fake() {   # fake FILE USERS
  awk -v n="$2" 'BEGIN {
    printf "flywheel: ran %cx%c: 2 of 2 days, %d users, 1 thread, 1.0 s (world 0.1 s), peak memory 1 MiB\n", 39, 39, n
    printf "  figure of merit: 1 impressions/s/core (1 impressions, 1.0 s x 1 thread); sessions %.4f s, barriers %.4f s, day starts/ends %.4f s\n", 2 * 0.5e-3 * n, 2 * 10e-6 * n, 2 * 5e-6 * n
    printf "maxrss %d KB\n", (1048576 + 2048 * n) / 1024 }' >"$1"
}
fake a 10000
fake b 40000
cat >c <<'LOG'
flywheel: ran 'x': 1 of 1 days, 10000 users, 1 thread, 1.0 s (world 0.1 s), peak memory 1 MiB
  ranks: 2 (users 0..4999 on rank 0); exchanged 312500 bytes per tick (max 1), 1.0 per active user-tick, 3000.0 per user per day; 30.0 MB in 96 exchanges (each rank receives all of it)
  figure of merit: 1 impressions/s/core (1 impressions, 1.0 s x 1 thread x 2 ranks); sessions 1.0 s, barriers 1.0 s, day starts/ends 1.0 s
LOG
"$PY" "$M" a b c --predict 1000000:4:4 --alpha 0 --beta 1e9 --thread-eff 1 --predict 1000000000:64:16 >out.txt 2>&1
cat out.txt
# 1M users on 4 x 4: 0.5e-3 * 1e6 / 16 + 10 + 5 + 3/4 * 3000 * 1e6 / 1e9 = 48.5 s a day.
"$PY" - out.txt <<'PY' && pass "model: fitted costs and a prediction's arithmetic" || fail "model arithmetic"
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.split() and l.split()[0] in ("1000000", "1000000000")]
t = open(sys.argv[1]).read()
assert "0.500 ms per user-day" in t and "10.00 us" in t and "5.00 us" in t and "2048 bytes per user" in t, t
assert "3000 bytes per user and day" in t, t
r = rows[0]
assert abs(float(r[7]) - 48.5) < 0.06 and [float(x) for x in r[4:6]] == [10.0, 5.0], r
assert "15 rounds of 2 GiB" in " ".join(rows[1]), rows[1]   # 3 TB a day in 96 ticks: 29.1 GiB a tick
PY
# Real summaries: two one-day runs of a tiny world, one thread.
cat >w.yaml <<'YAML'
name: rank_model
seed: 21
days: 1
world:
  n_brands: 20
  n_products: 100
  ticks_per_day: 8
YAML
for n in 300 600; do "$FLYWHEEL" run w.yaml -t 1 -o "v$n.h5" --set world.n_users=$n --set world.n_notes=$((2 * n)) >"v$n.log" 2>&1; done
if "$PY" "$M" v300.log v600.log --predict 1000:1:2 >real.txt 2>&1 && grep -q "ms per user-day" real.txt &&
   grep -q "^ *1000 " real.txt; then pass "model: reads flywheel run's summary"
else fail "model on real summaries: $(cat real.txt)"; fi
finish
