#!/usr/bin/env bash
# Same scenario and seed: identical deterministic datasets for 1, 2 and 4 threads. Only
# /latency (measured) and root attributes (threads, times) may differ. A different seed
# must differ, so the comparison itself is shown able to fail.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
for t in 1 2 4; do
  "$FLYWHEEL" run "$SRC/tests/data/tiny_ab.yaml" -q -t $t -o t$t.h5 2>err.txt || fail "run -t $t ($(cat err.txt))"
done
"$FLYWHEEL" run "$SRC/tests/data/tiny_ab.yaml" -q -t 2 -s 12345 -o other.h5 2>err.txt || fail "run other seed"
for t in 1 4; do
  "$FLYWHEEL" run "$SRC/tests/data/tiny_rec.yaml" -q -t $t -o rec$t.h5 2>err.txt || fail "rec -t $t ($(cat err.txt))"
  "$FLYWHEEL" run "$SRC/tests/data/tiny_layers.yaml" -q -t $t -o layers$t.h5 2>err.txt || fail "layers -t $t ($(cat err.txt))"
  "$FLYWHEEL" run "$SRC/tests/data/tiny_shop.yaml" -q -t $t -o shop$t.h5 2>err.txt || fail "shop -t $t ($(cat err.txt))"
  "$FLYWHEEL" run "$SRC/tests/data/tiny_ads.yaml" -q -t $t -o ads$t.h5 2>err.txt || fail "ads -t $t ($(cat err.txt))"
done
cmp_files() { h5diff -q --exclude-path /latency --exclude-attribute / "$1" "$2"; }
for t in 2 4; do
  if cmp_files t1.h5 t$t.h5; then pass "1 vs $t threads identical"; else fail "1 vs $t threads differ: $(h5diff -r --exclude-path /latency --exclude-attribute / t1.h5 t$t.h5 | head -20)"; fi
done
if cmp_files rec1.h5 rec4.h5; then pass "recommender: 1 vs 4 threads identical"; else fail "recommender differs across threads: $(h5diff -r --exclude-path /latency --exclude-attribute / rec1.h5 rec4.h5 | head -20)"; fi
if cmp_files layers1.h5 layers4.h5; then pass "layers, cluster units: 1 vs 4 threads identical"; else fail "layers differ across threads"; fi
if cmp_files shop1.h5 shop4.h5; then pass "shop: 1 vs 4 threads identical"; else fail "shop differs across threads: $(h5diff -r --exclude-path /latency --exclude-attribute / shop1.h5 shop4.h5 | head -20)"; fi
if cmp_files ads1.h5 ads4.h5; then pass "ads: 1 vs 4 threads identical"; else fail "ads differ across threads: $(h5diff -r --exclude-path /latency --exclude-attribute / ads1.h5 ads4.h5 | head -20)"; fi
if cmp_files t1.h5 other.h5 >/dev/null 2>&1; then fail "a different seed gave identical results"; else pass "different seed differs"; fi
finish
