"""Checks shared by the living-world e2e scripts (followback.sh, suggest.sh, unfollow.sh),
imported by their inline Python (PYTHONPATH is the script's folder): each check prints ok or
FAIL and a failed one makes done() exit 1."""
import sys

failed = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failed.append(what)


def total(f, arm, name):
    """A per-day counter of an arm summed over the run's days."""
    return int(f["days/%s/%s" % (arm, name)][:].sum())


def done():
    sys.exit(1 if failed else 0)
