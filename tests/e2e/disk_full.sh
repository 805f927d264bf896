#!/usr/bin/env bash
# A full disk mid-run: simulated with a file-size limit (ulimit -f, which binds root too) and
# SIGXFSZ ignored, so writes past it fail with EFBIG as they would with ENOSPC. The run must
# exit 1 with a message (it used to die of SIGSEGV in libhdf5's exit cleanup, exit 139),
# leave NAME.h5.partial readable with its finished days and marked failed (never
# "running"), and leave no temporary file.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
T=$SRC/tests/data/tiny.yaml
# 1380 KiB: a day of this scenario takes about 1.33 MB, each further day about 9 KB.
(trap '' XFSZ; ulimit -f 1380; exec "$FLYWHEEL" run "$T" -q --days 40 -o full.h5) >out.txt 2>err.txt
rc=$?
[ $rc -eq 1 ] && pass "exit 1 (not a crash)" || fail "exit $rc: $(cat err.txt)"
grep -q "File too large" err.txt && grep -q "full.h5.partial" err.txt && grep -q "marked failed" err.txt \
  && pass "says why and where: $(grep -m1 'marked failed' err.txt)" || fail "message: $(cat err.txt)"
[ ! -e full.h5 ] && pass "final path not written" || fail "final path written"
"$PY" "$SRC/tests/e2e/check_result.py" full.h5.partial --status failed --min-days 2 \
  && pass "partial readable, marked failed, with its finished days" || fail "partial file"
left=$(ls -a | grep -E '\.tmp$' || true)
[ -z "$left" ] && pass "no temporary file left" || fail "left: $left"
finish
