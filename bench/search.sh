#!/usr/bin/env bash
# Search requests over a synthetic text index (bench/search_bench.c): runs build/bench_search
# with the given arguments and keeps a copy of its output under build/bench-out/
# (bench/run_bench.sh does the work). Builds nothing: first
#   cmake --build build --target bench_search
# usage: bench/search.sh [bench_search options...]
#   bench/search.sh --mode keyword                                # 1M notes, 200k queries
#   bench/search.sh --mode intent                                 # the same, with learned intents
#   bench/search.sh --notes 100000 --queries 20000 --mode intent  # quick check
# Every run ends with the side by side of issue 22 (--side N queries, default 20000): exact, pruned,
# newest (max_postings 2000) and exhaustive retrieval on the same queries in rotating order,
# p50/p99, whether every exact and pruned page equals the exhaustive one (the run fails otherwise) and
# newest's recall@10 against exact; then one-word queries of the most frequent words. The
# README's figures:
#   bench/search.sh --notes 100000 --users 10000 --queries 20000 --mode keyword --side 20000
#   bench/search.sh --notes 1000000 --queries 20000 --mode keyword --side 20000
#   bench/search.sh --notes 1000000 --queries 20000 --mode intent --side 5000
#   bench/search.sh --notes 25000000 --users 1000000 --queries 500 --side 200 --mode keyword
#     (a frequent word with 10M postings: about 6 GiB, a few minutes to build)
# BENCH_SEARCH=path picks another binary; OUT_DIR=dir another output folder.
set -euo pipefail
# shellcheck source=bench/run_bench.sh
source "$(dirname "$0")/run_bench.sh"
run_bench search bench_search "${BENCH_SEARCH:-./build/bench_search}" "$@"
