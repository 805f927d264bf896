"""ctypes over an installed libflywheel: the library, its one simulator call, and the ranker
plug-in ABI's structures (flywheel/policy.h, version 2) as ctypes and numpy types."""
import ctypes
import ctypes.util
import os
import subprocess

POLICY_ABI_VERSION = 2
FW_RANK_SCORES = 0
FW_RANK_PAGE = 1
EVENT_TYPES = ("impression", "open", "like", "save", "comment", "follow")
EV_SEARCH = 0x100


class FlywheelError(RuntimeError):
    """A run that did not complete: code 1 (the run failed; a partial file may hold the
    finished days) or 2 (bad input), and the library's message."""

    def __init__(self, code, message):
        super().__init__(f"flywheel: {message} (code {code})")
        self.code = code
        self.message = message


def _pkg_config(var):
    try:
        out = subprocess.run(["pkg-config", f"--variable={var}", "flywheel"], capture_output=True, text=True,
                             check=True)
        return out.stdout.strip() or None
    except (OSError, subprocess.CalledProcessError):
        return None


def library_path():
    """Where libflywheel is: $FLYWHEEL_LIB, else pkg-config's libdir, else the linker's search."""
    if os.environ.get("FLYWHEEL_LIB"):
        return os.environ["FLYWHEEL_LIB"]
    libdir = _pkg_config("libdir")
    if libdir and os.path.exists(os.path.join(libdir, "libflywheel.so")):
        return os.path.join(libdir, "libflywheel.so")
    found = ctypes.util.find_library("flywheel")
    if not found:
        raise FlywheelError(2, "libflywheel not found: install Flywheel (cmake --install build --prefix P), then "
                               "set PKG_CONFIG_PATH=P/lib/pkgconfig or FLYWHEEL_LIB=P/lib/libflywheel.so")
    return found


def policy_dir():
    """Where the installed plug-ins are: $FLYWHEEL_POLICY_DIR, else pkg-config's policydir, else
    lib/flywheel/policies beside the library."""
    if os.environ.get("FLYWHEEL_POLICY_DIR"):
        return os.environ["FLYWHEEL_POLICY_DIR"]
    d = _pkg_config("policydir")
    if d:
        return d
    return os.path.join(os.path.dirname(os.path.realpath(library_path())), "flywheel", "policies")


_lib = None


def lib():
    """The loaded library, with the argument types of the calls used here."""
    global _lib
    if _lib is None:
        L = ctypes.CDLL(library_path())
        L.fw_flywheel_version.restype = ctypes.c_char_p
        L.fw_flywheel_version.argtypes = []
        L.fw_flywheel_run.restype = ctypes.c_int
        L.fw_flywheel_run.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t,
                                      ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
        _lib = L
    return _lib


class PolicyCand(ctypes.Structure):
    """fw_policy_cand."""
    _fields_ = [("note", ctypes.c_uint32), ("creator", ctypes.c_uint32), ("topic", ctypes.c_uint16),
                ("format", ctypes.c_uint8), ("followed", ctypes.c_uint8), ("age_ticks", ctypes.c_int32),
                ("creator_followers", ctypes.c_uint32), ("trending", ctypes.c_double),
                ("impressions", ctypes.c_uint32), ("opens", ctypes.c_uint32), ("likes", ctypes.c_uint32),
                ("saves", ctypes.c_uint32), ("comments", ctypes.c_uint32), ("follows", ctypes.c_uint32)]


class PolicyStream(ctypes.Structure):
    _fields_ = [("key", ctypes.c_uint64), ("n", ctypes.c_uint64)]


class RankRequest(ctypes.Structure):
    """fw_rank_request."""
    _fields_ = [("user", ctypes.c_uint32), ("cell", ctypes.c_uint32), ("tick", ctypes.c_int32),
                ("page_size", ctypes.c_uint32), ("n_cand", ctypes.c_uint32), ("cand", ctypes.POINTER(PolicyCand)),
                ("rng", PolicyStream), ("score", ctypes.POINTER(ctypes.c_double)),
                ("page", ctypes.POINTER(ctypes.c_uint32)), ("n_page", ctypes.c_uint32),
                ("vec_dim", ctypes.c_uint32), ("user_vec", ctypes.POINTER(ctypes.c_float)),
                ("cand_vec", ctypes.POINTER(ctypes.c_float))]


class Event(ctypes.Structure):
    """fw_event."""
    _fields_ = [("user", ctypes.c_uint32), ("note", ctypes.c_uint32), ("tick", ctypes.c_int32),
                ("type", ctypes.c_uint32)]


class PolicyBatch(ctypes.Structure):
    """fw_policy_batch."""
    _fields_ = [("cell", ctypes.c_uint32), ("tick", ctypes.c_int32), ("n_events", ctypes.c_size_t),
                ("events", ctypes.POINTER(Event)), ("cand", ctypes.POINTER(PolicyCand)),
                ("vec_dim", ctypes.c_uint32), ("user_vec", ctypes.POINTER(ctypes.c_float)),
                ("cand_vec", ctypes.POINTER(ctypes.c_float))]


RANK_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(RankRequest))
OBSERVE_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(PolicyBatch))


def run(scenario, output=None, sets=(), threads=0):
    """Runs a scenario file as `flywheel run` does; returns the result's path. sets: "key=value"
    overrides (as --set) or a dict. Raises FlywheelError on failure or bad input."""
    if isinstance(sets, dict):
        sets = [f"{k}={v}" for k, v in sets.items()]
    sets = [s.encode() for s in sets]
    arr = (ctypes.c_char_p * max(1, len(sets)))(*sets)
    why = ctypes.create_string_buffer(2048)
    rc = lib().fw_flywheel_run(os.fsencode(scenario), arr, len(sets), os.fsencode(output) if output else None,
                               int(threads), why, len(why))
    if rc != 0:
        raise FlywheelError(rc, why.value.decode(errors="replace"))
    return output


def version():
    return lib().fw_flywheel_version().decode()
