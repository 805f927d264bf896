#!/usr/bin/env bash
# Search requests over a synthetic text index (bench/search_bench.c): runs build/bench_search
# with the given arguments and keeps a copy of its output under build/bench-out/ (build*/ is
# ignored by git; bench/ is not). Builds nothing: first
#   cmake --build build --target bench_search
# usage: bench/search.sh [bench_search options...]
#   bench/search.sh --mode keyword                                # 1M notes, 200k queries
#   bench/search.sh --mode intent                                 # the same, with learned intents
#   bench/search.sh --notes 100000 --queries 20000 --mode intent  # quick check
# BENCH_SEARCH=path picks another binary; OUT_DIR=dir another output folder.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BENCH_SEARCH:-./build/bench_search}
if [ ! -x "$bin" ]; then
  echo "search.sh: $bin not found; build it first: cmake --build build --target bench_search" >&2
  exit 2
fi
out_dir=${OUT_DIR:-$(dirname "$bin")/bench-out}
mkdir -p "$out_dir"
out="$out_dir/search-$(date +%Y%m%d-%H%M%S).txt"
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- engine sim 2>/dev/null || rev="$rev + uncommitted changes in engine/ or sim/"
{
  echo "# bench/search.sh $*"
  echo "# $(date -u +%FT%TZ); $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))"
  echo "# source: git $rev; binary $bin built $(date -u -r "$bin" +%FT%TZ)"
} | tee "$out"
"$bin" "$@" 2>&1 | tee -a "$out"
echo "output: $out"
