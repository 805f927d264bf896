#!/usr/bin/env bash
# `flywheel report` and `flywheel run --report`: every file of the folder, PNG sizes read from
# the IHDR, index.html's figures and tables, one arm (no forest, no A/B table), two runs
# compared, gnuplot missing or failing (index.html still written, the figure named, exit 1),
# bad input (exit 2, the file named).
. "$(dirname "$0")/lib.sh"
cd "$TMP"
FIGS="engagement activity retention funnel latency_percentiles latency_distribution followers lorenz forest"

# check_png FILE: a PNG whose IHDR says 960x540.
check_png() {
  "$PY" - "$1" <<'PY'
import struct, sys
with open(sys.argv[1], "rb") as f:
    head = f.read(24)
assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
assert head[12:16] == b"IHDR", "no IHDR"
w, h = struct.unpack(">II", head[16:24])
assert (w, h) == (960, 540), (w, h)
PY
}

if "$FLYWHEEL" run "$SRC/tests/data/tiny_ab.yaml" -q --set experiment.pre_days=1 -o ab/ab.h5 --report >out.txt 2>err.txt; then
  pass "run --report exits 0"
else
  fail "run --report exit $? ($(cat err.txt))"
fi
R=ab/ab_report
grep -q "report: $R/index.html" out.txt && pass "run --report says where the report is" || fail "no report line: $(cat out.txt)"
[ -f $R/index.html ] && pass "index.html written" || fail "no $R/index.html"
missing=""
for f in $FIGS; do
  for ext in png svg gp; do [ -s $R/figures/$f.$ext ] || missing="$missing $f.$ext"; done
done
[ -z "$missing" ] && pass "every figure has .png .svg .gp" || fail "missing:$missing"
missing=""
for f in daily_0_control.dat daily_0_fresh_boost.dat funnel.dat latency_0.dat latency_ccdf.dat \
         followers_ccdf.dat lorenz.dat forest.dat; do
  [ -s $R/data/$f ] && head -1 $R/data/$f | grep -q '^#' || missing="$missing $f"
done
[ -z "$missing" ] && pass "data files written with header comments" || fail "data files:$missing"
bad=""
for f in $FIGS; do check_png $R/figures/$f.png >/dev/null 2>&1 || bad="$bad $f"; done
[ -z "$bad" ] && pass "every PNG is 960x540" || fail "bad PNGs:$bad"
bad=""
for f in $FIGS; do grep -q '<svg' $R/figures/$f.svg || bad="$bad $f"; done
[ -z "$bad" ] && pass "every SVG is an SVG" || fail "bad SVGs:$bad"
bad=""
for f in $FIGS; do grep -q "figures/$f.png" $R/index.html && grep -q "figures/$f.svg" $R/index.html || bad="$bad $f"; done
[ -z "$bad" ] && pass "index.html shows every figure" || fail "index.html lacks:$bad"
grep -q '<h2>A/B tests</h2>' $R/index.html && grep -q 'fresh_boost vs control' $R/index.html &&
  grep -q '<th>p_holm</th>' $R/index.html && grep -q 'sessions_per_user' $R/index.html &&
  pass "index.html has the A/B table" || fail "no A/B table in index.html"
grep -q 'tests over 8 learner groups per arm' $R/index.html && pass "index.html says the tests are over learner groups" ||
  fail "index.html does not say the tests are over 8 learner groups (the default under per_arm)"
grep -q '<h2>Daily totals</h2>' $R/index.html && grep -q 'tiny_ab' $R/index.html &&
  pass "index.html has provenance and daily totals" || fail "no provenance or daily totals"
! grep -qiE '<script|https?://' $R/index.html && pass "index.html is self-contained" || fail "index.html has scripts or external links"

# One arm: no forest, no A/B table; -o honoured.
"$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" -q -d 3 -o one.h5 2>err.txt || fail "tiny run ($(cat err.txt))"
if "$FLYWHEEL" report one.h5 -o one_rep >out.txt 2>err.txt; then pass "report of one arm exits 0"; else fail "one arm report exit $? ($(cat err.txt))"; fi
[ -s one_rep/figures/engagement.png ] && [ ! -e one_rep/figures/forest.png ] && [ ! -e one_rep/data/forest.dat ] &&
  pass "one arm: figures but no forest" || fail "one arm: forest present or figures missing"
! grep -q 'A/B tests' one_rep/index.html && ! grep -q 'forest' one_rep/index.html &&
  pass "one arm: no A/B table" || fail "one arm: A/B table in index.html"

# Two runs compared: default folder next to the first file.
if "$FLYWHEEL" report ab/ab.h5 one.h5 >out.txt 2>err.txt; then pass "report A.h5 B.h5 exits 0"; else fail "comparison exit $? ($(cat err.txt))"; fi
grep -q "tiny_ab fresh_boost" $R/figures/engagement.gp && grep -q "tiny all" $R/figures/engagement.gp &&
  grep -q "data/daily_1_all.dat" $R/figures/activity.gp && grep -q "latency_1.dat" $R/figures/latency_percentiles.gp &&
  pass "comparison overlays both runs" || fail "comparison figures do not overlay both runs"
grep -q 'ab/ab.h5' $R/index.html && grep -q 'one.h5' $R/index.html && pass "comparison shows both runs' provenance" ||
  fail "comparison provenance"
check_png $R/figures/engagement.png && pass "comparison PNG 960x540" || fail "comparison PNG"

# gnuplot missing: PATH without it (a folder of our own, holding nothing).
mkdir -p nognu
PATH="$TMP/nognu" "$FLYWHEEL" report one.h5 -o nognu_rep >out.txt 2>err.txt
rc=$?
[ $rc -eq 1 ] && pass "no gnuplot: exit 1" || fail "no gnuplot: exit $rc"
grep -q "figure 'engagement'" err.txt && grep -q "gnuplot" err.txt && pass "no gnuplot: figure named on stderr" ||
  fail "no gnuplot stderr: $(cat err.txt)"
[ -f nognu_rep/index.html ] && grep -q '<h2>Daily totals</h2>' nognu_rep/index.html &&
  grep -q 'class="missing"' nognu_rep/index.html && pass "no gnuplot: index.html with tables and a note" ||
  fail "no gnuplot: index.html"

# gnuplot failing on one figure: a stand-in that fails for funnel only.
mkdir -p fakegnu
cat >fakegnu/gnuplot <<EOF
#!/bin/sh
case "\$1" in
  funnel.gp) echo '"funnel.gp" line 3: planted failure' >&2; exit 1 ;;
  *) exec "$(command -v gnuplot)" "\$@" ;;
esac
EOF
chmod +x fakegnu/gnuplot
PATH="$TMP/fakegnu:$PATH" "$FLYWHEEL" report one.h5 -o fail_rep >out.txt 2>err.txt
rc=$?
[ $rc -eq 1 ] && grep -q "figure 'funnel': gnuplot exited with status 1: \"funnel.gp\" line 3: planted failure" err.txt &&
  pass "a failing figure is named with gnuplot's message" || fail "failing figure: exit $rc, $(cat err.txt)"
[ -s fail_rep/figures/engagement.png ] && [ ! -e fail_rep/figures/funnel.png ] &&
  grep -q 'Figure <code>funnel</code> is missing' fail_rep/index.html && pass "the other figures are still drawn" ||
  fail "other figures after one failed"

# Bad input: exit 2 naming the file.
"$FLYWHEEL" report no_such.h5 >out.txt 2>err.txt
rc=$?
[ $rc -eq 2 ] && grep -q "no_such.h5" err.txt && pass "missing file: exit 2, named" || fail "missing file: exit $rc, $(cat err.txt)"
echo "not hdf5" >junk.h5
"$FLYWHEEL" report junk.h5 >out.txt 2>err.txt
rc=$?
[ $rc -eq 2 ] && grep -q "junk.h5: not an HDF5 file" err.txt && pass "non-HDF5 file: exit 2, named" ||
  fail "non-HDF5: exit $rc, $(cat err.txt)"
"$PY" -c 'import h5py; h5py.File("other.h5", "w")["x"] = 1'
"$FLYWHEEL" report other.h5 >out.txt 2>err.txt
rc=$?
[ $rc -eq 2 ] && grep -q "other.h5: not a Flywheel result" err.txt && pass "foreign HDF5 file: exit 2, named" ||
  fail "foreign HDF5: exit $rc, $(cat err.txt)"
"$FLYWHEEL" report >out.txt 2>err.txt
[ $? -eq 2 ] && pass "no arguments: exit 2" || fail "no arguments"
report_help=$("$FLYWHEEL" report --help)
grep -q "index.html" <<<"$report_help" && pass "report --help" || fail "report --help"
finish
