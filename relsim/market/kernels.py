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
_order_discount = compiled_rule(rules.order_discount)
_habit_probability = compiled_rule(rules.habit_probability)
_logit_probabilities_into = compiled_rule(rules.logit_probabilities_into)


@jit
def choose(buyers, aware, trust, commitment, reciprocity, responsiveness, wom, offer, satisfaction,
           retention_offer, discount, programmes, programme_bit, current, segment,
           quality, price, cashback, appeal, price_sensitivity, service_sensitivity, weights,
           habit_base, habit_satisfaction, habit_commitment, habit_max,
           choice_draws, habit_draws, competitor_advantage):
    """The firm each buyer picks (``events.choose``): multinomial logit over the firms
    it knows (``rules.choice_utility``, ``rules.logit_probabilities_into``), or a habitual
    repeat with its current firm (``rules.habit_probability``); writes the best
    alternative's advantage. ``offer[i, f]`` is the personalised offer's discount, ``discount`` the
    win-back discount of a pending retention offer (``rules.order_discount`` combines them),
    ``cashback[f, enrolled]`` firm f's programme (``rules.reward_cashback``), ``appeal[f]`` firm f's
    advertising appeal (``rules.advertising_appeal``)."""
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
                held = _order_discount(discount if retention_offer[i, f] else 0.0, np.float64(offer[i, f]))
                utility[f] = _choice_utility(
                    quality[f], price[f], held, cashback[f, enrolled], price_sensitivity[s],
                    trust[i, f], commitment[i, f], reciprocity[i, f], responsiveness[i, f] * service_sensitivity[s],
                    wom[i, f], appeal[f], current[i] == f,
                    weights[s, 0], weights[s, 1], weights[s, 2], weights[s, 3], weights[s, 4], weights[s, 5],
                    weights[s, 6])
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


_update_wom_influence = compiled_rule(rules.update_wom_influence)


@jit
def hear(listeners, positive, firm, aware, source, wom, current, referred, spells, strength,
         negativity_weight, max_influence, wom_code):
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
        wom[i, firm] = _update_wom_influence(np.float64(wom[i, firm]), good, strength, negativity_weight,
                                             max_influence)
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
        if not uniforms[i] < first_terms[i]:
            counts[i] = _poisson_count(uniforms[i], first_terms[i], rates[i])


@jit
def _poisson_count(draw, term, rate):
    """One draw's count of :func:`poisson_walk` (``draw`` not below ``term`` = ``P(X = 0)``)."""
    cdf = term
    k = 0
    while True:
        k += 1
        term = term * rate / k
        cdf = cdf + term
        if not (draw >= cdf and term > 0.0):
            return k


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
def _pairwise_sum(values, first, count, zero):
    """The sum of ``values[first:first + count]`` as numpy sums a contiguous array of the type
    of ``values`` and ``zero`` (float64 or float32: ``np.add.reduce``'s pairwise summation,
    blocks of up to 128 in eight running sums of that type, split in halves above that, to the
    bit; ``tests/test_books.py`` checks float64, ``tests/test_shop_kernels.py`` both types)."""
    if count < 8:
        total = zero
        for k in range(first, first + count):
            total += values[k]
        return total
    if count <= 128:
        r0, r1, r2, r3 = values[first], values[first + 1], values[first + 2], values[first + 3]
        r4, r5, r6, r7 = values[first + 4], values[first + 5], values[first + 6], values[first + 7]
        k = 8
        while k < count - count % 8:
            at = first + k
            r0 += values[at]
            r1 += values[at + 1]
            r2 += values[at + 2]
            r3 += values[at + 3]
            r4 += values[at + 4]
            r5 += values[at + 5]
            r6 += values[at + 6]
            r7 += values[at + 7]
            k += 8
        total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while k < count:
            total += values[first + k]
            k += 1
        return total
    half = count // 2
    half -= half % 8
    return _pairwise_sum(values, first, half, zero) + _pairwise_sum(values, first + half, count - half, zero)


@jit
def sums_by_firm(lines, firms, firm_count):
    """Each firm's sum of each row of ``lines`` (float64, one column per event) over its own
    events (``firms``), in batch order: ``np.add.reduce(lines[r][firms == f])`` to the bit,
    for every firm and row in one call (``Firm.sell``). Returns ``(sums, counts)``:
    ``sums[f, r]`` and the number of events of each firm."""
    rows, size = lines.shape
    counts = np.zeros(firm_count, dtype=np.int64)
    for k in range(size):
        counts[firms[k]] += 1
    starts = np.zeros(firm_count + 1, dtype=np.int64)
    for f in range(firm_count):
        starts[f + 1] = starts[f] + counts[f]
    order = np.empty(size, dtype=np.int64)
    slot = starts[:firm_count].copy()
    for k in range(size):
        order[slot[firms[k]]] = k
        slot[firms[k]] += 1
    grouped = np.empty(size)
    sums = np.zeros((firm_count, rows))
    for r in range(rows):
        for k in range(size):
            grouped[k] = lines[r, order[k]]
        for f in range(firm_count):
            if counts[f] > 0:
                sums[f, r] = 0.0 + _pairwise_sum(grouped, starts[f], counts[f], 0.0)   # numpy adds to its identity
    return sums, counts


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
def add_at(flat, cells, values):
    """``flat[cells] += values`` for cells that each occur once (``state.Dyads.add``): each cell
    read and written in one pass (numpy gathers all, adds, then scatters all); the sum is
    computed in the wider type and stored in the array's, as numpy's in-place add does."""
    for k in range(cells.size):
        flat[cells[k]] += values[k]


@jit
def leave(customers, current, counts, key_account, spells, source, returning, offer):
    """The spells of ``customers`` end (``events.leave``; each customer once): each is a
    customer of nobody and no key account, its firm's personalised offer is withdrawn (``offer``
    cleared); its firm counts one customer less. Returns the
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
        offer[i, f] = 0.0
        codes[k] = source[i, f] if spells[i, f] == 1 else returning
        current[i] = -1
    return firms, codes, left


# -- fused relationship updates (issue #13): the relationship state is stored in 32 bits
# (``state.FLOAT``), the kernels compute every update in 64 bits from the stored values and store
# the result rounded to 32 bits (docs/model.md §10.3, "Arithmetic")
_update_satisfaction = compiled_rule(rules.update_satisfaction)
_failure_severity = compiled_rule(rules.failure_severity)
_update_trust = compiled_rule(rules.update_trust)
_clip = compiled_rule(rules.clip)
_commitment_target = compiled_rule(rules.commitment_target)
_update_commitment = compiled_rule(rules.update_commitment)
_update_knowledge = compiled_rule(rules.update_knowledge)
_update_responsiveness = compiled_rule(rules.update_responsiveness)
_update_reciprocity = compiled_rule(rules.update_reciprocity)
_complaint_probability = compiled_rule(rules.complaint_probability)
_failure_exit_probability = compiled_rule(rules.failure_exit_probability)
_response_quality = compiled_rule(rules.response_quality)
_service_recovery = compiled_rule(rules.service_recovery)
_answer_responsiveness = compiled_rule(rules.answer_responsiveness)
_recovery_goodwill = compiled_rule(rules.recovery_goodwill)
_satisfaction_shortfall = compiled_rule(rules.satisfaction_shortfall)
_talk_probability = compiled_rule(rules.talk_probability)


@jit
def _contact(i, f, intensity, learn, week, current, spell_start, trust, reciprocity, commitment, knowledge,
             contact_terms):
    """A contact of dyad (i, f) (``events.contact``): commitment toward its target
    (``rules.commitment_target``, ``rules.update_commitment``), the CRM's knowledge if ``learn``.
    ``contact_terms``: trust, reciprocity and tenure weights, tenure scale, commitment rate,
    knowledge rate."""
    tenure = week - np.float64(spell_start[i]) if current[i] == f else 0.0
    target = _commitment_target(np.float64(trust[i, f]), np.float64(reciprocity[i, f]), tenure,
                                contact_terms[0], contact_terms[1], contact_terms[2], contact_terms[3])
    commitment[i, f] = _update_commitment(np.float64(commitment[i, f]), target, intensity, contact_terms[4])
    if learn:
        knowledge[i, f] = _update_knowledge(np.float64(knowledge[i, f]), 1, contact_terms[5])


@jit
def contact(customers, firms, intensity, learn, week, current, spell_start, trust, reciprocity, commitment,
            knowledge, contact_terms):
    """Contacts of the dyads ``(customers[k], firms[k])`` (each once), one pass (``events.contact``)."""
    for k in range(customers.size):
        _contact(customers[k], firms[k], intensity, learn, week, current, spell_start, trust, reciprocity,
                 commitment, knowledge, contact_terms)


@jit
def deliver(customers, firms, late, defective, week, firm_count, segment, current, spell_start,
            satisfaction, commitment, trust, reciprocity, knowledge, responsiveness, shortfall,
            quality, level, list_price, expectation, service_sensitivity, terms, contact_terms, follow_up_level):
    """The relationship updates of delivered orders (``events.delivery``; each dyad once), one
    pass: satisfaction (``rules.update_satisfaction``) and, for the customer's current firm, what
    the latest failure still costs it (``rules.satisfaction_shortfall``), the failure's severity and trust
    (``rules.failure_severity``, ``rules.update_trust``, clipped to [0, 1]); the follow-up
    call of a firm at ``follow_up_level`` or above: a contact and responsiveness
    (``rules.update_responsiveness``, the call counting as a response of quality
    ``behaviour.follow_up_responsiveness``). ``terms``: defect and late experience, the expectation's
    price weight, satisfaction rate, forgiveness, trust gain and loss, responsiveness rate,
    follow-up intensity, voice base and commitment weight, exit after failure, follow-up responsiveness.

    Returns, per order: called back, failed while still a customer of the firm, the
    probability of voice (``rules.complaint_probability``) and of a silent exit
    (``rules.failure_exit_probability``) on the commitment after the call; per firm:
    deliveries, failures and follow-up calls."""
    size = customers.size
    follow_up = np.zeros(size, dtype=np.bool_)
    failed = np.zeros(size, dtype=np.bool_)
    voice = np.zeros(size)
    exit_probability = np.zeros(size)
    delivered = np.zeros(firm_count, dtype=np.int64)
    failures = np.zeros(firm_count, dtype=np.int64)
    calls = np.zeros(firm_count, dtype=np.int64)
    defect_experience, late_experience, price_weight, satisfaction_rate, forgiveness = (
        terms[0], terms[1], terms[2], terms[3], terms[4])
    trust_gain, trust_loss, responsiveness_rate, follow_up_intensity = terms[5], terms[6], terms[7], terms[8]
    voice_base, voice_commitment, exit_after_failure, follow_up_observed = terms[9], terms[10], terms[11], terms[12]
    for k in range(size):
        i = customers[k]
        f = firms[k]
        s = segment[i]
        failure = late[k] or defective[k]
        delivered[f] += 1
        if failure:
            failures[f] += 1
        if defective[k]:
            experience = defect_experience
        elif late[k]:
            experience = late_experience
        else:
            experience = min(1.0, quality[f])
        expected = expectation[s] + price_weight * (list_price[f] - 1.0)
        satisfaction[i, f] = _update_satisfaction(np.float64(satisfaction[i, f]), experience, expected,
                                                  satisfaction_rate)
        if current[i] == f:
            shortfall[i] = _satisfaction_shortfall(np.float64(shortfall[i]), experience, min(1.0, quality[f]),
                                                   1.0 if failure else 0.0, satisfaction_rate)
        minor = 1.0 if (late[k] and not defective[k]) else 0.0
        severity = service_sensitivity[s] * _failure_severity(np.float64(commitment[i, f]), minor, forgiveness)
        trust[i, f] = _clip(_update_trust(np.float64(trust[i, f]), 0.0 if failure else 1.0, trust_gain,
                                          trust_loss, severity), 0.0, 1.0)
        if level[f] >= follow_up_level:
            follow_up[k] = True
            calls[f] += 1
            _contact(i, f, follow_up_intensity, True, week, current, spell_start, trust, reciprocity, commitment,
                     knowledge, contact_terms)
            responsiveness[i, f] = _update_responsiveness(np.float64(responsiveness[i, f]), follow_up_observed,
                                                          responsiveness_rate * follow_up_intensity)
        if failure and current[i] == f:
            failed[k] = True
            held = np.float64(commitment[i, f])
            voice[k] = _complaint_probability(held, voice_base, voice_commitment)
            magnitude = 1.0 - (defect_experience if defective[k] else late_experience)
            exit_probability[k] = _failure_exit_probability(held, exit_after_failure, forgiveness, magnitude)
    return follow_up, failed, voice, exit_probability, delivered, failures, calls


@jit
def answer(customers, firms, complaint, response_time, resolved, current, satisfaction, commitment, trust,
           reciprocity, responsiveness, shortfall, terms):
    """The relationship updates of answered tickets (``events.answer``; each dyad once), one
    pass: responsiveness from the response's speed and resolution (``rules.response_quality``,
    ``rules.answer_responsiveness``, ``rules.update_responsiveness``); for a complaint, service recovery
    (``rules.service_recovery``: at most what the latest failure of the customer's current firm
    still costs it, which it reduces; none for a former customer, whose shortfall is not kept)
    and, resolved, goodwill in proportion to the satisfaction restored and trust
    (``rules.recovery_goodwill``, ``rules.update_reciprocity``, ``rules.update_trust``). ``terms``:
    response target, responsiveness rate, recovery bonus, recovery goodwill per unit of satisfaction,
    trust gain and loss, exit after failure, forgiveness, the failure magnitude of an unresolved
    complaint (``behaviour.unresolved_complaint_magnitude``), the weight of an unresolved answer in
    responsiveness (``behaviour.unresolved_response_weight``).

    Returns, per ticket: an unresolved complaint of a customer still with the firm, and the
    probability that it exits (``rules.failure_exit_probability``)."""
    size = customers.size
    unresolved = np.zeros(size, dtype=np.bool_)
    exit_probability = np.zeros(size)
    target, responsiveness_rate, recovery_bonus, recovery_goodwill = terms[0], terms[1], terms[2], terms[3]
    trust_gain, trust_loss, exit_after_failure, forgiveness = terms[4], terms[5], terms[6], terms[7]
    unresolved_magnitude, unresolved_weight = terms[8], terms[9]
    for k in range(size):
        i = customers[k]
        f = firms[k]
        observed = _response_quality(response_time[k], target)
        responsiveness[i, f] = _update_responsiveness(
            np.float64(responsiveness[i, f]),
            _answer_responsiveness(observed, 1.0 if resolved[k] else 0.0, unresolved_weight), responsiveness_rate)
        if not complaint[k]:
            continue
        mine = current[i] == f
        gap = np.float64(shortfall[i]) if mine else 0.0
        before = np.float64(satisfaction[i, f])
        after = _service_recovery(before, observed, 1.0 if resolved[k] else 0.0, recovery_bonus, gap)
        satisfaction[i, f] = after
        if mine:
            shortfall[i] = gap - (after - before)
        if resolved[k]:
            reciprocity[i, f] = _update_reciprocity(np.float64(reciprocity[i, f]),
                                                   _recovery_goodwill(after - before, recovery_goodwill))
            trust[i, f] = _update_trust(np.float64(trust[i, f]), 1.0, trust_gain * observed, trust_loss, 1.0)
        elif current[i] == f:
            unresolved[k] = True
            exit_probability[k] = _failure_exit_probability(np.float64(commitment[i, f]), exit_after_failure,
                                                            forgiveness, unresolved_magnitude)
    return unresolved, exit_probability


@jit
def talkers(satisfaction, commitment, draws, customers, weights):
    """Who talks this week and who of them speaks well of the firm (``events.talkers_and_leavers``),
    from each customer's talk probabilities (``rules.talk_probability``; ``weights``:
    ``model.talk_weights``) and its talk draw (``draws[customers[k]]``, read here rather than
    gathered first): ``talking`` where the draw is below both probabilities' sum, ``positive``
    where it is below the positive one."""
    size = customers.size
    talking = np.empty(size, dtype=np.bool_)
    positive = np.empty(size, dtype=np.bool_)
    for k in range(size):
        draw = draws[customers[k]]
        promote, detract = _talk_probability(np.float64(satisfaction[k]), np.float64(commitment[k]), weights[0],
                                             weights[1], weights[2], weights[3], weights[4], weights[5])
        talking[k] = draw < promote + detract
        positive[k] = draw < promote
    return talking, positive



@jit
def record_purchases(buyers, chosen, values, margins, week, first_week, purchases, last_purchase, spend,
                     margin, offer, retention_offer, intensity, rewarding, reward_goodwill, current, spell_start,
                     trust, reciprocity, commitment, knowledge, contact_terms):
    """The CRM record and relationship updates of one order per buyer (``events.purchase``;
    each buyer once), one pass: the first week of a dyad's first purchase, the count, the last
    purchase, spend and margin added; a pending offer and win-back discount used up; the
    purchase is a contact (``_contact``) and a rewarding firm's programme is goodwill
    (``rules.update_reciprocity`` with ``reward_goodwill[f]``). Returns each dyad's first week."""
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
        _contact(i, f, intensity, True, week, current, spell_start, trust, reciprocity, commitment, knowledge,
                 contact_terms)
        if rewarding[f]:
            reciprocity[i, f] = _update_reciprocity(np.float64(reciprocity[i, f]), reward_goodwill[f])
    return first


_loyalty_rung = compiled_rule(rules.loyalty_rung)


@jit
def rungs_by_firm(starts, purchases, trust, commitment, satisfaction, co_creation, thresholds, rung_count):
    """Every firm's customers on the loyalty ladder (``metrics.Recorder.record_week``): the
    customers ``starts[f]:starts[f + 1]`` of the arrays are firm f's, ``co_creation[f]`` whether
    it co-creates. Returns each customer's rung (``rules.loyalty_rung``), the customers on each
    rung of each firm ``(firm, rung)``, and each firm's promoters (satisfaction at or above the
    promoter threshold) and detractors (at or below the detractor threshold). ``thresholds``:
    supporter commitment and trust, advocate and partner commitment, promoter and detractor
    thresholds, in the state's float type, so each comparison is numpy's on the stored values."""
    firm_count = co_creation.size
    rung = np.empty(purchases.size, dtype=np.int64)
    rungs = np.zeros((firm_count, rung_count), dtype=np.int64)
    promoters = np.zeros(firm_count, dtype=np.int64)
    detractors = np.zeros(firm_count, dtype=np.int64)
    supporter_commitment, supporter_trust, advocate_commitment = thresholds[0], thresholds[1], thresholds[2]
    partner_commitment, promoter, detractor = thresholds[3], thresholds[4], thresholds[5]
    for f in range(firm_count):
        for k in range(starts[f], starts[f + 1]):
            rung[k] = int(_loyalty_rung(1.0, purchases[k], trust[k], commitment[k], satisfaction[k],
                                        supporter_commitment, supporter_trust, advocate_commitment,
                                        partner_commitment, promoter, co_creation[f]))
            rungs[f, rung[k]] += 1
            if satisfaction[k] >= promoter:
                promoters[f] += 1
            if satisfaction[k] <= detractor:
                detractors[f] += 1
    return rung, rungs, promoters, detractors


# --------------------------------------------------------------------------
# branch s14-large: the week's bookkeeping passes over every customer at 10^6
# --------------------------------------------------------------------------
_win_back_expired = compiled_rule(rules.win_back_expired)


@jit
def expire_win_back(codes, words, step, cycle, step_weeks, validity_weeks):
    """Withdraw every pending win-back discount that has expired (``CustomerState.expire_win_back``):
    ``codes`` (one byte per dyad, 0 for none, else 1 + the step it was sent modulo ``cycle``)
    cleared where ``rules.win_back_expired`` holds for the discount's age, ``((step - (code - 1))
    mod cycle)`` steps of ``step_weeks`` weeks; one pass over the codes instead of numpy's find,
    gather and scatter. ``words``: the first ``8 * words.size`` codes read eight at a time
    (almost all are 0), the same memory."""
    for w in range(words.size + (codes.size - 8 * words.size + 7) // 8):
        if w < words.size and words[w] == 0:
            continue
        for c in range(8 * w, min(8 * w + 8, codes.size)):
            code = codes[c]
            if code != 0:
                age_steps = (step - (np.int64(code) - 1)) % cycle
                if _win_back_expired(age_steps * step_weeks, validity_weeks):
                    codes[c] = 0


@jit
def unaware_of(aware, firm):
    """The customers not aware of ``firm`` (``np.flatnonzero(~aware[:, firm])``), in index order,
    in one pass over the awareness array without a negated copy of its column (without branches:
    awareness is too irregular for the processor to predict)."""
    count = 0
    for i in range(aware.shape[0]):
        count += not aware[i, firm]
    unaware = np.empty(count + 1, dtype=np.int64)   # + 1: each customer is written, then kept or not
    k = 0
    for i in range(aware.shape[0]):
        unaware[k] = i
        k += not aware[i, firm]
    return unaware[:count]


@jit
def weekly_needs(uniforms, first_terms, rates, extra, dormant_until, week):
    """The week's purchase occasions (``MarketModel._needs``) in one pass: each customer's
    Poisson count (the CDF walk of :func:`poisson_walk` on its uniform), plus its referral
    trials ``extra`` (then cleared), 0 while it is dormant (``dormant_until > week``; ``week``
    in the type of ``dormant_until``, as numpy compares them)."""
    occasions = np.empty(uniforms.size, dtype=np.int64)
    for i in range(uniforms.size):
        count = 0
        if not uniforms[i] < first_terms[i]:
            count = _poisson_count(uniforms[i], first_terms[i], rates[i])
        occasions[i] = count + extra[i] if dormant_until[i] <= week else 0
        extra[i] = 0
    return occasions


@jit
def stayers(staying, trust, commitment, satisfaction, reciprocity, responsiveness, purchases, last_purchase,
            advantage):
    """The state of the customers who stay (``values[staying]`` of each array, in order) in one
    pass over the eight arrays ``CustomerState.states_by_firm`` gathers, without branches (each
    value written, the position advanced when the customer stays)."""
    count = 0
    for k in range(staying.size):
        count += staying[k]
    out_trust = np.empty(count + 1, dtype=trust.dtype)
    out_commitment = np.empty(count + 1, dtype=commitment.dtype)
    out_satisfaction = np.empty(count + 1, dtype=satisfaction.dtype)
    out_reciprocity = np.empty(count + 1, dtype=reciprocity.dtype)
    out_responsiveness = np.empty(count + 1, dtype=responsiveness.dtype)
    out_purchases = np.empty(count + 1, dtype=purchases.dtype)
    out_last_purchase = np.empty(count + 1, dtype=last_purchase.dtype)
    out_advantage = np.empty(count + 1, dtype=advantage.dtype)
    j = 0
    for k in range(staying.size):
        out_trust[j] = trust[k]
        out_commitment[j] = commitment[k]
        out_satisfaction[j] = satisfaction[k]
        out_reciprocity[j] = reciprocity[k]
        out_responsiveness[j] = responsiveness[k]
        out_purchases[j] = purchases[k]
        out_last_purchase[j] = last_purchase[k]
        out_advantage[j] = advantage[k]
        j += staying[k]
    return (out_trust[:count], out_commitment[:count], out_satisfaction[:count], out_reciprocity[:count],
            out_responsiveness[:count], out_purchases[:count], out_last_purchase[:count], out_advantage[:count])

# s14-small: cheaper 5,000-customer weeks (a purchase's books, the sale, rounds, order terms)
# --------------------------------------------------------------------------
@jit
def book_purchases(buyers, chosen, margins, acquisition, factor, acquisition_margin, ltv, programmes,
                   programme_bit, rewarding):
    """What ``events.purchase`` books after the CRM record, order by order (each buyer once):
    an acquisition's margin (``acquisition[k]``: the dyad's first purchase) or the discounted
    margin of a later purchase (``margins[k] · factor[k]``, ``factor`` the discount factors
    ``rules.discount_factor`` gave in numpy) added to the dyad's lifetime value, and a rewarding
    firm's programme bit set for the buyer. Sums in the wider type, stored in the array's, as
    numpy's in-place add (``add_at``)."""
    firm_count = acquisition_margin.shape[1]
    flat_acquisition = acquisition_margin.reshape(-1)
    flat_ltv = ltv.reshape(-1)
    for k in range(buyers.size):
        i = buyers[k]
        f = chosen[k]
        if acquisition[k]:
            flat_acquisition[i * firm_count + f] += margins[k]
        else:
            flat_ltv[i * firm_count + f] += margins[k] * factor[k]
        if rewarding[f]:
            programmes[i] |= programme_bit[f]


@jit
def add_for_firm(table, column, buyers, chosen, firm, values):
    """``table[buyers[k], column] += values[k]`` for the orders ``k`` of ``firm``
    (``chosen[k] == firm``; each buyer once), in the array's type as ``add_at``."""
    for k in range(buyers.size):
        if chosen[k] == firm:
            table[buyers[k], column] += values[k]


@jit
def sell(chosen, basket, discount, price, unit_cost, reward_share, fee_shares, fee_share, cost_factor, referred,
         firm_count):
    """A batch of orders booked at their firms (``firms.Firm.sell``), order by order: revenue
    ``basket · (price[f] · (1 − discount))``, cost of goods ``basket · unit_cost[f]`` (times
    ``cost_factor`` unless it is None), the distributor's fee ``revenue · share`` (``fee_shares[k]``,
    or ``fee_share`` for all when ``fee_shares`` is None), the rewards ``revenue · reward_share[f]``
    — numpy's operations in numpy's order, so the same numbers. Returns each firm's sums of the four
    lines (``sums_by_firm``), its orders, its referred orders, and each order's margin
    (revenue − cogs − fee − rewards)."""
    size = chosen.size
    lines = np.empty((4, size))
    margins = np.empty(size)
    referrals = np.zeros(firm_count, dtype=np.int64)
    for k in range(size):
        f = chosen[k]
        revenue = basket[k] * (price[f] * (1.0 - discount[k]))
        cogs = basket[k] * unit_cost[f]
        if cost_factor is not None:
            cogs = cogs * cost_factor[k]
        if fee_shares is None:
            fee = revenue * fee_share
        else:
            fee = revenue * fee_shares[k]
        reward = revenue * reward_share[f]
        lines[0, k] = revenue
        lines[1, k] = cogs
        lines[2, k] = fee
        lines[3, k] = reward
        margins[k] = revenue - cogs - fee - reward
        if referred[k]:
            referrals[f] += 1
    sums, counts = sums_by_firm(lines, chosen, firm_count)
    return sums, counts, referrals, margins


@jit
def dyad_rounds(customers, firms, firm_count, one_firm):
    """The rounds of a small batch of events (``engines.arrays.rounds``) without a sort: each
    event's occurrence of its dyad ``(customers[k], firms[k])`` (``firms[0]`` for all when
    ``one_firm``) counted in a hash table of the batch's dyads (open addressing), then the events
    placed by occurrence, each round in batch order. Returns ``(order, starts)``: round ``r`` is
    ``order[starts[r]:starts[r + 1]]``, the same events as the stable sort by dyad of large batches."""
    size = customers.size
    capacity = 16
    while capacity < 2 * size:
        capacity *= 2
    mask = capacity - 1
    keys = np.full(capacity, -1, dtype=np.int64)
    seen = np.zeros(capacity, dtype=np.int64)
    occurrence = np.empty(size, dtype=np.int64)
    largest = 0
    for k in range(size):
        key = customers[k] * firm_count + (firms[0] if one_firm else firms[k])
        slot = ((key * 2654435761) >> 7) & mask
        while keys[slot] != -1 and keys[slot] != key:
            slot = (slot + 1) & mask
        keys[slot] = key
        occurrence[k] = seen[slot]
        seen[slot] += 1
        if occurrence[k] > largest:
            largest = occurrence[k]
    return _by_occurrence(occurrence, largest)


@jit
def order_terms(cells, retention_offer, retention_discount, offer, source, wom_code):
    """What a batch of orders carries into the books (``events.purchase``), dyad by dyad (``cells``:
    flat positions in the (customer × firm) arrays, each given flat): the discount the buyer holds
    (``rules.order_discount`` of the win-back discount if one is pending and the personalised
    offer) and whether the buyer came by word of mouth (``source == wom_code``)."""
    discount = np.empty(cells.size)
    referred = np.empty(cells.size, dtype=np.bool_)
    for k in range(cells.size):
        c = cells[k]
        pending = 1.0 if retention_offer[c] != 0 else 0.0
        discount[k] = _order_discount(pending * retention_discount, np.float64(offer[c]))
        referred[k] = source[c] == wom_code
    return discount, referred


# --------------------------------------------------------------------------
# branch s14-big2: steps 3-6 at 10^6 customers (the deliveries' time order and rounds)
# --------------------------------------------------------------------------
@jit
def _by_occurrence(occurrence, largest):
    """The events placed by occurrence (``occurrence[k]``: how many events of the same dyad
    came before event ``k``; ``largest`` its maximum), each round in batch order: ``(order,
    starts)``, round ``r`` is ``order[starts[r]:starts[r + 1]]`` (a counting sort, stable)."""
    size = occurrence.size
    starts = np.zeros(largest + 2, dtype=np.int64)
    for k in range(size):
        starts[occurrence[k] + 1] += 1
    for r in range(largest + 1):
        starts[r + 1] += starts[r]
    order = np.empty(size, dtype=np.int64)
    slot_of = starts[:largest + 1].copy()
    for k in range(size):
        order[slot_of[occurrence[k]]] = k
        slot_of[occurrence[k]] += 1
    return order, starts


@jit
def dense_rounds(customers, firms, firm_count, one_firm, counts):
    """The rounds of a large batch of events (``engines.arrays.rounds``), as ``dyad_rounds``
    returns them, counting each dyad's events in ``counts`` (one int32 cell per dyad of the
    population, flat; all zero on entry, and again on return) instead of a hash table or a
    sort: two passes of scattered reads over the batch's dyads."""
    size = customers.size
    occurrence = np.empty(size, dtype=np.int64)
    largest = 0
    for k in range(size):
        cell = customers[k] * firm_count + (firms[0] if one_firm else firms[k])
        seen = counts[cell]
        occurrence[k] = seen
        counts[cell] = seen + 1
        if seen > largest:
            largest = seen
    for k in range(size):
        counts[customers[k] * firm_count + (firms[0] if one_firm else firms[k])] = 0
    return _by_occurrence(occurrence, largest)


#: Bits of a radix digit in ``stable_time_order`` (8,192 buckets; 4 passes sort the times of a week from week 2 on).
_RADIX_BITS = 13


@jit
def stable_time_order(times):
    """``np.argsort(times, kind="stable")`` of non-negative times (the week's deliveries), by a
    least-significant-digit radix sort of their bit patterns: the bits of a non-negative float64
    read as an int64 are in the order of the values (``-0.0`` taken as ``0.0``, every NaN as one
    value above infinity, as numpy sorts them last), and each pass is stable, so equal times
    keep their positions. Only the digits where the times differ are sorted (those above the
    span of ``bits − min(bits)`` are all zero). Returns an empty array when a time is negative
    (the caller sorts those with numpy)."""
    size = times.size
    order = np.arange(size)
    if size < 2:
        return order
    values = np.empty(size)
    for k in range(size):
        t = times[k]
        if t != t:
            values[k] = math.inf   # NaN: placed after infinity below
        else:
            values[k] = t + 0.0   # -0.0 + 0.0 == +0.0
        if values[k] < 0.0:
            return np.empty(0, dtype=np.int64)
    keys = values.view(np.int64).copy()
    nan_key = keys.max() + 1   # above every number's bits (infinity's bits + 1 at most)
    for k in range(size):
        if times[k] != times[k]:
            keys[k] = nan_key
    low = keys.min()
    span = 0
    for k in range(size):
        keys[k] -= low
        if keys[k] > span:
            span = keys[k]
    buckets = 1 << _RADIX_BITS
    mask = buckets - 1
    other_keys = np.empty(size, dtype=np.int64)
    other_order = np.empty(size, dtype=np.int64)
    counts = np.empty(buckets, dtype=np.int64)
    shift = 0
    while shift < 64 and (span >> shift) > 0:   # (a shift by 64 or more is undefined)
        counts[:] = 0
        for k in range(size):
            counts[(keys[k] >> shift) & mask] += 1
        total = 0
        for b in range(buckets):
            count = counts[b]
            counts[b] = total
            total += count
        for k in range(size):
            digit = (keys[k] >> shift) & mask
            slot = counts[digit]
            other_keys[slot] = keys[k]
            other_order[slot] = order[k]
            counts[digit] = slot + 1
        keys, other_keys = other_keys, keys
        order, other_order = other_order, order
        shift += _RADIX_BITS
    return order


@jit
def take_due(customer, firm, due, late, defective, until):
    """The deliveries of the calendar (``ArrayPopulation._deliver_and_answer``; five arrays of
    orders) due before ``until``, in time order (``stable_time_order``: numpy's stable argsort
    of their due times), and the rest in calendar order, in one call instead of a mask, its
    positions, a sort and ten gathers. Returns ``(status, delivered…, kept…)``: status 1 and the
    five arrays of each; 0 when no order is due, 2 when a due time is negative (the caller then
    takes them with numpy), with empty arrays (a NaN due time is never due: ``NaN < until`` is false)."""
    count = 0
    for k in range(due.size):
        if due[k] < until:
            count += 1
    positions = np.empty(count, dtype=np.int64)
    times = np.empty(count)
    rest = np.empty(due.size - count, dtype=np.int64)
    n = 0
    r = 0
    for k in range(due.size):
        if due[k] < until:
            positions[n] = k
            times[n] = due[k]
            n += 1
        else:
            rest[r] = k
            r += 1
    # a week's few deliveries by merge sort (the radix sort's passes over its buckets cost more than
    # the sort below a few thousand times)
    order = stable_time_order(times) if count > _MERGE_SORT_MAX else merge_time_order(times)
    status = 1
    if count == 0 or order.size != count:
        status = 0 if count == 0 else 2
        taken = positions[:0].copy()
        rest = positions[:0].copy()
    else:
        taken = positions[order]
    return (status, customer[taken], firm[taken], due[taken], late[taken], defective[taken],
            customer[rest], firm[rest], due[rest], late[rest], defective[rest])


@jit
def first_buyers(occasions, aware_rows):
    """``np.flatnonzero(occasions)`` restricted to the customers who know a firm
    (``aware_rows[i] != 0``: each customer's row of awareness bytes read as one integer,
    ``engines.arrays._first_buyers``), in one pass: the week's first shoppers
    (``ArrayPopulation.shop``)."""
    buyers = np.empty(occasions.size, dtype=np.int64)
    count = 0
    for i in range(occasions.size):
        if occasions[i] != 0 and aware_rows[i] != 0:
            buyers[count] = i
            count += 1
    return buyers[:count].copy()


# --------------------------------------------------------------------------
# --- s15-shop --- cheaper 5,000-customer weeks: a purchase round's switches, books and orders in
# fewer calls (each the numpy operations it replaces, in numpy's order: the same numbers)
# --------------------------------------------------------------------------
@jit
def next_shoppers(buyers, occasions, occasion, dormant_until, week):
    """``buyers[(occasions[buyers] >= occasion) & (dormant_until[buyers] <= week)]`` in one pass:
    the shoppers of a week's next round (``ArrayPopulation.shop``; ``week`` in the type of
    ``dormant_until``, as numpy compares an array with a Python number)."""
    out = np.empty(buyers.size, dtype=buyers.dtype)
    count = 0
    for k in range(buyers.size):
        i = buyers[k]
        if occasions[i] >= occasion and dormant_until[i] <= week:
            out[count] = i
            count += 1
    return out[:count].copy()


@jit
def switches(buyers, chosen, current):
    """Who of a round's buyers switch (``events.purchase``): ``(leaving, joining, joined)``, the
    buyers whose current firm (``current``, read before anyone leaves) is another firm than the
    chosen one, the buyers whose current firm is not the chosen one (another or none) and their
    chosen firms; each in batch order (the masks ``current != chosen`` and ``current >= 0``)."""
    size = buyers.size
    leaving = np.empty(size, dtype=buyers.dtype)
    joining = np.empty(size, dtype=buyers.dtype)
    joined = np.empty(size, dtype=chosen.dtype)
    left = 0
    count = 0
    for k in range(size):
        i = buyers[k]
        mine = current[i]
        if mine != chosen[k]:
            if mine >= 0:
                leaving[left] = i
                left += 1
            joining[count] = i
            joined[count] = chosen[k]
            count += 1
    return leaving[:left].copy(), joining[:count].copy(), joined[:count].copy()


@jit
def sell_and_record(buyers, chosen, values, firm_count, retention_offer, retention_discount, offer, source, wom_code,
                    price, unit_cost, reward_share, fee_shares, cost_factor, week, first_week, purchases,
                    last_purchase, spend, margin, intensity, rewarding, reward_goodwill, current, spell_start, trust,
                    reciprocity, commitment, knowledge, contact_terms):
    """``order_terms``, ``sell`` and ``record_purchases`` of one round's orders (``events.purchase``)
    in one call, in that order: the discount each buyer holds and whether it came by word of
    mouth (read before the record uses the offers up), the sale's book lines by firm and each
    order's margin, then the CRM record. ``fee_shares`` each order's distributor share (None: no
    fee). Returns ``(sums, counts, referrals, margins, first)`` as ``sell`` and ``record_purchases``."""
    cells = buyers * firm_count + chosen
    discount, referred = order_terms(cells, retention_offer.reshape(-1), retention_discount, offer.reshape(-1),
                                     source.reshape(-1), wom_code)
    sums, counts, referrals, margins = sell(chosen, values, discount, price, unit_cost, reward_share, fee_shares,
                                            0.0, cost_factor, referred, firm_count)
    first = record_purchases(buyers, chosen, values, margins, week, first_week, purchases, last_purchase, spend,
                             margin, offer, retention_offer, intensity, rewarding, reward_goodwill, current,
                             spell_start, trust, reciprocity, commitment, knowledge, contact_terms)
    return sums, counts, referrals, margins, first


@jit
def gathered_exponents(customers, codes, sigma, half_variance, normal):
    """``sigma[c] · normal[k] − half_variance[c]`` with ``c = codes[customers[k]]`` (``customers``
    None: ``c = codes[k]``): the exponents of ``draws.lognormal_from`` with each draw's shape
    gathered, without the gathers (numpy then takes the ``exp``)."""
    out = np.empty(normal.size)
    for k in range(normal.size):
        c = codes[k] if customers is None else codes[customers[k]]
        out[k] = sigma[c] * normal[k] - half_variance[c]
    return out


@jit
def gathered_products(customers, codes, mean, growth):
    """``mean[c] · growth[k]`` with ``c = codes[customers[k]]``: ``draws.lognormal_from``'s last
    product with each draw's mean gathered (``growth`` the ``exp`` numpy took)."""
    out = np.empty(growth.size)
    for k in range(growth.size):
        out[k] = mean[codes[customers[k]]] * growth[k]
    return out


@jit
def any_positive_at(values, index):
    """``(values[index] > 0).any()`` without the gathered copy."""
    for k in range(index.size):
        if values[index[k]] > 0:
            return True
    return False


@jit
def order_arrivals(chosen, week, placed, step_weeks, growth, mean, extra, promise, by_firm, defect_draws,
                   defect_rate):
    """When a round's orders arrive and how (``events.order``), order by order: placed at
    ``placed[k] · step_weeks`` into the week, the lead time ``mean[f] · growth[k] + extra[f]``
    (``growth`` the lognormal's ``exp``), due at ``week + delay + lead``, late beyond ``promise``,
    defective when its defect draw (``defect_draws[j]`` for the order ``by_firm[j]``) falls below
    ``defect_rate[f]``. Returns ``(due, late, defective)``."""
    size = chosen.size
    due = np.empty(size)
    late = np.empty(size, dtype=np.bool_)
    defective = np.empty(size, dtype=np.bool_)
    for k in range(size):
        f = chosen[k]
        delay = placed[k] * step_weeks
        lead = mean[f] * growth[k] + extra[f]
        due[k] = week + delay + lead
        late[k] = lead > promise
    for j in range(by_firm.size):
        k = by_firm[j]
        defective[k] = defect_draws[j] < defect_rate[chosen[k]]
    return due, late, defective


@jit
def join_spells(customers, firms, spells, source, returning, source_count, satisfaction_shortfall, spell_start,
                week, current, counts):
    """The spells ``events.join`` starts (customers of nobody now, each once, with ``firms[k]``), one
    pass: the source of each (its first spell's awareness source, ``returning`` after that), the
    dyad's spell count + 1, no shortfall yet, the spell's start ``week`` (in the type of
    ``spell_start``), the current firm and each firm's count. Returns the spells started by firm
    and source ``(firm, source_count)``, as ``events.join`` counts them for the welcome."""
    firm_count = counts.size
    joined = np.zeros((firm_count, source_count), dtype=np.int64)
    flat_spells = spells.reshape(-1)
    flat_source = source.reshape(-1)
    for k in range(customers.size):
        i = customers[k]
        f = firms[k]
        c = i * firm_count + f
        started = flat_spells[c]
        code = flat_source[c] if started == 0 else returning
        joined[f, code] += 1
        flat_spells[c] = started + 1
        satisfaction_shortfall[i] = 0.0
        spell_start[i] = week
        current[i] = f
        counts[f] += 1
    return joined


# --- s15-ops ---
# branch s15-ops: cheaper 5,000-customer weeks (word of mouth and the operations in fewer calls)
# --------------------------------------------------------------------------
@jit
def talk_and_hear(talkers, uniforms, positive, picked, use_picked, indptr, indices, firm, firm_count, aware, source,
                  wom, current, referred, spells, strength, negativity_weight, max_influence, wom_code):
    """A firm's talkers tell one contact each and the contacts reached hear it
    (``events.talk_and_hear``), in one call: each talker's listener from its uniform
    (``pick_listeners`` on the CSR network, or ``picked`` when ``use_picked``: the fully mixed
    network's picks), the talkers without a contact dropped, the conversations put in rounds
    (``dyad_rounds``: every listener's first conversation, then every second one …, each round in
    talker order, as ``engines.arrays.rounds`` orders them) and heard in that order (``hear``).
    Returns the prospects (``hear``'s), the positive conversations and all conversations held."""
    listeners = picked if use_picked else pick_listeners(indptr, indices, talkers, uniforms)
    held = 0
    for k in range(listeners.size):
        if listeners[k] >= 0:
            held += 1
    reached = np.empty(held, dtype=np.int64)
    heard = np.empty(held, dtype=np.bool_)
    praise = 0
    j = 0
    for k in range(listeners.size):
        if listeners[k] >= 0:
            reached[j] = listeners[k]
            heard[j] = positive[k]
            if positive[k]:
                praise += 1
            j += 1
    if held > 1:
        order, starts = dyad_rounds(reached, np.full(1, firm, dtype=np.int64), firm_count, True)
        if starts.size > 2:   # a listener reached twice: the rounds' order
            reached = reached[order]
            heard = heard[order]
    prospects = hear(reached, heard, firm, aware, source, wom, current, referred, spells, strength,
                     negativity_weight, max_influence, wom_code)
    return prospects, praise, held


@jit
def ticket_priority(customers, firms, key_account, current, key_priority, standard_priority):
    """Each ticket's priority at the desk (``events.tickets``): ``key_priority`` for a key account
    of the ticket's firm (``key_account[i]`` and ``current[i] == firms[k]``), else
    ``standard_priority``; ``np.where`` of the two masks' ``&`` in one pass."""
    priority = np.empty(customers.size, dtype=np.int64)
    for k in range(customers.size):
        i = customers[k]
        priority[k] = key_priority if key_account[i] and current[i] == firms[k] else standard_priority
    return priority


#: Batches of due times up to this size are put in order by merge sort in ``take_due`` (``merge_time_order``).
_MERGE_SORT_MAX = 4096


@jit
def merge_time_order(times):
    """``np.argsort(times, kind="stable")`` of a small batch of times (``take_due``), by numba's
    merge sort (stable: equal times, ``-0.0`` and ``0.0`` among them, keep their positions).
    Returns an empty array when a time is NaN (numpy sorts those last; ``take_due`` never passes
    one, and its caller would sort with numpy)."""
    for k in range(times.size):
        if times[k] != times[k]:
            return np.empty(0, dtype=np.int64)
    return np.argsort(times, kind="mergesort")


@jit
def warning_talkers(leavers, firms, until, left, week, current, satisfaction, commitment, draws, weights):
    """The recent leavers still warning (``events.warning_leavers``: ``week < until`` and a customer
    of nobody), kept in their order, and who of them talks this week about the firm it left, and
    for it or against it (``rules.talk_probability`` on its state with that firm, as ``talkers``;
    ``draws[leaver]``). Returns the four kept arrays, then the talkers, their firms and ``positive``."""
    size = leavers.size
    kept = np.empty(size, dtype=np.int64)
    count = 0
    for k in range(size):
        if week < until[k] and current[leavers[k]] < 0:
            kept[count] = k
            count += 1
    kept = kept[:count]
    kept_leavers, kept_firms, kept_until, kept_left = leavers[kept], firms[kept], until[kept], left[kept]
    speaking = np.empty(count, dtype=np.int64)
    positive = np.empty(count, dtype=np.bool_)
    talking = 0
    for k in range(count):
        i = kept_leavers[k]
        f = kept_firms[k]
        draw = draws[i]
        promote, detract = _talk_probability(np.float64(satisfaction[i, f]), np.float64(commitment[i, f]), weights[0],
                                             weights[1], weights[2], weights[3], weights[4], weights[5])
        if draw < promote + detract:
            speaking[talking] = k
            positive[talking] = draw < promote
            talking += 1
    speaking = speaking[:talking]
    return (kept_leavers, kept_firms, kept_until, kept_left, kept_leavers[speaking], kept_firms[speaking],
            positive[:talking].copy())


@jit
def referral_trials(prospects, uniforms, trial, extra):
    """Recommended prospects who try the firm next week (``events.hear``): each whose "referral"
    draw is below ``trial`` gets one more purchase occasion (``extra[prospect] += 1``, each time it
    is drawn; numpy's ``np.add.at(extra, prospects[uniforms < trial], 1)``)."""
    for k in range(prospects.size):
        if uniforms[k] < trial:
            extra[prospects[k]] += 1


@jit
def ask_and_deliver(question_draws, question_rate, times, key_account, key_priority, standard_priority, customers,
                    firms, late, defective, week, firm_count, segment, current, spell_start, satisfaction, commitment,
                    trust, reciprocity, knowledge, responsiveness, shortfall, quality, level, list_price, expectation,
                    service_sensitivity, terms, contact_terms, follow_up_level):
    """A batch of deliveries (``events.delivery``) in one call: who asks the desk a question (its
    "question" draw below ``question_rate``) and those questions' customers, firms, times and
    priorities (``ticket_priority``'s rule), then the relationship updates (``deliver``, whose
    results follow)."""
    size = customers.size
    asked = 0
    for k in range(size):
        if question_draws[k] < question_rate:
            asked += 1
    ask_customers = np.empty(asked, dtype=np.int64)
    ask_firms = np.empty(asked, dtype=np.int64)
    ask_times = np.empty(asked)
    priority = np.empty(asked, dtype=np.int64)
    j = 0
    for k in range(size):
        if question_draws[k] < question_rate:
            i = customers[k]
            ask_customers[j] = i
            ask_firms[j] = firms[k]
            ask_times[j] = times[k]
            priority[j] = key_priority if key_account[i] and current[i] == firms[k] else standard_priority
            j += 1
    follow_up, failed, voice, exit_probability, delivered, failures, calls = deliver(
        customers, firms, late, defective, week, firm_count, segment, current, spell_start, satisfaction, commitment,
        trust, reciprocity, knowledge, responsiveness, shortfall, quality, level, list_price, expectation,
        service_sensitivity, terms, contact_terms, follow_up_level)
    return (ask_customers, ask_firms, ask_times, priority, follow_up, failed, voice, exit_probability, delivered,
            failures, calls)


@jit
def complaints(failed, voice_draws, voice_probability, follow_up, customers, firms, times, key_account, current,
               key_priority, standard_priority, firm_count):
    """Who of the failed deliveries complains (``events.delivery``): its "voice" draw below its
    probability of voice, or called back by the firm; the complaints' customers, firms, times
    and priorities (``ticket_priority``'s rule), the complaints per firm, and who failed and
    stayed silent (a mask)."""
    size = customers.size
    complain = np.zeros(size, dtype=np.bool_)
    silent = np.zeros(size, dtype=np.bool_)
    count = 0
    for k in range(size):
        if failed[k]:
            if voice_draws[k] < voice_probability[k] or follow_up[k]:
                complain[k] = True
                count += 1
            else:
                silent[k] = True
    out_customers = np.empty(count, dtype=np.int64)
    out_firms = np.empty(count, dtype=np.int64)
    out_times = np.empty(count)
    priority = np.empty(count, dtype=np.int64)
    by_firm = np.zeros(firm_count, dtype=np.int64)
    j = 0
    for k in range(size):
        if complain[k]:
            i = customers[k]
            out_customers[j] = i
            out_firms[j] = firms[k]
            out_times[j] = times[k]
            priority[j] = key_priority if key_account[i] and current[i] == firms[k] else standard_priority
            by_firm[firms[k]] += 1
            j += 1
    return out_customers, out_firms, out_times, priority, by_firm, silent


@jit
def chosen_where(mask, draws, probability, customers, times):
    """The customers and times where ``mask`` holds and the draw is below the probability
    (``events.delivery``'s silent exits: ``mask & (draws < probability)``, then both gathered)."""
    count = 0
    for k in range(mask.size):
        if mask[k] and draws[k] < probability[k]:
            count += 1
    out_customers = np.empty(count, dtype=np.int64)
    out_times = np.empty(count)
    j = 0
    for k in range(mask.size):
        if mask[k] and draws[k] < probability[k]:
            out_customers[j] = customers[k]
            out_times[j] = times[k]
            j += 1
    return out_customers, out_times


@jit
def finite_by_desk(desks, response, desk_count):
    """The answers' finite response times grouped by desk (``CompiledDesks.advance_to``): each
    desk's in the order they came (``response[(desks == d) & np.isfinite(response)]`` for
    every desk ``d`` at once). Returns the times and where each desk's start (``starts[d]:starts[d + 1]``)."""
    starts = np.zeros(desk_count + 1, dtype=np.int64)
    for k in range(response.size):
        if math.isfinite(response[k]):
            starts[desks[k] + 1] += 1
    for d in range(desk_count):
        starts[d + 1] += starts[d]
    grouped = np.empty(starts[desk_count])
    slot = starts[:desk_count].copy()
    for k in range(response.size):
        if math.isfinite(response[k]):
            grouped[slot[desks[k]]] = response[k]
            slot[desks[k]] += 1
    return grouped, starts


@jit
def end_spells(customers, current, counts, key_account, spells, source, returning, offer, spell_start, week,
               dormant_until, dormant, set_dormant):
    """``leave``, then what ``events.leave`` records of the spells ended, in the same pass: the
    customers (int32), their firms (``current``'s type), the spells' starts and ends (``week``,
    32-bit) for ``CustomerState.ended_spells``; with ``set_dormant``, each customer's
    ``dormant_until`` set to ``dormant``. Returns those four, then ``leave``'s firms, source codes
    and departures per firm."""
    firms, codes, left = leave(customers, current, counts, key_account, spells, source, returning, offer)
    size = customers.size
    ids = np.empty(size, dtype=np.int32)
    small = np.empty(size, dtype=current.dtype)
    starts = np.empty(size, dtype=spell_start.dtype)
    ends = np.empty(size, dtype=np.float32)
    for k in range(size):
        i = customers[k]
        ids[k] = i
        small[k] = firms[k]
        starts[k] = spell_start[i]
        ends[k] = week
        if set_dormant:
            dormant_until[i] = dormant
    return ids, small, starts, ends, firms, codes, left


@jit
def due_in_rounds(customer, firm, due, late, defective, until, firm_count, counts, small_batch):
    """``take_due``, then the deliveries taken put in rounds (``engines.arrays.rounds``: by
    ``dyad_rounds``, or above ``small_batch`` by ``dense_rounds`` in ``counts``), in one call:
    returns ``take_due``'s status and arrays with the five delivered ones in round order (each
    round in time order), then where each round starts (``starts[r]:starts[r + 1]``)."""
    status, c, f, d, lt, df, kc, kf, kd, klt, kdf = take_due(customer, firm, due, late, defective, until)
    starts = np.zeros(2, dtype=np.int64)
    starts[1] = c.size
    if status == 1 and c.size > 1:
        if c.size <= small_batch:
            order, starts = dyad_rounds(c, f, firm_count, False)
        else:
            order, starts = dense_rounds(c, f, firm_count, False, counts)
        if starts.size > 2:   # a dyad with two deliveries or more: the rounds' order
            c, f, d, lt, df = c[order], f[order], d[order], lt[order], df[order]
    return status, c, f, d, lt, df, kc, kf, kd, klt, kdf, starts


@jit
def stayers_by_firm(leaving, starts, trust, commitment, satisfaction, reciprocity, responsiveness, purchases,
                    last_purchase, advantage):
    """``stayers`` of every firm's customers (``starts[f]:starts[f + 1]`` of the arrays: firm f's)
    who do not leave (``~leaving``), and where each firm's stayers start in them: the eight arrays,
    then ``kept_starts`` (``kept_starts[f]:kept_starts[f + 1]`` firm f's)."""
    staying = np.empty(leaving.size, dtype=np.bool_)
    kept_starts = np.zeros(starts.size, dtype=np.int64)
    for f in range(starts.size - 1):
        count = 0
        for k in range(starts[f], starts[f + 1]):
            staying[k] = not leaving[k]
            if staying[k]:
                count += 1
        kept_starts[f + 1] = kept_starts[f] + count
    (kept_trust, kept_commitment, kept_satisfaction, kept_reciprocity, kept_responsiveness, kept_purchases,
     kept_last_purchase, kept_advantage) = stayers(staying, trust, commitment, satisfaction, reciprocity,
                                                   responsiveness, purchases, last_purchase, advantage)
    return (kept_trust, kept_commitment, kept_satisfaction, kept_reciprocity, kept_responsiveness, kept_purchases,
            kept_last_purchase, kept_advantage, kept_starts)


@jit
def answer_complaints(customers, firms, complaint, response_time, resolved, times, current, satisfaction, commitment,
                      trust, reciprocity, responsiveness, shortfall, terms):
    """``answer``, then its complaints (``events.answer``: those that may end in an exit), in one
    call: their customers, firms and times, whether each is unresolved with the customer still the
    firm's, and its probability of exit (``answer``'s, gathered where ``complaint`` holds)."""
    unresolved, exit_probability = answer(customers, firms, complaint, response_time, resolved, current,
                                          satisfaction, commitment, trust, reciprocity, responsiveness, shortfall,
                                          terms)
    count = 0
    for k in range(customers.size):
        if complaint[k]:
            count += 1
    out_customers = np.empty(count, dtype=np.int64)
    out_firms = np.empty(count, dtype=np.int64)
    out_times = np.empty(count)
    out_unresolved = np.empty(count, dtype=np.bool_)
    out_probability = np.empty(count)
    j = 0
    for k in range(customers.size):
        if complaint[k]:
            out_customers[j] = customers[k]
            out_firms[j] = firms[k]
            out_times[j] = times[k]
            out_unresolved[j] = unresolved[k]
            out_probability[j] = exit_probability[k]
            j += 1
    return out_customers, out_firms, out_times, out_unresolved, out_probability


# --------------------------------------------------------------------------
# --- s15-shop2 ---
# --------------------------------------------------------------------------
@jit
def firm_means(block, starts, zero):
    """Each firm's mean of each row of ``block`` over its customers ``starts[f]:starts[f + 1]``
    (``metrics.Recorder.record_week``'s relationship means), for every firm and row in one call:
    numpy's ``(np.add.reduce(block[:, start:end], axis=1) / np.intp(n)).astype(block.dtype)`` to
    the bit — the pairwise sum added to numpy's identity in the block's type (``zero``), divided
    in float64 (numpy's type of a float32 array over an ``intp``), stored back in the block's
    type. A firm without customers gets 0 (the record writes NaN for it)."""
    rows = block.shape[0]
    firm_count = starts.size - 1
    means = np.zeros((firm_count, rows), dtype=block.dtype)
    for f in range(firm_count):
        count = starts[f + 1] - starts[f]
        if count == 0:
            continue
        for r in range(rows):
            total = zero + _pairwise_sum(block[r], starts[f], count, zero)
            means[f, r] = np.float64(total) / np.float64(count)
    return means
