#!/usr/bin/env bash
# The full A/A check: scenarios/aa.yaml at its own size with many replicates (default 1000;
# about 10 minutes on 2 cores). Prints the false-positive rate per metric, the mSPRT rate
# under daily looks, the SRM uniformity and CUPED's interval narrowing.
# usage: bench/aa.sh [REPLICATES]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
py=/usr/bin/python3
"${FLYWHEEL:-./build/flywheel}" run scenarios/aa.yaml -q --replicates "${1:-1000}" -o "$out/aa.h5"
"$py" tests/e2e/check_aa.py "$out/aa.h5"
