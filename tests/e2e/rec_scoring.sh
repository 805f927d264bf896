#!/usr/bin/env bash
# engine.rec.scoring (issue 22): the lazy ranking (the default: the per-open heads only where a
# bound can reach the page, the page from a window of the best bounds first) serves what the
# exhaustive one does (every head of every candidate, the page by a plain scan): the same
# results outside /latency and the root's run attributes, on tests/data/tiny_rec.yaml (1 day,
# a rec arm beside a baseline) and with tight caps on every arm (the window runs short and the
# page is finished from all candidates, then relaxed). The one difference is the work it
# reports: /work/scored_exactly, every candidate of the rec arm under exhaustive (test_rec checks
# the equality; here candidates_scored also counts the baseline arm's), fewer under lazy.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
run_pair() {   # name, extra --set arguments...
  local name=$1
  shift
  for m in lazy exhaustive; do
    "$FLYWHEEL" run "$SRC/tests/data/tiny_rec.yaml" -q -d 1 -t 2 --set engine.rec.scoring=$m "$@" -o "$name-$m.h5" \
      2>err.txt || fail "$name, $m ($(cat err.txt))"
  done
  local x=(--exclude-path /latency --exclude-path /work/scored_exactly --exclude-attribute /)
  if h5diff -q "${x[@]}" "$name-lazy.h5" "$name-exhaustive.h5" && h5diff -q "${x[@]}" "$name-exhaustive.h5" "$name-lazy.h5"; then
    pass "$name: lazy and exhaustive identical"
  else
    fail "$name: lazy differs from exhaustive: $(h5diff -r "${x[@]}" "$name-lazy.h5" "$name-exhaustive.h5" | head -20)"
  fi
  if out=$("$PY" - "$name-lazy.h5" "$name-exhaustive.h5" <<'PY'
import sys
import h5py
lazy, exh = (h5py.File(p, "r")["work"] for p in sys.argv[1:3])
n = int(exh["candidates_scored"][:].sum())
a, b = int(lazy["scored_exactly"][:].sum()), int(exh["scored_exactly"][:].sum())
print(f"scored with every head: lazy {a}, exhaustive {b}; candidates scored, both arms {n}")
sys.exit(0 if 0 < a < b <= n else 1)
PY
  ); then
    pass "$name: $out"
  else
    fail "$name: the work is not what each scoring does: $out"
  fi
}
run_pair defaults
run_pair tight --set engine.rec.max_per_topic=1 --set engine.rec.max_per_creator=1 --set engine.rec.explore_slots=2
finish
