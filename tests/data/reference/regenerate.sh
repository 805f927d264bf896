#!/usr/bin/env bash
# Regenerate the stored reference result of e2e_reference (tests/e2e/reference.sh):
#   tests/data/reference/regenerate.sh FLYWHEEL [PYTHON]
# runs tests/data/reference.yaml with FLYWHEEL, deletes /latency (measured, so different
# on every run), repacks the file and writes it over tests/data/reference/reference.h5.
# Only for a change that is MEANT to change results: commit the new file with that change
# and say why in the commit message (see README.md here).
set -euo pipefail
FLYWHEEL=${1:?usage: $0 FLYWHEEL [PYTHON]}
PY=${2:-}
if [ -z "$PY" ]; then
  for c in /usr/bin/python3 python3; do
    if "$c" -c 'import h5py' 2>/dev/null; then PY=$c; break; fi
  done
fi
[ -n "$PY" ] || { echo "$0: no python3 with h5py found (pass one as PYTHON)" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

"$FLYWHEEL" run "$SRC/tests/data/reference.yaml" -q -t 2 -o "$TMP/full.h5"

# Unlink /latency (h5py), then let h5repack copy what is left into a new file. Giving it the
# writer's own filters (shuffle, deflate 4) makes it rewrite every dataset rather than copy
# it as is, and -L gives the rewritten ones HDF5 1.10's chunk indexes, a few bytes each
# instead of a 2 KiB B-tree node: the copy is a third of the size. Values, types, shapes,
# chunks, attributes (the root's included) and dimension scales are unchanged; the check
# below proves it.
cp "$TMP/full.h5" "$TMP/cut.h5"
"$PY" - "$TMP/cut.h5" <<'PY'
import sys
import h5py

with h5py.File(sys.argv[1], "r+") as f:
    status = f.attrs["status"]
    status = status.decode() if isinstance(status, bytes) else status
    assert status == "complete", "the run's status is " + status
    del f["latency"]
PY
# h5repack cannot filter an empty dataset (an arm without overrides has empty /arms/<arm>/set,
# key and value): they are taken out of the copy it makes and put back as they were.
"$PY" - "$TMP/cut.h5" "$TMP/empty.h5" <<'PY'
import sys
import h5py

with h5py.File(sys.argv[1], "r+") as f, h5py.File(sys.argv[2], "w") as keep:
    empty = []
    f.visititems(lambda n, o: empty.append(n) if isinstance(o, h5py.Dataset) and o.size == 0 else None)
    for n in empty:
        keep.copy(f[n], n)
        del f[n]
PY
h5repack -L -f SHUF -f GZIP=4 "$TMP/cut.h5" "$TMP/reference.h5"
"$PY" - "$TMP/empty.h5" "$TMP/reference.h5" <<'PY'
import sys
import h5py

with h5py.File(sys.argv[1], "r") as keep, h5py.File(sys.argv[2], "r+") as f:
    keep.visititems(lambda n, o: f.copy(o, n) if isinstance(o, h5py.Dataset) else None)
PY
if ! h5diff -q --exclude-path /latency "$TMP/full.h5" "$TMP/reference.h5" ||
   ! h5diff -q --exclude-path /latency "$TMP/reference.h5" "$TMP/full.h5"; then
  echo "$0: the stripped copy differs from the run's file:" >&2
  h5diff -r --exclude-path /latency "$TMP/full.h5" "$TMP/reference.h5" | grep -v '^0 differences found' | head -40 >&2
  exit 1
fi
if h5ls "$TMP/reference.h5/latency" >/dev/null 2>&1; then
  echo "$0: /latency is still there" >&2
  exit 1
fi
mv "$TMP/reference.h5" "$HERE/reference.h5"
echo "wrote $HERE/reference.h5 ($(stat -c %s "$HERE/reference.h5") bytes) with $("$FLYWHEEL" --version | head -1)"
