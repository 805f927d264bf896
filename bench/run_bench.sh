# The body of bench/feed.sh and bench/search.sh, which source this file: runs a benchmark
# program with the caller's arguments and keeps a copy of its output under build/bench-out/
# (build*/ is ignored by git; bench/ is not), headed by the machine and the source it ran.
# Builds nothing.
# usage (in a script of bench/, after set -euo pipefail): run_bench NAME TARGET BIN [options...]
#   NAME    the calling script's name without .sh: bench/NAME.sh, output NAME-DATE.txt
#   TARGET  the CMake target that builds BIN, named when BIN is missing
#   BIN     the program, relative to the repository root; OUT_DIR=dir another output folder
# shellcheck shell=bash
run_bench() {
  local name=$1 target=$2 bin=$3
  shift 3
  cd "$(dirname "$0")/.." || exit
  if [ ! -x "$bin" ]; then
    echo "$name.sh: $bin not found; build it first: cmake --build build --target $target" >&2
    exit 2
  fi
  local out_dir out rev
  out_dir=${OUT_DIR:-$(dirname "$bin")/bench-out}
  mkdir -p "$out_dir"
  out="$out_dir/$name-$(date +%Y%m%d-%H%M%S).txt"
  rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  git diff --quiet HEAD -- engine sim 2>/dev/null || rev="$rev + uncommitted changes in engine/ or sim/"
  {
    echo "# bench/$name.sh $*"
    echo "# $(date -u +%FT%TZ); $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))"
    echo "# source: git $rev; binary $bin built $(date -u -r "$bin" +%FT%TZ)"
  } | tee "$out"
  "$bin" "$@" 2>&1 | tee -a "$out"
  echo "output: $out"
}
