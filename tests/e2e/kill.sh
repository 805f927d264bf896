#!/usr/bin/env bash
# A run that is killed keeps what it finished: SIGKILL leaves NAME.h5.partial whose
# completed days open in h5py; SIGINT finishes the tick, marks the file interrupted and
# exits 1. The final path is never written by an unfinished run.
. "$(dirname "$0")/lib.sh"
cd "$TMP"

wait_days() {   # wait_days FILE N: until FILE has >= N completed days (max 120 s)
  for _ in $(seq 1 600); do
    if [ -f "$1" ] && "$PY" -c "import h5py,sys; sys.exit(0 if h5py.File('$1','r').attrs['days_completed'] >= $2 else 1)" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

"$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" -q --days 200 -o k.h5 2>err.txt &
pid=$!
if wait_days k.h5.partial 2; then pass "partial file grows day by day"; else fail "no day recorded ($(cat err.txt))"; fi
kill -KILL $pid
wait $pid 2>/dev/null
[ ! -e k.h5 ] && pass "SIGKILL: final path not written" || fail "SIGKILL: final path exists"
# Files are written unnamed and named only to be renamed: a kill mid-write leaves no .tmp.
[ ! -e k.h5.partial.tmp ] && pass "SIGKILL: no temporary file left" || fail "SIGKILL: k.h5.partial.tmp left"
"$PY" "$SRC/tests/e2e/check_result.py" k.h5.partial --status running --min-days 2 && pass "SIGKILL: partial file opens in h5py with its finished days" || fail "SIGKILL: partial unreadable"

"$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" -q --days 200 -o i.h5 2>err.txt &
pid=$!
wait_days i.h5.partial 1 || fail "SIGINT run never finished a day"
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 1 ] && pass "SIGINT: exit 1" || fail "SIGINT: exit $rc"
grep -q "interrupted" err.txt && grep -q "i.h5.partial" err.txt && pass "SIGINT: says so and where" || fail "SIGINT message: $(cat err.txt)"
[ ! -e i.h5 ] && pass "SIGINT: final path not written" || fail "SIGINT: final path exists"
"$PY" "$SRC/tests/e2e/check_result.py" i.h5.partial --status interrupted --min-days 1 && pass "SIGINT: partial marked interrupted" || fail "SIGINT: partial file"
finish
