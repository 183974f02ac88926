"""The relationship between two parties: a customer and a firm, or a firm and
a partner. Both carry the four parameters of relationship marketing.

A dyad decays lazily: commitment, reciprocity and heard word of mouth decay
geometrically every week without contact, and :meth:`CustomerDyad.catch_up`
applies all the weeks since the dyad was last touched in one call (exact,
because ``decay(x, δ, a + b) = decay(decay(x, δ, a), δ, b)``).
"""

from __future__ import annotations

import operator

import numpy as np

from relsim.market import rules

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


class CustomerDyad:
    """What one customer holds about one firm it knows (and the firm's CRM record)."""

    __slots__ = (
        "acquisition_margin",
        "active",
        "as_of",
        "channel_fee",
        "commitment",
        "competitor_advantage",
        "firm",
        "first_week",
        "key_account",
        "knowledge",
        "last_purchase",
        "ltv",
        "margin",
        "margin_quarter",
        "offer",
        "purchases",
        "quarter_margins",
        "reciprocity",
        "referred",
        "responsiveness",
        "retention_discount",
        "satisfaction",
        "source",
        "spell_start",
        "spells",
        "spend",
        "trust",
        "wom",
    )

    def __init__(self, firm: int, source: str, week: float, trust: float,
                 responsiveness: float) -> None:
        self.firm = firm
        self.trust = trust
        self.commitment = 0.0
        self.satisfaction = 0.0
        self.reciprocity = 0.0
        self.responsiveness = responsiveness
        self.wom = 0.0
        self.knowledge = 0.0
        self.as_of = week
        self.source = source          # how the customer learned of the firm
        self.referred = False         # heard a recommendation before buying
        self.active = False           # currently a customer of this firm
        self.first_week = -1.0        # week of the first purchase (-1: never bought)
        self.spell_start = -1.0       # start of the current customer spell
        self.last_purchase = -1.0
        self.purchases = 0
        self.spend = 0.0
        self.margin = 0.0
        self.ltv = 0.0                # discounted margin after the acquisition week
        self.acquisition_margin = 0.0  # margin earned in the acquisition week
        self.offer = 0.0              # utility of a pending personalised offer
        self.retention_discount = 0.0  # pending win-back discount on the next order
        self.competitor_advantage = 0.0
        self.key_account = False
        self.channel_fee = 0.0         # distributor's fee share if acquired through one
        self.quarter_margins: list[float] | None = None   # kept only where a rule reads them
        self.margin_quarter = -QUARTERS_KEPT                 # quarter of the last booked margin
        self.spells = 0

    def catch_up(self, week: float, commitment_decay: float, reciprocity_decay: float,
                 wom_decay: float) -> None:
        """Apply the decay of the weeks since the dyad was last touched."""
        elapsed = week - self.as_of
        if elapsed > 0.0:
            self.commitment = rules.decay(self.commitment, commitment_decay, elapsed)
            self.reciprocity = rules.decay(self.reciprocity, reciprocity_decay, elapsed)
            self.wom = rules.decay(self.wom, wom_decay, elapsed)
            self.as_of = week

    def tenure(self, week: float) -> float:
        """Weeks in the current spell (0 if not a customer)."""
        return week - self.spell_start if self.active else 0.0

    def book_quarter_margin(self, week: float, margin: float) -> None:
        """Add an order's margin to the quarter of ``week`` (for :meth:`trailing_margin`)."""
        quarter = int(week // QUARTER_WEEKS)
        if self.quarter_margins is None:
            self.quarter_margins = [0.0] * QUARTERS_KEPT
        # quarters with no order since the last one booked start from zero
        for passed in range(max(self.margin_quarter + 1, quarter - QUARTERS_KEPT + 1), quarter + 1):
            self.quarter_margins[passed % QUARTERS_KEPT] = 0.0
        self.margin_quarter = max(self.margin_quarter, quarter)
        self.quarter_margins[quarter % QUARTERS_KEPT] += margin

    def trailing_margin(self, week: float) -> float:
        """Margin of the current 13-week quarter so far and the three before it
        (the trailing year that pruning and key accounts are judged on)."""
        quarter = int(week // QUARTER_WEEKS)
        if self.quarter_margins is None or self.margin_quarter <= quarter - QUARTERS_KEPT:
            return 0.0
        first = quarter - QUARTERS_KEPT + 1
        return sum(self.quarter_margins[q % QUARTERS_KEPT] for q in range(first, self.margin_quarter + 1))


def relationship_state(dyads: list[CustomerDyad], week: float,
                       decay_rates: tuple[float, float, float]) -> dict[str, np.ndarray]:
    """The state of many dyads as arrays, decayed to ``week`` (without touching them).

    Parameters
    ----------
    dyads : list of CustomerDyad
    week : float
    decay_rates : (commitment, reciprocity, word of mouth) weekly decay rates

    Returns
    -------
    dict of arrays
        trust, commitment, satisfaction, reciprocity, responsiveness,
        purchases, last_purchase, competitor_advantage.
    """
    commitment_decay, reciprocity_decay, _ = decay_rates
    if not dyads:
        return {name: np.zeros(0) for name in STATE_FIELDS if name != "as_of"}
    # one pass over the dyads for all fields (much faster than one pass per field)
    table = np.array(list(map(_state_getter, dyads)), dtype=float)
    columns = dict(zip(STATE_FIELDS, table.T, strict=True))
    elapsed = week - columns.pop("as_of")
    columns["commitment"] = rules.decay(columns["commitment"], commitment_decay, elapsed)
    columns["reciprocity"] = rules.decay(columns["reciprocity"], reciprocity_decay, elapsed)
    return columns


STATE_FIELDS = ("trust", "commitment", "satisfaction", "reciprocity", "responsiveness", "purchases",
                "last_purchase", "competitor_advantage", "as_of")
_state_getter = operator.attrgetter(*STATE_FIELDS)
