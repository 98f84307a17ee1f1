"""How far a read replica is behind its primary, and whether a public read may use it. Pure rules.

A hot standby replays the primary's write-ahead log (WAL). Every probe samples the primary's WAL
position (``pg_current_wal_lsn()``) with the time it was taken, then the standby's replayed
position (``pg_last_wal_replay_lsn()``). The standby then holds everything the primary had at the
time of the newest sample whose position it has replayed: that time is what its data is complete
"as of", and the staleness of a read is how long ago that was. The answer is conservative: the
standby may be newer than the sample, never older.

Taking the primary's sample before the standby's position keeps it so: a standby that has replayed
a position has replayed everything written before the primary reached it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class WalSample:
    """The primary's WAL position ``lsn`` (bytes since 0/0) at the moment ``at``."""

    at: datetime
    lsn: int


def kept_samples(samples: Sequence[WalSample], now: datetime, window: float) -> tuple[WalSample, ...]:
    """The samples of the last ``window`` seconds, oldest first: older ones can only say that a
    standby is further behind than any bound worth serving."""
    since = now - timedelta(seconds=window)
    return tuple(sorted((s for s in samples if s.at >= since), key=lambda s: s.at))


def data_as_of(samples: Sequence[WalSample], replayed_lsn: int | None) -> datetime | None:
    """The moment the replica's data is complete as of: the time of the newest sample of the
    primary whose position the replica has replayed. None when it is unknown: the server replays
    no WAL (it is no standby) or it is behind every sample kept."""
    if replayed_lsn is None:
        return None
    replayed = [s.at for s in samples if s.lsn <= replayed_lsn]
    return max(replayed) if replayed else None


def staleness_seconds(as_of: datetime, now: datetime) -> float:
    """How old the replica's data may be at ``now`` (0 for a time in the future: clocks are not
    compared across hosts, both times are the server's own)."""
    return max(0.0, (now - as_of).total_seconds())


def replica_serves(as_of: datetime | None, now: datetime, max_lag: float) -> bool:
    """Whether a public read may use the replica: its data is known to be at most ``max_lag``
    seconds old (``TECHX_READ_MAX_LAG_SECONDS``); otherwise the primary answers."""
    return as_of is not None and staleness_seconds(as_of, now) <= max_lag
