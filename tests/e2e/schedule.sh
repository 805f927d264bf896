#!/usr/bin/env bash
# FLYWHEEL_SESSION_COSTS (issue 22: the load balance of the ticks, bench/schedule.py): the
# file holds one record per recorded tick (none of the warm-up's), whose runs' sessions add
# up to each day's `sessions` counter; bench/schedule.py reads it and replays the schedule,
# and refuses a file cut short. The same run without it writes the same result (the timing
# changes nothing); a path that cannot be written is refused with exit 2 before the run.
# The session grain (run.c session_grain) changes no result: e2e_determinism.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
T=("$SRC/tests/data/tiny.yaml" -d 2 --set world.warmup_days=1 --set world.warmup_pilot_share=0)
FLYWHEEL_SESSION_COSTS=costs.bin "$FLYWHEEL" run -q -t 2 "${T[@]}" -o a.h5 2>err.txt || fail "run with the costs: $(cat err.txt)"
"$FLYWHEEL" run -q -t 1 "${T[@]}" -o b.h5 2>err.txt || fail "run without: $(cat err.txt)"
h5diff -q --exclude-path /latency --exclude-attribute / a.h5 b.h5 && pass "recording the costs changes no result" ||
  fail "the result differs with FLYWHEEL_SESSION_COSTS"
"$PY" - costs.bin a.h5 >check.txt 2>&1 <<'PYEOF'
import struct, sys
import h5py
data = open(sys.argv[1], "rb").read()
f = h5py.File(sys.argv[2], "r")
assert data[:8] == b"FWCOSTS1", data[:8]
threads, = struct.unpack_from("<Q", data, 8)
assert threads == int(f.attrs["threads"]), (threads, f.attrs["threads"])   # 1 in a build without OpenMP
off, per_tick = 16, []
while off < len(data):
    n, barrier = struct.unpack_from("<QQ", data, off)
    off += 16
    costs = struct.unpack_from(f"<{n}q", data, off); off += 8 * n
    sess = struct.unpack_from(f"<{n}I", data, off); off += 4 * n
    assert all(c > 0 for c in costs) and all(s >= 1 for s in sess) and barrier > 0, "a cost, session count or barrier"
    per_tick.append(sum(sess))
days = f["days/all/sessions"][()]
n_days = len(days)
assert len(per_tick) % n_days == 0, (len(per_tick), n_days)
tpd = len(per_tick) // n_days
got = [sum(per_tick[d * tpd:(d + 1) * tpd]) for d in range(n_days)]
assert got == [int(x) for x in days], (got, list(days))
print(f"{len(per_tick)} ticks, {tpd} a day; sessions a day {got}")
PYEOF
[ $? -eq 0 ] && pass "one record per recorded tick, the runs' sessions adding up to each day's counter ($(cat check.txt))" ||
  fail "the costs file: $(cat check.txt)"
"$PY" "$SRC/bench/schedule.py" costs.bin >sched.txt 2>&1 && grep -q "flywheel's grain" sched.txt &&
  grep -q "barrier serial" sched.txt && pass "bench/schedule.py replays it" || fail "schedule.py: $(cat sched.txt)"
head -c 100 costs.bin >cut.bin
"$PY" "$SRC/bench/schedule.py" cut.bin >sched.txt 2>&1
[ $? -ne 0 ] && grep -q "cut.bin: byte" sched.txt && pass "schedule.py refuses a file cut short, naming the byte" ||
  fail "cut file: $(cat sched.txt)"
FLYWHEEL_SESSION_COSTS=no/such/dir/c.bin "$FLYWHEEL" run -q "${T[@]}" -o c.h5 >out.txt 2>err.txt
rc=$?
[ $rc -eq 2 ] && grep -q "FLYWHEEL_SESSION_COSTS='no/such/dir/c.bin': cannot open it for writing" err.txt &&
  [ ! -e c.h5 ] && [ ! -e c.h5.partial ] && pass "an unwritable costs path: exit 2, said, nothing run" ||
  fail "unwritable path: exit $rc, $(cat err.txt)"
finish
