#!/usr/bin/env bash
# engine.rec.scoring (issue 22): the lazy ranking (the default: the per-open heads only where a
# bound can reach the page, the page from a window of the best bounds first) serves what the
# exhaustive one does (every head of every candidate, the page by a plain scan): the same
# results outside /latency and the root's run attributes, on tests/data/tiny_rec.yaml (1 day,
# a rec arm beside a baseline) and with tight caps on every arm (the window runs short and the
# page is finished from all candidates, then relaxed).
. "$(dirname "$0")/lib.sh"
cd "$TMP"
run_pair() {   # name, extra --set arguments...
  local name=$1
  shift
  for m in lazy exhaustive; do
    "$FLYWHEEL" run "$SRC/tests/data/tiny_rec.yaml" -q -d 1 -t 2 --set engine.rec.scoring=$m "$@" -o "$name-$m.h5" \
      2>err.txt || fail "$name, $m ($(cat err.txt))"
  done
  if h5diff -q --exclude-path /latency --exclude-attribute / "$name-lazy.h5" "$name-exhaustive.h5"; then
    pass "$name: lazy and exhaustive identical"
  else
    fail "$name: lazy differs from exhaustive: $(h5diff -r --exclude-path /latency --exclude-attribute / \
      "$name-lazy.h5" "$name-exhaustive.h5" | head -20)"
  fi
}
run_pair defaults
run_pair tight --set engine.rec.max_per_topic=1 --set engine.rec.max_per_creator=1 --set engine.rec.explore_slots=2
finish
