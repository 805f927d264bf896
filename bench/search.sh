#!/usr/bin/env bash
# Search requests over a synthetic text index (bench/search_bench.c): runs build/bench_search
# with the given arguments and keeps a copy of its output under build/bench-out/
# (bench/run_bench.sh does the work). Builds nothing: first
#   cmake --build build --target bench_search
# usage: bench/search.sh [bench_search options...]
#   bench/search.sh --mode keyword                                # 1M notes, 200k queries
#   bench/search.sh --mode intent                                 # the same, with learned intents
#   bench/search.sh --notes 100000 --queries 20000 --mode intent  # quick check
# BENCH_SEARCH=path picks another binary; OUT_DIR=dir another output folder.
set -euo pipefail
# shellcheck source=bench/run_bench.sh
source "$(dirname "$0")/run_bench.sh"
run_bench search bench_search "${BENCH_SEARCH:-./build/bench_search}" "$@"
