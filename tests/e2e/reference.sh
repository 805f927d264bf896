#!/usr/bin/env bash
# Results must not change. This build runs the reference scenario (tests/data/reference.yaml)
# with 1 and 2 threads; each result must equal the stored one, tests/data/reference/reference.h5,
# made by an earlier build (see tests/data/reference/README.md), under h5diff: only /latency
# (measured; the stored copy has none) and the root attributes (times, threads, git revision)
# may differ. Another seed must differ, so the comparison is shown able to fail.
#
# h5diff exits 1 for an object present in one file only, unless an exclusion covers it: the
# missing /latency is ignored, while a dataset or attribute added or dropped is a difference.
# Both directions are compared all the same, so that nothing rests on h5diff's symmetry.
. "$(dirname "$0")/lib.sh"
REF=$SRC/tests/data/reference/reference.h5
SCENARIO=$SRC/tests/data/reference.yaml
EXCL=(--exclude-path /latency --exclude-attribute /)
cd "$TMP"

# same A B: status 0 when A and B are equal outside the exclusions, else h5diff's (1 differ, 2 error)
same() {
  h5diff -q "${EXCL[@]}" "$1" "$2" || return $?
  h5diff -q "${EXCL[@]}" "$2" "$1"
}
# show A B: what differs -- objects in one file only, the objects whose values differ, then
# the first differing values
show() {
  h5diff -v "${EXCL[@]}" "$1" "$2" 2>&1 |
    awk -v a="$1" -v b="$2" '$1 == "x" && $2 != "x" { print "  only in " (index($0, "x") < 8 ? a : b) ": " $2 }' | head -20
  h5diff -r "${EXCL[@]}" "$1" "$2" >diff.txt 2>&1
  awk '/^(attribute|dataset|group)/ { hdr = $0 } /^[0-9]+ differences? found$/ && $1 > 0 { print "  " hdr ": " $1 " differ" }' diff.txt |
    head -20
  awk '/^(attribute|dataset|group)/ { hdr = $0; next } /^0 differences found$/ { next }
       { if (hdr != "") { print "  " hdr; hdr = "" } print "  " $0 }' diff.txt | head -30
}

if [ -r "$REF" ] && h5ls "$REF/days" >/dev/null 2>&1 && ! h5ls "$REF/latency" >/dev/null 2>&1; then
  pass "stored reference readable, without /latency ($(stat -c %s "$REF") bytes, made by $(h5dump -a /git_revision "$REF" 2>/dev/null | sed -n 's/.*(0): "\(.*\)".*/\1/p'))"
else
  fail "stored reference $REF missing, unreadable or with /latency"
fi

for t in 1 2; do
  if ! "$FLYWHEEL" run "$SCENARIO" -q -t $t -o t$t.h5 2>err.txt; then
    fail "run -t $t ($(cat err.txt))"
    continue
  fi
  same t$t.h5 "$REF"
  rc=$?
  if [ $rc -eq 0 ]; then
    pass "$t thread(s): identical to the stored reference"
  else
    fail "$t thread(s): differs from the stored reference (h5diff status $rc). If the change is meant to change results, regenerate it (tests/data/reference/README.md); else:"
    show "$REF" t$t.h5
  fi
done

# Control: the same scenario with another seed must differ (status 1, not an error).
if "$FLYWHEEL" run "$SCENARIO" -q -t 2 -s 12345 -o other.h5 2>err.txt; then
  same other.h5 "$REF" >/dev/null 2>&1
  rc=$?
  if [ $rc -eq 1 ]; then pass "another seed differs from the reference"; else fail "another seed: h5diff status $rc, not 1"; fi
else
  fail "run with another seed ($(cat err.txt))"
fi
finish
