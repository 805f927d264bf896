#!/usr/bin/env bash
# The feed request of the learning recommender at scale (bench/feed_bench.c): runs
# build/bench_feed with the given arguments and keeps a copy of its output under
# build/bench-out/ (build*/ is ignored by git; bench/ is not). Builds nothing: first
#   cmake --build build --target bench_feed
# usage: bench/feed.sh [bench_feed options...]
#   bench/feed.sh                                              # 1M users, 1M notes (about 4-6 min)
#   bench/feed.sh --users 50000 --notes 100000 --requests 20000  # quick check (about 15 s)
# BENCH_FEED=path picks another binary; OUT_DIR=dir another output folder.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BENCH_FEED:-./build/bench_feed}
if [ ! -x "$bin" ]; then
  echo "feed.sh: $bin not found; build it first: cmake --build build --target bench_feed" >&2
  exit 2
fi
out_dir=${OUT_DIR:-$(dirname "$bin")/bench-out}
mkdir -p "$out_dir"
out="$out_dir/feed-$(date +%Y%m%d-%H%M%S).txt"
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- engine sim 2>/dev/null || rev="$rev + uncommitted changes in engine/ or sim/"
{
  echo "# bench/feed.sh $*"
  echo "# $(date -u +%FT%TZ); $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))"
  echo "# source: git $rev; binary $bin built $(date -u -r "$bin" +%FT%TZ)"
} | tee "$out"
"$bin" "$@" 2>&1 | tee -a "$out"
echo "output: $out"
