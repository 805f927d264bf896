#!/usr/bin/env bash
# Developers' check of state snapshots (issue 21): runs SCENARIO for 4 days uninterrupted,
# again stopped after day 3 (FLYWHEEL_STOP_AFTER_DAY) for its snapshot, and again stopped after
# day 2 and resumed from its snapshot, itself stopped after day 3; then
# compares the two day-3 snapshots section by section (tests/e2e/snapdiff.py names the
# section that differs: the hook that forgot something), and the resumed run, completed, with
# the uninterrupted result (h5diff outside /latency and root attributes).
# usage: snap_check.sh BUILD_DIR SCENARIO [flywheel run options...]
set -uo pipefail
B=$(cd "${1:?usage: $0 BUILD_DIR SCENARIO [options]}" && pwd)
SCEN=$(realpath "${2:?}")
shift 2
F=$B/flywheel
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
ok=0
"$F" run -q -t 2 "$SCEN" -d 4 "$@" -o full.h5 2>e0 || { echo "the uninterrupted run failed: $(cat e0)"; exit 1; }
FLYWHEEL_STOP_AFTER_DAY=3 "$F" run -q -t 2 "$SCEN" -d 4 "$@" -o a.h5 2>e1
[ -f a.h5.snap ] || { echo "no snapshot after day 3: $(cat e1)"; exit 1; }
FLYWHEEL_STOP_AFTER_DAY=2 "$F" run -q -t 1 "$SCEN" -d 4 "$@" -o r.h5 2>e2
[ -f r.h5.snap ] || { echo "no snapshot after day 2: $(cat e2)"; exit 1; }
FLYWHEEL_STOP_AFTER_DAY=3 "$F" run -t 2 --resume r.h5.partial >o3 2>e3
grep -q "resumed: from the snapshot after day 2" o3 || { echo "the resume did not load the snapshot: $(cat o3 e3)"; exit 1; }
$PY "$HERE/snapdiff.py" a.h5.snap r.h5.snap && echo "ok: day-3 snapshots identical" || ok=1
"$F" run -q -t 1 --resume r.h5.partial 2>e4 || { echo "second resume failed: $(cat e4)"; exit 1; }
if h5diff -q --exclude-path /latency --exclude-attribute / full.h5 r.h5; then echo "ok: results identical"
else echo "FAIL: results differ:"; h5diff -r --exclude-path /latency --exclude-attribute / full.h5 r.h5 | head -20; ok=1; fi
exit $ok
