#!/usr/bin/env bash
# One knob an A/B arm may set, or one it may not (e2e_arm_knob_<KEY>; the knobs an arm's
# settings once left silently unread): tests/data/arm_knobs.yaml is run as it is and again
# with the arm "treat" setting KEY=VALUE (under the experiment settings given, default the
# defaults: per-arm isolation, budget split).
#   honoured: the second run's results for "treat" differ from the first's (its /days/treat,
#             /users/treat, or the marketplace tasks of its creators), and validate accepts it;
#   refused:  validate and run exit 2 naming FILE:LINE and KEY, "is one value per run; arms
#             may not set it", and no result file is made.
# usage: arm_knobs.sh FLYWHEEL PYTHON SRC base OUT.h5      (the fixture: the file as it is)
#        arm_knobs.sh FLYWHEEL PYTHON SRC honoured KEY=VALUE BASE.h5
#        arm_knobs.sh FLYWHEEL PYTHON SRC refused KEY=VALUE [--set K=V]...
. "$(dirname "$0")/lib.sh"
MODE=${4:?base, honoured or refused}
KV=${5:?KEY=VALUE or OUT.h5}
shift 5
EXTRA=("$@")
if [ "$MODE" = base ]; then
  if "$FLYWHEEL" run "$SRC/tests/data/arm_knobs.yaml" -q -t 1 -o "$KV" 2>"$TMP/err.txt"; then
    pass "the base run: $KV"
  else
    fail "the base run: $(cat "$TMP/err.txt")"
  fi
  finish
fi
KEY=${KV%%=*}
BASE=$SRC/tests/data/arm_knobs.yaml
cd "$TMP"
{ cat "$BASE"; printf '      set: ["%s"]\n' "$KV"; } >knob.yaml
LINE=$(wc -l <knob.yaml)

if [ "$MODE" = refused ]; then
  for cmd in validate run; do
    if [ $cmd = validate ]; then
      "$FLYWHEEL" validate knob.yaml "${EXTRA[@]}" >out.txt 2>err.txt
    else
      "$FLYWHEEL" run knob.yaml "${EXTRA[@]}" -q -o knob.h5 >out.txt 2>err.txt
    fi
    rc=$?
    want="knob.yaml:$LINE: $KEY: arm 'treat' sets it, but "
    if [ $rc -ne 2 ]; then
      fail "$cmd $KV ${EXTRA[*]}: exit $rc, expected 2 ($(head -c 300 err.txt))"
    elif ! grep -qF -- "$want" err.txt || ! grep -qF "is one value per run; arms may not set it" err.txt; then
      fail "$cmd $KV ${EXTRA[*]}: message '$(cat err.txt)' lacks '$want...is one value per run; arms may not set it'"
    elif [ -e knob.h5 ]; then
      fail "$cmd $KV: a result file was made"
    else
      pass "$cmd $KV ${EXTRA[*]}: $(cat err.txt)"
    fi
  done
  finish
fi

BASE_H5=${EXTRA[0]:?the result of the fixture e2e_arm_knobs_base}
if "$FLYWHEEL" validate knob.yaml >out.txt 2>err.txt; then
  pass "validate accepts $KV"
else
  fail "validate $KV: $(cat err.txt)"
fi
"$FLYWHEEL" run knob.yaml -q -t 1 -o knob.h5 2>err.txt || fail "run with $KV: $(cat err.txt)"
if out=$("$PY" "$(dirname "$0")/arm_knobs.py" "$BASE_H5" knob.h5 treat 2>&1); then
  pass "$KV changes the arm's results: $out"
else
  fail "$KV: $out"
fi
finish
