"""Flywheel from Python: run scenarios (ctypes over an installed libflywheel), open results as
pandas objects, and train a ranking policy against the simulated world (RankerEnv).

    import flywheel
    flywheel.run("scenario.yaml", output="out.h5", sets={"days": 3})
    r = flywheel.open_result("out.h5")
    r.days.loc["all", "ctr"]

The library is found through $FLYWHEEL_LIB, else pkg-config (PKG_CONFIG_PATH=P/lib/pkgconfig),
else the linker's search path. No compiled extension: the package is plain Python."""
from ._lib import FlywheelError, POLICY_ABI_VERSION, run, version
from .env import RankerEnv
from .result import Result, open_result

__all__ = ["FlywheelError", "POLICY_ABI_VERSION", "RankerEnv", "Result", "open_result", "run", "version"]
