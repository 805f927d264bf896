#!/usr/bin/env bash
# flywheel run --resume from a state snapshot (issue 21): a run stopped after a day
# (FLYWHEEL_STOP_AFTER_DAY) and resumed loads FILE.snap instead of re-simulating its finished
# days, and ends with a file identical (h5diff; /latency and root attributes excluded as in
# determinism.sh) to an uninterrupted run's -- for the default capabilities, the learning
# recommender, an A/B test with per-arm isolation and a pre-period, a warm-up, and arms of
# different served-filter sizes after a warm-up; across thread changes. The snapshot after a
# resumed day equals, section by section, the one an uninterrupted run wrote after the same day
# (snapdiff.py names a section that differs). Bad snapshots: damaged (a checksum fails) or of
# another run -> not used, said, re-simulated; one that passes its checksums but does not load
# -> exit 2 naming the file and the section; --no-snapshot -> none written. A half-written
# snapshot.tmp (a kill while writing) is ignored. Kills with SIGKILL: tests/e2e/resume.sh.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
HERE=$SRC/tests/e2e
same() { h5diff -q --exclude-path /latency --exclude-attribute / "$1" "$2"; }
show() { h5diff -r --exclude-path /latency --exclude-attribute / "$1" "$2" | head -20; }

# check NAME ARGS...: 3 days uninterrupted (2 threads); stopped after day 2 (its snapshot); stopped
# after day 1 (1 thread), resumed from the snapshot at 2 threads and stopped after day 2;
# the two day-2 snapshots compared; resumed again to the end at 1 thread, compared.
check() {
  local name=$1
  shift
  "$FLYWHEEL" run -q -t 2 "$@" -d 3 -o "$name.full.h5" 2>err.txt || { fail "$name: uninterrupted run ($(cat err.txt))"; return; }
  FLYWHEEL_STOP_AFTER_DAY=2 "$FLYWHEEL" run -q -t 2 "$@" -d 3 -o "$name.a.h5" 2>err.txt
  FLYWHEEL_STOP_AFTER_DAY=1 "$FLYWHEEL" run -q -t 1 "$@" -d 3 -o "$name.h5" 2>err.txt
  [ -f "$name.h5.snap" ] && [ -f "$name.a.h5.snap" ] || { fail "$name: no snapshot kept ($(ls) $(cat err.txt))"; return; }
  FLYWHEEL_STOP_AFTER_DAY=2 "$FLYWHEEL" run -t 2 --resume "$name.h5.partial" >out.txt 2>err.txt
  grep -q "resumed: from the snapshot after day 1" out.txt && ! grep -q "re-simulated" out.txt &&
    pass "$name: resumed from the day-1 snapshot, nothing re-simulated" || fail "$name: $(cat out.txt err.txt)"
  "$PY" "$HERE/snapdiff.py" "$name.a.h5.snap" "$name.h5.snap" >diff.txt &&
    pass "$name: the snapshot after the resumed day 2 equals the uninterrupted run's" || fail "$name: $(cat diff.txt)"
  "$FLYWHEEL" run -q -t 1 --resume "$name.h5.partial" 2>err.txt || { fail "$name: second resume ($(cat err.txt))"; return; }
  [ -f "$name.h5" ] && [ ! -e "$name.h5.partial" ] && [ ! -e "$name.h5.snap" ] && [ ! -e "$name.h5.ckpt" ] &&
    pass "$name: completed: no partial, checkpoint or snapshot left" || fail "$name: left $(ls)"
  if same "$name.full.h5" "$name.h5"; then pass "$name: resumed twice from snapshots: identical to the uninterrupted run"
  else fail "$name: differs: $(show "$name.full.h5" "$name.h5")"; fi
  # /latency is measured, so not compared; but every day's histograms must come through the
  # snapshots (held there as the chunks the file stores): each stage's rows add up to its
  # per-day call counts, on every day, and the feed was timed on every day.
  "$PY" - "$name.h5" >lat.txt 2>&1 <<'EOF'
import sys, h5py, numpy as np
lat = h5py.File(sys.argv[1], "r")["latency"]
for st in lat:
    if not isinstance(lat[st], h5py.Group):
        continue
    c = lat[st]["counts"][:]
    assert c.shape[0] == 3, (st, c.shape)
    assert (c.sum(axis=1) == lat[st]["count"][:]).all(), (st, c.sum(axis=1), lat[st]["count"][:])
assert (lat["feed"]["count"][:] > 0).all(), lat["feed"]["count"][:]
EOF
  [ $? -eq 0 ] && pass "$name: every day's latency histograms came through the snapshots" || fail "$name: latency: $(cat lat.txt)"
}

T=("$SRC/tests/data/tiny.yaml" --set world.n_users=800 --set world.n_notes=1600 --set world.ticks_per_day=24)
check base "${T[@]}"
check rec "${T[@]}" --set engine.feed.algorithm=rec
check ab "$SRC/tests/data/isolation.yaml" --set world.n_users=800 --set world.n_notes=1600 --set experiment.pre_days=1
check warm "${T[@]}" --set world.warmup_days=2
check seen "$SRC/tests/data/seen_arms.yaml"

# Damaged (a flipped byte): it fails its checksum before any state is read, so it is not used;
# the run says why and re-simulates. (One that passes its checksums but does not load: below.)
FLYWHEEL_STOP_AFTER_DAY=1 "$FLYWHEEL" run -q -t 2 "${T[@]}" -d 3 -o d.h5 2>/dev/null
size=$(stat -c %s d.h5.snap)
printf '\xff' | dd of=d.h5.snap bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
"$FLYWHEEL" run -q --resume d.h5.partial >out.txt 2>err.txt
rc=$?
[ $rc = 0 ] && grep -q "not using the snapshot .*checksum" err.txt && pass "a damaged snapshot is not used (checksum), said; the run re-simulates" ||
  fail "damaged snapshot: exit $rc, $(cat out.txt err.txt)"

# A snapshot of this run that does not load (sections of another build): exit 2, file named.
FLYWHEEL_STOP_AFTER_DAY=1 "$FLYWHEEL" run -q -t 2 "${T[@]}" -d 3 -o e.h5 2>/dev/null
"$PY" - e.h5.snap <<'EOF'
import struct, sys, zlib
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
at = 24
while True:   # find the "world" section, cut its payload by 4 bytes and fix its length and checksum
    tag = bytes(d[at:at + 16]).rstrip(b"\0")
    n, _ = struct.unpack_from("<QQ", d, at + 16)
    if tag == b"world":
        pay = d[at + 32:at + 32 + n - 4]
        d[at + 16:at + 32] = struct.pack("<QQ", n - 4, zlib.crc32(pay))   # snapshot format 2's checksum
        del d[at + 32 + n - 4:at + 32 + n]
        break
    at += 32 + n
open(p, "wb").write(d)
EOF
"$FLYWHEEL" run -q --resume e.h5.partial >out.txt 2>err.txt
rc=$?
[ $rc = 2 ] && grep -q "e.h5.snap cannot be loaded" err.txt && grep -q "world" err.txt && [ -f e.h5.partial ] &&
  pass "a snapshot that does not load: exit 2, naming the file and the section" || fail "bad snapshot: exit $rc, $(cat err.txt)"
rm -f e.h5.snap
"$FLYWHEEL" run -q --resume e.h5.partial 2>err.txt && pass "... and once it is removed the run resumes by re-simulating" ||
  fail "resume without the snapshot: $(cat err.txt)"

# Another run's snapshot (other seed) beside this partial: not used, said, re-simulated, identical.
FLYWHEEL_STOP_AFTER_DAY=2 "$FLYWHEEL" run -q -t 2 "${T[@]}" -d 3 -o o.h5 2>/dev/null
FLYWHEEL_STOP_AFTER_DAY=2 "$FLYWHEEL" run -q -t 2 "${T[@]}" -d 3 -s 8 -o o8.h5 2>/dev/null
cp o8.h5.snap o.h5.snap
"$FLYWHEEL" run -t 2 --resume o.h5.partial >out.txt 2>err.txt
grep -q "not using the snapshot .*another run" err.txt && grep -q "2 finished days re-simulated" out.txt &&
  same base.full.h5 o.h5 && pass "another run's snapshot is not used: re-simulated, identical" ||
  fail "foreign snapshot: $(cat out.txt err.txt)"

# --no-snapshot: none written; a resume re-simulates.
FLYWHEEL_STOP_AFTER_DAY=1 "$FLYWHEEL" run -t 2 --no-snapshot "${T[@]}" -d 3 -o n.h5 >out.txt 2>/dev/null
[ ! -e n.h5.snap ] && grep -q "snapshot: none (--no-snapshot)" out.txt && pass "--no-snapshot writes none" ||
  fail "--no-snapshot: $(ls n.h5*) $(cat out.txt)"

# The snapshot is written by a forked process beside the next day (issue 22), or in the run's
# own process with --snapshot-foreground: the same snapshot (snapdiff), the same result, and
# the summary says which. --snapshot-foreground where no snapshot is written: exit 2.
FLYWHEEL_STOP_AFTER_DAY=2 "$FLYWHEEL" run -t 2 --snapshot-foreground "${T[@]}" -d 3 -o fg.h5 >out.txt 2>/dev/null
grep -q "snapshot: [0-9]* bytes.*the run waiting for them (--snapshot-foreground)" out.txt &&
  "$PY" "$HERE/snapdiff.py" base.a.h5.snap fg.h5.snap >diff.txt &&
  pass "--snapshot-foreground: the same snapshot as the forked writer's, said in the summary" ||
  fail "--snapshot-foreground: $(cat out.txt diff.txt)"
FLYWHEEL_STOP_AFTER_DAY=1 "$FLYWHEEL" run -q -t 2 --snapshot-foreground "${T[@]}" -d 3 -o fg1.h5 2>/dev/null
"$FLYWHEEL" run -t 1 --resume fg1.h5.partial >out.txt 2>err.txt && grep -q "from the snapshot after day 1" out.txt &&
  grep -q "snapshot: [0-9]* bytes.*in a forked process beside the next day" out.txt && same base.full.h5 fg1.h5 &&
  pass "... resumed from it, the next snapshot forked: identical to the uninterrupted run" ||
  fail "resume of the foreground run: $(cat out.txt err.txt)"
"$FLYWHEEL" run -q --no-snapshot --snapshot-foreground "${T[@]}" -d 1 -o nf.h5 2>err.txt
rc=$?
[ $rc = 2 ] && grep -q "snapshot-foreground: this run writes no snapshot (--no-snapshot)" err.txt && [ ! -e nf.h5 ] &&
  [ ! -e nf.h5.partial ] && pass "--snapshot-foreground with --no-snapshot: exit 2, said, nothing written" ||
  fail "--snapshot-foreground --no-snapshot: exit $rc, $(cat err.txt) $(ls nf.h5* 2>/dev/null)"
# A run that holds transparent huge pages writes its snapshots in its own process (a fork would
# split them for the rest of the run: issue 22), says so, and writes the same snapshot. The
# learning recommender's note blocks at 70,000 notes (4.3 MiB) are advised onto huge pages;
# with THP off ([never]) nothing is, and the writer forks.
# A kernel with THP on may still grant none (memory too fragmented: thp_fault_fallback rises
# during the run); the run then forks, and that is what is checked.
H=("$SRC/tests/data/tiny.yaml" --set world.n_notes=70000 --set world.n_users=1000 --set world.ticks_per_day=24
   --set engine.feed.algorithm=rec -d 2)
fallbacks() { awk '$1 == "thp_fault_fallback" {print $2}' /proc/vmstat 2>/dev/null; }
fb0=$(fallbacks)
FLYWHEEL_STOP_AFTER_DAY=1 "$FLYWHEEL" run -t 2 "${H[@]}" -o hp.h5 >out.txt 2>/dev/null
fb1=$(fallbacks)
FLYWHEEL_STOP_AFTER_DAY=1 "$FLYWHEEL" run -q -t 2 --snapshot-foreground "${H[@]}" -o hpf.h5 2>/dev/null
if grep -q "\[never\]" /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null ||
   [ ! -e /sys/kernel/mm/transparent_hugepage/enabled ]; then
  want="in a forked process beside the next day"; what="THP off: forked"
elif [ -n "$fb0" ] && [ "$fb0" != "$fb1" ] && grep -q "in a forked process beside the next day" out.txt; then
  want="in a forked process beside the next day"; what="THP on, but the kernel granted no huge page: forked"
else
  want="all in the run's own process, the run waiting: 1 because the run held transparent huge pages (up to [0-9]* MiB), which a fork splits"
  what="THP on: written in the process"
fi
grep -q "snapshot: [0-9]* bytes.*$want" out.txt && "$PY" "$HERE/snapdiff.py" hpf.h5.snap hp.h5.snap >diff.txt &&
  pass "a run holding transparent huge pages ($what), said, the same snapshot" ||
  fail "huge pages ($what): $(cat out.txt diff.txt)"

# A write that fails in the forked writer (its temporary path is a folder) is said once, costs
# only the snapshot, and the run completes with the same result.
for how in fork --snapshot-foreground; do
  mkdir -p "w$how.h5.snap.tmp"
  fl=(); [ "$how" = fork ] || fl=("$how")
  "$FLYWHEEL" run -q -t 2 "${fl[@]}" "${T[@]}" -d 3 -o "w$how.h5" 2>err.txt
  rc=$?
  [ $rc = 0 ] && [ "$(grep -c "warning: cannot write the snapshot .*after day 1: cannot create" err.txt)" = 1 ] &&
    ! grep -q "after day 2" err.txt && same base.full.h5 "w$how.h5" &&
    pass "a snapshot write that fails ($how): said once, the run completes, identical" ||
    fail "failing snapshot write ($how): exit $rc, $(cat err.txt)"
done

# A kill while the day-2 snapshot is being written (half a snap.tmp there): the day-1 snapshot
# and the checkpoint stand, and the resume loads day 1's.
FLYWHEEL_STOP_AFTER_DAY=1 "$FLYWHEEL" run -q -t 2 "${T[@]}" -d 3 -o k.h5 2>/dev/null
head -c 1000 k.h5.snap >k.h5.snap.tmp
"$FLYWHEEL" run -t 2 --resume k.h5.partial >out.txt 2>err.txt && grep -q "from the snapshot after day 1" out.txt &&
  [ -f k.h5 ] && [ ! -e k.h5.snap.tmp ] && pass "a half-written snapshot.tmp is ignored, and gone once the run completes" ||
  fail "kill while writing the snapshot: $(ls k.h5*) $(cat out.txt err.txt)"

# The last day: the final file follows at once, so no partial, snapshot or checkpoint is written
# for it. Stopped after it (the file then goes to the partial, marked interrupted), the state
# saved is the day before's: the resume loads it, re-simulates the last day against the
# partial and completes, identical to the uninterrupted run.
FLYWHEEL_STOP_AFTER_DAY=3 "$FLYWHEEL" run -q -t 2 "${T[@]}" -d 3 -o l.h5 2>/dev/null
[ ! -e l.h5 ] && [ -f l.h5.partial ] && "$PY" "$HERE/check_result.py" l.h5.partial --status interrupted --min-days 3 >/dev/null &&
  pass "stopped after the last day: the partial holds all 3 days" || fail "stopped after the last day: $(ls l.h5*)"
"$FLYWHEEL" run -t 1 --resume l.h5.partial >out.txt 2>err.txt && grep -q "from the snapshot after day 2" out.txt &&
  grep -q "1 finished day re-simulated" out.txt && [ -f l.h5 ] && [ ! -e l.h5.partial ] && same base.full.h5 l.h5 &&
  pass "... resumed from the day-2 snapshot, the last day re-simulated: identical to the uninterrupted run" ||
  fail "resume after the last day: $(ls l.h5*) $(cat out.txt err.txt)"
finish
