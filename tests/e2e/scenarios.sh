#!/usr/bin/env bash
# Every scenario shipped in scenarios/ is something a researcher will run as it stands, so
# each must keep working as the program changes. For each file: `flywheel validate` accepts it
# at its full size and states its arm count; then a shrunk run (1,500 users, 3,000 notes, one
# thread, only as many days as its pre-period and calendar need) exits 0 and its file has one
# /days group per arm, each with sessions and impressions on every day. A new scenario needs
# no change here unless it needs more days than one (then it goes in the table below).
. "$(dirname "$0")/lib.sh"
cd "$TMP"
# Days a shrunk run needs: pre-period + 1, or past the calendar's last promotion day.
days_for() {
  case "$1" in
    aa) echo 3 ;;               # experiment.pre_days 2
    moderation | planted) echo 2 ;;   # experiment.pre_days 1
    coupon_ab) echo 6 ;;        # promotion day 5
    *) echo 1 ;;
  esac
}
n=0
for f in "$SRC"/scenarios/*.yaml; do
  s=$(basename "$f" .yaml)
  n=$((n + 1))
  if ! "$FLYWHEEL" validate "$f" >"$s.val" 2>"$s.err"; then
    fail "$s: validate: $(cat "$s.err")"
    continue
  fi
  arms=$(sed -n 's/.* \([0-9][0-9]*\) arms\{0,1\})$/\1/p' "$s.val")
  [ -n "$arms" ] || { fail "$s: validate did not state the arms: $(cat "$s.val")"; continue; }
  d=$(days_for "$s")
  # A warm-up is shrunk to one day, a pilot warm-up to one pilot day and one full day (the
  # paths are the same; e2e_warmup tests their lengths).
  w=()
  grep -q "^ *warmup_days: *[1-9]" "$f" && w=(--set world.warmup_days=1)
  grep -Eq "^ *warmup_pilot_(users: *[1-9]|share: *0*\.0*[1-9])" "$f" &&
    w=(--set world.warmup_days=2 --set world.warmup_full_days=1)
  if ! "$FLYWHEEL" run "$f" -q -t 1 -d "$d" --set world.n_users=1500 --set world.n_notes=3000 "${w[@]}" \
       -o "$s.h5" >/dev/null 2>"$s.err"; then
    fail "$s: shrunk run ($d days): $(head -c 400 "$s.err")"
    continue
  fi
  if out=$("$PY" - "$s.h5" "$arms" "$d" 2>&1 <<'PY'
import sys
import h5py
f = h5py.File(sys.argv[1], "r")
arms, days = int(sys.argv[2]), int(sys.argv[3])
groups = [k for k in f["days"] if isinstance(f["days"][k], h5py.Group)]
bad = []
if len(groups) != arms:
    bad.append(f"{len(groups)} /days groups {groups}, the scenario has {arms} arms")
for g in groups:
    for m in ("sessions", "impressions"):
        v = f["days"][g][m][:]
        if len(v) != days or (v <= 0).any():
            bad.append(f"/days/{g}/{m} = {list(v)} (want {days} days, each > 0)")
print("; ".join(bad) or f"{arms} arm(s): {', '.join(groups)}")
sys.exit(1 if bad else 0)
PY
  ); then
    pass "$s: validates; $d-day shrunk run has $out"
  else
    fail "$s: $out"
  fi
done
[ "$n" -ge 10 ] && pass "$n scenarios checked" || fail "only $n scenarios found under $SRC/scenarios"
finish
