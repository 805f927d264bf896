#!/usr/bin/env bash
# The living world of issue 18, end to end (a few seconds):
#  - satiation and social proof on: the same results for 1 and 3 threads (satiation is each
#    user's own; the like counts social proof reads grow only at tick barriers), and results
#    that differ from the run with both off (they act on the run, not only on a unit test);
#  - the static follow graph refuses a follow-back probability (it makes none), exit 2 naming
#    FILE:LINE and the key; with 0 it is accepted.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
ON=(--set behaviour.satiation=1 --set behaviour.social_proof=0.5)
for t in 1 3; do
  "$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" -q -d 1 -t $t -o on$t.h5 "${ON[@]}" 2>err.txt || fail "run -t $t ($(cat err.txt))"
done
"$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" -q -d 1 -t 3 -o off.h5 2>err.txt || fail "run off ($(cat err.txt))"
cmp_files() { h5diff -q --exclude-path /latency --exclude-attribute / "$1" "$2"; }
if cmp_files on1.h5 on3.h5; then pass "satiation and social proof: 1 vs 3 threads identical"
else fail "satiation and social proof differ across threads: $(h5diff -r --exclude-path /latency --exclude-attribute / on1.h5 on3.h5 | head -20)"; fi
if cmp_files on3.h5 off.h5 >/dev/null 2>&1; then fail "satiation and social proof on gave the results of off"
else pass "satiation and social proof change the run"; fi

printf 'name: static\nworld:\n  n_users: 500\n  follow_graph: static\n' >static.yaml
"$FLYWHEEL" validate static.yaml >out.txt 2>err.txt
rc=$?
if [ $rc -eq 2 ] && grep -q "static.yaml:4: world.follow_reciprocity: expected 0 with world.follow_graph: static" err.txt; then
  pass "static graph with reciprocity refused at the follow_graph line"
else fail "static graph with reciprocity: rc $rc, $(cat err.txt)"; fi
printf '  follow_reciprocity: 0\n' >>static.yaml
if "$FLYWHEEL" validate static.yaml >out.txt 2>err.txt; then pass "static graph with reciprocity 0 accepted"
else fail "static graph with reciprocity 0: $(cat err.txt)"; fi
"$FLYWHEEL" validate static.yaml --set world.follow_reciprocity=0.3 >out.txt 2>err.txt
rc=$?
if [ $rc -eq 2 ] && grep -q -- "--set world.follow_reciprocity=0.3: world.follow_reciprocity: expected 0" err.txt; then
  pass "static graph with --set reciprocity refused naming the --set"
else fail "static graph with --set reciprocity: rc $rc, $(cat err.txt)"; fi
finish
