"""Claims are leases: refreshed by their holder, stale after LEASE_SECONDS from any host."""

import os
import socket

from ganbench.suite import leases
from ganbench.suite.leases import CLAIM, LEASE_SECONDS, claim, claim_is_live, refresh_held, release

T0 = 1_700_000_000.0  # a fixed "now" for the injectable clock


def remote_claim(run_dir, refreshed_at):
    """A claim written by a process on another machine, last refreshed at ``refreshed_at``."""
    (run_dir / CLAIM).write_text(f"node-b.cluster 4242 123456 {refreshed_at:.3f}\n")


def test_an_expired_remote_claim_is_taken_over(tmp_path):
    remote_claim(tmp_path, refreshed_at=T0)
    assert not claim(tmp_path, now=lambda: T0 + LEASE_SECONDS - 1)  # within its lease: respected
    assert claim(tmp_path, now=lambda: T0 + LEASE_SECONDS + 1)  # lease expired: the node is gone
    host, pid = (tmp_path / CLAIM).read_text().split()[:2]
    assert (host, int(pid)) == (socket.gethostname(), os.getpid())
    release(tmp_path)
    assert not (tmp_path / CLAIM).exists()


def test_a_remote_claim_without_timestamp_ages_by_its_file_time(tmp_path):
    (tmp_path / CLAIM).write_text("node-b.cluster 4242 123456\n")  # written before claims were leases
    os.utime(tmp_path / CLAIM, (T0, T0))
    assert claim_is_live(tmp_path / CLAIM, T0 + 1)
    assert not claim_is_live(tmp_path / CLAIM, T0 + LEASE_SECONDS + 1)


def test_the_holder_refreshes_its_lease_and_drops_a_taken_over_claim(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert claim(a, now=lambda: T0) and claim(b, now=lambda: T0)
    try:
        later = T0 + 0.9 * LEASE_SECONDS
        refresh_held(now=lambda: later)  # the background thread's round
        assert claim_is_live(a / CLAIM, later + 0.9 * LEASE_SECONDS)  # renewed: still held long after T0's lease
        remote_claim(b, refreshed_at=later)  # someone took b over while we stalled
        refresh_held(now=lambda: later)
        assert (b / CLAIM).read_text().startswith("node-b.cluster")  # theirs now: not overwritten
        assert b / CLAIM not in leases._held and a / CLAIM in leases._held
        assert leases._refresher is not None and leases._refresher.is_alive()
    finally:
        release(a)
        release(b)
    assert not (a / CLAIM).exists() and (b / CLAIM).exists()  # release leaves someone else's claim alone
