#!/usr/bin/env bash
# A snapshot is untrusted input past its checksums too: a forged one (checksums recomputed)
# must load into a valid state or be refused with exit 2 naming the file, never crash, hang
# or reach undefined behaviour on the resumed day (run this with the ASan+UBSan build: .ci/run's
# asan stage does). First forgeries of what once got through (a note's creation tick of
# INT32_MIN made its age overflow an int on the next feed request; a note's format indexes the
# recommender's format vectors), then snap_mutate.py's structure-aware mutants of three runs: the
# kitchen-sink scenario (every capability and part with state), an A/B test with per-arm
# learners and a pre-period, and the built-in defaults. SNAP_MUTANTS (default 16) mutants each;
# raise it for a longer campaign (the seeds are fixed: the same mutants every time).
. "$(dirname "$0")/lib.sh"
cd "$TMP"
HERE=$SRC/tests/e2e
N=${SNAP_MUTANTS:-16}
T=("$SRC/tests/data/tiny.yaml" --set world.n_users=800 --set world.n_notes=1600 --set world.ticks_per_day=24)

# forge OFFSET FORMAT VALUE: a copy of f.h5's stopped run in g/ whose snapshot has VALUE
# (struct FORMAT) at byte OFFSET of the engine section's payload, its checksum recomputed.
# The engine section (engine.c core_snap) starts with five 64-bit sizes and the notes'
# capacity and count (48 bytes), then each note: creator u32, topic u32, format u8,
# created_tick i32 (13 bytes).
forge() {
  rm -rf g && mkdir g && cp f.h5.partial f.h5.ckpt g/
  PYTHONPATH=$HERE "$PY" - f.h5.snap g/f.h5.snap "$@" <<'EOF'
import struct, sys
import snap_mutate as m
src, dst, off, fmt, val = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
head, secs = m.parse(open(src, "rb").read())
pay = next(p for t, p in secs if t.rstrip(b"\0") == b"engine")
struct.pack_into(fmt, pay, off, val)
open(dst, "wb").write(m.build(head, secs))
EOF
}
FLYWHEEL_STOP_AFTER_DAY=1 "$FLYWHEEL" run -q -t 2 "${T[@]}" -d 2 -o f.h5 2>/dev/null
[ -f f.h5.snap ] || fail "setup: no snapshot ($(ls))"
# refused CASE EXPECT OFFSET FORMAT VALUE: the forged snapshot is refused (exit 2) naming the
# file, the engine section and EXPECT.
refused() {
  local what=$1 expect=$2
  shift 2
  forge "$@"
  "$FLYWHEEL" run -q -t 2 --resume g/f.h5.partial >out.txt 2>err.txt
  local rc=$?
  [ $rc = 2 ] && grep -q "g/f.h5.snap cannot be loaded" err.txt && grep -q 'section "engine"' err.txt &&
    grep -q -- "$expect" err.txt && ! grep -q "runtime error" err.txt &&
    pass "a snapshot with $what is refused: exit 2, naming the file, the section and the note" ||
    fail "$what: exit $rc, $(cat err.txt)"
}
refused "a note created at tick INT32_MIN" "created at tick -2147483648" 57 "<i" -2147483648
refused "a note created at tick 2^30 + 1" "created at tick 1073741825" 57 "<i" 1073741825
refused "a note of format 7" "note 0 " 56 "<B" 7
# ... and one inside the bound loads: the check refuses what overflows, not what is unusual.
forge 57 "<i" -1000
"$FLYWHEEL" run -q -t 2 --resume g/f.h5.partial >out.txt 2>err.txt &&
  pass "a snapshot with a note created 1,000 ticks before day 0 loads and runs" || fail "tick -1000: $(cat err.txt)"

# The ads' bound order (ads.c ads_snap: per slot, each campaign's bound f64 and index u32,
# in descending order of bound) is re-sorted in place by every rebuild, so it must be a
# permutation: the first slot's second entry forged to name the first entry's campaign.
rm -rf g && mkdir g && cp f.h5.partial f.h5.ckpt g/
PYTHONPATH=$HERE "$PY" - f.h5.snap g/f.h5.snap >forge.txt 2>&1 <<'EOF'
import struct, sys
import snap_mutate as m
head, secs = m.parse(open(sys.argv[1], "rb").read())
pay = next(p for t, p in secs if t.rstrip(b"\0") == b"ads")
n = struct.unpack_from("<I", pay, 0)[0]   # fw_snap_same_u32(the campaigns) comes first
want = set(range(n))
at = next(o for o in range(0, len(pay) - 12 * n + 1, 4)
          if {struct.unpack_from("<I", pay, o + 12 * k + 8)[0] for k in range(n)} == want)
first = struct.unpack_from("<I", pay, at + 8)[0]
struct.pack_into("<I", pay, at + 12 + 8, first)
open(sys.argv[2], "wb").write(m.build(head, secs))
print(n, at, first)
EOF
[ -f g/f.h5.snap ] || fail "ads forgery: $(cat forge.txt)"
"$FLYWHEEL" run -q -t 2 --resume g/f.h5.partial >out.txt 2>err.txt
rc=$?
[ $rc = 2 ] && grep -q "g/f.h5.snap cannot be loaded" err.txt && grep -q 'section "ads"' err.txt &&
  grep -q "lists campaign $(cut -d' ' -f3 forge.txt) twice" err.txt && ! grep -q "runtime error" err.txt &&
  pass "a snapshot whose ads' bound order names a campaign twice is refused: exit 2, naming the file, the section and the campaign" ||
  fail "ads' bound order: exit $rc, $(cat err.txt) (forged: $(cat forge.txt))"

mutants() {
  local name=$1 seed=$2
  shift 2
  "$PY" "$HERE/snap_mutate.py" "$FLYWHEEL" "m_$name" --count "$N" --seed "$seed" --keep "$TMP/keep_$name" -- "$@" \
    >mut.txt 2>&1 && pass "$name: $(tail -n 1 mut.txt)" || fail "$name: $(cat mut.txt)"
}
mutants kitchen-sink 11 "$SRC/tests/data/tiny_resume.yaml"
mutants ab 12 "$SRC/tests/data/isolation.yaml" --set world.n_users=800 --set world.n_notes=1600 --set experiment.pre_days=1
mutants defaults 13 "${T[@]}"
finish
