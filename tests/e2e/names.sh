#!/usr/bin/env bash
# The scenario name becomes a file name: a name that is a path ("../../x", "a/b/c"), empty,
# hidden or holds control characters is refused (exit 2, saying what is allowed) by run,
# bench, validate and generate, and nothing is written outside output.dir.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/w/d"
cd "$TMP/w/d"
T=$SRC/tests/data/tiny.yaml
nl=$'x\ny'
for bad in "../../escaped" "a/b/c" "" ".hidden" "$nl" "tab	x" "/abs"; do
  shown=$(printf '%q' "$bad")
  "$FLYWHEEL" run "$T" -q -d 1 --set world.n_users=300 --set "name=$bad" >out.txt 2>err.txt
  rc=$?
  if [ $rc -eq 2 ] && grep -q "letters (any script), digits" err.txt; then pass "run name=$shown refused"; else fail "run name=$shown: exit $rc ($(cat err.txt))"; fi
  "$FLYWHEEL" validate "$T" --set "name=$bad" >/dev/null 2>err.txt
  rc=$?
  [ $rc -eq 2 ] && pass "validate name=$shown refused" || fail "validate name=$shown: exit $rc"
done
"$FLYWHEEL" bench "$T" -n 1 --no-timings -q --set "name=../../escaped" >/dev/null 2>err.txt
[ $? -eq 2 ] && pass "bench refuses a path name" || fail "bench: $(cat err.txt)"
left=$(find "$TMP" -name '*escaped*' -o -name 'c.h5*' -o -name '.h5*' -o -name '.hidden*' | head -3)
[ -z "$left" ] && pass "nothing written for refused names" || fail "written: $left"
[ ! -d results/a ] && pass "no folders made from a name" || fail "results/a made"
# Names that are safe single components still work, any script included.
if "$FLYWHEEL" run "$T" -q -d 1 --set world.n_users=300 --set "name=对照-v1.2_x" 2>err.txt && [ -f "results/对照-v1.2_x.h5" ]; then
  pass "a safe non-ASCII name runs"
else
  fail "safe name: $(cat err.txt)"
fi
finish
