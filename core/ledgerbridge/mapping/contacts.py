"""Contacts: which target contact an order belongs to (its link and match keys) and the
contact draft built from the customer, the billing address and ``contact.fields``."""

from __future__ import annotations

from typing import Any

from ..canonical import Order
from ..errors import ValidationFailed
from ..plan import ContactDraft, Link
from .context import LookupHit, MappingContext, link, text


class ContactBuilder:
    """``contact:`` of the mapping: linking, matching and drafting an order's contact."""

    def __init__(self, ctx: MappingContext) -> None:
        self.ctx = ctx

    @staticmethod
    def order_email(order: Order) -> str | None:
        for candidate in (
            order.email,
            order.customer.email if order.customer else None,
            order.billing_address.email if order.billing_address else None,
        ):
            if candidate:
                return candidate.strip().lower()
        return None

    def link(self, order: Order) -> Link:
        """``contact:<platform>:<store>:<id>``; guests ``contact:email:<email>``;
        walk-in contacts (per currency) ``contact:walkin:<currency>``."""
        customer = order.customer
        if customer is not None and not customer.is_guest:
            ref = customer.source
            return link(f"contact:{ref.platform}:{ref.store}:{ref.external_id}")
        email = self.order_email(order)
        if email and self.ctx.mapping.contact.guests == "per_email":
            return link(f"contact:email:{email}")
        return link(f"contact:walkin:{order.currency}")

    def match_keys(self, order: Order) -> list[tuple[str, str]]:
        """Business keys to find the contact by, in the mapping's order."""
        found = self.link(order)
        email = self.order_email(order)
        keys: list[tuple[str, str]] = []
        for kind in self.ctx.mapping.contact.match:
            if kind == "xref":
                keys.append(("xref", found.key))
            elif kind == "email" and email and not found.key.startswith("contact:walkin:"):
                keys.append(("email", email))
        return keys

    def contact(self, order: Order, trace: list[LookupHit]) -> ContactDraft:
        rules = self.ctx.mapping.contact
        found = self.link(order)
        names = self.ctx.names(order, trace)
        if found.key.startswith("contact:walkin:"):
            name = text(rules.walk_in_name.evaluate(names)) or f"Walk-in ({order.currency})"
            trace.append(LookupHit("contact", found.key, name, "order", "walk-in"))
            return ContactDraft(link=found, display_name=name, currency=order.currency)
        customer = order.customer
        billing = order.billing_address or (customer.billing_address if customer else None)
        shipping = order.shipping_address or (customer.shipping_address if customer else None)
        values: dict[str, Any] = {
            "email": self.order_email(order),
            "first_name": (customer.first_name if customer else None)
            or (billing.first_name if billing else None),
            "last_name": (customer.last_name if customer else None)
            or (billing.last_name if billing else None),
            "company": (customer.company if customer else None)
            or (billing.company if billing else None),
            "phone": (customer.phone if customer else None) or (billing.phone if billing else None),
            "currency": order.currency,
        }
        if customer is not None and not customer.is_guest:
            values["display_name"] = customer.display_name
        else:
            values["display_name"] = (
                (billing.name if billing else None)
                or values["company"]
                or values["email"]
                or f"Guest {order.number}"
            )
        for field_name, expr in rules.fields.items():
            values[field_name] = text(expr.evaluate(names))
        if not values["display_name"]:
            raise ValidationFailed(
                f"order {order.number}: contact.fields.display_name gave an empty name"
            )
        trace.append(LookupHit("contact", found.key, values["display_name"], "order", "xref"))
        return ContactDraft(
            link=found,
            billing_address=billing,
            shipping_address=shipping,
            custom_fields=self.ctx.custom_fields(rules.custom_fields, names),
            **values,
        )
