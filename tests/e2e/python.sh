#!/usr/bin/env bash
# The Python package (python/flywheel) over the build's libflywheel (tests/e2e/python_check.py).
# Usage: python.sh FLYWHEEL PYTHON SOURCE_DIR BUILD_DIR
. "$(dirname "$0")/lib.sh"
BUILD=${4:?usage: $0 FLYWHEEL PYTHON SOURCE_DIR BUILD_DIR}
if ! "$PY" -c "import pandas" 2>/dev/null; then
  fail "no pandas for $PY: run scripts/install-deps.sh (python3-pandas)"; finish
fi
export PYTHONPATH="$SRC/python" FLYWHEEL_LIB="$BUILD/lib/libflywheel.so" FLYWHEEL_POLICY_DIR="$BUILD/policies"
if "$PY" "$SRC/tests/e2e/python_check.py" "$SRC" "$TMP" "$FLYWHEEL"; then pass "python package"; else fail "python package"; fi
finish
