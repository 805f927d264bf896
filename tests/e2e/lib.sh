# Shared helpers for the end-to-end shell tests. Each test sources this file.
set -uo pipefail
FLYWHEEL=${1:?usage: $0 FLYWHEEL PYTHON SOURCE_DIR}
PY=${2:?}
SRC=${3:?}
TMP=$(mktemp -d)
# ctest -j runs two tests on this machine's two cores: OpenMP threads spinning at barriers
# (libgomp's default) would take the other test's CPU. Waiting passively changes no result.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
trap 'rm -rf "$TMP"' EXIT
n_pass=0
n_fail=0
pass() { n_pass=$((n_pass + 1)); echo "ok: $*"; }
fail() { n_fail=$((n_fail + 1)); echo "FAIL: $*"; }
finish() {
  echo "$n_pass passed, $n_fail failed"
  [ "$n_fail" -eq 0 ]
  exit $?
}
# run NAME THREADS [--set K=V ...]: runs the test's w.yaml (in the current folder) into
# NAME.h5 with -q; a failure is a FAIL naming the run, with its stderr.
run() {
  local name=$1 t=$2
  shift 2
  "$FLYWHEEL" run w.yaml -q -t "$t" -o "$name.h5" "$@" 2>err.txt || fail "run $name ($(cat err.txt))"
}
