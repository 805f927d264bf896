#!/usr/bin/env bash
# Runs the libFuzzer targets of a FW_FUZZ=ON build for a fixed number of inputs each, from a
# fixed seed, over tests/fuzz/corpus/<target>, and fails on any crash, sanitizer report, leak,
# timeout or out-of-memory. Before fuzzing, every reproducer under tests/fuzz/crashes/<target>/
# is run once: it must pass unless crashes/KNOWN lists it as still open (then it is skipped;
# FW_FUZZ_KNOWN=1 runs those too and reports which still fail).
#
# usage: tests/fuzz/run.sh BUILD_DIR
# env:   FW_FUZZ_RUNS_SCENARIO, FW_FUZZ_RUNS_RESULTS, FW_FUZZ_RUNS_CKPT, FW_FUZZ_RUNS_BENCH  inputs per target (defaults sized to keep
#        the four, two at a time, under about 4 minutes on two busy cores); FW_FUZZ_SEED (15);
#        FW_FUZZ_OUT: where crashing inputs are written (default: a temporary folder, kept on
#        failure).
# The repository's corpus is never written: libFuzzer adds what it finds to a scratch copy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
runs_scenario=${FW_FUZZ_RUNS_SCENARIO:-8000}
runs_results=${FW_FUZZ_RUNS_RESULTS:-5000}
runs_ckpt=${FW_FUZZ_RUNS_CKPT:-200000}   # the resume checkpoint's reader: microseconds an input
runs_bench=${FW_FUZZ_RUNS_BENCH:-20000}   # bench baselines: about 1 ms an input
seed=${FW_FUZZ_SEED:-15}
out=${FW_FUZZ_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/fw-fuzz.XXXXXX")}
mkdir -p "$out"
export TMPDIR=$out
# UB aborts; leaks in libhdf5's own frames are not ours (tests/sanitizers/lsan.supp says why).
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=1
export LSAN_OPTIONS=suppressions=$here/../sanitizers/lsan.supp:print_suppressions=0

known() {  # is crashes/KNOWN listing this reproducer (path relative to crashes/)?
  grep -qxF "$1" <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$here/crashes/KNOWN")
}

# fuzz_ckpt (issue 21) and fuzz_bench came later; a build dir made before them gets them here.
[[ -x $build/fuzz_ckpt ]] || cmake --build "$build" --target fuzz_ckpt >/dev/null
[[ -x $build/fuzz_bench ]] || cmake --build "$build" --target fuzz_bench >/dev/null

fail=0
for target in scenario results ckpt bench; do
  exe=$build/fuzz_$target
  [[ -x $exe ]] || { echo "run.sh: no $exe (configure with -DFW_FUZZ=ON -DCMAKE_C_COMPILER=clang)" >&2; exit 2; }
  for f in "$here"/crashes/$target/*; do
    [[ -f $f ]] || continue
    rel=$target/$(basename "$f")
    if known "$rel" && [[ ${FW_FUZZ_KNOWN:-0} != 1 ]]; then
      echo "run.sh: skipping known open reproducer crashes/$rel"
      continue
    fi
    if "$exe" -rss_limit_mb=2048 -timeout=60 "$f" >"$out/repro-$target-$(basename "$f").log" 2>&1; then
      known "$rel" && echo "run.sh: crashes/$rel passes now: remove it from crashes/KNOWN"
    else
      echo "run.sh: reproducer crashes/$rel fails (log: $out/repro-$target-$(basename "$f").log)"
      known "$rel" || fail=1
    fi
  done
done

# fuzz TARGET RUNS MAX_LEN: libFuzzer over the corpus until RUNS inputs have run. A crash
# that triage.py attributes to libhdf5's own parser (a corrupt file it trusts; nothing we can
# fix) is kept under $out and reported, and fuzzing resumes from the next seed, at most 40
# times in all; any other crash stops it with a failure. Logs: $out/fuzz_TARGET.N.log.
fuzz() {
  local target=$1 runs=$2 max_len=$3 dict=() done_runs=0 i=0 n log leaks=1
  [[ -f $here/$target.dict ]] && dict=(-dict="$here/$target.dict")
  # libhdf5 leaks on some corrupt files (112 bytes in 2 blocks, seen within 600 inputs), and
  # its frames cannot be unwound on malloc, so a leak of ours through HDF5 would look the same:
  # leak detection is off for the result reader here, per input and at exit (libhdf5 leaves
  # 26,888 bytes in 157 blocks at exit after corrupt files); the ASan test suite checks the
  # reader's leaks on valid files (.ci/run).
  [[ $target == results || $target == bench ]] && leaks=0   # both read HDF5 files
  mkdir -p "$out/corpus_$target"
  while ((done_runs < runs && i < 40)); do
    log=$out/fuzz_$target.$i.log
    if ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=$leaks "$build/fuzz_$target" -runs=$((runs - done_runs)) -seed=$((seed + i)) -max_len="$max_len" \
        -timeout=30 -rss_limit_mb=2048 -detect_leaks=$leaks -print_final_stats=1 "${dict[@]}" \
        -artifact_prefix="$out/$target-$i-" "$out/corpus_$target" "$here/corpus/$target" >"$log" 2>&1; then
      return 0
    fi
    n=$(awk '/^stat::number_of_executed_units/ {n = $2} END {print n}' "$log")
    done_runs=$((done_runs + ${n:-1}))
    if ! python3 "$here/triage.py" "$log" >"$log.triage"; then
      cat "$log.triage"
      return 1
    fi
    echo "run.sh: fuzz_$target: $(cat "$log.triage") -- input kept: $(ls "$out/$target-$i-"* 2>/dev/null | head -1)"
    i=$((i + 1))
  done
  ((done_runs >= runs)) || { echo "run.sh: fuzz_$target: 40 crashes inside libhdf5; stopping" >&2; return 1; }
}

start=$SECONDS
fuzz scenario "$runs_scenario" 32768 & p1=$!
fuzz results "$runs_results" 131072 & p2=$!
r1=0; wait "$p1" || r1=$?   # the checkpoint reader takes seconds: after the scenario loader
fuzz ckpt "$runs_ckpt" 65536 & p3=$!
r3=0; wait "$p3" || r3=$?
fuzz bench "$runs_bench" 65536 & p4=$!
for t in "scenario:$p1:$r1" "results:$p2" "ckpt:$p3:$r3" "bench:$p4"; do
  target=${t%%:*}
  pid=${t#*:}
  rc=0
  if [[ $pid == *:* ]]; then rc=${pid#*:}; else wait "$pid" || rc=$?; fi
  if ((rc == 0)); then
    echo "run.sh: fuzz_$target: done, no crash of ours"
  else
    fail=1
    log=$(ls -t "$out"/fuzz_$target.*.log | head -1)
    echo "run.sh: fuzz_$target FAILED; the input is $(ls -t "$out/$target-"* 2>/dev/null | head -1); log $log:"
    grep -E 'ERROR:|SUMMARY|runtime error|^    #[0-9]+ ' "$log" | head -30
  fi
done
echo "run.sh: $((SECONDS - start)) s of fuzzing"
if ((fail)); then
  echo "run.sh: FAILED (kept $out)" >&2
  exit 1
fi
[[ -z ${FW_FUZZ_OUT:-} ]] && rm -rf "$out"
exit 0
