#!/usr/bin/env bash
# AIGC and the media pipeline end to end (issue 20), on tests/data/tiny_aigc.yaml (arms:
# control, adopt = adoption 0.4 a day, adopt_downrank = the same with down-rank 0.2; the
# detector on with labels; a transcode stage of 12 units a tick). Per knob: adoption makes
# AI-generated notes in the adopting arms only and at the boosted rate; homogenisation is
# higher among AI-generated notes; the detector's counts are consistent (labels = declared +
# flagged undeclared); the down-rank lowers the arm's share of impressions on flagged
# undeclared notes; the pipeline delays videos more than images and conserves notes; 1 and 4
# threads agree bit for bit. Then: a pipeline with ample capacity publishes exactly as no
# pipeline (the same /days), and bad values are refused (exit 2, naming the key).
. "$(dirname "$0")/lib.sh"
cd "$TMP"
"$FLYWHEEL" run "$SRC/tests/data/tiny_aigc.yaml" -t 1 -o a1.h5 >out.txt 2>err.txt && pass "tiny_aigc runs" || fail "run ($(cat err.txt))"
grep -q "AIGC: adoption grows by" out.txt && grep -q "media pipeline:" out.txt && pass "the summary has the AIGC and media lines" ||
  fail "summary lines missing: $(cat out.txt)"
"$FLYWHEEL" run "$SRC/tests/data/tiny_aigc.yaml" -q -t 4 -o a4.h5 2>err.txt || fail "4-thread run ($(cat err.txt))"
h5diff -q --exclude-path /latency --exclude-attribute / a1.h5 a4.h5 && pass "1 and 4 threads agree" || fail "1 and 4 threads differ"
"$PY" - <<'PY' && pass "per-knob checks (adoption, rate, homogenisation, detector, down-rank, pipeline)" || fail "per-knob checks"
import h5py, numpy as np
f = h5py.File("a1.h5", "r")
A = {a: {k: f["aigc/arms"][a][k][:] for k in f["aigc/arms"][a]} for a in ("control", "adopt", "adopt_downrank")}
# adoption: none in control; in the adopting arms a share near min(1, 0.4 (d + 1)) of creators
assert (A["control"]["adopters"] == 0).all() and (A["control"]["aigc_notes"] == 0).all(), A["control"]
for a in ("adopt", "adopt_downrank"):
    share = A[a]["adopters"] / A[a]["creators"]
    assert np.all(np.abs(share - np.minimum(1, 0.4 * np.arange(1, 3))) < 0.12), (a, share)
    assert A[a]["aigc_notes"].sum() > 0 and (A[a]["aigc_notes"] <= A[a]["new_notes"]).all(), A[a]
# the rate boost (3x for adopters): notes per creator above the control's
per = {a: A[a]["new_notes"].sum() / A[a]["creators"].sum() for a in A}
assert per["adopt"] > 1.5 * per["control"] and per["adopt_downrank"] > 1.5 * per["control"], per
# homogenisation: AI-generated notes are more alike than the control's (human) notes
hum = np.nanmean(A["control"]["homogenisation"])
for a in ("adopt", "adopt_downrank"):
    assert np.nanmean(A[a]["homogenisation_aigc"]) > hum + 0.03, (a, A[a]["homogenisation_aigc"], hum)
# the detector's books: flagged = true + false positives; labels = declared + flagged undeclared
D = {k: f["aigc/days"][k][:] for k in f["aigc/days"]}
assert (D["flagged_ai"] <= D["flagged"]).all() and (D["flagged_ai"] <= D["ai_generated"]).all(), D
assert (D["labelled"] == D["declared"] + D["downranked"]).all(), D   # label_detected: 1
assert D["flagged_ai"].sum() > 0.5 * D["ai_generated"].sum(), D      # recall 0.8
# the down-rank: the arm's share of impressions on flagged, undeclared notes falls
d = {a: f["days"][a]["downranked_impressions"][:].sum() / f["days"][a]["impressions"][:].sum() for a in A}
assert d["adopt_downrank"] < 0.8 * d["adopt"], d
# the pipeline: every note submitted is released or still queued; videos wait longer
M = {k: f["media/days"][k][:] for k in f["media/days"]}
queued = M["queue_upload"][-1] + M["queue_transcode"][-1] + M["queue_review"][-1]
assert M["submitted"].sum() == M["released"].sum() + queued, M
assert M["queue_transcode_max"].max() > 0 and M["delay_p99"].max() > 0, M
assert M["delay_video_p50"].max() > M["delay_image_p50"].max() >= 0, M
assert (M["queue_upload_max"] == 0).all() and (M["queue_review_max"] == 0).all(), M   # unlimited stages
print("  adopters", {a: A[a]["adopters"].tolist() for a in A}, "notes/creator", {a: round(per[a], 3) for a in per})
print("  homogenisation control %.3f, AIGC %s; down-ranked impression share %s" %
      (hum, [round(float(np.nanmean(A[a]["homogenisation_aigc"])), 3) for a in ("adopt", "adopt_downrank")],
       {a: round(d[a], 4) for a in d}))
print("  media delay p50/p99", M["delay_p50"].tolist(), M["delay_p99"].tolist(), "video p50", M["delay_video_p50"].tolist())
PY
# Ample capacity: the pipeline releases every note in the tick it was written, so the run is
# the run without a pipeline (outside the pipeline's own datasets).
"$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" -q -d 1 --set world.n_users=800 --set world.n_notes=1600 -o off.h5 2>err.txt || fail "run ($(cat err.txt))"
"$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" -q -d 1 --set world.n_users=800 --set world.n_notes=1600 \
  --set engine.media.transcode_capacity=100000000 -o ample.h5 2>err.txt || fail "run ($(cat err.txt))"
h5diff -q --exclude-path /latency --exclude-path /media --exclude-attribute / off.h5 ample.h5 &&
  pass "ample capacity = immediate publication" || fail "a pipeline with ample capacity changed the run"
h5ls ample.h5/media/days >/dev/null 2>&1 && ! h5ls off.h5/media >/dev/null 2>&1 && ! h5ls off.h5/aigc >/dev/null 2>&1 &&
  pass "pipeline datasets only with a pipeline; no AIGC datasets without adoption" || fail "datasets present/absent wrongly"
# Bad input (the rest is in bad_input.sh).
"$FLYWHEEL" run "$SRC/tests/data/tiny_aigc.yaml" -q --set behaviour.aigc_adoption_per_day=1.5 -o bad.h5 >/dev/null 2>err.txt
rc=$?
if [ $rc -eq 2 ] && grep -q "behaviour.aigc_adoption_per_day" err.txt && [ ! -e bad.h5 ]; then
  pass "adoption 1.5 refused: $(head -1 err.txt)"
else
  fail "adoption 1.5: exit $rc, $(cat err.txt)"
fi
# Creator income concentration per creator arm: with a busy marketplace, the arms' incomes at a
# day's start add up to the marketplace's payments by the day before, and their Gini is in [0, 1].
"$FLYWHEEL" run "$SRC/tests/data/tiny_aigc.yaml" -q -t 2 --days 5 --set world.task_rate=1 -o income.h5 2>err.txt ||
  fail "income run ($(cat err.txt))"
"$PY" - <<'PY' && pass "income per creator arm adds up to the marketplace's payments; its Gini in [0, 1]" || fail "income"
import h5py, numpy as np
f = h5py.File("income.h5", "r")
arms = f["aigc/arms"]
inc = sum(arms[a]["income_cents"][:] for a in arms)
pay = f["market/days/payments_cents"][:]
assert inc[0] == 0 and (inc[1:] == pay[:-1]).all(), (inc, pay)
assert pay[-2] > 0, "no task was paid: the check is empty"
for a in arms:
    g = arms[a]["income_gini"][:]
    fin = g[np.isfinite(g)]
    assert ((fin >= 0) & (fin <= 1)).all(), (a, g)
    assert np.isnan(g[arms[a]["income_cents"][:] == 0]).all(), (a, g)
print("  income by day start", inc.tolist(), "payments", pay.tolist())
PY
finish
