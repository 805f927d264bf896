"""RankerEnv: the simulated world as an environment in the Gymnasium style, where a Python
policy ranks every feed request of a run.

    env = RankerEnv("scenario.yaml", sets={"world.n_users": 2000, "days": 3})
    obs, info = env.reset()
    while True:
        scores = my_policy(obs["candidates"])          # one score per candidate
        obs, reward, terminated, truncated, info = env.step(scores)
        if terminated:
            break

An episode is one run of the scenario with every arm's feed ranked by the policy (the
scenario's arms keep their other knobs; engine.feed.algorithm is set to plugin in every
arm). Each observation is one feed request: the user, the tick, how many notes the page wants
and the recalled candidates with their features (a numpy structured array, the fields of
fw_policy_cand in flywheel/policy.h) and, with engine.feed.plugin_vectors: 1, the
recommender's learned vectors ("user_vec" [dim], "cand_vec" [n, dim]). The action is a score per candidate (higher first; the
engine keeps the page's best and places the ads) -- or, as a dict {"page": note ids}, the page
itself. The reward of a step is the number of feed opens logged at the barriers passed since
the previous step (the world answers a tick's requests at the tick's end, so a request's
opens arrive with a later step); info["batches"] holds those barriers' events with their
notes' features, for learning. The run goes on a thread of its own, with one simulation
thread: a slow path, for training against the world, not for benchmarking rankers (a C
plug-in is hundreds of times faster). The episode's result file is info["result"] at the end.
"""
import os
import queue
import tempfile
import threading

import numpy as np

from . import _lib

_CAND_DTYPE = np.dtype(_lib.PolicyCand)
_EVENT_DTYPE = np.dtype(_lib.Event)
_VEC_DTYPE = np.dtype(np.float32)


def _vectors(ptr, rows, dim):
    """A copy of rows x dim learned vectors at ptr (engine.feed.plugin_vectors), or None."""
    if not dim or not ptr:
        return None
    return _array(ptr, rows * dim, _VEC_DTYPE).reshape(rows, dim)


def _array(ptr, n, dtype):
    """A copy of the n structs at ptr as a numpy structured array (empty when n is 0)."""
    if not n:
        return np.zeros(0, dtype)
    addr = _lib.ctypes.cast(ptr, _lib.ctypes.c_void_p).value
    buf = (_lib.ctypes.c_char * (n * dtype.itemsize)).from_address(addr)
    return np.frombuffer(buf, dtype=dtype).copy()


def feed_opens(events):
    """The feed opens among a batch's events (search results opened are not the feed's)."""
    t = events["type"]
    return int(np.count_nonzero(((t & 0xff) == 1) & ((t & _lib.EV_SEARCH) == 0)))


class RankerEnv:
    def __init__(self, scenario, sets=(), output=None, bridge=None):
        if isinstance(sets, dict):
            sets = [f"{k}={v}" for k, v in sets.items()]
        self.scenario = scenario
        self.sets = list(sets)
        self.output = output
        self.bridge = bridge or os.path.join(_lib.policy_dir(), "python_bridge.so")
        self._thread = None
        self.requests = 0

    # -- the callbacks, on the simulation thread ------------------------------------------
    def _rank(self, req_p):
        try:
            req = req_p.contents
            n = req.n_cand
            cand = _array(req.cand, n, _CAND_DTYPE)
            obs = {"user": req.user, "cell": req.cell, "tick": req.tick, "page_size": req.page_size,
                   "candidates": cand}
            if req.vec_dim:   # engine.feed.plugin_vectors: the recommender's learned vectors
                obs["user_vec"] = _vectors(req.user_vec, 1, req.vec_dim)[0]
                obs["cand_vec"] = _vectors(req.cand_vec, n, req.vec_dim) if n else np.zeros((0, req.vec_dim), np.float32)
            self._obs.put(obs)
            action = self._act.get()
            if action is None:                  # close(): end the run
                return -1
            if isinstance(action, dict):
                page = np.asarray(action["page"], dtype=np.uint32)
                k = min(len(page), req.page_size)
                for j in range(k):
                    req.page[j] = int(page[j])
                req.n_page = k
                return _lib.FW_RANK_PAGE
            scores = np.asarray(action, dtype=np.float64)
            if scores.shape != (n,):
                self._error = f"expected {n} scores, got shape {scores.shape}"
                return -2
            if n:
                _lib.ctypes.memmove(req.score, np.ascontiguousarray(scores).ctypes.data, n * 8)
            return _lib.FW_RANK_SCORES
        except Exception as exc:                # never across the C boundary
            self._error = repr(exc)
            return -3

    def _observe(self, batch_p):
        try:
            b = batch_p.contents
            n = b.n_events
            if n:
                ev = _array(b.events, n, _EVENT_DTYPE)
                cand = _array(b.cand, n, _CAND_DTYPE)
                item = {"tick": b.tick, "events": ev, "candidates": cand}
                if b.vec_dim:
                    item["user_vec"] = _vectors(b.user_vec, n, b.vec_dim)
                    item["cand_vec"] = _vectors(b.cand_vec, n, b.vec_dim)
                with self._lock:
                    self._batches.append(item)
            return 0
        except Exception as exc:
            self._error = repr(exc)
            return -1

    def _run(self, sets, output):
        try:
            _lib.run(self.scenario, output=output, sets=sets, threads=1)
            self._outcome = None
        except _lib.FlywheelError as exc:
            self._outcome = exc
        self._obs.put(None)

    # -- the environment -------------------------------------------------------------------
    def reset(self, seed=None):
        """Starts an episode (a run; seed overrides the scenario's) and returns the first request."""
        self.close()
        self._obs, self._act = queue.Queue(maxsize=1), queue.Queue(maxsize=1)
        self._lock = threading.Lock()
        self._batches, self._error, self._outcome = [], None, None
        self.requests = 0
        self._rank_cb = _lib.RANK_FN(self._rank)          # kept alive as long as the run
        self._observe_cb = _lib.OBSERVE_FN(self._observe)
        addr = lambda cb: _lib.ctypes.cast(cb, _lib.ctypes.c_void_p).value
        args = f"rank={addr(self._rank_cb):#x} observe={addr(self._observe_cb):#x}"
        if self.output:
            self._result = self.output
        else:
            fd, self._result = tempfile.mkstemp(prefix="flywheel-env-", suffix=".h5")
            os.close(fd)
            os.unlink(self._result)
        ours = ("engine.feed.algorithm=", "engine.feed.plugin=", "engine.feed.plugin_args=")
        sets = [s for s in self.sets if not s.startswith(ours)] + [
            "engine.feed.algorithm=plugin", f"engine.feed.plugin={self.bridge}", f"engine.feed.plugin_args={args}"]
        if seed is not None:
            sets.append(f"seed={int(seed)}")
        self._thread = threading.Thread(target=self._run, args=(sets, self._result), daemon=True)
        self._thread.start()
        obs = self._obs.get()
        if obs is None:
            self._thread.join()
            raise self._outcome or _lib.FlywheelError(1, self._error or "the run made no feed request")
        return obs, {}

    def step(self, action):
        """Answers the current request; returns (next request, reward, terminated, truncated, info)."""
        if self._thread is None:
            raise RuntimeError("step() before reset()")
        self._act.put(action)
        self.requests += 1
        obs = self._obs.get()
        with self._lock:
            batches, self._batches = self._batches, []
        reward = float(sum(feed_opens(b["events"]) for b in batches))
        info = {"batches": batches}
        if obs is None:
            self._thread.join()
            self._thread = None
            if self._outcome is not None:
                raise _lib.FlywheelError(self._outcome.code, self._outcome.message +
                                         (f"; the policy: {self._error}" if self._error else ""))
            info["result"] = self._result
            return None, reward, True, False, info
        return obs, reward, False, False, info

    def close(self):
        """Ends a running episode (the run fails at its tick's end; its partial file is kept)."""
        if self._thread is not None:
            while self._thread.is_alive():
                try:
                    self._act.put(None, timeout=0.05)
                except queue.Full:
                    pass
                try:
                    self._obs.get(timeout=0.05)
                except queue.Empty:
                    pass
            self._thread.join()
            self._thread = None
