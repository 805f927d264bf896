#!/usr/bin/env bash
# Ranker plug-ins (flywheel/policy.h), end to end: the baseline as a plug-in serves exactly
# the built-in baseline's pages; a randomised plug-in (epsilon-greedy) in an A/B arm gives
# identical results at 1 and 2 threads; every plug-in that cannot be loaded is bad input
# (exit 2, before the world is generated, naming the file and what is wrong); and every way a
# plug-in's answer can break the contract fails the run (exit 1) naming the plug-in, the
# request and the fault, with the finished day kept in the partial file, marked failed.
# Usage: plugin.sh FLYWHEEL PYTHON SOURCE_DIR POLICY_DIR
. "$(dirname "$0")/lib.sh"
POL=${4:?usage: $0 FLYWHEEL PYTHON SOURCE_DIR POLICY_DIR}
AB="$SRC/tests/data/tiny_plugin.yaml"
cd "$TMP"
cmp_files() { h5diff -q --exclude-path /latency --exclude-attribute / "$1" "$2"; }
differ() { h5diff -r --exclude-path /latency --exclude-attribute / "$1" "$2" | grep -v '^0 diff' | head -10; }

# 1. The baseline as a plug-in: identical to the built-in baseline, one arm each.
small=(--set world.n_users=800 --set world.n_notes=1600 --set world.ticks_per_day=12 -d 2)
"$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" -q -t 2 "${small[@]}" -o base.h5 2>err.txt || fail "baseline run ($(cat err.txt))"
"$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" -q -t 2 "${small[@]}" -o plug.h5 --set engine.feed.algorithm=plugin \
  --set engine.feed.plugin="$POL/baseline.so" 2>err.txt || fail "baseline plug-in run ($(cat err.txt))"
if cmp_files base.h5 plug.h5; then pass "the baseline as a plug-in serves the built-in baseline's results exactly"
else fail "baseline plug-in differs: $(h5diff -r --exclude-path /latency --exclude-attribute / base.h5 plug.h5 | grep -v '^0 diff' | head -10)"; fi

# 2. A randomised plug-in in an A/B arm: 1 vs 2 threads identical, and it changes the arm.
for t in 1 2; do
  "$FLYWHEEL" run "$AB" -q -t $t -o eg$t.h5 --set engine.feed.plugin="$POL/epsilon_greedy.so" \
    --set engine.feed.plugin_args="epsilon=0.3" 2>err.txt || fail "epsilon-greedy -t $t ($(cat err.txt))"
done
if cmp_files eg1.h5 eg2.h5; then pass "epsilon-greedy plug-in: 1 vs 2 threads identical"
else fail "epsilon-greedy differs across threads: $(h5diff -r --exclude-path /latency --exclude-attribute / eg1.h5 eg2.h5 | grep -v '^0 diff' | head -10)"; fi
"$FLYWHEEL" run "$AB" -q -t 2 -o eg_other.h5 --set engine.feed.plugin="$POL/epsilon_greedy.so" \
  --set engine.feed.plugin_args="epsilon=0.6" 2>err.txt || fail "epsilon-greedy 0.6 ($(cat err.txt))"
if cmp_files eg2.h5 eg_other.h5 >/dev/null 2>&1; then fail "plugin_args changed nothing"; else pass "plugin_args reach the plug-in"; fi
"$PY" - eg2.h5 <<'PY' || fail "the plug-in arm's results"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
c, p = f["days/control/ctr"][:], f["days/plugin/ctr"][:]
assert len(c) == 2 and len(p) == 2 and all(x > 0 for x in p) and list(c) != list(p), (c, p)
assert f.attrs["status"] in (b"complete", "complete")
PY
[ $? -eq 0 ] && pass "both arms recorded, the plug-in arm served pages"

# 2b. The recommender's learned vectors (engine.feed.plugin_vectors): handed to every request
# and batch when on (vectors.so checks each, and ranks by user . note), none when off; the
# rankings differ, and 1 vs 2 threads are identical.
for t in 1 2; do
  "$FLYWHEEL" run "$AB" -q -t $t -o v$t.h5 --set engine.feed.plugin="$POL/vectors.so" --set engine.feed.plugin_vectors=1 \
    --set engine.feed.plugin_args="want=1" 2>err.txt || fail "plugin_vectors=1 -t $t ($(cat err.txt))"
done
"$FLYWHEEL" run "$AB" -q -t 2 -o v0.h5 --set engine.feed.plugin="$POL/vectors.so" \
  --set engine.feed.plugin_args="want=0" 2>err.txt || fail "plugin_vectors=0 ($(cat err.txt))"
if [ -s v1.h5 ] && cmp_files v1.h5 v2.h5; then pass "plugin_vectors: every request and batch had finite vectors of the env's length; 1 vs 2 threads identical"
else fail "plugin_vectors: $(differ v1.h5 v2.h5 2>&1 | head -5)"; fi
if [ -s v0.h5 ] && [ -s v2.h5 ] && ! cmp_files v0.h5 v2.h5 >/dev/null 2>&1; then pass "plugin_vectors off: none handed over, and ranking by them changes the results"
else fail "plugin_vectors 0 vs 1: the same results"; fi

# 3. Bad input: exit 2 before the world exists, naming the file and what is wrong.
bad() {  # bad NAME EXPECTED-TEXT SCENARIO --set...
  local name=$1 want=$2 sc=$3
  shift 3
  rm -f bad.h5 bad.h5.partial
  "$FLYWHEEL" run "$sc" -q -t 2 -o bad.h5 "$@" >out.txt 2>err.txt
  local rc=$?
  if [ $rc -ne 2 ]; then fail "$name: exit $rc, expected 2 ($(cat err.txt))"
  elif ! grep -qF -- "$want" err.txt; then fail "$name: message lacks '$want': $(cat err.txt)"
  elif ! grep -qF "engine.feed.plugin" err.txt; then fail "$name: message does not name the key: $(cat err.txt)"
  elif [ -e bad.h5.partial ] || [ -e bad.h5 ]; then fail "$name: a result file was started"
  else pass "$name: exit 2: $(head -c 160 err.txt)"; fi
}
bad "missing file" "$TMP/none.so: cannot read the ranker plug-in: No such file" "$AB" --set engine.feed.plugin="$TMP/none.so"
echo "not a shared object" >fake.so
bad "not a shared object" "fake.so: cannot load the ranker plug-in" "$AB" --set engine.feed.plugin="$TMP/fake.so"
bad "wrong ABI version" "built for policy ABI version 3; this flywheel loads version 2" "$AB" --set engine.feed.plugin="$POL/broken_abi.so"
bad "missing symbol" "broken_symbol.so: the ranker plug-in has no symbol fw_ranker_plugin" "$AB" --set engine.feed.plugin="$POL/broken_symbol.so"
bad "missing function" "broken_table.so: the ranker plug-in's table (fw_ranker_plugin) has no rank function" "$AB" --set engine.feed.plugin="$POL/broken_table.so"
bad "arguments refused" "refused to start: unknown fault 'zzz'" "$AB" --set engine.feed.plugin="$POL/faulty.so" --set engine.feed.plugin_args="fault=zzz"
bad "no path" "(arm 'plugin') algorithm plugin needs the path of a ranker plug-in" "$AB"
bad "named, unused" "no arm sets engine.feed.algorithm: plugin" "$SRC/tests/data/tiny.yaml" \
  --set engine.feed.plugin="$POL/baseline.so"
bad "vectors, unused" "no arm sets engine.feed.algorithm: plugin" "$SRC/tests/data/tiny.yaml" --set engine.feed.plugin_vectors=1
# In a file: FILE:LINE of the arm's set list.
sed "s|engine.feed.algorithm=plugin|engine.feed.algorithm=plugin, engine.feed.plugin=$TMP/none.so|" "$AB" >inline.yaml
"$FLYWHEEL" validate inline.yaml >out.txt 2>err.txt
rc=$?
if [ $rc -eq 2 ] && grep -q "inline.yaml:15: engine.feed.plugin: (arm 'plugin') $TMP/none.so: cannot read" err.txt; then
  pass "a plug-in set in an arm is reported at the arm's line"
else fail "arm's plug-in: exit $rc, $(cat err.txt)"; fi

# 4. Faults at run time: exit 1, the plug-in, request and fault named, day 0 kept.
fault() {  # fault NAME EXPECTED-TEXT
  local name=$1 want=$2
  rm -f f.h5 f.h5.partial
  "$FLYWHEEL" run "$AB" -q -t 2 -o f.h5 --set engine.feed.plugin="$POL/faulty.so" \
    --set engine.feed.plugin_args="fault=$name day=1" >out.txt 2>err.txt
  local rc=$?
  if [ $rc -ne 1 ]; then fail "fault $name: exit $rc, expected 1 ($(cat err.txt))"; return; fi
  if ! grep -qF "plugin 'faulty' ($POL/faulty.so)" err.txt || ! grep -qF -- "$want" err.txt; then
    fail "fault $name: message lacks the plug-in or '$want': $(cat err.txt)"; return; fi
  "$PY" - f.h5.partial <<'PY' || { fail "fault $name: partial file"; return; }
import sys, h5py
f = h5py.File(sys.argv[1], "r")
s = f.attrs["status"]
assert (s.decode() if isinstance(s, bytes) else s) == "failed", s
assert len(f["days/day"]) == 1 and len(f["days/plugin/ctr"]) == 1
PY
  pass "fault $name: exit 1, $(grep -o "feed request.*\|observe.*" err.txt | head -1 | head -c 150); day 0 kept, marked failed"
}
fault unknown "at tick 12 (day 1, tick 0): the page holds note 4294967280, which is not one of the request's"
fault dup "twice (again at position 1)"
fault short "notes; expected"
fault nan "has a score that is NaN or infinite"
fault rc "rank returned -7"
fault observe "observe of tick 12 returned -3"
finish
