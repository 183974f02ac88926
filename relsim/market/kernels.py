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
_logit_probabilities = compiled_rule(rules.logit_probabilities)


@jit
def choose(buyers, aware, trust, commitment, reciprocity, responsiveness, wom, offer, satisfaction,
           retention_offer, discount, programmes, programme_bit, current, segment,
           quality, price, reward, price_sensitivity, service_sensitivity, weights,
           habit_base, habit_satisfaction, habit_commitment, habit_max,
           choice_draws, habit_draws, competitor_advantage):
    """The firm each buyer picks (``events.choose``): multinomial logit over the firms
    it knows (``rules.choice_utility``, ``rules.logit_probabilities``), or a habitual
    repeat with its current firm (``rules.habit_probability``); writes the best
    alternative's advantage. ``reward[f, enrolled]`` is firm f's programme value."""
    firm_count = quality.size
    picks = np.empty(buyers.size, dtype=np.int64)
    utility = np.empty(firm_count)
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
        probabilities = _logit_probabilities(utility)
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
