#!/usr/bin/env bash
# Readers of result and bench files against hostile input (issue 15), through the program as
# users run it: every refusal is exit 2 with the file named on stderr.
#  - arms named 对照, 实验, "a b" and "a_b": `report` plots each from a data file of its own,
#    titled with its own name, holding its own CTR (opens / impressions from the result);
#  - a FIFO as a result (report) or a baseline (bench): refused at once, not waited on;
#  - a result of a few KB claiming 3*10^8 days, and one whose columns do not fit /days/day;
#  - a bit flipped in a dataset of a real result (Fletcher-32 on every dataset the recorder
#    writes: checked here with h5py) and in a baseline's values;
#  - a baseline whose [figures, repeat] product wraps the allocation's size.
# A gnuplot that never exits is tested in tests/unit/test_report.c (with a 1 s timeout; the
# program's is FW_REPORT_GNUPLOT_TIMEOUT_S, 60 s).
. "$(dirname "$0")/lib.sh"
cd "$TMP"

# expect2 WHAT PHRASE CMD...: CMD exits 2 within 20 s, its stderr naming PHRASE.
expect2() {
  local what=$1 phrase=$2
  shift 2
  timeout 20 "$@" >out.txt 2>err.txt
  local rc=$?
  if [ $rc -eq 2 ] && grep -qF -- "$phrase" err.txt; then
    pass "$what: exit 2, says '$phrase'"
  else
    fail "$what: exit $rc (want 2 saying '$phrase'): $(head -c 400 err.txt)"
  fi
}

# ---- arm names ----------------------------------------------------------------------------
cat >names.yaml <<'YAML'
name: names
seed: 5
days: 2
world:
  n_users: 1500
  n_notes: 3000
  n_brands: 20
  n_products: 200
  ticks_per_day: 24
experiment:
  arms:
    - name: 对照
      weight: 1
    - name: 实验
      weight: 1
      set:
        - engine.feed.w_fresh=3.0
    - name: a b
      weight: 1
    - name: a_b
      weight: 1
      set:
        - engine.feed.w_fresh=0.5
YAML
if "$FLYWHEEL" run names.yaml -q -t 2 -o names.h5 2>err.txt; then
  pass "a run with arms 对照, 实验, 'a b', a_b"
  "$FLYWHEEL" report names.h5 -o rep >out.txt 2>err.txt
  rc=$?
  # gnuplot may be missing or fail here (exit 1); the data files and scripts are written anyway
  if [ $rc -le 1 ] && [ -s rep/figures/engagement.gp ]; then
    pass "report of those arms written (exit $rc)"
    if "$PY" - names.h5 rep >check.txt 2>&1 <<'PY'; then
import re, sys
import h5py, numpy as np
h5, rep = sys.argv[1], sys.argv[2]
gp = open(f"{rep}/figures/engagement.gp", encoding="utf-8").read()
gp = gp[:gp.index("set terminal svg")]           # the PNG half; the SVG half repeats it
series = re.findall(r"'\.\./data/([^']+)' using 1:\(\$7\*100\) with linespoints[^\n]*? title '((?:[^']|'')*)'", gp)
titles = [t.replace("''", "'") for _, t in series]
files = [f for f, _ in series]
with h5py.File(h5, "r") as f:
    arms = [k for k in f["days"] if isinstance(f["days"][k], h5py.Group)]
    assert sorted(titles) == sorted(arms), (titles, arms)
    assert len(set(files)) == len(files), f"arms share data files: {series}"
    for file, title in zip(files, titles):
        assert re.fullmatch(r"[A-Za-z0-9_.-]+", file), file
        im = f["days"][title]["impressions"][()].astype(float)
        op = f["days"][title]["opens"][()].astype(float)
        want = np.where(im > 0, op / np.where(im > 0, im, 1), np.nan)
        got = np.loadtxt(f"{rep}/data/{file}", ndmin=2)[:, 6]
        assert np.allclose(got, want, equal_nan=True, rtol=0, atol=1e-9), (title, file, got, want)
        print(f"{title}: {file} CTR {got}")
    ctrs = [tuple(np.loadtxt(f"{rep}/data/{x}", ndmin=2)[:, 6]) for x in files]
    assert len(set(ctrs)) == len(ctrs), "two arms have identical CTRs: the test cannot tell them apart"
PY
      pass "each plotted series holds its own arm's CTR ($(tr '\n' ';' <check.txt))"
    else
      fail "plotted series vs arms: $(tail -5 check.txt)"
    fi
  else
    fail "report exit $rc ($(head -c 400 err.txt))"
  fi
else
  fail "run with odd arm names ($(cat err.txt))"
fi

# ---- non-regular files ----------------------------------------------------------------------
mkfifo fifo.h5
# A file on which libhdf5 1.10 itself dies (SEGV in H5G__dense_get_name_by_idx; found by the
# fuzzer, tests/fuzz/crashes/KNOWN): report reads it first in a child, so it is exit 2.
expect2 "report of a file that crashes libhdf5" "the HDF5 library crashed reading it" \
  "$FLYWHEEL" report "$SRC/tests/fuzz/crashes/results/h5g_dense_name_by_idx_segv.h5" -o segv_rep
expect2 "report of a FIFO" "fifo.h5: not a regular file (a FIFO)" "$FLYWHEEL" report fifo.h5 -o fifo_rep
expect2 "bench with a FIFO baseline" "fifo.h5: not a regular file (a FIFO)" \
  "$FLYWHEEL" bench "$SRC/tests/data/tiny.yaml" -n 1 -q --baseline fifo.h5
mkdir dir.h5
expect2 "report of a folder" "dir.h5: not a regular file (a directory)" "$FLYWHEEL" report dir.h5 -o dir_rep

# ---- crafted results ----------------------------------------------------------------------
"$PY" - <<'PY' || fail "crafting files with h5py"
import h5py, numpy as np
def result(path, n_days, days, n_col):
    with h5py.File(path, "w") as f:
        f.attrs["flywheel_version"] = "0.crafted"
        g = f.create_group("days")
        d = g.create_dataset("day", shape=(n_days,), maxshape=(None,), chunks=(256,), dtype="i4")
        if days is not None:
            d[...] = days
        g.create_group("control").create_dataset("impressions", data=np.arange(n_col, dtype="u8"))
result("huge.h5", 300_000_000, None, 3)
result("layout.h5", 3, [0, 1, 2], 5)
# a baseline whose values claim 2^59 figures of 4 repetitions: (n*rep+1)*8 wraps to 8 bytes
with h5py.File("wrap_bench.h5", "w") as f:
    f.attrs["flywheel_bench"] = np.int32(1)
    for k in ("scenario_name", "scenario_resolved", "flywheel_version", "git_revision"):
        f.attrs[k] = "crafted"
    f.attrs["seed"] = np.uint64(1)
    f.attrs["threads"] = np.int32(1)
    f.attrs["repeat"] = np.uint32(4)
    g = f.create_group("figures")
    g.create_dataset("values", shape=(2**59, 4), maxshape=(None, 4), chunks=(1, 4), dtype="f8")
PY
size=$(stat -c %s huge.h5)
[ "$size" -lt 65536 ] && pass "the crafted 3*10^8-day result is $size bytes" || fail "crafted result is $size bytes"
expect2 "report of a small file claiming 3*10^8 days" "huge.h5: /days/day: claims 300000000 elements" \
  "$FLYWHEEL" report huge.h5 -o huge_rep
expect2 "report of columns longer than /days/day" \
  "layout.h5: /days/control/impressions: expected a 1-D array of 3 numbers" "$FLYWHEEL" report layout.h5 -o layout_rep
expect2 "bench with a baseline whose size wraps" "wrap_bench.h5: /figures/values: impossibly large shape" \
  "$FLYWHEEL" bench "$SRC/tests/data/tiny.yaml" -n 1 -q --baseline wrap_bench.h5

# ---- flipped bits -------------------------------------------------------------------------
if "$FLYWHEEL" run "$SRC/tests/data/tiny.yaml" -q -d 2 --set output.compression=0 -o flip.h5 2>err.txt; then
  if "$PY" - flip.h5 >check.txt 2>&1 <<'PY'; then
import sys, h5py
path = sys.argv[1]
unprotected = []
def visit(name, obj):
    if isinstance(obj, h5py.Dataset) and obj.size and obj.dtype.kind != "O" and not obj.fletcher32:
        unprotected.append(name)
with h5py.File(path, "r") as f:
    f.visititems(visit)
    assert not unprotected, f"datasets without Fletcher-32: {unprotected[:10]}"
    info = f["days/all/impressions"].id.get_chunk_info(0)
off = info.byte_offset + info.size // 2
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0x10]))
print("flipped byte", off)
PY
    pass "every non-string dataset of a result has Fletcher-32 ($(cat check.txt))"
    expect2 "report of a result with a flipped bit" "flip.h5: cannot read /days/all/impressions" \
      "$FLYWHEEL" report flip.h5 -o flip_rep
  else
    fail "Fletcher-32 on the result's datasets: $(tail -3 check.txt)"
  fi
else
  fail "uncompressed run ($(cat err.txt))"
fi
finish
