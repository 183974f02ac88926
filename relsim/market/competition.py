"""Competitors that answer back (``market.competition = "adaptive"``).

Every ``market.review_weeks`` each competitor (every firm but the focal one,
whose strategy is what a study varies) looks at its own books over the review
period and at its rivals': if the most profitable firm earned clearly more
than it did, or it lost customers on net, it moves its levers part of the way
toward that firm's — imitation of the most profitable rival (Lieberman &
Asaba 2006, "Why do firms imitate each other?", Academy of Management
Review 31(2)) — with inertia (it reacts at a review only with probability
``1 − adaptation_inertia``: organisational inertia, Hannan & Freeman 1984)
and a one-off cost of changing (``adaptation_cost`` weeks of the market's
reference acquisition budget, booked to the ``adaptation`` line).

What moves: price, promotion depth and rhythm, acquisition budget, reward
rate, personalisation, retention offers, the Kotler level (one level per
review at most) and the support desk: its capacity moves with the other
levers and the desk is resized with the strategy (agents hired or let go at
the review, :func:`resize_desk`; a desk exists from level 2, as at the
start). What does not: key accounts and pruning (they need records kept
from the start), alliance membership and the supplier contract (contracts
signed at the start).

Competitors also answer a rival's price cut in part (``market.price_match``,
:func:`relsim.market.rules.price_reaction`; Pauwels 2007, J. Retailing 83(3):
15 % matched in the long run): at every review each competitor that did not
imitate at it lowers its list price by ``price_match`` times the largest
relative list-price cut a rival made since the previous review (a cut made at
that review included), never below its unit cost. The list prices a review saw
(before its moves) are kept on each firm (``Firm.reviewed_price``, so
replicates stay apart); price rises and temporary
promotions are not answered (reaction is predominantly passive: Steenkamp et
al. 2005, Marketing Science 24(1)); inertia holds back strategy moves, not
this reaction (the published share already averages firms that never react);
a new price tag costs nothing but its margin. The focal firm never reacts.
The rule reads only the firm's books and its rivals' observable results, so both
engines share it: ``MarketModel.begin_step`` runs it at the start of a step, after the
week's books are cleared and before the suppliers and firms act.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from relsim.market import rules
from relsim.market.operations import SupportDesk
from relsim.scenario.strategies import Strategy

if TYPE_CHECKING:
    from relsim.market.firms import Firm
    from relsim.market.interfaces import Market as MarketModel

#: Continuous levers moved part of the way toward the rival's value.
CONTINUOUS = ("price", "acquisition_budget", "reward_rate", "personalisation", "promotion_discount",
              "service_capacity")


def imitate(own: Strategy, rival: Strategy, step: float) -> Strategy:
    """``own`` moved a share ``step`` of the way toward ``rival``.

    ``x' = x + step · (x_rival − x)`` for the continuous levers; the level
    moves by one toward the rival's; the promotion rhythm and retention
    offers are copied once the level allows them; everything else is kept.
    """
    update = {name: getattr(own, name) + step * (getattr(rival, name) - getattr(own, name))
              for name in CONTINUOUS}
    update["level"] = own.level + int(np.sign(rival.level - own.level))
    if rival.promotion_every_weeks == 0:
        if update["promotion_discount"] < 0.01:   # promotions faded out
            update.update(promotion_discount=0.0, promotion_every_weeks=0)
    else:
        update["promotion_every_weeks"] = rival.promotion_every_weeks
    if update["level"] >= 4:
        update["retention_offer"] = rival.retention_offer or own.retention_offer
    return own.model_copy(update=update)


def review(model: MarketModel) -> list[tuple[str, str]]:
    """The competitors' review, at the start of the first step after a review period
    (after the week's books are cleared, so the cost of a move is in the new
    week's books); returns the moves made as ``(firm, rival imitated)`` pairs
    (also kept in ``model.strategy_moves`` with the week)."""
    market = model.spec.market
    steps_per_review = max(1, round(market.review_weeks / model.step_weeks))
    done = model.steps - 1   # weeks on the books: the review runs at the start of a step
    if done == 0 or done % steps_per_review != 0:
        return []
    window = model.recorder.rows[-steps_per_review * len(model.firms):]
    profit = {firm.name: 0.0 for firm in model.firms}
    lost = dict.fromkeys(profit, 0)
    won = dict.fromkeys(profit, 0)
    for row in window:
        profit[row["firm"]] += row["profit"]
        lost[row["firm"]] += row["churned"]
        won[row["firm"]] += row["new_customers"]
    best = max(model.firms, key=lambda f: (profit[f.name], -f.index))
    scale = max(abs(profit[best.name]), market.reference_budget * steps_per_review * model.step_weeks)
    # each firm's list-price cut since the list prices the previous review saw (before its moves,
    # so a cut made at a review, a reaction included, is seen at the next one); read before anyone moves
    cuts = {firm.name: list_price_cut(firm.reviewed_price, firm.strategy.price) for firm in model.firms}
    for firm in model.firms:
        firm.reviewed_price = firm.strategy.price
    moves = []
    for firm in model.firms[1:]:
        if _imitates(model, firm, best, profit, lost, won, scale):
            moved = imitate(firm.strategy, best.strategy, market.adaptation_step)
            if moved != firm.strategy:
                adopt(firm, moved)
                moves.append((firm.name, best.name))
                continue   # a competitor that imitated does not also answer a cut at this review
        rival_cut = max(cut for name, cut in cuts.items() if name != firm.name)
        if market.price_match > 0 and rival_cut > 0:
            react(firm, rival_cut)
    model.strategy_moves.extend((model.week, firm, rival) for firm, rival in moves)
    return moves


def _imitates(model: MarketModel, firm: Firm, best: Firm, profit: dict[str, float], lost: dict[str, int],
              won: dict[str, int], scale: float) -> bool:
    """Whether ``firm`` moves toward ``best`` at this review: it is not the best, trails it
    clearly or lost customers on net, and inertia does not hold it back (one draw)."""
    market = model.spec.market
    if firm is best:
        return False
    behind = profit[best.name] - profit[firm.name] > market.adaptation_threshold * scale
    losing = lost[firm.name] > won[firm.name]
    if not (behind or losing):
        return False
    return not model.rng_competition.random() < market.adaptation_inertia


def list_price_cut(before: float, now: float) -> float:
    """Relative cut of a list price from ``before`` to ``now``: ``max(0, 1 − now/before)``
    (a rise counts as no cut).

    >>> round(list_price_cut(1.0, 0.9), 6), list_price_cut(0.9, 1.0)
    (0.1, 0.0)
    """
    return max(0.0, 1.0 - now / before)


def react(firm: Firm, rival_cut: float) -> None:
    """``firm`` answers a rival's list-price cut ``rival_cut`` (:func:`rules.price_reaction`,
    ``market.price_match`` of it, down to its expected unit cost: the floor does not follow
    one week's spot noise, :meth:`relsim.market.partners.Supplier.expected_unit_cost`).

    Only the list price moves (``strategy.price``, and ``firm.price`` with it, as
    :func:`adopt` does); a price change costs nothing but its margin (no
    ``adaptation_cost``: that is the cost of a strategy move, not of a new price
    tag). The new price is also the price the next review compares with, so a reaction is
    not itself answered as a cut: the competitors' long-run match of a rival's cut is
    ``price_match``, the published cumulative figure it is taken from, not
    ``m/(1 − m)`` of reactions echoing among them (which also let a match of 0.5 or more
    ratchet prices down to the floor). The move is recorded in ``model.price_reactions``
    as ``(week, firm, price)``.
    """
    model = firm.model
    floor = firm.supplier.expected_unit_cost(firm)
    price = rules.price_reaction(firm.strategy.price, rival_cut, model.spec.market.price_match, floor)
    if price < firm.strategy.price:
        firm.strategy = firm.strategy.model_copy(update={"price": price})
        firm.price = firm.price_now()
        firm.reviewed_price = price
        model.price_reactions.append((model.week, firm.name, price))


def desk_agents(strategy: Strategy, reference_agents: float) -> int:
    """Desk agents a strategy staffs: ``max(1, round(capacity · reference))`` from
    level 2 with a positive ``service_capacity``, else none (as ``Firm`` at the start)."""
    if strategy.level >= 2 and strategy.service_capacity > 0:
        return max(1, round(strategy.service_capacity * reference_agents))
    return 0


def resize_desk(desk: SupportDesk, agents: int) -> None:
    """Give ``desk`` ``agents`` servers from now on.

    Tickets being handled finish with the agent who has them; queued tickets
    are served as agents free up (a larger desk starts serving its queue at
    once); a desk cut to no agents answers no new ticket (those already queued
    wait until served or their patience runs out, as before the cut). The
    weekly desk cost follows ``desk.agents`` from the next booking on.
    """
    if agents == desk.agents:
        return
    added = agents - desk.agents
    desk.agents = agents
    if desk.resource is None:               # a firm that never had a desk: a fresh priority queue
        desk.resource = SupportDesk(desk.env, agents).resource
        return
    # the same queue whatever the size, as in the compiled desk (market/desk.py): cut to no agents,
    # the tickets in hand finish and are released on it, the queued ones wait (for a desk that
    # grows again, or until their patience runs out); new tickets go unanswered (``desk.agents``)
    desk.resource._capacity = agents        # SimPy keeps the capacity there; no public setter
    for _ in range(added):                  # a larger desk takes queued tickets now (one per call)
        desk.resource._trigger_put(None)


def adopt(firm: Firm, strategy: Strategy) -> None:
    """``firm`` switches to ``strategy``, resizes its desk and pays the cost of changing."""
    market = firm.model.spec.market
    firm.strategy = strategy
    firm.price = strategy.price
    firm._strategy_changed()
    resize_desk(firm.desk, desk_agents(strategy, market.reference_desk_agents))
    firm.books["adaptation"] += market.adaptation_cost * market.reference_budget
