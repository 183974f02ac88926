"""The relationship between two parties: a customer and a firm, or a firm and
a partner. Both carry the four parameters of relationship marketing.

A customer–firm dyad is a cell ``[customer, firm]`` of the shared customer
state (:mod:`relsim.market.state`); a firm–partner dyad is a
:class:`PartnerDyad`.
"""

from __future__ import annotations

#: Weeks per quarter (account reviews, trailing margins) and quarters in a trailing year.
QUARTER_WEEKS = 13
QUARTERS_KEPT = 4


class PartnerDyad:
    """Firm–partner relationship (supplier, distributor, alliance partner)."""

    __slots__ = ("commitment", "partner", "reciprocity", "responsiveness", "trust")

    def __init__(self, partner: str, trust: float = 0.5, responsiveness: float = 0.5) -> None:
        self.partner = partner
        self.trust = trust
        self.commitment = 0.0
        self.reciprocity = 0.0
        self.responsiveness = responsiveness
