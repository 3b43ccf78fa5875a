"""Leases: one holder of a named lease at a time (a pipeline run, a token refresh); a
holder past its expiry, or a dead process on this host, is taken over."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from .base import StoreBase
from .holders import holder_is_dead
from .models import Lease
from .types import utcnow


class LeaseStore(StoreBase):
    """Named leases."""

    def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Take ``name`` for ``ttl`` unless someone else holds an unexpired lease.

        Works across processes and hosts: the row's primary key is the lock.  An
        expired lease may be taken over (a crashed holder cannot block forever), and
        so may one whose holder is provably dead -- same host, its process gone
        (``holders.holder_is_dead``) -- at once.
        """
        now = utcnow()
        try:
            with self.session() as s:
                row = s.get(Lease, name, with_for_update=True)
                if row is None:
                    s.add(Lease(name=name, holder=holder, expires_at=now + ttl, acquired_at=now))
                    return True
                if row.holder != holder and row.expires_at > now and not holder_is_dead(row.holder):
                    return False
                row.holder, row.expires_at, row.acquired_at = holder, now + ttl, now
                s.add(row)
                return True
        except IntegrityError:
            return False  # another process inserted it first

    def release_lease(self, name: str, holder: str) -> None:
        with self.session() as s:
            row = s.get(Lease, name)
            if row is not None and row.holder == holder:
                s.delete(row)

    def lease_holder(self, name: str) -> tuple[str, datetime] | None:
        with self.session() as s:
            row = s.get(Lease, name)
            if row is None or row.expires_at <= utcnow():
                return None
            return row.holder, row.expires_at

    def leases(self) -> list[Lease]:
        """Every lease, held or expired (``status`` shows them with holder and expiry)."""
        with self.session() as s:
            return list(s.exec(select(Lease).order_by(Lease.name)))

    def get_lease(self, name: str) -> Lease | None:
        with self.session() as s:
            return s.get(Lease, name)

    def break_lease(self, name: str, holder: str) -> bool:
        """Remove ``name`` if ``holder`` still holds it (``ledgerbridge unlock``): the holder
        confirmed by the operator, never one that took the lease since."""
        with self.session() as s:
            row = s.get(Lease, name, with_for_update=True)
            if row is None or row.holder != holder:
                return False
            s.delete(row)
            return True
