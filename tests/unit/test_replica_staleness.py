"""The rule of reads from a replica: samples of the primary's WAL position → how old the replica's
data may be → whether a public read may use it (exchange/platform/staleness.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from exchange.platform.staleness import WalSample, data_as_of, kept_samples, replica_serves, staleness_seconds

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_the_replica_is_as_old_as_the_newest_primary_position_it_has_replayed():
    samples = [WalSample(at(0), 100), WalSample(at(1), 100), WalSample(at(2), 250), WalSample(at(3), 400)]
    assert data_as_of(samples, 400) == at(3)  # caught up: as of the last sample
    assert data_as_of(samples, 399) == at(2)  # past 250 (the primary at 2 s), short of 400 (at 3 s)
    assert data_as_of(samples, 249) == at(1)  # the primary was at 100 until after 1 s, at 250 by 2 s
    assert data_as_of(samples, 99) is None  # behind every sample kept: unknown, too far behind
    assert data_as_of(samples, None) is None  # replays no WAL: no standby, unknown
    assert staleness_seconds(at(1), at(4.5)) == 3.5
    assert replica_serves(at(1), at(6), max_lag=5) and not replica_serves(at(1), at(6.01), max_lag=5)
    assert not replica_serves(None, at(0), max_lag=5)


# The primary's position never moves back: each step moves time on and the position by 0 or more.
steps = st.lists(st.tuples(st.integers(1, 3000), st.integers(0, 10_000)), min_size=1, max_size=30)


@given(steps, st.integers(0, 400_000), st.integers(0, 400_000), st.floats(0.1, 30), st.integers(0, 5000))
def test_the_staleness_is_conservative_monotonic_and_bounded(steps, replayed, more, max_lag, later_ms):
    samples, moment, lsn = [], T0, 0
    for gap_ms, written in steps:
        moment, lsn = moment + timedelta(milliseconds=gap_ms), lsn + written
        samples.append(WalSample(moment, lsn))
    as_of = data_as_of(samples, replayed)
    if as_of is None:
        assert all(s.lsn > replayed for s in samples)
    else:
        # Conservative: the primary had no more than the replica has replayed at ``as_of``, and
        # every later sample shows a position the replica has not reached.
        assert any(s.at == as_of and s.lsn <= replayed for s in samples)
        assert all(s.lsn > replayed for s in samples if s.at > as_of)
    # Replaying more never makes the data older.
    further = data_as_of(samples, replayed + more)
    assert as_of is None or (further is not None and further >= as_of)
    # The bound: a read uses the replica only while its data is at most ``max_lag`` seconds old.
    now = samples[-1].at + timedelta(milliseconds=later_ms)
    if replica_serves(as_of, now, max_lag):
        assert as_of is not None and (now - as_of).total_seconds() <= max_lag
    # Dropping samples older than the window never invents a fresher answer.
    kept = kept_samples(samples, now, window=max_lag)
    narrowed = data_as_of(kept, replayed)
    assert narrowed is None or (as_of is not None and narrowed <= as_of)
