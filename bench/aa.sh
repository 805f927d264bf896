#!/usr/bin/env bash
# The full A/A check: scenarios/aa.yaml at its own size with many replicates (default 1000;
# about 100 minutes on 2 cores, since 200 take about 20). Prints each metric's false-positive
# rate and the sequential test's (alpha spent over the 14 daily looks) with Wilson intervals,
# and the rate of runs with any Holm-adjusted rejection (tests/e2e/check_aa.py).
# usage: bench/aa.sh [REPLICATES]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
py=/usr/bin/python3
"${FLYWHEEL:-./build/flywheel}" run scenarios/aa.yaml -q --replicates "${1:-1000}" -o "$out/aa.h5"
"$py" tests/e2e/check_aa.py "$out/aa.h5"
