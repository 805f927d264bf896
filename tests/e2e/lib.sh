# Shared helpers for the end-to-end shell tests. Each test sources this file.
set -uo pipefail
FLYWHEEL=${1:?usage: $0 FLYWHEEL PYTHON SOURCE_DIR}
PY=${2:?}
SRC=${3:?}
TMP=$(mktemp -d)
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
