#!/usr/bin/env bash
# Users over MPI ranks (issue 21; registered only when FW_MPI=ON): the same scenario and seed
# give identical datasets (outside /latency and root attributes) for 1x1, 1x2, 2x1, 2x2 and
# 4x1 ranks x threads (with a warm-up, world.warmup_days: 1x1 and 2x2); commands other than
# run are refused under mpirun; a rank that dies ends the run with exit 1
# and the partial file at its last finished day. The result file is written collectively
# (parallel HDF5): the summary and a root attribute say so, the per-user tables equal one
# process's, with compression off and at 9, with the parts' tables and with the entity tables
# (output.entities); a full disk on the ranks exits 1 with the partial marked failed and no temporary file;
# every part at once (the kitchen sink, tiny_resume), the event log, the recommender beside arms
# that differ in shop.profile, --replicates and a counterfactual give the one-process file on 2
# and 3 ranks.
# A ranker plug-in (BASELINE_SO, examples/policies/baseline.c) is refused on several ranks.
# Usage: mpi.sh FLYWHEEL PYTHON SOURCE_DIR MPIEXEC BASELINE_SO
. "$(dirname "$0")/lib.sh"
MPIRUN=${4:?usage: $0 FLYWHEEL PYTHON SOURCE_DIR MPIEXEC BASELINE_SO}
BASELINE_SO=${5:?usage: $0 FLYWHEEL PYTHON SOURCE_DIR MPIEXEC BASELINE_SO}
# Open MPI refuses root unless told; oversubscribe: more ranks than this machine's cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
# Waiting ranks yield the core: on a shared machine two busy-polling ranks made each
# collective dataset write of the result file several times slower.
export OMPI_MCA_mpi_yield_when_idle=1
cd "$TMP"
AB="$SRC/tests/data/tiny_ab.yaml"
SMALL=(--set world.n_users=1500 --set world.n_notes=3000)
ranked() { local np=$1; shift; "$MPIRUN" --oversubscribe -np "$np" "$FLYWHEEL" run "$@"; }
cmp_files() { h5diff -q --exclude-path /latency --exclude-attribute / "$1" "$2"; }
show_diff() { h5diff -r --exclude-path /latency --exclude-attribute / "$1" "$2" | grep -B3 '^[1-9][0-9]* differences' | head -12; }

"$FLYWHEEL" run "$AB" "${SMALL[@]}" -q -t 1 -o ab_1x1.h5 2>err.txt || fail "1x1 ($(cat err.txt))"
for rt in 1x2 2x1 2x2 4x1; do
  r=${rt%x*} t=${rt#*x}
  ranked "$r" "$AB" "${SMALL[@]}" -q -t "$t" -o ab_$rt.h5 >out.txt 2>err.txt || { fail "$rt: exit $? ($(tail -3 err.txt))"; continue; }
  if cmp_files ab_1x1.h5 ab_$rt.h5; then pass "tiny_ab: 1x1 and $rt (ranks x threads) identical"; else fail "tiny_ab: 1x1 and $rt differ: $(show_diff ab_1x1.h5 ab_$rt.h5)"; fi
done
# A tick's exchange above MPI's 2 GiB per call goes in rounds: forced here with rounds of 1000
# bytes (about 40 a tick on 2 ranks) and 4099 bytes on 3 (uneven slices), each identical.
for rr in 2:1000 3:4099; do
  r=${rr%:*}
  FLYWHEEL_MPI_ROUND_BYTES=${rr#*:} ranked "$r" "$AB" "${SMALL[@]}" -q -t 1 -o ab_round$r.h5 >out.txt 2>err.txt ||
    { fail "rounds of ${rr#*:} bytes on $r ranks: $(tail -3 err.txt)"; continue; }
  if cmp_files ab_1x1.h5 ab_round$r.h5; then pass "tiny_ab: 1x1 and $r ranks exchanging in rounds of ${rr#*:} bytes identical"
  else fail "rounds of ${rr#*:} bytes on $r ranks differ: $(show_diff ab_1x1.h5 ab_round$r.h5)"; fi
done
FLYWHEEL_MPI_ROUND_BYTES=x ranked 2 "$AB" "${SMALL[@]}" -q -t 1 -o ab_bad.h5 >out.txt 2>err.txt
rc=$?
if [ $rc = 2 ] && grep -q "FLYWHEEL_MPI_ROUND_BYTES: expected" err.txt; then pass "a bad FLYWHEEL_MPI_ROUND_BYTES: exit 2"
else fail "bad FLYWHEEL_MPI_ROUND_BYTES: exit $rc, $(head -2 err.txt)"; fi
# The recommender (its training at the barrier on every rank) and the shop, two ranks of two threads.
"$FLYWHEEL" run "$SRC/tests/data/tiny_rec.yaml" "${SMALL[@]}" --set days=2 -q -t 1 -o rec_1x1.h5 2>err.txt || fail "rec 1x1"
ranked 2 "$SRC/tests/data/tiny_rec.yaml" "${SMALL[@]}" --set days=2 -t 2 -o rec_2x2.h5 >out.txt 2>err.txt || fail "rec 2x2: $(tail -3 err.txt)"
if cmp_files rec_1x1.h5 rec_2x2.h5; then pass "tiny_rec: 1x1 and 2x2 identical"; else fail "tiny_rec: 1x1 and 2x2 differ: $(show_diff rec_1x1.h5 rec_2x2.h5)"; fi
# A warm-up (issue 18) runs on every rank like any day: the A/B run (everyone on the control
# before day 0) and the recommender (trained over the warm-up), 1x1 and 2x2 identical.
W=(--set world.warmup_days=2)
"$FLYWHEEL" run "$AB" "${SMALL[@]}" "${W[@]}" -q -t 1 -o warm_1x1.h5 2>err.txt || fail "warm-up 1x1 ($(cat err.txt))"
ranked 2 "$AB" "${SMALL[@]}" "${W[@]}" -q -t 2 -o warm_2x2.h5 >warm.out 2>err.txt || fail "warm-up 2x2: $(tail -3 err.txt)"
if cmp_files warm_1x1.h5 warm_2x2.h5; then pass "tiny_ab with a warm-up: 1x1 and 2x2 identical"; else fail "warm-up: 1x1 and 2x2 differ: $(show_diff warm_1x1.h5 warm_2x2.h5)"; fi
if cmp_files ab_1x1.h5 warm_1x1.h5 >/dev/null 2>&1; then fail "the warm-up changed nothing"; fi
"$FLYWHEEL" run "$SRC/tests/data/tiny_rec.yaml" "${SMALL[@]}" "${W[@]}" --set days=2 -q -t 1 -o wrec_1x1.h5 2>err.txt || fail "warm rec 1x1"
ranked 2 "$SRC/tests/data/tiny_rec.yaml" "${SMALL[@]}" "${W[@]}" --set days=2 -q -t 2 -o wrec_2x2.h5 >warm.out 2>err.txt || fail "warm rec 2x2: $(tail -3 err.txt)"
if cmp_files wrec_1x1.h5 wrec_2x2.h5; then pass "tiny_rec with a warm-up: 1x1 and 2x2 identical"; else fail "warm rec: 1x1 and 2x2 differ: $(show_diff wrec_1x1.h5 wrec_2x2.h5)"; fi
# ... and with a pilot (every rank draws the same pilot users: a function of the id).
PI=(--set world.warmup_days=3 --set world.warmup_pilot_users=300 --set world.warmup_full_days=1)
"$FLYWHEEL" run "$SRC/tests/data/tiny_rec.yaml" "${SMALL[@]}" "${PI[@]}" --set days=2 -q -t 1 -o prec_1x1.h5 2>err.txt || fail "pilot rec 1x1"
ranked 2 "$SRC/tests/data/tiny_rec.yaml" "${SMALL[@]}" "${PI[@]}" --set days=2 -q -t 2 -o prec_2x2.h5 >warm.out 2>err.txt || fail "pilot rec 2x2: $(tail -3 err.txt)"
if cmp_files prec_1x1.h5 prec_2x2.h5; then pass "tiny_rec with a pilot warm-up: 1x1 and 2x2 identical"; else fail "pilot rec: 1x1 and 2x2 differ: $(show_diff prec_1x1.h5 prec_2x2.h5)"; fi
# The summary (rank 0 alone prints it) gives the exchange's volume.
if [ "$(grep -c 'ranks: 2 ' out.txt)" = 1 ] && grep -Eq 'exchanged [0-9]+ bytes per tick.*[0-9.]+ per active user-tick, [0-9.]+ per user per day' out.txt; then
  pass "summary: one ranks line with bytes per tick and per user"
else fail "summary: no single ranks line: $(grep -i rank out.txt)"; fi
# The file says how many ranks made it (a root attribute, as threads; absent for one process).
r=$("$PY" -c 'import sys, h5py; f = h5py.File(sys.argv[1], "r"); print(int(f.attrs["ranks"]), "ranks" in h5py.File(sys.argv[2], "r").attrs)' rec_2x2.h5 rec_1x1.h5 2>&1)
if [ "$r" = "2 False" ]; then pass "root attribute ranks: 2 (absent with one process)"; else fail "root attribute ranks: '$r'"; fi
# Parallel HDF5 (issue 21): on several ranks the one result file is written collectively,
# each rank the rows of its own users. The summary names the writers with each rank's bytes
# (every rank's > 0), the root attribute writer_ranks says 2 (absent with one process), and
# the per-user tables, read back, equal the one-process run's.
ranked 2 "$AB" "${SMALL[@]}" -t 1 -o par_2.h5 >out.txt 2>err.txt || fail "parallel write: $(tail -3 err.txt)"
bytes=$(sed -n 's/.*result file written by 2 ranks (parallel HDF5).*(before compression): *//p' out.txt)
if [ "$(echo "$bytes" | wc -w)" = 2 ] && [ "${bytes% *}" -gt 0 ] && [ "${bytes#* }" -gt 0 ]; then
  pass "summary: written by 2 ranks (parallel HDF5), bytes $bytes"
else fail "summary: no parallel HDF5 line with two ranks' bytes: $(grep -i 'result file' out.txt)"; fi
r=$("$PY" - par_2.h5 ab_1x1.h5 <<'PY' 2>&1
import sys, h5py, numpy as np
par, one = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
cols = []
par["users"].visititems(lambda k, v: cols.append(k) if isinstance(v, h5py.Dataset) else None)
same = all(np.array_equal(par["users"][k][()], one["users"][k][()]) for k in cols)
rows = sum(len(par["users"][k]) for k in cols if k.endswith("user_id"))
print(int(par.attrs["writer_ranks"]), "writer_ranks" in one.attrs, len(cols) > 4 and same, rows)
PY
)
if [ "$r" = "2 False True 1500" ]; then pass "writer_ranks 2; /users/* ($r) equal to one process's"
else fail "parallel file: '$r' (want '2 False True 1500')"; fi
# Compression off and at its most, on 3 ranks (uneven slices), and the parts' tables (the
# shop's arm x brand, the ads' per-brand): each equal to one process.
for v in "c0:$AB:--set output.compression=0" "c9:$AB:--set output.compression=9" \
         "shop:$SRC/tests/data/tiny_shop.yaml:--days=1" "ads:$SRC/tests/data/tiny_ads.yaml:--days=1"; do
  IFS=: read -r name y opt <<<"$v"
  "$FLYWHEEL" run "$y" "${SMALL[@]}" $opt -q -t 1 -o v1_$name.h5 2>err.txt || { fail "$name 1x1: $(tail -2 err.txt)"; continue; }
  ranked 3 "$y" "${SMALL[@]}" $opt -q -t 1 -o v3_$name.h5 >out.txt 2>err.txt || { fail "$name 3x1: $(tail -2 err.txt)"; continue; }
  if cmp_files v1_$name.h5 v3_$name.h5; then pass "$name ($opt): 1x1 and 3x1 identical"
  else fail "$name: 1x1 and 3x1 differ: $(show_diff v1_$name.h5 v3_$name.h5)"; fi
done
# Every part at once (tests/data/tiny_resume.yaml with live selling, unfollows, follow-backs
# and suggestions on): safety's planted product and live's joins travel as rank rows
# (fw_sim_rank_row), the other parts act at barriers or keep to their user's rows. 2x1, 3x1
# (uneven slices) and 2x2 equal one process, and each part did something in the run (else the
# comparison would say nothing about it).
KS=("$SRC/tests/data/tiny_resume.yaml" --set output.events=false --set world.live_sessions_per_day=2
    --set engine.live.enabled=1 --set behaviour.unfollow_rate=0.3 --set behaviour.follow_back=1
    --set behaviour.suggest_follow=0.2)
"$FLYWHEEL" run "${KS[@]}" -q -t 1 -o ks_1x1.h5 2>err.txt || fail "every part 1x1: $(tail -2 err.txt)"
for rt in 2x1 3x1 2x2; do
  r=${rt%x*} t=${rt#*x}
  ranked "$r" "${KS[@]}" -q -t "$t" -o ks_$rt.h5 >out.txt 2>err.txt || { fail "every part $rt: exit $? ($(tail -3 err.txt))"; continue; }
  if cmp_files ks_1x1.h5 ks_$rt.h5; then pass "every part (tiny_resume): 1x1 and $rt identical"
  else fail "every part: 1x1 and $rt differ: $(show_diff ks_1x1.h5 ks_$rt.h5)"; fi
done
r=$("$PY" - ks_2x1.h5 <<'PY' 2>&1
import sys, h5py
f = h5py.File(sys.argv[1], "r")
d = f["days"]
names = ["live_viewers", "live_orders", "fake_planted_deliveries", "unfollows", "follow_backs", "suggested_follows",
         "arrivals", "leavers", "new_creators", "aigc_impressions", "reports", "new_notes"]
idle = [n for n in names if not any(n in d[a] and d[a][n][:].sum() > 0 for a in ("control", "treat"))]
if not ("media/days/delay_p50" in f and f["media/days/delay_p50"][:].sum() > 0):
    idle.append("media/days/delay_p50")
print(" ".join(idle) or "all")
PY
)
if [ "$r" = "all" ]; then pass "every part acted on 2 ranks (live joins and orders, fake plants, unfollows, follow-backs, suggestions, arrivals, leavers, AIGC, reports, the media pipeline's delays)"
else fail "parts that did nothing on 2 ranks (or whose counter is missing): $r"; fi
# The event log (output.events; tiny_resume logs half its users): each user's rows go with
# their rows in the exchange and every rank merges them in user order, so 2x1, 3x1 and 2x2
# give the one-process log, request ids included, and it holds rows.
EV=("$SRC/tests/data/tiny_resume.yaml" --set world.live_sessions_per_day=2 --set engine.live.enabled=1)
"$FLYWHEEL" run "${EV[@]}" -q -t 1 -o ev_1x1.h5 2>err.txt || fail "event log 1x1: $(tail -2 err.txt)"
for rt in 2x1 3x1 2x2; do
  r=${rt%x*} t=${rt#*x}
  ranked "$r" "${EV[@]}" -t "$t" -o ev_$rt.h5 >out.txt 2>err.txt || { fail "event log $rt: exit $? ($(tail -3 err.txt))"; continue; }
  if cmp_files ev_1x1.h5 ev_$rt.h5; then pass "event log (output.events): 1x1 and $rt identical"
  else fail "event log: 1x1 and $rt differ: $(show_diff ev_1x1.h5 ev_$rt.h5)"; fi
done
if grep -Eq '[0-9]+% event log rows' out.txt; then pass "summary: the event log's share of the exchange"
else fail "summary: no event log share: $(grep 'ranks:' out.txt | head -1)"; fi
r=$("$PY" - ev_2x2.h5 <<'PY' 2>&1
import sys, h5py
f = h5py.File(sys.argv[1], "r")
print(len(f["events/impressions/user"]) > 1000, len(f["events/searches/user"]) > 0, len(f["truth/impressions/p_open"]) == len(f["events/impressions/user"]))
PY
)
if [ "$r" = "True True True" ]; then pass "event log on 2x2: impressions, searches and their truth recorded"
else fail "event log on 2x2: '$r' (want three True)"; fi
# The recommender beside arms that differ in engine.shop.profile (tests/data/reference.yaml): its
# training reads the cell of each user's latest request, which the engine names
# (fw_engine_request_rows) and the exchange carries; 2 and 3 ranks equal one process.
"$FLYWHEEL" run "$SRC/tests/data/reference.yaml" -q -t 1 -o prof_1.h5 2>err.txt || fail "reference 1x1: $(tail -2 err.txt)"
for r in 2 3; do
  ranked "$r" "$SRC/tests/data/reference.yaml" -q -t 1 -o prof_$r.h5 >out.txt 2>err.txt || { fail "reference on $r ranks: exit $? ($(tail -3 err.txt))"; continue; }
  if cmp_files prof_1.h5 prof_$r.h5; then pass "rec beside arms differing in shop.profile (reference.yaml): 1x1 and ${r}x1 identical"
  else fail "reference.yaml: 1x1 and ${r}x1 differ: $(show_diff prof_1.h5 prof_$r.h5)"; fi
done
# Side runs: --replicates (run i on rank i mod R, results shared) and a counterfactual
# (scenarios/interference.yaml, small): the file and the replicates' summary equal one
# process's.
"$FLYWHEEL" run "$AB" "${SMALL[@]}" --replicates 4 -t 1 -o rep_1.h5 >rep_1.out 2>err.txt || fail "replicates 1x1: $(tail -2 err.txt)"
for r in 2 3; do
  ranked "$r" "$AB" "${SMALL[@]}" --replicates 4 -t 1 -o rep_$r.h5 >rep_$r.out 2>err.txt || { fail "replicates on $r ranks: exit $? ($(tail -3 err.txt))"; continue; }
  if cmp_files rep_1.h5 rep_$r.h5 && diff -q <(sed -n '/^replicates:/,/^$/p' rep_1.out) <(sed -n '/^replicates:/,/^$/p' rep_$r.out) >/dev/null &&
     grep -q '^replicates: 4 seeds' rep_$r.out; then pass "--replicates 4 on $r ranks: the one-process file and summary"
  else fail "--replicates 4 on $r ranks differ: $(show_diff rep_1.h5 rep_$r.h5)"; fi
done
CF=("$SRC/scenarios/interference.yaml" --set world.n_users=2000 --set world.n_notes=4000)
"$FLYWHEEL" run "${CF[@]}" -q -t 1 -o cf_1.h5 2>err.txt || fail "counterfactual 1x1: $(tail -2 err.txt)"
ranked 2 "${CF[@]}" -q -t 1 -o cf_2.h5 >out.txt 2>err.txt || fail "counterfactual on 2 ranks: $(tail -3 err.txt)"
if cmp_files cf_1.h5 cf_2.h5 && "$PY" -c 'import sys, h5py; sys.exit(0 if "counterfactual" in h5py.File(sys.argv[1], "r")["experiment"] else 1)' cf_2.h5; then
  pass "counterfactual (interference.yaml) on 2 ranks: the one-process file, /experiment/counterfactual in it"
else fail "counterfactual on 2 ranks differs: $(show_diff cf_1.h5 cf_2.h5)"; fi
# The entity tables (output.entities): every rank computes them on replicated state, the
# sessions' counts (sessions per user, search results examined by rank) are summed over the
# ranks, and rank 0 adds the tables alone after the collective write. 2x2 and 3x1 (uneven
# slices) equal one process, and the tables are there with rows in them.
E=(--set output.entities=true)
"$FLYWHEEL" run "$AB" "${SMALL[@]}" "${E[@]}" -q -t 1 -o ent_1x1.h5 2>err.txt || fail "entities 1x1: $(tail -2 err.txt)"
for rt in 2x2 3x1; do
  r=${rt%x*} t=${rt#*x}
  ranked "$r" "$AB" "${SMALL[@]}" "${E[@]}" -q -t "$t" -o ent_$rt.h5 >out.txt 2>err.txt || { fail "entities $rt: $(tail -3 err.txt)"; continue; }
  if cmp_files ent_1x1.h5 ent_$rt.h5; then pass "entity tables: 1x1 and $rt identical"
  else fail "entity tables: 1x1 and $rt differ: $(show_diff ent_1x1.h5 ent_$rt.h5)"; fi
done
r=$("$PY" - ent_2x2.h5 <<'PY' 2>&1
import sys, h5py
e = h5py.File(sys.argv[1], "r")["entities"]
print(len(e["note_days/note"]) > 0, int(e["user_days/sessions"][:].sum()) > 0, int(e["search_rank/examined"][:].sum()) > 0,
      len(e["notes/creator"]) >= 3000)
PY
)
if [ "$r" = "True True True True" ]; then pass "entity tables on 2 ranks: notes, note days, sessions and search ranks recorded"
else fail "entity tables on 2 ranks: '$r' (want four True)"; fi
# A full disk (a file-size limit on the ranks, SIGXFSZ ignored): rank 0 finds no room before
# a day's collective write (a write failing inside parallel HDF5 can leave the ranks waiting
# on each other), so the run exits 1 saying why, the partial keeps its finished days marked
# failed, and no temporary file or final file is left. The limit: past day 0's reservation.
rm -f full.h5*
ranked 2 "$SRC/tests/data/tiny.yaml" -t 1 --days 1 -o probe.h5 >out.txt 2>err.txt || fail "probe: $(tail -2 err.txt)"
raw=$(sed -n 's/.*(before compression): *//p' out.txt | tr ' ' '+')
limit=$(( ( (raw) * 9 / 8 + 1048576 ) / 1024 + 16 ))
timeout 120 "$MPIRUN" --oversubscribe -np 2 bash -c "trap '' XFSZ; ulimit -f $limit; exec \"\$0\" run \"\$1\" -q -t 1 --days 40 -o full.h5" \
  "$FLYWHEEL" "$SRC/tests/data/tiny.yaml" >out.txt 2>err.txt
rc=$?
if [ $rc = 1 ] && grep -q "no room for it" err.txt && grep -q "full.h5.partial keeps the finished days" err.txt &&
   [ ! -e full.h5 ] && [ -z "$(ls -a | grep -E 'full.*\.tmp$')" ]; then
  pass "full disk on 2 ranks: exit 1, $(grep -m1 -o 'no room for it.*' err.txt), no temporary or final file"
else fail "full disk on 2 ranks: exit $rc, files $(ls full.h5* 2>/dev/null), $(grep flywheel err.txt | head -3)"; fi
# (check_result.py's latency checks do not hold on ranks: /latency is rank 0's requests.)
r=$("$PY" -c 'import sys, h5py; f = h5py.File(sys.argv[1], "r"); s = f.attrs["status"]; print(s if isinstance(s, str) else s.decode(), f.attrs["days_completed"] >= 1 and len(f["/days/day"]) == f.attrs["days_completed"])' full.h5.partial 2>&1)
if [ "$r" = "failed True" ]; then pass "its partial: readable, marked failed, with its finished days"
else fail "full disk partial: '$r' (want 'failed True')"; fi
# The comparison can fail: another seed differs.
"$FLYWHEEL" run "$AB" "${SMALL[@]}" -q -t 1 -s 12345 -o other.h5 2>err.txt || fail "other seed"
if [ ! -f ab_1x1.h5 ] || [ ! -f other.h5 ]; then fail "different seed: a file is missing (nothing to compare)"
elif cmp_files ab_1x1.h5 other.h5 >/dev/null 2>&1; then fail "a different seed gave identical results"
else pass "different seed differs"; fi

# Only `flywheel run` runs under mpirun.
"$MPIRUN" --oversubscribe -np 2 "$FLYWHEEL" validate "$AB" >out.txt 2>err.txt
rc=$?; if [ $rc = 2 ] && grep -q "only \`flywheel run\`" err.txt; then pass "validate under mpirun: exit 2"; else fail "validate under mpirun: exit $rc"; fi

# A ranker plug-in may keep state the ranks do not exchange: refused on several ranks (exit 2,
# nothing at the output path), run on one rank under mpirun as in one process.
PLUG=(--set engine.feed.algorithm=plugin --set engine.feed.plugin="$BASELINE_SO")
if [ ! -f "$BASELINE_SO" ]; then
  fail "ranker plug-in refusal: no $BASELINE_SO (build the target baseline beside flywheel)"
else
  rm -f plug2.h5*
  ranked 2 "$SRC/tests/data/tiny.yaml" "${SMALL[@]}" "${PLUG[@]}" -q -t 1 -d 1 -o plug2.h5 >out.txt 2>err.txt
  rc=$?
  if [ $rc = 2 ] && grep -q "engine.feed.algorithm plugin .* not supported on several ranks" err.txt && [ ! -e plug2.h5 ] &&
     ! ls plug2.h5.* >/dev/null 2>&1; then
    pass "a ranker plug-in on 2 ranks: exit 2, named, nothing written"
  else
    fail "a ranker plug-in on 2 ranks: exit $rc, $(tail -2 err.txt), files: $(ls plug2.h5* 2>/dev/null | tr '\n' ' ')"
  fi
  "$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" "${SMALL[@]}" "${PLUG[@]}" -q -t 1 -d 1 -o plug_1.h5 2>err.txt ||
    fail "a ranker plug-in in one process: $(tail -2 err.txt)"
  if ranked 1 "$SRC/tests/data/tiny.yaml" "${SMALL[@]}" "${PLUG[@]}" -q -t 1 -d 1 -o plug_r1.h5 >out.txt 2>err.txt &&
     cmp_files plug_1.h5 plug_r1.h5; then
    pass "a ranker plug-in on 1 rank: runs, identical to one process"
  else
    fail "a ranker plug-in on 1 rank: $(tail -2 err.txt)"
  fi
fi

# A rank that dies on day 1: exit 1, the partial file keeps day 0.
rm -f fault.h5*
FLYWHEEL_MPI_FAULT=1:1 ranked 2 "$AB" "${SMALL[@]}" -q -t 1 -o fault.h5 >out.txt 2>err.txt
rc=$?
if [ $rc = 1 ] && [ -f fault.h5.partial ] && [ ! -f fault.h5 ]; then pass "rank 1 dies on day 1: exit 1, partial file kept"
else fail "rank death: exit $rc, files $(ls fault.h5* 2>/dev/null)"; fi
days=$("$PY" - fault.h5.partial <<'PY' 2>&1
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    print(len(f["/days/day"]), f.attrs["status"].decode() if isinstance(f.attrs["status"], bytes) else f.attrs["status"])
PY
)
if [ "$days" = "1 running" ]; then pass "the partial file holds day 0 only, status running"; else fail "partial file: '$days' (want '1 running')"; fi
# --resume is for one process: under ranks exit 2, the partial untouched; resumed in one
# process it ends with the file an uninterrupted run makes.
cp fault.h5.partial fault_before.h5
ranked 2 --resume fault.h5.partial -q >out.txt 2>err.txt
rc=$?
if [ $rc = 2 ] && grep -q "not under several ranks" err.txt && cmp -s fault.h5.partial fault_before.h5; then
  pass "--resume under ranks: exit 2, partial untouched"
else fail "--resume under ranks: exit $rc, $(grep flywheel err.txt | head -2)"; fi
if "$FLYWHEEL" run --resume fault.h5.partial -q -t 2 >out.txt 2>err.txt && cmp_files ab_1x1.h5 fault.h5; then
  pass "a run whose rank died, resumed in one process, equals the uninterrupted run"
else fail "resume after a rank died: $(tail -2 err.txt) $(show_diff ab_1x1.h5 fault.h5 2>/dev/null | head -5)"; fi
finish
