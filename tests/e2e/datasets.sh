#!/usr/bin/env bash
# The datasets of issue 16: the event log (/events, /truth) and the entity tables (/entities).
#  - the log changes no outcome: a run with it off equals one with it on outside the new groups;
#  - the tables are bit-identical for 1 and 2 threads (h5diff);
#  - a sampled run keeps whole histories: its rows are exactly the full log's rows of its users;
#  - a run killed mid-way keeps the log of its finished days, consistent with /days;
#  - datasets.py loads every table with h5py and pandas (the README's recipe) and checks the
#    accounting against the daily series.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
SC=$SRC/tests/data/tiny_ab.yaml
# Half of tiny_ab's world keeps the test to seconds; every path is still taken.
ON=(--set world.n_users=1500 --set world.n_notes=3000 --set output.events=true --set output.entities=true)
EXCL=(--exclude-path /latency --exclude-attribute /)

"$FLYWHEEL" run "$SC" -q -t 2 -o off.h5 --set world.n_users=1500 --set world.n_notes=3000 2>err.txt || fail "run without the log ($(cat err.txt))"
"$FLYWHEEL" run "$SC" -q -t 2 -o on2.h5 "${ON[@]}" 2>err.txt || fail "run with the log, 2 threads ($(cat err.txt))"
"$FLYWHEEL" run "$SC" -q -t 1 -o on1.h5 "${ON[@]}" 2>err.txt || fail "run with the log, 1 thread ($(cat err.txt))"
"$FLYWHEEL" run "$SC" -q -t 2 -o s.h5 "${ON[@]}" --set output.events_sample=0.3 2>err.txt ||
  fail "sampled run ($(cat err.txt))"

if h5diff -q "${EXCL[@]}" --exclude-path /events --exclude-path /truth --exclude-path /entities off.h5 on2.h5 &&
  h5diff -q "${EXCL[@]}" --exclude-path /events --exclude-path /truth --exclude-path /entities on2.h5 off.h5; then
  pass "the log and the tables change no outcome (identical outside /events, /truth, /entities)"
else
  fail "a run with the log differs from one without it"
fi
if h5ls off.h5/events >/dev/null 2>&1 || h5ls off.h5/entities >/dev/null 2>&1; then
  fail "a run with the log off has /events or /entities"
else
  pass "off by default: no /events, no /entities"
fi
if h5diff -q "${EXCL[@]}" on1.h5 on2.h5 && h5diff -q "${EXCL[@]}" on2.h5 on1.h5; then
  pass "1 and 2 threads: bit-identical tables"
else
  fail "1 and 2 threads differ: $(h5diff -r "${EXCL[@]}" on1.h5 on2.h5 2>&1 | grep -v '^0 differences' | head -5)"
fi

# A killed run keeps its finished days' log.
"$FLYWHEEL" run "$SC" -q -t 2 --days 60 -o k.h5 "${ON[@]}" 2>err.txt &
pid=$!
for _ in $(seq 1 300); do
  kill -0 $pid 2>/dev/null || break
  "$PY" -c "import h5py,sys; sys.exit(0 if h5py.File('k.h5.partial','r').attrs['days_completed'] >= 2 else 1)" \
    2>/dev/null && break
  sleep 0.2
done
kill -KILL $pid
wait $pid 2>/dev/null

# Bad input: exit 2 with file:line: key, before anything runs.
printf 'name: bad\noutput:\n  events: true\n  events_sample: 0\n' >bad_sample.yaml
"$FLYWHEEL" run bad_sample.yaml -q -o bad.h5 2>err.txt
rc=$?
if [ $rc -eq 2 ] && grep -q '^flywheel: bad_sample.yaml:4: output.events_sample: expected a number in \[1e-06, 1' err.txt; then
  pass "events_sample 0: exit 2 at its line"
else
  fail "events_sample 0: exit $rc, $(cat err.txt)"
fi
printf 'name: big\nworld:\n  n_users: 50000\noutput:\n  events: true\n  max_bytes: 10000000\n' >big.yaml
"$FLYWHEEL" run big.yaml -q -o big.h5 2>err.txt
rc=$?
if [ $rc -eq 2 ] && grep -q '^flywheel: big.yaml:5: output.events: the event log would take about [0-9]* MiB (estimate: .* impressions at .* bytes each), more than output.max_bytes' err.txt; then
  pass "a log larger than output.max_bytes: exit 2 at output.events' line, with the estimate"
else
  fail "max_bytes: exit $rc, $(cat err.txt)"
fi
printf 'name: big\nworld:\n  n_users: 50000\noutput:\n  max_bytes: 10000000\n' >big2.yaml
"$FLYWHEEL" validate big2.yaml --set output.events=true --set output.events_sample=0.01 >/dev/null 2>err.txt &&
  pass "the same run logging 1% of users fits" || fail "1% sample refused: $(cat err.txt)"
[ ! -e bad.h5 ] && [ ! -e big.h5 ] && [ ! -e bad.h5.partial ] && pass "refused runs write nothing" || fail "a refused run wrote a file"

"$PY" "$SRC/tests/e2e/datasets.py" on2.h5 s.h5 k.h5.partial 0.3 && pass "datasets.py: tables load with h5py and pandas, and add up" ||
  fail "datasets.py"
finish
