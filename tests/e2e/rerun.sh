#!/usr/bin/env bash
# Never lose a result. Rerunning a scenario whose run was interrupted must not replace the
# unfinished NAME.h5.partial unless --force is given (exit 2 naming the file, how to keep it
# and --force); rerunning a finished one keeps the earlier NAME.h5 as NAME.prev.h5, named in
# the summary, so README commands can be rerun as they are; no temporary file is left.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
T=$SRC/tests/data/tiny.yaml
days() { "$PY" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r'); print(f.attrs['status'], f.attrs['days_completed'], f.attrs['seed'])" "$1"; }

# A finished result is kept as the previous version.
"$FLYWHEEL" run "$T" -q -d 1 >/dev/null 2>err.txt || fail "first run ($(cat err.txt))"
"$FLYWHEEL" run "$T" -d 1 -s 8 >out.txt 2>err.txt && pass "rerun exits 0" || fail "rerun: $(cat err.txt)"
[ "$(days results/tiny.prev.h5 | cut -d' ' -f3)" = 7 ] && [ "$(days results/tiny.h5 | cut -d' ' -f3)" = 8 ] \
  && pass "earlier result kept as results/tiny.prev.h5, new one at results/tiny.h5" || fail "prev/new: $(ls results)"
grep -q "previous result kept as results/tiny.prev.h5" out.txt && pass "summary names it" || fail "summary: $(cat out.txt)"

# An interrupted run's partial file is not replaced without --force.
"$FLYWHEEL" run "$T" -q -d 200 -o k.h5 2>err.txt &
pid=$!
for _ in $(seq 1 600); do
  if [ -f k.h5.partial ] && "$PY" -c "import h5py,sys; sys.exit(0 if h5py.File('k.h5.partial','r').attrs['days_completed'] >= 2 else 1)" 2>/dev/null; then break; fi
  sleep 0.2
done
kill -INT $pid
wait $pid
before=$(days k.h5.partial)
"$FLYWHEEL" run "$T" -q -d 1 -o k.h5 >out.txt 2>err.txt
rc=$?
[ $rc -eq 2 ] && pass "rerun over an unfinished partial: exit 2" || fail "rerun over partial: exit $rc"
grep -q "k.h5.partial" err.txt && grep -q -- "--force" err.txt && grep -q "mv k.h5.partial" err.txt \
  && pass "says which file, how to keep it and --force: $(head -c 160 err.txt)" || fail "message: $(cat err.txt)"
[ "$(days k.h5.partial)" = "$before" ] && pass "partial untouched ($before)" || fail "partial changed: $before -> $(days k.h5.partial)"
"$FLYWHEEL" run "$T" -q -d 1 -o k.h5 --force >/dev/null 2>err.txt && [ -f k.h5 ] && [ ! -e k.h5.partial ] \
  && pass "--force replaces it" || fail "--force: $(cat err.txt)"
left=$(find . -name '*.tmp' | head -3)
[ -z "$left" ] && pass "no temporary files" || fail "left: $left"
finish
