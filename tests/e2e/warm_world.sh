# Sourced by e2e_warmup and e2e_warmup_parts after lib.sh, in $TMP: the small world both run
# with a warm-up (w.yaml, named $1), `same WHAT A B` (A and B identical outside /latency and
# the root attributes) and `warm3 PREFIX ARGS...` (PREFIX_cold without a warm-up, PREFIX1 and
# PREFIX2 with 2 warm-up days at 1 and 2 threads, which must be identical).
cat >w.yaml <<YAML
name: $1
seed: 18
days: 2
world:
  n_users: 400
  n_notes: 800
  n_brands: 30
  n_products: 200
  ticks_per_day: 8
  notes_per_dau: 1.0
output:
  compression: 0
  oracle_every: 0
YAML
same() {   # same WHAT A B
  if h5diff -q --exclude-path /latency --exclude-attribute / "$2" "$3"; then pass "$1: identical"
  else fail "$1: differ: $(h5diff -r --exclude-path /latency --exclude-attribute / "$2" "$3" | head -20)"; fi
}
warm3() {  # warm3 PREFIX ARGS...
  local p=$1
  shift
  run "${p}_cold" 1 "$@"
  run "${p}1" 1 "$@" --set world.warmup_days=2
  run "${p}2" 2 "$@" --set world.warmup_days=2
  same "$p, 1 vs 2 threads" "${p}1.h5" "${p}2.h5"
}
