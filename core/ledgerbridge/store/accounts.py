"""Account bindings: which tenant may write to a target account (one organisation
belongs to one tenant unless declared shared), and the connections marked as needing a
person to reconnect them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from ..errors import AccountBound
from .base import StoreBase
from .models import AccountBinding, Connection
from .types import utcnow


def refusal(binding: AccountBinding, tenant_id: str, connection_id: str) -> str:
    """Why ``tenant_id`` may not use an account bound to another tenant (names both)."""
    return (
        f"{binding.account} is bound to tenant {binding.tenant_id!r} "
        f"(connection {binding.connection_id}); tenant {tenant_id!r} (connection "
        f"{connection_id}) may not write to it. One organisation belongs to one tenant: fix "
        f"{connection_id}'s settings, or declare the organisation shared: "
        f"{binding.connection_id} lists {tenant_id} in its shared_with and {connection_id} "
        f"lists {binding.tenant_id} (docs/configuration.md)"
    )


class AccountStore(StoreBase):
    """Account bindings and reconnect marks."""

    # ----------------------------------------------------------------- account bindings

    def bind_account(
        self,
        account: str,
        *,
        tenant_id: str,
        connection_id: str,
        platform: str,
        shared_with: Sequence[str] | None = None,
    ) -> AccountBinding:
        """Bind ``account`` to ``tenant_id``, or confirm it is bound to (or shared with) it.

        Refuses with ``AccountBound`` naming both tenants when another tenant holds it and
        does not share it.  ``shared_with`` (the owner's declaration) replaces the stored
        one when ``tenant_id`` owns the account; ``None`` leaves it as it is.
        """
        with self.session() as s:
            return self._bind(s, account, tenant_id, connection_id, platform, shared_with)

    def _bind(
        self,
        s: Session,
        account: str,
        tenant_id: str,
        connection_id: str,
        platform: str,
        shared_with: Sequence[str] | None,
    ) -> AccountBinding:
        row = s.get(AccountBinding, account, with_for_update=True)
        if row is None:
            row = AccountBinding(
                account=account,
                platform=platform,
                tenant_id=tenant_id,
                connection_id=connection_id,
                shared_with=sorted(set(shared_with or ()) - {tenant_id}),
            )
            s.add(row)
            s.flush()  # a concurrent binder of the same account fails here (primary key)
            return row
        if row.tenant_id != tenant_id:
            if tenant_id not in row.shared_with:
                raise AccountBound(refusal(row, tenant_id, connection_id))
            return row
        if shared_with is not None:
            row.shared_with = sorted(set(shared_with) - {tenant_id})
        row.connection_id, row.updated_at = connection_id, utcnow()
        s.add(row)
        return row

    def account_binding(self, account: str) -> AccountBinding | None:
        with self.session() as s:
            return s.get(AccountBinding, account)

    def account_bindings(self, tenant_id: str | None = None) -> list[AccountBinding]:
        with self.session() as s:
            stmt = select(AccountBinding)
            if tenant_id is not None:
                stmt = stmt.where(AccountBinding.tenant_id == tenant_id)
            return list(s.exec(stmt.order_by(AccountBinding.account)))

    def check_account(self, account: str, tenant_id: str, connection_id: str) -> AccountBinding:
        """The binding that lets ``tenant_id`` write to ``account``; ``AccountBound`` if none.

        Read-only: checked before every unit of work, so an account moved to another
        tenant while a run goes on stops that run before its next write.  One primary-key
        read outside the ORM's session: it runs once per unit of work."""
        table = AccountBinding.__table__  # type: ignore[attr-defined]
        with self.engine.connect() as conn:
            found = conn.execute(sa_select(table).where(table.c.account == account)).first()
        row = AccountBinding(**found._mapping) if found is not None else None
        if row is None:
            raise AccountBound(
                f"{account} is bound to no tenant any more (it was released while "
                f"{connection_id} was running); tenant {tenant_id!r} writes nothing to it "
                "until it is bound again (restart, or `ledgerbridge connect`)"
            )
        if row.tenant_id != tenant_id and tenant_id not in row.shared_with:
            raise AccountBound(refusal(row, tenant_id, connection_id))
        return row

    def release_account(self, account: str, tenant_id: str) -> bool:
        """Unbind ``account`` from its owner ``tenant_id`` (moving an organisation to another
        tenant); ``False`` when it was not bound.  Refuses to release another tenant's."""
        with self.session() as s:
            row = s.get(AccountBinding, account, with_for_update=True)
            if row is None:
                return False
            if row.tenant_id != tenant_id:
                raise AccountBound(
                    f"{account} is bound to tenant {row.tenant_id!r}, not {tenant_id!r}: "
                    "only its own tenant releases it"
                )
            s.delete(row)
            return True

    def mark_needs_reconnect(self, connection_id: str, reason: str) -> None:
        """A run met dead credentials on this connection: ``status`` shows it until cleared."""
        with self.session() as s:
            row = s.get(Connection, connection_id)
            if row is None:
                return
            if row.reconnect_reason is None:
                row.reconnect_since = utcnow()
            row.reconnect_reason = reason
            s.add(row)

    def clear_needs_reconnect(self, connection_id: str) -> None:
        """The connection's credentials work again (a call went through)."""
        with self.session() as s:
            row = s.get(Connection, connection_id)
            if row is not None and row.reconnect_reason is not None:
                row.reconnect_reason, row.reconnect_since = None, None
                s.add(row)

    def needing_reconnect(self) -> list[Connection]:
        with self.session() as s:
            stmt = select(Connection).where(Connection.reconnect_reason.is_not(None))  # type: ignore[union-attr]
            return list(s.exec(stmt))
