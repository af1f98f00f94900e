"""Claims on run directories, held as leases.

A suite process claims a run directory before it works on it, so two suite
processes sharing a results directory (on one host, or several hosts on a
shared filesystem) never do the same run twice. A claim is a lease: its holder
refreshes it every ``LEASE_SECONDS / 4`` from a background thread, and a claim
is stale, and taken over, when

- it names this host and its process is dead (a zombie, or a reused pid), or
- it was not refreshed for ``LEASE_SECONDS`` (any host: a lost node's claims
  expire, where a claim from another host used to be respected forever).

The claim file reads ``host pid start_time refreshed_at`` (unix seconds from
the holder's clock, so hosts' clocks must agree to well within the lease).
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Optional

CLAIM = ".claim"
# Five minutes: long enough that a holder stalled by a busy filesystem or a
# long checkpoint write (refreshing every 75 s) keeps its runs, short enough
# that a rerun after a lost node waits minutes, not hours.
LEASE_SECONDS = 300.0
REFRESH_SECONDS = LEASE_SECONDS / 4

_held: set[Path] = set()
_held_lock = threading.Lock()
_refresher: Optional[threading.Thread] = None


def claim(run_dir: Path, now: Callable[[], float] = time.time) -> bool:
    """Atomically claim a run directory; a stale claim is taken over.

    The claim is written to a temp file first and hard-linked into place (which
    fails if a claim exists), so a claim file is never visible empty: another
    process reading a half-written claim would take it for stale and run it too.
    The claim is then refreshed in the background until :func:`release`.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / CLAIM
    fd, tmp = tempfile.mkstemp(dir=run_dir, prefix=".claim.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(_claim_text(now()))
        for _ in range(2):
            try:
                os.link(tmp, path)
                _hold(path)
                return True
            except FileExistsError:
                if claim_is_live(path, now()):
                    return False
                path.unlink(missing_ok=True)  # stale: its owner died or its lease expired
        return False
    finally:
        os.unlink(tmp)


def release(run_dir: Path) -> None:
    """Give up this process's claim on ``run_dir`` (someone else's is left alone)."""
    path = Path(run_dir) / CLAIM
    with _held_lock:
        _held.discard(path)
    if _is_mine(path):
        path.unlink(missing_ok=True)


def refresh(path: Path, now: Callable[[], float] = time.time) -> bool:
    """Renew this process's claim at ``path``; False when it is no longer ours."""
    if not _is_mine(path):
        return False
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".claim.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(_claim_text(now()))
    os.replace(tmp, path)
    return True


def claim_is_live(path: Path, now: float) -> bool:
    """Whether the claim at ``path`` still holds at time ``now`` (unix seconds)."""
    try:
        host, pid, *rest = path.read_text().split()
        start = rest[0] if rest else None
        refreshed = float(rest[1]) if len(rest) > 1 else path.stat().st_mtime  # pre-lease claims: the file's age
    except (OSError, ValueError):
        return False  # unreadable or half-written claim: treat as stale
    if host == socket.gethostname() and not _process_is_alive(int(pid), start):
        return False
    return now - refreshed < LEASE_SECONDS


def _claim_text(now: float) -> str:
    return f"{socket.gethostname()} {os.getpid()} {_start_time(os.getpid())} {now:.3f}\n"


def _is_mine(path: Path) -> bool:
    try:
        host, pid = path.read_text().split()[:2]
        return host == socket.gethostname() and int(pid) == os.getpid()
    except (OSError, ValueError):
        return False


def _hold(path: Path) -> None:
    """Register a claim for background refreshing (one daemon thread per process)."""
    global _refresher
    with _held_lock:
        _held.add(path)
        if _refresher is None or not _refresher.is_alive():
            _refresher = threading.Thread(target=_refresh_loop, name="ganbench-lease", daemon=True)
            _refresher.start()


def _refresh_loop() -> None:
    while True:
        time.sleep(REFRESH_SECONDS)
        refresh_held()


def refresh_held(now: Callable[[], float] = time.time) -> None:
    """One refresh round over this process's claims (the background thread's work)."""
    with _held_lock:
        paths = list(_held)
    for path in paths:
        try:
            if not refresh(path, now):
                with _held_lock:
                    _held.discard(path)  # taken over (we were stalled past the lease)
        except OSError:
            pass  # a filesystem hiccup: the next round tries again


def _process_is_alive(pid: int, start_time: Optional[str]) -> bool:
    """Whether ``pid`` is still the live process that wrote the claim.

    ``os.kill(pid, 0)`` alone is not enough: a worker killed with its suite is
    a zombie until something reaps it (never, where PID 1 does not reap
    orphans, as in some containers), and a pid can be reused by a new process.
    Where /proc exists, a zombie or a different start time means dead.
    """
    if not Path("/proc/self/stat").exists():  # no procfs (macOS): the signal test is all there is
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
        except OSError:
            return True  # exists but belongs to someone else
    stat = _proc_stat(pid)
    if stat is None or stat[0] in ("Z", "X"):
        return False
    return start_time in (None, "-") or start_time == stat[19]


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot, or ``-`` without procfs."""
    stat = _proc_stat(pid)
    return stat[19] if stat else "-"


def _proc_stat(pid: int) -> Optional[list[str]]:
    """Fields 3.. of /proc/PID/stat (state first; start time at index 19), or None."""
    try:  # the command name (field 2) may hold spaces and parentheses: split after the last ')'
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
