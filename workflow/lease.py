"""One scheduler per database: a lease row with a holder, an expiry and a fencing counter.

A process runs the scheduler only while it holds the lease and renews it well before it expires;
another process takes the lease over once it has expired, and the fencing counter grows by one on
every change of holder. Each transaction of the sweep checks the counter it was started with
(`check_fencing`), so a holder that lost its lease — paused, partitioned — writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Engine, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from workflow.errors import StaleLease
from workflow.schedule_tables import SchedulerLease

__all__ = ["LEASE_NAME", "Lease", "acquire", "check_fencing", "release", "renew"]

LEASE_NAME = "scheduler"
_TABLE = cast(Table, SchedulerLease.__table__)


@dataclass(frozen=True)
class Lease:
    holder: str
    fencing: int
    expires_at: datetime


def acquire(engine: Engine, holder: str, ttl: timedelta, now: datetime) -> Lease | None:
    """Take the lease if it is free, expired or ours already; None while another holds it."""
    expires = now + ttl
    try:
        with engine.begin() as connection:
            row = connection.execute(
                select(SchedulerLease.holder, SchedulerLease.expires_at, SchedulerLease.fencing)
                .where(SchedulerLease.name == LEASE_NAME)
                .with_for_update()
            ).one_or_none()
            if row is None:
                connection.execute(
                    insert(_TABLE).values(
                        name=LEASE_NAME, holder=holder, expires_at=expires, fencing=1
                    )
                )
                return Lease(holder, 1, expires)
            if row.holder == holder or row.expires_at <= now:
                fencing = row.fencing + (0 if row.holder == holder else 1)
                done = connection.execute(
                    update(_TABLE)
                    .where(_TABLE.c.name == LEASE_NAME, _TABLE.c.fencing == row.fencing)
                    .values(holder=holder, expires_at=expires, fencing=fencing)
                )
                return Lease(holder, fencing, expires) if done.rowcount == 1 else None
            return None
    except IntegrityError:
        return None  # another process inserted the row first


def renew(engine: Engine, lease: Lease, ttl: timedelta, now: datetime) -> Lease | None:
    """Extend our lease; None when it is no longer ours (another process took it over)."""
    expires = now + ttl
    with engine.begin() as connection:
        done = connection.execute(
            update(_TABLE)
            .where(
                _TABLE.c.name == LEASE_NAME,
                _TABLE.c.holder == lease.holder,
                _TABLE.c.fencing == lease.fencing,
            )
            .values(expires_at=expires)
        )
    return Lease(lease.holder, lease.fencing, expires) if done.rowcount == 1 else None


def release(engine: Engine, lease: Lease, now: datetime) -> None:
    """Let the lease expire now, so a waiting process takes over without waiting out the TTL."""
    with engine.begin() as connection:
        connection.execute(
            update(_TABLE)
            .where(
                _TABLE.c.name == LEASE_NAME,
                _TABLE.c.holder == lease.holder,
                _TABLE.c.fencing == lease.fencing,
            )
            .values(expires_at=now)
        )


def check_fencing(connection: Connection, fencing: int | None) -> None:
    """Inside a sweep's transaction: refuse when `fencing` is no longer the lease's counter.

    On PostgreSQL the row is read FOR SHARE, so a takeover waits for this transaction to end;
    SQLite's write transactions are serial already. None (a `thidua tick` run) checks nothing.
    """
    if fencing is None:
        return
    current = connection.execute(
        select(SchedulerLease.fencing)
        .where(SchedulerLease.name == LEASE_NAME)
        .with_for_update(read=True)
    ).scalar_one_or_none()
    if current != fencing:
        raise StaleLease(
            f"the scheduler lease has fencing counter {current}, not {fencing}: another process "
            "runs the scheduler now, so this sweep wrote nothing"
        )
