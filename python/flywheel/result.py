"""A result file (results/NAME.h5) as pandas objects with labels, or as one xarray Dataset
(Result.to_xarray, when xarray is installed). Reads with h5py; needs no library. The file's
layout is README's "The result file"."""
import h5py
import numpy as np
import pandas as pd


def _text(v):
    if isinstance(v, bytes):
        return v.decode(errors="replace")
    if isinstance(v, np.ndarray) and v.dtype.kind in "OS":
        return [_text(x) for x in v]
    return v.item() if isinstance(v, np.generic) else v


class Result:
    """attrs: the root attributes (provenance, status); days: one row per (arm, day) and a
    column per daily metric of /days/<arm>/; experiment: one row per (arm, metric) of the
    final look, a column per statistic of /experiment/<arm>/ (treatment arms); latency: one
    row per (day, stage) with p50/p90/p99/p999 in ns where recorded."""

    def __init__(self, path):
        self.path = path
        with h5py.File(path, "r") as f:
            self.attrs = {k: _text(v) for k, v in f.attrs.items()}
            self.days = self._days(f)
            self.experiment = self._experiment(f)
            self.latency = self._latency(f)

    @staticmethod
    def _days(f):
        if "days" not in f:
            return pd.DataFrame()
        g = f["days"]
        day = g["day"][:] if "day" in g else None
        frames = []
        for arm, grp in g.items():
            if not isinstance(grp, h5py.Group):
                continue
            cols = {k: ds[:] for k, ds in grp.items() if isinstance(ds, h5py.Dataset) and ds.ndim == 1}
            if not cols:
                continue
            n = len(next(iter(cols.values())))
            df = pd.DataFrame({k: v for k, v in cols.items() if len(v) == n})
            df.insert(0, "day", day[:n] if day is not None and len(day) >= n else np.arange(n))
            df.insert(0, "arm", arm)
            frames.append(df)
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True).set_index(["arm", "day"]).sort_index()

    @staticmethod
    def _experiment(f):
        if "experiment" not in f or "metric" not in f["experiment"]:
            return pd.DataFrame()
        e = f["experiment"]
        metrics = [_text(m) for m in e["metric"][:]]
        frames = []
        for arm, grp in e.items():
            if not isinstance(grp, h5py.Group) or arm == "days":
                continue
            cols = {k: ds[:] for k, ds in grp.items()
                    if isinstance(ds, h5py.Dataset) and ds.ndim == 1 and len(ds) == len(metrics)}
            if cols:
                df = pd.DataFrame(cols)
                df.insert(0, "metric", metrics)
                df.insert(0, "arm", arm)
                frames.append(df)
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True).set_index(["arm", "metric"])

    @staticmethod
    def _latency(f):
        if "latency" not in f:
            return pd.DataFrame()
        rows = []
        for stage, grp in f["latency"].items():
            if not isinstance(grp, h5py.Group):
                continue
            pct = {k: grp[k][:] for k in ("p50", "p90", "p99", "p999") if k in grp and grp[k].ndim == 1}
            if not pct:
                continue
            n = min(len(v) for v in pct.values())
            for d in range(n):
                rows.append({"day": d, "stage": stage, **{k: v[d] for k, v in pct.items()}})
        return pd.DataFrame(rows).set_index(["day", "stage"]) if rows else pd.DataFrame()

    def to_xarray(self):
        """The daily metrics, the final look's statistics and the latencies as one
        xarray.Dataset: variables days_<metric> over (arm, day), experiment_<statistic> over
        (arm, metric) and latency_<percentile> over (day, stage), the file's root attributes as
        its attrs. Needs xarray (Debian: python3-xarray)."""
        import xarray as xr
        parts = []
        for prefix, frame in (("days_", self.days), ("experiment_", self.experiment), ("latency_", self.latency)):
            if frame.empty:
                continue
            num = frame.select_dtypes(include=[np.number])
            ds = xr.Dataset.from_dataframe(num)
            parts.append(ds.rename({v: prefix + v for v in ds.data_vars}))
        out = xr.merge(parts) if parts else xr.Dataset()
        out.attrs.update({k: v for k, v in self.attrs.items() if isinstance(v, (str, int, float))})
        return out

    def __repr__(self):
        return f"<flywheel.Result {self.path!r}: status {self.attrs.get('status')}, {len(self.days)} arm-days>"


def open_result(path):
    """The result file at path as a Result (pandas frames with labels; .to_xarray() for one
    xarray Dataset)."""
    return Result(path)
