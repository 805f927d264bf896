#!/usr/bin/env bash
# The feed request of the learning recommender at scale (bench/feed_bench.c): runs
# build/bench_feed with the given arguments and keeps a copy of its output under
# build/bench-out/ (bench/run_bench.sh does the work). Builds nothing: first
#   cmake --build build --target bench_feed
# usage: bench/feed.sh [bench_feed options...]
#   bench/feed.sh                                              # 1M users, 1M notes (about 4-6 min)
#   bench/feed.sh --users 50000 --notes 100000 --requests 20000  # quick check (about 15 s)
# BENCH_FEED=path picks another binary; OUT_DIR=dir another output folder.
set -euo pipefail
# shellcheck source=bench/run_bench.sh
source "$(dirname "$0")/run_bench.sh"
run_bench feed bench_feed "${BENCH_FEED:-./build/bench_feed}" "$@"
