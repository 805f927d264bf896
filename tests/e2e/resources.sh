#!/usr/bin/env bash
# Resources: threads are capped whatever asks (-t, OMP_NUM_THREADS) at 4096 and one per 64
# users; a run whose up-front memory estimate exceeds output.max_memory exits 2 before
# allocating, with the estimate; Ctrl-C during world generation stops it promptly; Ctrl-C in
# bench keeps the finished repetitions (and says so) and leaves no temporary folder.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
T=$SRC/tests/data/tiny.yaml
threads() { "$PY" -c "import h5py,sys; print(h5py.File(sys.argv[1],'r').attrs['threads'])" "$1"; }

OMP_NUM_THREADS=100000 "$FLYWHEEL" run "$T" -q -d 1 --set world.n_users=300 -o env.h5 2>err.txt || fail "OMP_NUM_THREADS run: $(cat err.txt)"
[ "$(threads env.h5)" -le 4 ] && pass "OMP_NUM_THREADS=100000 on 300 users: $(threads env.h5) threads" || fail "threads $(threads env.h5)"
# Under AddressSanitizer (CI's sanitizer stage) the address space cannot be capped (ASan
# reserves terabytes of shadow), the resident set carries ASan's shadow and its quarantine of
# freed memory (a tiny run peaks near 300 MiB there, 44 MiB plain), and everything runs several
# times slower: no cap, a larger resident allowance, and a longer one for Ctrl-C below.
# ldd's output is captured before grep reads it: with pipefail, `ldd | grep -q` fails whenever
# grep exits at its first match before ldd's last write (SIGPIPE), which left an ASan build
# looking plain now and then and the 50M-user run below capped at 4 GiB, where ASan cannot start.
sanitized=0
libs=$(ldd "$FLYWHEEL" 2>/dev/null)
grep -q 'libasan\|libubsan' <<<"$libs" && sanitized=1
rss_cap=300000
[ $sanitized -eq 1 ] && rss_cap=1000000
/usr/bin/time -f %M -o rss.txt "$FLYWHEEL" run "$T" -q -d 1 --set world.n_users=300 -t 4096 -o t.h5 2>err.txt || fail "-t 4096: $(cat err.txt)"
rss=$(tail -1 rss.txt)
[ "$(threads t.h5)" -le 4 ] && [ "$rss" -lt $rss_cap ] && pass "-t 4096 on 300 users: $(threads t.h5) threads, peak $((rss / 1024)) MiB" \
  || fail "-t 4096: $(threads t.h5) threads, peak $rss KiB (allowed $rss_cap)"
vcap=4194304
[ $sanitized -eq 1 ] && vcap=unlimited
start=$(date +%s)
# Address space capped at 4 GiB: should the estimate ever fail to refuse, allocation fails
# here instead of the machine running out of memory.
(ulimit -v $vcap; exec "$FLYWHEEL" run "$T" -q --set world.n_users=50000000 -o huge.h5) >out.txt 2>err.txt
rc=$?
el=$(( $(date +%s) - start ))
[ $rc -eq 2 ] && [ $el -le 5 ] && grep -q "estimate" err.txt && grep -q "output.max_memory" err.txt \
  && pass "50M users refused in ${el} s: $(head -c 200 err.txt)" || fail "50M users: exit $rc after ${el} s: $(cat err.txt)"
[ ! -e huge.h5.partial ] && pass "nothing written" || fail "partial written"
"$FLYWHEEL" run "$T" -q -d 1 --set output.max_memory=1 -o small.h5 >/dev/null 2>err.txt
[ $? -eq 2 ] && grep -q "output.max_memory" err.txt && pass "max_memory 1 MiB refuses a tiny run" || fail "max_memory: $(cat err.txt)"

"$FLYWHEEL" run "$T" -q -d 1 --set world.n_users=500000 --set world.n_notes=1000000 -o gen.h5 2>err.txt &
pid=$!
sleep 4
start=$(date +%s.%N)
kill -INT $pid
wait $pid
rc=$?
el=$("$PY" -c "import time,sys; print(round(time.time() - float(sys.argv[1]), 2))" "$start")
limit=3
[ $sanitized -eq 1 ] && limit=15
"$PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$el" "$limit" && [ $rc -eq 1 ] \
  && pass "Ctrl-C during generation: exit 1 after $el s" || fail "Ctrl-C during generation: exit $rc after $el s"

mkdir tmpd
TMPDIR=$TMP/tmpd "$FLYWHEEL" bench "$T" -n 5 --no-timings --set days=1 -o b.h5 2>err.txt &
pid=$!
for _ in $(seq 1 600); do grep -q "run 2/5" err.txt && break; sleep 0.1; done
kill -INT $pid
wait $pid
rc=$?
n=$("$PY" -c "import h5py; print(h5py.File('b.h5','r').attrs['repeat'])" 2>/dev/null)
[ $rc -eq 1 ] && [ "${n:-0}" -ge 2 ] && grep -q "recorded in b.h5" err.txt \
  && pass "Ctrl-C in bench: $n finished runs kept and said so" || fail "bench Ctrl-C: exit $rc, repeat ${n:-none}: $(tail -2 err.txt)"
[ -z "$(ls -A tmpd)" ] && pass "no flywheel-bench-* folder left" || fail "left: $(ls tmpd)"
finish
