#!/usr/bin/env bash
# Daily digests end to end (tiny_digest: one arm sends digests of 10 notes): per arm, the
# control sees none and the digest arm sees them from day 1 (day 0 has no previous day),
# each no longer than 10 notes, opens no more than notes listed; the engine's digest pool
# is the notes published the day before (the arms' new_notes); one and two threads agree;
# a run where no arm sends digests has no digest datasets at all; an out-of-range size is
# refused (exit 2, naming the knob).
. "$(dirname "$0")/lib.sh"
cd "$TMP"
"$FLYWHEEL" run "$SRC/tests/data/tiny_digest.yaml" -t 2 -o d2.h5 >out.txt 2>err.txt && pass "tiny_digest runs" || fail "run ($(cat err.txt))"
grep -q "^  digest  *digests" out.txt && pass "the summary has the digest line" || fail "no digest line in the summary: $(cat out.txt)"
"$PY" - <<'PY' && pass "digests per arm, per day" || fail "digest checks"
import h5py, numpy as np
f = h5py.File("d2.h5", "r")
c, d = f["days/control"], f["days/digest"]
for k in ("digests", "digest_notes", "digest_opens"):
    assert (c[k][:] == 0).all(), ("control", k, c[k][:])
dg, dn, do = d["digests"][:], d["digest_notes"][:], d["digest_opens"][:]
assert dg[0] == 0 and (dg[1:] > 0).all(), dg
assert (dn <= 10 * dg).all() and (dn >= dg).all(), (dn, dg)
assert (do <= dn).all() and do[1:].sum() > 0, (do, dn)
rate = d["digest_open_rate"][:]
assert np.isnan(rate[0]) and np.allclose(rate[1:], do[1:] / dn[1:]), rate
# active users who saw a digest are at most the arm's active users, once a day each
assert (dg <= d["active_users"][:]).all(), (dg, d["active_users"][:])
pool = f["notify/days/digest_pool"][:]
published = c["new_notes"][:] + d["new_notes"][:]
assert (pool == published).all(), (pool, published)
print(f"  digest arm: digests {dg.tolist()}, notes {dn.tolist()}, opens {do.tolist()}; pool {pool.tolist()}")
PY
"$FLYWHEEL" run "$SRC/tests/data/tiny_digest.yaml" -q -t 1 -o d1.h5 2>err.txt || fail "1-thread run ($(cat err.txt))"
h5diff -q --exclude-path /latency --exclude-attribute / d1.h5 d2.h5 && pass "1 and 2 threads agree" || fail "1 and 2 threads differ"
"$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" -q -t 2 -d 1 -o off.h5 2>err.txt || fail "run without digests ($(cat err.txt))"
"$PY" - <<'PY' && pass "no digests: no digest datasets" || fail "digest datasets in a run without digests"
import h5py
f = h5py.File("off.h5", "r")
assert "notify" not in f, list(f)
for arm in f["days"]:
    if arm == "day":
        continue
    assert not [k for k in f["days"][arm] if k.startswith("digest")], arm
PY
"$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" -q --set engine.notify.digest_size=51 -o bad.h5 >/dev/null 2>err.txt
rc=$?
if [ $rc -eq 2 ] && grep -q "engine.notify.digest_size" err.txt && [ ! -e bad.h5 ]; then
  pass "digest_size 51 refused: $(head -1 err.txt)"
else
  fail "digest_size 51: exit $rc, $(cat err.txt)"
fi
finish
