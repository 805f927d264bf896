#!/usr/bin/env bash
# The HTML report, opened in a real browser: `run --report` and `report -o` write a folder
# whose index.html loads in headless Chromium with every figure present and no console
# errors (tests/e2e/browser_check.sh). Screenshots go to SCREENSHOT_DIR (4th argument,
# default the temp dir) so that ctest can keep them for a person to look at.
. "$(dirname "$0")/lib.sh"
SHOTS=${4:-$TMP}
if ! mkdir -p "$SHOTS"; then fail "cannot create $SHOTS"; finish; fi
SHOTS=$(cd "$SHOTS" && pwd)
CHECK="$SRC/tests/e2e/browser_check.sh"
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null && [ -z "${CHROMIUM:-}" ]; then
  fail "chromium not installed: run scripts/install-deps.sh"
  finish
fi
cd "$TMP" || exit 1

# run --report: the report lands next to the result, as ab_report/.
if "$FLYWHEEL" run "$SRC/tests/data/tiny_ab.yaml" -q -o ab.h5 --set experiment.pre_days=1 --days 3 --report \
  >out.txt 2>err.txt; then pass "run --report exits 0"; else fail "run --report exit $? ($(cat err.txt))"; fi
[ -f ab.h5 ] && pass "ab.h5 written" || fail "no ab.h5"
[ -f ab_report/index.html ] && pass "ab_report/index.html written" || fail "no ab_report/index.html ($(ls -A))"
n=$(find ab_report/figures -maxdepth 1 \( -name '*.png' -o -name '*.svg' \) 2>/dev/null | wc -l)
[ "$n" -gt 0 ] && pass "ab_report/figures has $n figures" || fail "no figures in ab_report/figures"
if [ -f ab_report/index.html ]; then
  if bash "$CHECK" ab_report/index.html "$SHOTS/report_browser_run.png" 2>&1; then
    pass "run --report loads in Chromium"
  else
    fail "run --report does not load cleanly in Chromium"
  fi
  echo "screenshot: $SHOTS/report_browser_run.png"
fi

# report -o DIR on the same result.
if [ -f ab.h5 ]; then
  if "$FLYWHEEL" report ab.h5 -o rep >out.txt 2>err.txt; then pass "report -o exits 0"; else fail "report -o exit $? ($(cat err.txt))"; fi
  if [ -f rep/index.html ]; then
    pass "rep/index.html written"
    if bash "$CHECK" rep/index.html "$SHOTS/report_browser_report.png" 2>&1; then
      pass "report -o loads in Chromium"
    else
      fail "report -o does not load cleanly in Chromium"
    fi
    echo "screenshot: $SHOTS/report_browser_report.png"
  else
    fail "no rep/index.html"
  fi
fi
finish
