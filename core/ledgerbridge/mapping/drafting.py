"""What the builders of a whole document draft share: the mapping context and the
builders of its parts.

An invoice or sales receipt (``DocumentBuilder``) and a credit note (``RefundBuilder``)
are put together from the same parts -- the contact, the lines and their taxes, shipping
and fees, the payment method -- so both are given those part builders here, once, and
``MappingRuntime`` hands the same set to each.
"""

from __future__ import annotations

from .charges import ChargeBuilder
from .contacts import ContactBuilder
from .context import MappingContext
from .lines import LineBuilder
from .payments import PaymentBuilder
from .taxes import TaxLookup


class DraftBuilder:
    """A builder of whole document drafts, holding the part builders it composes."""

    def __init__(
        self,
        ctx: MappingContext,
        contacts: ContactBuilder,
        taxes: TaxLookup,
        lines: LineBuilder,
        charges: ChargeBuilder,
        payments: PaymentBuilder,
    ) -> None:
        self.ctx = ctx
        self.contacts = contacts
        self.taxes = taxes
        self.lines = lines
        self.charges = charges
        self.payments = payments
