"""Payments: the payment mode and deposit account of a gateway (``lookups.payment_methods``)
and the payment drafts of money received."""

from __future__ import annotations

from ..canonical import Order, Payment
from ..contracts.advice import add_to_mapping
from ..errors import NeedsMapping
from ..plan import BusinessKey, Link, PaymentDraft
from .contacts import ContactBuilder
from .context import LookupHit, MappingContext, text, to_date
from .schema import PaymentMethod


def _method_text(method: PaymentMethod) -> str:
    return method.payment_mode + (f" -> {method.account_id}" if method.account_id else "")


class PaymentBuilder:
    """``payments:`` and ``lookups.payment_methods`` of the mapping."""

    def __init__(self, ctx: MappingContext, contacts: ContactBuilder) -> None:
        self.ctx = ctx
        self.contacts = contacts

    def method(
        self, order: Order, gateway: str | None, subject: str, trace: list[LookupHit]
    ) -> PaymentMethod:
        table = self.ctx.mapping.lookups.payment_methods
        key = gateway or "(none)"
        method: PaymentMethod | None = None
        if key in table.entries:
            method, via = table.entries[key], "entry"
        elif table.default is not None:
            method, via = table.default, "default"
        if method is not None:
            if method.account_id is None and "account_id" not in method.model_fields_set:
                # Money must land in a known (clearing) account, never in whatever the
                # target picks; `account_id: null` says "the target's default" on purpose.
                raise NeedsMapping(
                    f"order {order.number}: payment method {key!r} ({subject}) names no "
                    f"deposit account; set its account_id in lookups.payment_methods of "
                    f"{self.ctx.path} (or account_id: null for the target's default)"
                    + add_to_mapping(
                        (
                            "lookups",
                            "payment_methods",
                            *(("entries", key) if via == "entry" else ("default",)),
                        ),
                        {"account_id": "<account id>"},
                    ),
                    missing=f"payment_account:{key}",
                )
            trace.append(LookupHit("payment_methods", key, _method_text(method), subject, via))
            return method
        raise NeedsMapping(
            f"order {order.number}: no payment mode for gateway {key!r} ({subject}); "
            f"add it under lookups.payment_methods.entries in {self.ctx.path}"
            + add_to_mapping(
                ("lookups", "payment_methods", "entries"),
                {key: {"payment_mode": "<payment mode>", "account_id": "<account id>"}},
            ),
            missing=f"payment_method:{key}",
        )

    @staticmethod
    def order_gateway(order: Order) -> str | None:
        for payment in order.payments:
            if payment.is_money_in:
                return payment.gateway
        return order.payment_gateways[0] if order.payment_gateways else None

    def payment(
        self, order: Order, payment: Payment, applied_to: Link | None, trace: list[LookupHit]
    ) -> PaymentDraft:
        """A received payment, applied to ``applied_to`` (None: an unapplied advance)."""
        method = self.method(order, payment.gateway, f"payment {payment.external_id}", trace)
        names = self.ctx.names(order, trace, payment=payment)
        amount = payment.amount.amount
        when = payment.processed_at or order.processed_at or order.created_at
        day = to_date(when, "date", self.ctx.zone)
        return PaymentDraft(
            key=BusinessKey(
                reference=text(self.ctx.mapping.document.reference.evaluate(names)) or order.number,
                source_key=f"{order.source.key}:payment:{payment.external_id}",
            ),
            contact=self.contacts.link(order),
            amount=amount,
            currency=order.currency,
            date=day,
            payment_mode=method.payment_mode,
            account_id=method.account_id,
            reference=text(self.ctx.mapping.payments.reference.evaluate(names)),
            **self.ctx.rates(order, day),
            applied_to=((applied_to, amount),) if applied_to is not None else (),
        )
