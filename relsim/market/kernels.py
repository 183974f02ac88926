"""Compiled kernels of customer events (numba), for both engines.

A kernel is the inner loop of an event of :mod:`relsim.market.events`, run
over the event's customers one at a time in compiled code instead of as a
series of numpy operations on the whole batch. It calls the behaviour rules
of :mod:`relsim.market.rules` themselves (compiled as they are written,
``market/jit.py``), never a copy of their equations, and draws no random
numbers: the event function draws them, in the same order as before, and
hands them in. The event function stays the one place that says what
happens (docs/model.md §10); both engines go through it, so the lock-step
test still compares one implementation with itself under two schedules.
"""

from __future__ import annotations

import math

import numpy as np

from relsim.market import rules
from relsim.market.jit import compiled_rule, jit

# the rules the kernels call, compiled (their Python forms are the rules themselves)
_choice_utility = compiled_rule(rules.choice_utility)
_habit_probability = compiled_rule(rules.habit_probability)
_logit_probabilities_into = compiled_rule(rules.logit_probabilities_into)


@jit
def choose(buyers, aware, trust, commitment, reciprocity, responsiveness, wom, offer, satisfaction,
           retention_offer, discount, programmes, programme_bit, current, segment,
           quality, price, reward, price_sensitivity, service_sensitivity, weights,
           habit_base, habit_satisfaction, habit_commitment, habit_max,
           choice_draws, habit_draws, competitor_advantage):
    """The firm each buyer picks (``events.choose``): multinomial logit over the firms
    it knows (``rules.choice_utility``, ``rules.logit_probabilities_into``), or a habitual
    repeat with its current firm (``rules.habit_probability``); writes the best
    alternative's advantage. ``reward[f, enrolled]`` is firm f's programme value."""
    firm_count = quality.size
    picks = np.empty(buyers.size, dtype=np.int64)
    utility = np.empty(firm_count)
    probabilities = np.empty(firm_count)
    for k in range(buyers.size):
        i = buyers[k]
        s = segment[i]
        known = 0
        last_known = 0
        for f in range(firm_count):
            if aware[i, f]:
                known += 1
                last_known = f
                enrolled = 1 if (programmes[i] & programme_bit[f]) != 0 else 0
                utility[f] = _choice_utility(
                    quality[f], price[f] * (1.0 - retention_offer[i, f] * discount), price_sensitivity[s],
                    trust[i, f], commitment[i, f], reciprocity[i, f], responsiveness[i, f] * service_sensitivity[s],
                    reward[f, enrolled], wom[i, f], offer[i, f], current[i] == f,
                    weights[s, 0], weights[s, 1], weights[s, 2], weights[s, 3], weights[s, 4], weights[s, 5],
                    weights[s, 6], weights[s, 7])
            else:
                utility[f] = -math.inf
        several = known > 1
        _logit_probabilities_into(utility, probabilities)
        draw = choice_draws[k] if several else 0.0   # one known firm: no draw, that firm
        pick = 0
        cumulative = 0.0
        for f in range(firm_count):
            cumulative += probabilities[f]
            if cumulative <= draw:
                pick += 1
        # rounding can leave the draw above the last cumulative value: take the last known firm
        pick = min(pick, last_known)
        chosen = utility[pick]
        utility[pick] = -math.inf
        advantage = utility.max() - chosen
        mine = current[i]
        habit = False
        if mine >= 0 and several:
            habit = habit_draws[k] < _habit_probability(satisfaction[i, mine], commitment[i, mine], habit_base,
                                                        habit_satisfaction[s], habit_commitment[s], habit_max)
        if habit:
            picks[k] = mine
        else:
            competitor_advantage[i] = advantage if several else 0.0
            picks[k] = pick
    return picks


@jit
def occurrences(customers, firms, firm_count):
    """The occurrence of each event's dyad in a batch (0 for its first event, 1 for its
    second, ...: ``engines.arrays.rounds``) and the largest occurrence (-1 for an empty
    batch). ``firms`` has one entry per event."""
    size = customers.size
    occurrence = np.zeros(size, dtype=np.int64)
    if size == 0:
        return occurrence, -1
    key = customers.astype(np.int64) * firm_count + firms
    ordered = np.sort(key)
    repeated = False
    for k in range(1, size):
        if ordered[k] == ordered[k - 1]:
            repeated = True
            break
    if not repeated:   # the common case: every dyad once
        return occurrence, 0
    order = np.argsort(key, kind="mergesort")   # stable: a dyad's events keep their order
    largest = 0
    count = 0
    for k in range(1, size):
        if key[order[k]] == key[order[k - 1]]:
            count += 1
            occurrence[order[k]] = count
            largest = max(largest, count)
        else:
            count = 0
    return occurrence, largest


_update_wom_influence = compiled_rule(rules.update_wom_influence)


@jit
def hear(listeners, positive, firm, aware, source, wom, current, referred, spells, strength,
         negativity_weight, wom_code):
    """Word of mouth about ``firm`` reaches ``listeners`` in turn (``events.hear``): each
    learns of the firm (source ``wom_code`` if new), its influence moves
    (``rules.update_wom_influence``), a recommended prospect is marked referred (and, before
    its first spell, won by word of mouth). Returns the prospects, in the listeners' order."""
    prospects = np.empty(listeners.size, dtype=np.int64)
    count = 0
    for k in range(listeners.size):
        i = listeners[k]
        if not aware[i, firm]:
            aware[i, firm] = True
            source[i, firm] = wom_code
        good = 1.0 if positive[k] else 0.0
        wom[i, firm] = _update_wom_influence(wom[i, firm], good, strength, negativity_weight)
        if positive[k] and current[i] != firm:
            referred[i, firm] = True
            if spells[i, firm] == 0:
                source[i, firm] = wom_code
            prospects[count] = i
            count += 1
    return prospects[:count]


@jit
def poisson_walk(uniforms, first_terms, rates, counts):
    """The CDF walk of ``draws.poisson`` for every draw at once: ``counts[i]`` becomes the
    smallest ``k`` with ``uniforms[i] < P(X ≤ k)``, ``P(X = k) = P(X = k−1) · rate / k``
    from ``first_terms[i] = P(X = 0)``; a draw above the CDF's last representable value
    stops when the terms vanish."""
    for i in range(uniforms.size):
        draw = uniforms[i]
        term = first_terms[i]
        if draw < term:
            continue
        cdf = term
        rate = rates[i]
        k = 0
        while True:
            k += 1
            counts[i] = k
            term = term * rate / k
            cdf = cdf + term
            if not (draw >= cdf and term > 0.0):
                break


@jit
def by_firm(firms, firm_count):
    """The positions of a batch's events grouped by firm, in firm order, each firm's in batch
    order (``np.argsort(firms, kind="stable")``, by counting)."""
    starts = np.zeros(firm_count + 1, dtype=np.int64)
    for k in range(firms.size):
        starts[firms[k] + 1] += 1
    for f in range(firm_count):
        starts[f + 1] += starts[f]
    order = np.empty(firms.size, dtype=np.int64)
    for k in range(firms.size):
        f = firms[k]
        order[starts[f]] = k
        starts[f] += 1
    return order


@jit
def pick_listeners(indptr, indices, talkers, uniforms):
    """A random contact of each of ``talkers`` on the CSR network (``indptr``, ``indices``),
    from one uniform each, ``-1`` for one without contacts (``SocialNetwork.pick_listeners``)."""
    listeners = np.empty(talkers.size, dtype=np.int64)
    last = max(indices.size - 1, 0)
    for k in range(talkers.size):
        start = indptr[talkers[k]]
        degree = indptr[talkers[k] + 1] - start
        if degree > 0:
            offset = min(np.int64(uniforms[k] * degree), degree - 1)
            listeners[k] = indices[min(start + offset, last)]
        else:
            listeners[k] = -1
    return listeners


@jit
def record_purchases(buyers, chosen, values, margins, week, first_week, purchases, last_purchase, spend,
                     margin, offer, retention_offer):
    """The CRM record of one order per buyer (``events.purchase``): the first week of a
    dyad's first purchase, the count, the last purchase, spend and margin added; a
    pending offer and win-back discount used up. Returns each dyad's first week."""
    first = np.empty(buyers.size, dtype=first_week.dtype)
    for k in range(buyers.size):
        i = buyers[k]
        f = chosen[k]
        if purchases[i, f] == 0:
            first_week[i, f] = week
        purchases[i, f] += 1
        last_purchase[i, f] = week
        spend[i, f] += values[k]
        margin[i, f] += margins[k]
        offer[i, f] = 0.0
        retention_offer[i, f] = False
        first[k] = first_week[i, f]
    return first


@jit
def states_by_firm(current, firm_count, trust, commitment, satisfaction, reciprocity, responsiveness,
                   purchases, last_purchase, competitor_advantage):
    """Every firm's customers and their relationship state (``CustomerState.state_of``) in
    one pass over the customers: ``starts[f]:starts[f + 1]`` of each returned array holds
    firm f's customers in index order (``members_of``) and their state with it."""
    starts = np.zeros(firm_count + 1, dtype=np.int64)
    for i in range(current.size):
        if current[i] >= 0:
            starts[current[i] + 1] += 1
    for f in range(firm_count):
        starts[f + 1] += starts[f]
    total = starts[firm_count]
    members = np.empty(total, dtype=np.int64)
    out_trust = np.empty(total, dtype=trust.dtype)
    out_commitment = np.empty(total, dtype=commitment.dtype)
    out_satisfaction = np.empty(total, dtype=satisfaction.dtype)
    out_reciprocity = np.empty(total, dtype=reciprocity.dtype)
    out_responsiveness = np.empty(total, dtype=responsiveness.dtype)
    out_purchases = np.empty(total, dtype=purchases.dtype)
    out_last_purchase = np.empty(total, dtype=last_purchase.dtype)
    out_advantage = np.empty(total, dtype=competitor_advantage.dtype)
    next_slot = starts[:firm_count].copy()
    for i in range(current.size):
        f = current[i]
        if f < 0:
            continue
        k = next_slot[f]
        next_slot[f] += 1
        members[k] = i
        out_trust[k] = trust[i, f]
        out_commitment[k] = commitment[i, f]
        out_satisfaction[k] = satisfaction[i, f]
        out_reciprocity[k] = reciprocity[i, f]
        out_responsiveness[k] = responsiveness[i, f]
        out_purchases[k] = purchases[i, f]
        out_last_purchase[k] = last_purchase[i, f]
        out_advantage[k] = competitor_advantage[i]
    return (starts, members, out_trust, out_commitment, out_satisfaction, out_reciprocity, out_responsiveness,
            out_purchases, out_last_purchase, out_advantage)


@jit
def leave(customers, current, counts, key_account, spells, source, returning):
    """The spells of ``customers`` end (``events.leave``; each customer once): each is a
    customer of nobody and no key account; its firm counts one customer less. Returns the
    firms left, each spell's source code (``returning`` after the first spell) and how many
    left each firm."""
    firms = np.empty(customers.size, dtype=np.int64)
    codes = np.empty(customers.size, dtype=np.int8)
    left = np.zeros(counts.size, dtype=np.int64)
    for k in range(customers.size):
        i = customers[k]
        f = current[i]
        firms[k] = f
        left[f] += 1
        counts[f] -= 1
        key_account[i] = False
        codes[k] = source[i, f] if spells[i, f] == 1 else returning
        current[i] = -1
    return firms, codes, left
