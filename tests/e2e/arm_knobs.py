"""Whether an arm's results differ between two result files of the same world (arm_knobs.sh).

usage: arm_knobs.py BASE.h5 KNOB.h5 ARM
Compares the arm's day series (/days/ARM), its per-user counts (/users/ARM/exp) and the
marketplace tasks whose creator is in the arm (/market/tasks). Exit 0 and the names of what
differs when something does; exit 1 when the arm's results are identical."""
import sys

import h5py
import numpy as np


def arm_tasks(f, arm):
    """The arm's creators' tasks: (creator, status, price) rows, sorted."""
    if "market/tasks" not in f:
        return np.zeros((0, 3))
    users = set(f["users/%s/user_id" % arm][:].tolist())
    t = f["market/tasks"]
    rows = [(c, s, p) for c, s, p in zip(t["creator"][:], t["status"][:], t["price_cents"][:]) if c in users]
    return np.array(sorted(rows))


def main():
    base, knob, arm = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r"), sys.argv[3]
    differ = []
    for group in ("days/%s" % arm, "users/%s/exp" % arm):
        for name in base[group]:
            a, b = base[group][name][()], knob[group][name][()]
            if a.shape != b.shape or not np.array_equal(a, b, equal_nan=True):
                differ.append("%s/%s" % (group, name))
    a, b = arm_tasks(base, arm), arm_tasks(knob, arm)
    if a.shape != b.shape or not np.array_equal(a, b):
        differ.append("market tasks of the arm's creators (statuses %s -> %s)" % (
            np.bincount(a[:, 1].astype(int), minlength=6).tolist() if len(a) else [],
            np.bincount(b[:, 1].astype(int), minlength=6).tolist() if len(b) else []))
    if not differ:
        print("the arm's results are identical with and without the knob")
        return 1
    print("%d series differ, e.g. %s" % (len(differ), ", ".join(differ[:3])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
