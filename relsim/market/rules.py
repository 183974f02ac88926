"""Behaviour rules: how trust, commitment, satisfaction, reciprocity and
responsiveness move, how customers choose, talk and leave.

Every rule is a small pure function that works on a Python ``float`` **and**
on a ``numpy`` array alike, so the agent engine (one Mesa agent per customer)
and any vectorised engine call the *same* code. Nothing here draws random
numbers or touches agent state: rules map numbers to numbers, and the equation
each one implements is stated in its docstring (and in ``docs/model.md``).

Booleans enter equations as 0/1 (``success * gain``) rather than through
``if`` so that the same line serves a scalar and an array.
"""

from __future__ import annotations

import functools
import math
from typing import TypeVar

import numpy as np

#: A rule argument: a Python float (agent engine) or a numpy array (vectorised use);
#: for the type checker, a rule called on floats returns a float, on arrays an array.
Number = TypeVar("Number", float, np.ndarray)

#: Loyalty-ladder rungs, lowest first. ``rung`` integers index this tuple.
RUNGS: tuple[str, ...] = ("prospect", "customer", "client", "supporter", "advocate", "partner")
PROSPECT, CUSTOMER, CLIENT, SUPPORTER, ADVOCATE, PARTNER = range(6)


# --------------------------------------------------------------------------
# Numeric helpers that keep scalar calls fast (numpy ufuncs on a Python float
# cost ~1 µs each; the agent engine makes millions of such calls).
# --------------------------------------------------------------------------
def clip(value: Number, low: float, high: float) -> Number:
    """Clamp ``value`` to ``[low, high]`` for a scalar or an array."""
    if isinstance(value, np.ndarray):
        return np.clip(value, low, high)
    return _scalar_clip(value, low, high)


def _scalar_clip(value, low, high):
    return low if value < low else high if value > high else value


def minimum(first: Number, second: Number) -> Number:
    """The smaller of ``first`` and ``second``, elementwise for arrays."""
    if isinstance(first, np.ndarray) or isinstance(second, np.ndarray):
        return np.minimum(first, second)
    return _scalar_minimum(first, second)


def _scalar_minimum(first, second):
    return first if first < second else second


def exp(value: Number) -> Number:
    """``e**value`` for a scalar or an array."""
    if isinstance(value, np.ndarray):
        return np.exp(value)
    return math.exp(value)


def _scalar_exp(value):
    return math.exp(value)


def sigmoid(value: Number) -> Number:
    """Logistic function ``1 / (1 + e^-value)``."""
    if isinstance(value, np.ndarray):
        # e^-value overflows to inf below about -709; 1 / (1 + inf) is the correct limit 0,
        # so the overflow is expected and silenced (the scalar form returns 0 there too)
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-value))
    return _scalar_sigmoid(value)


def _scalar_sigmoid(value):
    if value < -700.0:
        return 0.0
    return 1.0 / (1.0 + math.exp(-value))




@functools.lru_cache(maxsize=256)  # called with a handful of scenario constants, millions of times
def logit(probability: float) -> float:
    """Inverse of :func:`sigmoid` for a probability in (0, 1)."""
    probability = min(max(probability, 1e-12), 1.0 - 1e-12)
    return math.log(probability / (1.0 - probability))


# --------------------------------------------------------------------------
# Relationship parameters of a dyad
# --------------------------------------------------------------------------
def decay(value: Number, rate: float, weeks: Number | float = 1.0) -> Number:
    """Geometric decay without contact.

    ``x_{t+w} = x_t · (1 − rate)^w``

    Applying it once for ``w`` weeks equals applying it ``w`` times for one
    week, which lets the agent engine decay a dyad lazily when it is next
    touched.

    >>> decay(0.8, 0.5, 2.0)                     # 0.8 · 0.5²
    0.2
    >>> decay(decay(0.8, 0.5), 0.5) == decay(0.8, 0.5, 2.0)
    True
    >>> decay(np.array([1.0, 0.5]), 0.5)          # the same rule on an array
    array([0.5 , 0.25])
    """
    return value * (1.0 - rate) ** weeks


def update_trust(trust: Number, success: Number, gain: float, loss: float,
                 severity: Number | float = 1.0) -> Number:
    """Trust moves toward observed reliability, faster down than up.

    ``T' = T + s·gain·(1 − T) − (1 − s)·loss·severity·T``

    with ``s = 1`` for a kept promise (on-time, intact delivery) and ``s = 0``
    for a failure. ``loss > gain`` is the negativity bias: one failure undoes
    more trust than one success builds. ``severity`` in ``[0, 1]`` scales a
    failure (a loyal customer forgives a minor one, see
    :func:`failure_severity`). ``T`` stays in ``[0, 1]`` when
    ``loss · severity ≤ 1``; callers clip otherwise.
    """
    return trust + success * gain * (1.0 - trust) - (1.0 - success) * loss * severity * trust


def failure_severity(commitment: Number, minor: Number, forgiveness: float) -> Number:
    """How hard a failure hits, after forgiveness.

    ``severity = 1 − forgiveness · C · minor``

    Committed customers forgive *minor* failures (a late delivery,
    ``minor = 1``) but not major ones (a defective product, ``minor = 0``).
    """
    return 1.0 - forgiveness * commitment * minor


def update_satisfaction(satisfaction: Number, experience: Number, expectation: Number,
                        rate: float) -> Number:
    """Satisfaction is the running average of experience minus expectation.

    ``S' = S + rate · ((x − E) − S)``

    ``x`` is the experience of one delivery in ``[0, 1]``; ``E`` the
    expectation. ``S`` therefore lives in ``[−1, 1]``.
    """
    return satisfaction + rate * ((experience - expectation) - satisfaction)


def tenure_bond(tenure_weeks: Number, scale_weeks: float) -> Number:
    """The share of a saturating tenure effect reached after ``τ`` weeks in a spell.

    ``h(τ) = 1 − e^{−τ/τ_s}``

    **Bounds:** ``0 ≤ h < 1``, increasing, ``h(0) = 0``, ``h(τ_s) ≈ 0.63``: every
    effect of tenure in the model (the calculative bond of commitment, basket
    growth, the falling cost to serve) approaches its full size this way, none
    grows without limit.

    >>> tenure_bond(0.0, 52.0)
    0.0
    >>> round(tenure_bond(52.0, 52.0), 4)
    0.6321
    """
    return 1.0 - exp(-tenure_weeks / scale_weeks)


def commitment_target(trust: Number, reciprocity: Number, tenure_weeks: Number,
                      trust_weight: float, reciprocity_weight: float,
                      tenure_weight: float, tenure_scale: float) -> Number:
    """The level commitment grows toward on contact.

    ``C* = clip(w_T·T + w_R·R + w_τ·(1 − e^{−tenure/τ}), 0, 1)``

    Commitment grows with trust, with goodwill received (reciprocity) and
    with tenure (long relationships bind).
    """
    return clip(trust_weight * trust + reciprocity_weight * reciprocity
                + tenure_weight * tenure_bond(tenure_weeks, tenure_scale),
                0.0, 1.0)


def update_commitment(commitment: Number, target: Number, intensity: Number,
                      rate: float) -> Number:
    """Commitment moves toward its target with every contact.

    ``C' = C + rate · intensity · (C* − C)``

    ``intensity`` measures the contact: a purchase counts 1, a follow-up call
    or personalised offer less, a key-account visit more (scenario values).
    Without contact commitment decays (:func:`decay`).
    """
    return commitment + rate * intensity * (target - commitment)


def update_reciprocity(reciprocity: Number, goodwill: Number) -> Number:
    """Goodwill received beyond the contract accumulates, saturating at 1.

    ``R' = R + g · (1 − R)``

    ``g`` in ``[0, 1]`` is the size of the gesture (reward, recovery,
    priority in a shortage). ``R`` decays without goodwill (:func:`decay`).
    """
    return reciprocity + goodwill * (1.0 - reciprocity)


def response_quality(response_time: Number, target: float) -> Number:
    """How a response time is perceived, in ``[0, 1]``.

    ``ρ = e^{−t / t*}``

    ``t`` is the measured time from ticket to answer in weeks, ``t*`` the
    time a customer finds reasonable. An unanswered ticket (``t = ∞``) gives 0.
    """
    return exp(-response_time / target)


def update_responsiveness(responsiveness: Number, observed: Number, rate: float) -> Number:
    """Perceived responsiveness follows support experience.

    ``Q' = Q + rate · (ρ − Q)``  with ``ρ`` from :func:`response_quality`.
    """
    return responsiveness + rate * (observed - responsiveness)


def answer_responsiveness(observed: Number, resolved: Number, unresolved_weight: float) -> Number:
    """The responsiveness signal of one answered ticket: its speed, and whether it solved the problem.

    ``ρ_Q = ρ · (r + (1 − r)·u)``

    ``ρ`` the response quality (:func:`response_quality`), ``r`` 1 if the ticket was
    resolved, 0 if not, ``u`` (``behaviour.unresolved_response_weight``) the share of a
    resolved answer's signal an unresolved answer of the same speed earns. MODEL.md,
    step 5: "response time and resolution shape perceived responsiveness"; SERVQUAL's
    responsiveness is both prompt service and willingness to help (Parasuraman,
    Zeithaml & Berry 1988, J. Retailing 64(1)). In complaint handling the outcome
    (distributive justice) weighs most and the process (procedural justice: timing)
    least (Orsingher, Valentini & de Angelis 2010, JAMS 38(2), meta-analysis of 60
    studies), so ``u < 1/2`` is the side the evidence points to; the size (0.3) is an
    assumption (docs/evidence.md). The result feeds :func:`update_responsiveness`;
    ``0 ≤ ρ_Q ≤ ρ`` whenever ``0 ≤ u ≤ 1``.

    >>> answer_responsiveness(0.8, 1.0, 0.3), round(answer_responsiveness(0.8, 0.0, 0.3), 12)
    (0.8, 0.24)
    """
    return observed * (resolved + (1.0 - resolved) * unresolved_weight)


def satisfaction_shortfall(shortfall: Number, experience: Number, failure_free_experience: Number,
                           failure: Number, rate: float) -> Number:
    """The satisfaction the latest failure still costs a customer.

    ``D' = α_S·(x_ok − x)``  after a failure,  ``D' = (1 − α_S)·D``  after a good delivery

    written ``D' = (1 − α_S)·D·(1 − f) + α_S·(x_ok − x)`` (``f`` 1 for a failure, 0
    otherwise; a good delivery has ``x = x_ok``). ``x_ok = min(1, q)`` is the experience
    of an on-time, intact delivery. :func:`update_satisfaction` is linear in the
    experience, so ``D`` is exactly how far satisfaction lies below where it would be
    had that delivery been on time and intact, as later deliveries fade the
    difference. It is the most a service recovery may give back
    (:func:`service_recovery`); an earlier failure's loss is not restored.

    >>> round(satisfaction_shortfall(0.0, 0.3, 0.8, 1.0, 0.3), 6)     # a late delivery: 0.3 · (0.8 − 0.3)
    0.15
    >>> round(satisfaction_shortfall(0.15, 0.8, 0.8, 0.0, 0.3), 6)    # then one on time: 0.7 · 0.15
    0.105
    """
    return (1.0 - rate) * shortfall * (1.0 - failure) + rate * (failure_free_experience - experience)


def service_recovery(satisfaction: Number, observed: Number, resolved: Number,
                     bonus: float, shortfall: Number) -> Number:
    """A good recovery restores satisfaction, at most to its failure-free level.

    ``S' = clip(min(S + bonus · ρ · resolved, max(S, S + D)), −1, 1)``

    ``ρ`` is the perceived response quality (:func:`response_quality`), ``D``
    the satisfaction the failure still costs (:func:`satisfaction_shortfall`),
    so ``S + D`` is what an on-time, intact delivery would have given: a fast
    resolved complaint gives back up to ``bonus · ρ`` of what was lost, never more.
    The service-recovery paradox (recovered customers *more* satisfied than
    those who never had a failure) is significant on satisfaction in the
    meta-analysis of de Matos, Henrique & Rossi (2007, Journal of Service
    Research 10(1), 60–77) but not on repurchase intentions or word of mouth;
    satisfaction drives churn and word of mouth here, so the model caps
    recovery at the failure-free level rather than model a paradox whose
    behavioural effect is not found. An unresolved complaint changes nothing.

    >>> service_recovery(0.05, 1.0, 1.0, 0.5, 0.15)     # capped: back to 0.05 + 0.15
    0.2
    >>> service_recovery(0.05, 0.2, 1.0, 0.5, 0.15)     # slow: 0.05 + 0.5 · 0.2
    0.15000000000000002
    >>> service_recovery(0.05, 1.0, 0.0, 0.5, 0.15)     # unresolved
    0.05
    """
    return clip(satisfaction + minimum(bonus * observed * resolved, clip(shortfall, 0.0, 2.0)), -1.0, 1.0)


def recovery_goodwill(restored: Number, goodwill_per_satisfaction: float) -> Number:
    """Goodwill a resolved complaint adds to reciprocity, in proportion to what the recovery gave back.

    ``g = clip(γ_rec · ΔS, 0, 1)``,  ``ΔS = S' − S`` from :func:`service_recovery`

    ``ΔS`` is the satisfaction the recovery restored (at most ``bonus · ρ`` and at most
    what the failure still cost), ``γ_rec`` (``behaviour.recovery_goodwill_per_satisfaction``)
    the goodwill per unit restored: goodwill scales with the value of what the
    customer received (MODEL.md, no free lunch), so a recovery that restores nothing
    (a former customer's, or one whose failure cost nothing any more) buys none. The
    default 0.4 is the goodwill of the rule it replaces (``recovery_goodwill · ρ``,
    0.2·ρ until 2026-11-30) divided by ``behaviour.recovery_bonus`` (0.5): the two agree
    wherever the cap of :func:`service_recovery` does not bind (an assumption,
    docs/evidence.md; recovery raises satisfaction, de Matos, Henrique & Rossi 2007).

    >>> round(recovery_goodwill(0.15, 0.4), 12), recovery_goodwill(0.0, 0.4)
    (0.06, 0.0)
    """
    return clip(goodwill_per_satisfaction * restored, 0.0, 1.0)


def update_knowledge(knowledge: Number, interactions: Number, rate: float) -> Number:
    """The firm's CRM knowledge of a customer grows with every interaction.

    ``K' = 1 − (1 − K)(1 − rate)^n``  after ``n`` interactions.

    ``K`` is the accuracy of personalisation in ``[0, 1]``.
    """
    return 1.0 - (1.0 - knowledge) * (1.0 - rate) ** interactions


# --------------------------------------------------------------------------
# Choice
# --------------------------------------------------------------------------
def choice_utility(quality: Number, price: Number, discount: Number, cashback: Number,
                   price_sensitivity: Number, trust: Number, commitment: Number, reciprocity: Number,
                   responsiveness: Number, wom: Number, appeal: Number, is_current: Number, w_trust: float,
                   w_commitment: float, w_reciprocity: float, w_responsiveness: float, w_wom: float,
                   inertia: float, inertia_commitment: float) -> Number:
    """Utility of buying from one firm.

    ``U = q − β·p·(1 − d)·(1 − c) + w_T·T + w_C·C + w_R·R + w_Q·Q + w_W·W + a
          + current·(ι + ι_C·C)``

    ``p`` is the firm's price index (list price after any promotion), ``d`` the
    discount the customer holds on its next order there (win-back and
    personalised offers, :func:`order_discount`), ``c`` the share of what it
    pays that the firm's loyalty programme gives back (:func:`reward_cashback`),
    ``β`` the customer's price sensitivity, ``W`` the word-of-mouth influence
    heard, ``a`` the firm's advertising appeal (:func:`advertising_appeal`, the
    same for every customer who knows the firm; 0 with
    ``behaviour.advertising_weight`` 0, the default), and the last term the
    inertia for the current firm, which commitment raises (a committed
    customer needs a larger advantage to switch).

    Offers and rewards are money, valued in the customer's own price
    sensitivity: a programme returning a share ``c`` of the spend is worth
    exactly the price cut that saves the same money (``p·(1 − c)`` without a
    programme), to a bargain hunter (large ``β``) and a loyalist (small
    ``β``) alike.

    >>> kw = dict(quality=0.8, price_sensitivity=3.0, trust=0.5, commitment=0.2, reciprocity=0.1,
    ...           responsiveness=0.5, wom=0.0, appeal=0.0, is_current=0, w_trust=1.0, w_commitment=1.0,
    ...           w_reciprocity=0.5, w_responsiveness=0.5, w_wom=1.0, inertia=2.0,
    ...           inertia_commitment=3.0)
    >>> programme = choice_utility(price=1.0, discount=0.0, cashback=0.021, **kw)
    >>> price_cut = choice_utility(price=1.0 - 0.021, discount=0.0, cashback=0.0, **kw)
    >>> round(programme - price_cut, 12)
    0.0
    """
    return (quality - price_sensitivity * price * (1.0 - discount) * (1.0 - cashback)
            + w_trust * trust + w_commitment * commitment
            + w_reciprocity * reciprocity + w_responsiveness * responsiveness + w_wom * wom + appeal
            + is_current * (inertia + inertia_commitment * commitment))


def order_discount(retention_discount: Number, offer_discount: Number) -> Number:
    """The discount on a customer's next order with a firm, from the offers it holds.

    ``d = 1 − (1 − d_r)·(1 − d_o)``

    ``d_r`` the win-back discount (``costs.retention_offer_discount`` if one is
    pending, else 0), ``d_o`` the personalised offer (:func:`offer_discount`, 0
    if none): successive discounts, each on the price left by the other, so
    ``0 ≤ d ≤ 1`` whenever both are. The same ``d`` lowers the price in the
    choice (:func:`choice_utility`) and the revenue of the order the firm books
    (``Firm.sell``): an offer the customer values is paid for by the firm.

    >>> round(order_discount(0.1, 0.0), 12), round(order_discount(0.0, 0.15), 12)
    (0.1, 0.15)
    >>> round(order_discount(0.1, 0.15), 12)          # 1 − 0.9 · 0.85
    0.235
    >>> order_discount(0.0, 0.0)
    0.0
    """
    return 1.0 - (1.0 - retention_discount) * (1.0 - offer_discount)


def offer_discount(full_discount: float, knowledge: Number) -> Number:
    """The discount a personalised offer gives on the next order, from what the CRM knows.

    ``d_o = δ_o · K``

    ``δ_o`` (``behaviour.offer_discount``) is the share of the list price an
    offer built on perfect knowledge of the customer gives off, ``K`` in
    ``[0, 1]`` the firm's knowledge of the customer (:func:`update_knowledge`):
    the better the firm knows what the customer wants, the more the offer is
    worth to it. Before 2026-11-30 an offer added ``offer_value · K`` (0.5 at
    full knowledge) straight to the utility: ``δ_o = 0.5 / β`` at the
    reference price sensitivity ``β = 3`` (1/6), here rounded to 0.15 (an
    assumption, docs/evidence.md).

    >>> offer_discount(0.15, 1.0), offer_discount(0.15, 0.0)
    (0.15, 0.0)
    """
    return full_discount * knowledge


def offer_goodwill(discount: Number, goodwill_per_discount: float) -> Number:
    """Goodwill a personalised offer adds to reciprocity, in proportion to its value.

    ``g = clip(γ_o · d_o, 0, 1)``

    ``d_o`` the offer's discount (a share of the price, :func:`offer_discount`),
    ``γ_o`` (``behaviour.offer_goodwill_per_discount``) the goodwill per unit of
    price given: goodwill scales with the value of what the customer received
    (MODEL.md, no free lunch), so an offer worth nothing buys none. At the
    defaults (``γ_o = 0.3``, ``d_o = 0.15`` at full knowledge) ``g = 0.045``,
    close to the flat 0.05 every offer bought before 2026-11-30 (an assumption,
    docs/evidence.md).

    >>> round(offer_goodwill(0.15, 0.3), 12), offer_goodwill(0.0, 0.3)
    (0.045, 0.0)
    """
    return clip(goodwill_per_discount * discount, 0.0, 1.0)


def key_account_goodwill(cost_per_account: float, weekly_spend: Number, goodwill_per_value: float) -> Number:
    """Goodwill a week of key-account management adds to reciprocity, from the value of the
    manager's time relative to what the customer spends.

    ``g = clip(γ_k · c_a / s, 0, 1)``,  ``c_a = costs.manager_per_week / costs.accounts_per_manager``

    ``c_a`` is what a week of the manager costs the firm per account (the service the
    customer receives, valued at cost), ``s`` the customer's expected weekly spend at
    reference prices (need rate × mean basket), ``γ_k``
    (``behaviour.key_account_goodwill_per_value``) the goodwill per unit of that
    ratio. Goodwill scales with the value of what the customer received (MODEL.md, no
    free lunch), in the same unit as a personalised offer's (:func:`offer_goodwill`: the
    value given as a share of the spend); a manager worth little to a large account buys
    little goodwill, and no manager buys none. ``s ≤ 0`` gives the ceiling 1. The
    default 0.2 gives the flat 0.05 every key-account week bought before 2026-11-30 at a
    manager's time worth a quarter of the weekly spend, the median of ecommerce's key
    accounts (6 a week per account against a median expected spend of 24; an
    assumption, docs/evidence.md).

    >>> round(key_account_goodwill(6.0, 24.0, 0.2), 12)
    0.05
    >>> key_account_goodwill(0.0, 24.0, 0.2)
    0.0
    """
    nothing_spent = 1.0 if cost_per_account > 0 and goodwill_per_value > 0 else 0.0
    if isinstance(weekly_spend, np.ndarray):
        spends = weekly_spend > 0
        ratio = cost_per_account / np.where(spends, weekly_spend, 1.0)
        return np.where(spends, np.clip(goodwill_per_value * ratio, 0.0, 1.0), nothing_spent)
    if weekly_spend <= 0:
        return nothing_spent
    return _scalar_clip(goodwill_per_value * cost_per_account / weekly_spend, 0.0, 1.0)


def win_back_expired(age_weeks: Number, validity_weeks: float) -> Number:
    """Whether a pending win-back discount has expired.

    ``expired = a ≥ V``

    ``a`` the weeks since the firm sent it, ``V`` (``costs.retention_offer_weeks``) its
    validity: a win-back offer is a coupon with an expiry date (coupons carry one to
    bound the firm's liability, and redemptions bunch before it: Inman & McAlister
    1994, J. Marketing Research 31(3); durations differ across brands: Krishna & Zhang
    1999, Management Science 45(8)). MODEL.md, no free lunch: every appeal decays
    without upkeep; an expired discount is gone, and the firm may send (and pay for) a
    new one. The validity, 8 weeks, is an assumption (docs/evidence.md).

    >>> win_back_expired(7.0, 8.0), win_back_expired(8.0, 8.0)
    (False, True)
    """
    return age_weeks >= validity_weeks


def habit_probability(satisfaction: Number, commitment: Number, base: float,
                      w_satisfaction: Number, w_commitment: Number, maximum: float) -> Number:
    """Probability that a purchase occasion is a habitual repeat with the current firm.

    ``π = clip(π_0 + w_S·S + w_C·C, 0, π_max)``

    With probability ``π`` a customer who has a current firm buys there again
    without weighing the alternatives (habit, inattention, switching costs:
    the state dependence of Guadagni & Little 1983 and Dubé, Hitsch & Rossi
    2010; most online shoppers visit a single store per category, Johnson et
    al. 2004); otherwise it chooses by multinomial logit
    (:func:`logit_probabilities`). Satisfaction and commitment raise the
    habit; a dissatisfied customer (``S < 0``) shops around. **Bound:**
    ``π ≤ π_max < 1``, so at least a share ``1 − π_max`` of every customer's
    occasions is a real choice, however loyal it is. ``w_S`` and ``w_C`` may
    be arrays (weighted by the segment's relational orientation).
    """
    return clip(base + w_satisfaction * satisfaction + w_commitment * commitment, 0.0, maximum)


def logit_probabilities(utilities):
    """Multinomial-logit choice probabilities along the last axis.

    ``P_j = e^{U_j} / Σ_k e^{U_k}``  (shifted by the maximum for stability).

    A list of utilities (one customer's options) gives a list, computed in
    plain Python because that is much faster for a handful of options; an
    array gives an array.
    """
    if isinstance(utilities, list):
        return _listed_logit_probabilities(utilities)
    utilities = np.asarray(utilities, dtype=float)
    shifted = np.exp(utilities - utilities.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _listed_logit_probabilities(utilities):
    probabilities = [0.0] * len(utilities)
    logit_probabilities_into(utilities, probabilities)
    return probabilities


def logit_probabilities_into(utilities, probabilities) -> None:
    """:func:`logit_probabilities` of one customer's options (a list or a 1-D array),
    written into ``probabilities`` (a list or an array of the same length): the form
    compiled code calls (``market/kernels.py``), which allocates nothing."""
    top = max(utilities)
    total = 0.0
    for k in range(len(utilities)):
        probabilities[k] = math.exp(utilities[k] - top)
        total += probabilities[k]
    for k in range(len(utilities)):
        probabilities[k] = probabilities[k] / total


def paid_reach(budget: Number, max_reach: float, half_saturation: float) -> Number:
    """Weekly probability that a campaign reaches an unaware customer, with
    diminishing returns.

    ``reach = max_reach · (1 − 2^{−budget / half_saturation})``

    Spending ``half_saturation`` reaches half of ``max_reach``; doubling the
    budget never doubles the reach.
    """
    return max_reach * (1.0 - 2.0 ** (-budget / half_saturation))


def advertising_goodwill(stock: Number, budget: Number, decay_rate: float, weeks: Number | float = 1.0) -> Number:
    """A firm's advertising goodwill stock after a step of ``weeks`` weeks (Nerlove–Arrow).

    ``G' = (1 − δ)·G + b`` for one week; for a step of ``Δ`` weeks at the same
    budget, the weekly recursion applied ``Δ`` times:
    ``G' = (1 − δ)^Δ·G + b·(1 − (1 − δ)^Δ)/δ``

    ``b`` is the firm's acquisition budget in reference budgets per week
    (``strategy.acquisition_budget``), ``δ`` the share of the stock lost each
    week (``behaviour.advertising_decay``, ``0 < δ < 1``). The stock is the
    advertising capital of Nerlove & Arrow (1962, "Optimal advertising policy
    under dynamic conditions", Economica 29(114), 129–142): past spending,
    depreciated. **Steady state** ``G* = b/δ``; a changed budget moves the stock
    toward the new steady state by the share ``δ`` of the gap each week (90 %
    of the way after ``log 0.1 / log(1 − δ)`` weeks: 33 weeks at δ = 0.068).

    >>> round(advertising_goodwill(1.0 / 0.068, 1.0, 0.068), 9) == round(1.0 / 0.068, 9)  # steady state b/δ
    True
    >>> advertising_goodwill(10.0, 0.0, 0.1)                    # no budget: decay only
    9.0
    >>> one_week = advertising_goodwill(advertising_goodwill(2.0, 1.0, 0.1), 1.0, 0.1)
    >>> round(advertising_goodwill(2.0, 1.0, 0.1, 2.0) - one_week, 12)   # a two-week step = two weeks
    0.0
    """
    kept = (1.0 - decay_rate) ** weeks
    return kept * stock + budget * (1.0 - kept) / decay_rate


def advertising_appeal(stock: Number, weight: float, decay_rate: float) -> Number:
    """What a firm's advertising goodwill adds to the choice utility of a customer who
    knows the firm (:func:`choice_utility`'s ``a``), saturating in the stock.

    ``a = w · G / (G + 1/δ)``

    ``G`` the firm's goodwill stock (:func:`advertising_goodwill`), ``w``
    ``behaviour.advertising_weight`` (0 = off), ``δ`` the stock's weekly decay.
    ``1/δ`` is the steady stock of the reference budget (``b = 1``), so a firm
    spending the reference budget for good has ``a = w/2``; at steady state
    ``a = w·b/(b + 1)``: diminishing returns to spend (elasticity ``1/(b + 1)``),
    ``0 ≤ a < w`` for every stock ``G ≥ 0``. The long-run effect of advertising
    on a mature brand's sales is goodwill, not reach (Nerlove & Arrow 1962;
    its size is calibrated, docs/evidence.md "Advertising elasticity").

    >>> advertising_appeal(1.0 / 0.068, 2.0, 0.068)    # the reference budget's steady stock: w/2
    1.0
    >>> advertising_appeal(0.0, 2.0, 0.068), advertising_appeal(50.0, 0.0, 0.068)
    (0.0, 0.0)
    >>> advertising_appeal(1e12, 2.0, 0.068) < 2.0      # bounded by w
    True
    """
    return weight * stock / (stock + 1.0 / decay_rate)


def reward_goodwill(reward_rate: Number, maximum: float, scale: float) -> Number:
    """Goodwill one purchase adds to reciprocity, from the reward's value
    relative to the spend.

    ``g = g_max · (1 − e^{−ρ / ρ_0})``

    ``ρ`` is the share of spend the programme returns (``strategy.reward_rate``),
    ``ρ_0`` the rate at which goodwill reaches 63 % of its ceiling ``g_max``.
    Zero programme, zero goodwill; goodwill is concave in the reward (doubling
    the rate never doubles it), bounded by ``g_max``: a token programme buys
    almost nothing (loyalty programmes' effects are modest and depend on the
    value offered: Dowling & Uncles 1997; Bijmolt, Dorotic & Verhoef 2011).
    """
    if isinstance(reward_rate, np.ndarray):
        return maximum * (1.0 - np.exp(-reward_rate / scale))
    return maximum * (1.0 - math.exp(-reward_rate / scale))


def reward_value(reward_rate: float, enrolled: Number, unenrolled_share: float) -> Number:
    """Share of the spend a firm's loyalty programme returns, as a customer counts on it.

    ``ρ = r · (s + (1 − s) · e)``

    ``r`` the share of spend the programme returns (``strategy.reward_rate``),
    ``e`` 1 if the customer is enrolled (in the firm's programme or its
    alliance), 0 if not (yet), ``s`` the share of the value a customer who is
    not enrolled sees (``behaviour.unenrolled_reward_share``, 0.5: an
    assumption, docs/evidence.md): no points yet, and joining takes a first
    purchase. Zero programme, zero value. What the customer makes of it in its
    choice: :func:`reward_cashback`.

    >>> reward_value(0.04, True, 0.5), reward_value(0.04, False, 0.5)
    (0.04, 0.02)
    """
    return reward_rate * (unenrolled_share + (1.0 - unenrolled_share) * enrolled)


def reward_cashback(reward_value: Number, redemption: float, multiplier: float) -> Number:
    """The share of the price a loyalty programme gives back, as money the customer values.

    ``c = ρ · u · m``

    ``ρ`` the programme's reward value (:func:`reward_value`: the share of spend
    it returns), ``u`` the share of rewards redeemed (``costs.reward_redemption``:
    points that are never redeemed are worth nothing to the customer and cost
    the firm nothing), ``m`` (``behaviour.reward_value_multiplier``) how a
    customer values a unit of rewards against a unit of money: ``m = 1`` (the
    default) values them as the cash they return; no premium for points over
    cash is assumed: customers differ in both directions (Lim, Chun & Satopää
    2024, M&SOM 26(5): heavy earners with the firm value points more than
    money, light earners less; docs/evidence.md). ``c`` enters the choice
    as a price cut (:func:`choice_utility`), so a programme is worth to every
    segment what the same money off the price is worth to it. The firm's
    cost of the programme is the same rule with ``m = 1`` on the revenue
    (``Firm.sell``): what the customer values at ``m = 1`` is what the firm pays.

    >>> round(reward_cashback(0.03, 0.7, 1.0), 12)       # a 3 % programme, 70 % redeemed
    0.021
    >>> reward_cashback(0.0, 0.7, 1.0)
    0.0
    """
    return reward_value * redemption * multiplier


def co_creation_quality(quality: Number, base_quality: Number, partner_value_share: Number,
                        rate: float, half_share: float, decay_rate: float,
                        max_quality: float, weeks: float = 1.0) -> Number:
    """Quality after a step of co-creation (feedback of partner-rung customers).

    ``q' = q + Δ · [γ · g(v) · (q_max − q) − δ · (q − q_0)]``,
    ``g(v) = v / (v + v_½)``

    ``v`` in ``[0, 1]`` is the share of the firm's customer *value* (expected
    spend) held by its partner-rung customers, not their head count, so a
    market with more customers does not co-create more; ``g`` has diminishing
    returns; the gain closes a shrinking share of the gap to ``q_max``;
    without upkeep quality decays toward the firm's own base ``q_0`` at rate
    ``δ``. **Steady state** for a constant ``v``:
    ``q* = q_0 + (q_max − q_0) · γ g(v) / (γ g(v) + δ)``, so
    ``q* < q_0 + (q_max − q_0) · γ / (γ + δ)`` for any ``v`` (and ``q* = q_max``
    only without decay). Stable for ``Δ(γ + δ) < 1``. Co-creation is paid
    for: see :func:`co_creation_cost`. Customer participation in product
    development has modest, stage-dependent effects (Chang & Taylor 2016,
    meta-analysis).
    """
    gain = rate * partner_value_share / (partner_value_share + half_share) * (max_quality - quality)
    return quality + weeks * (gain - decay_rate * (quality - base_quality))


def co_creation_cost(partners: Number, cost_per_partner: float, weeks: float = 1.0) -> Number:
    """Weekly cost of co-creating: ``cost = c_p · N_p · Δ``.

    Panels, community management and the incentives of the ``N_p``
    partner-rung customers whose feedback the firm uses.
    """
    return partners * cost_per_partner * weeks


# --------------------------------------------------------------------------
# Voice and exit
# --------------------------------------------------------------------------
def complaint_probability(commitment: Number, voice_base: float,
                          voice_commitment: float) -> Number:
    """Probability of complaining after a failure (voice instead of exit).

    ``P(complain) = clip(v_0 + v_C · C, 0, 1)``
    """
    return clip(voice_base + voice_commitment * commitment, 0.0, 1.0)


def failure_exit_probability(commitment: Number, exit_after_failure: float,
                             forgiveness: float, magnitude: Number | float = 1.0) -> Number:
    """Probability that a silent customer leaves right after a failure.

    ``P(exit | failure, no complaint) = e_f · μ · (1 − forgiveness · C)``

    ``e_f`` defaults to 1/3: one bad experience drives about one uncommitted
    customer in three away (PwC 2018). ``μ`` in ``[0, 1]`` is the failure's
    magnitude, the experience it takes away: 1 for the worst (a defective
    product, experience 0), ``1 − x_late`` for a late delivery (experience
    ``x_late``): larger failures hurt satisfaction and intentions more (Smith,
    Bolton & Wagner 1999, JMR 36(3)). An unresolved complaint counts as
    ``behaviour.unresolved_complaint_magnitude`` (1: fully).
    """
    return exit_after_failure * magnitude * (1.0 - forgiveness * commitment)


def churn_hazard(satisfaction: Number, commitment: Number, recency_ratio: Number,
                 competitor_advantage: Number, base: float, w_satisfaction: float,
                 w_commitment: float, w_recency: float, w_competitor: float) -> Number:
    """Weekly probability that a customer lapses.

    ``h = σ(logit(h_0) − w_S·S − w_C·C + w_r·(r − 1) + w_A·A)``

    ``r`` is recency over the customer's usual inter-purchase time (RFM: a
    customer overdue for a purchase is at risk), ``A`` the best competitor's
    utility advantage. At ``S = C = A = 0`` and ``r = 1`` the hazard is
    ``h_0``. The weights may be arrays (one per customer: the model weights
    ``w_S`` and ``w_C`` by the segment's relational orientation).
    """
    return sigmoid(logit(base) - w_satisfaction * satisfaction - w_commitment * commitment
                   + w_recency * (recency_ratio - 1.0) + w_competitor * competitor_advantage)


def relationship_dropout(dropout: Number, satisfaction_gap: Number, commitment_gap: Number,
                         w_satisfaction: Number, w_commitment: Number) -> Number:
    """BG/NBD dropout after a repeat purchase, moved by the relationship.

    ``p' = p·m / (1 − p + p·m)``,  ``m = e^{−w_S·(S − S_ref) − w_C·(C − C_ref)}``

    i.e. ``logit p' = logit p − w_S·ΔS − w_C·ΔC``: the customer's fitted
    dropout ``p`` (Fader, Hardie & Lee 2005) is the *baseline* at the
    reference relationship state (the state the log's customers were in under
    the firm's strategy, estimated when calibrating), and satisfaction and
    commitment above it lower the odds of leaving as they lower the
    behavioural hazard (:func:`churn_hazard`). ``p = 0`` stays 0; at
    ``ΔS = ΔC = 0``, ``p' = p``.
    """
    shift = exp(-w_satisfaction * satisfaction_gap - w_commitment * commitment_gap)
    return dropout * shift / (1.0 - dropout + dropout * shift)


def per_step(probability_per_week: Number, step_weeks: float) -> Number:
    """Convert a weekly probability to a step of ``step_weeks`` weeks.

    ``p_step = 1 − (1 − p_week)^{Δ}``

    >>> round(per_step(0.1, 2.0), 4)      # two weeks: 1 − 0.9²
    0.19
    """
    return 1.0 - (1.0 - probability_per_week) ** step_weeks


# --------------------------------------------------------------------------
# Word of mouth and the ladder
# --------------------------------------------------------------------------
def talk_probability(satisfaction: Number, commitment: Number, base: float,
                     w_satisfaction: float, w_commitment: float,
                     promoter_threshold: float, detractor_threshold: float,
                     w_negative: float) -> tuple[Number, Number]:
    """Weekly probabilities of positive and of negative word of mouth.

    ``p⁺ = [S ≥ s⁺] · clip(b + w_S·S + w_C·C, 0, 1)``
    ``p⁻ = [S ≤ s⁻] · clip(b + w_N·|S|, 0, 1)``

    Promoters (satisfied, often committed: advocates) recommend; detractors
    warn others, and they talk more readily (``w_N`` is usually large).
    """
    promoter = satisfaction >= promoter_threshold
    detractor = satisfaction <= detractor_threshold
    positive = promoter * clip(base + w_satisfaction * satisfaction + w_commitment * commitment,
                               0.0, 1.0)
    negative = detractor * clip(base + w_negative * abs(satisfaction), 0.0, 1.0)
    return positive, negative


def listen(speaker_positive: Number, speaker_negative: Number, draw: Number) -> tuple[Number, Number]:
    """Listening formulation of word of mouth (``word_of_mouth.listening``).

    A listener attends to one contact (the speaker), who speaks for a firm
    with probability ``p⁺`` and against it with ``p⁻`` (its
    :func:`talk_probability`; both 0 for a contact who is not the firm's
    customer). With one uniform ``u`` per listener::

        heard = [u < p⁺ + p⁻]     positive = [u < p⁺]

    Averaged over a fully mixed market the chance of hearing is the mean talk
    probability of the others: linear in the firm's adopter share, the
    imitation term q·F(t) of the Bass (1969) model.
    """
    return draw < speaker_positive + speaker_negative, draw < speaker_positive


def update_wom_influence(influence: Number, positive: Number, strength: float,
                         negativity_weight: float, maximum: float) -> Number:
    """Word-of-mouth influence a listener attaches to a firm.

    ``W' = clip(W + s · (positive − (1 − positive) · λ_neg), −W_max, W_max)``

    A recommendation adds ``s`` (``word_of_mouth.strength``), a warning takes
    ``λ_neg · s`` away (``λ_neg > 1``: negative word of mouth weighs more than
    positive). **Bound:** ``|W| ≤ W_max`` (``word_of_mouth.max_influence``):
    however many recommendations a customer hears, word of mouth adds at most
    ``w_W · W_max`` to a firm's utility, and warnings take at most as much away
    (an assumption: docs/evidence.md). Below the bound the update is linear, as
    it always was. ``W`` decays between conversations (:func:`decay`).

    >>> [update_wom_influence(w, 1.0, 0.5, 2.0, 1.0) for w in (0.0, 0.5, 1.0)]   # praise: capped at 1
    [0.5, 1.0, 1.0]
    >>> update_wom_influence(0.5, 0.0, 0.5, 2.0, 1.0), update_wom_influence(-0.5, 0.0, 0.5, 2.0, 1.0)
    (-0.5, -1.0)
    """
    return clip(influence + strength * (positive - (1.0 - positive) * negativity_weight), -maximum, maximum)


def loyalty_rung(is_customer: Number, purchases: Number, trust: Number, commitment: Number,
                 satisfaction: Number, supporter_commitment: float, supporter_trust: float,
                 advocate_commitment: float, partner_commitment: float,
                 promoter_threshold: float, co_creation: float) -> Number:
    """Rung on the loyalty ladder (0 prospect … 5 partner; Christopher, Payne &
    Ballantyne 1991, Relationship Marketing; thresholds are assumptions).

    - prospect: not (or no longer) a customer of the firm;
    - customer: one purchase;  client: repeat purchases;
    - supporter: ``C ≥ c_s`` and ``T ≥ t_s`` (``supporter_trust``, 0.5);
    - advocate: supporter with ``C ≥ c_a`` and ``S ≥ s⁺`` (recommends);
    - partner: advocate with ``C ≥ c_p`` whose firm co-creates with customers
      (``co_creation = 1``: their feedback improves the product).
    """
    rung = is_customer * (1 + (purchases >= 2))
    supporter = is_customer * (commitment >= supporter_commitment) * (trust >= supporter_trust)
    advocate = supporter * (commitment >= advocate_commitment) * (satisfaction >= promoter_threshold)
    partner = advocate * (commitment >= partner_commitment) * co_creation
    return rung + supporter * (3 - rung) + advocate + partner


# --------------------------------------------------------------------------
# Books
# --------------------------------------------------------------------------
def weekly_rate(annual_rate: float) -> float:
    """Weekly discount rate equivalent to an annual one: ``(1+i)^{1/52} − 1``."""
    return (1.0 + annual_rate) ** (1.0 / 52.0) - 1.0


def discount_factor(week: Number, annual_rate: float) -> Number:
    """Present value of one unit received in ``week``: ``(1+i)^{−week/52}``.

    >>> round(discount_factor(52.0, 0.10), 6)   # one year at 10 %: 1 / 1.1
    0.909091
    """
    return (1.0 + annual_rate) ** (-week / 52.0)


def acquisition_cost(won: Number, cost_per_customer: float) -> Number:
    """What winning customers costs beyond the campaign: ``A · n``.

    ``n`` customers won (a spell started during the run: new, switched in or
    returning; not the initial customer base), ``A`` the cost of opening one
    account (``costs.acquisition_per_customer``: sales commission, underwriting,
    set-up, welcome pack). Reichheld & Sasser (1990, "Zero defections", HBR
    68(5)) price a credit-card customer at 51 $ (advertising, application
    processing, account set-up) against 30 $ of profit in its first year (as
    reported second-hand, docs/evidence.md): the cost is sunk at the start,
    so a customer who defects early never repays it. ``A = 0`` (the
    default) books nothing.

    >>> acquisition_cost(3, 51.0)
    153.0
    >>> acquisition_cost(np.array([0.0, 2.0]), 0.0)
    array([0., 0.])
    """
    return won * cost_per_customer


def price_reaction(own_price: Number, rival_cut: Number, match: float, floor: Number) -> Number:
    """A competitor's list price after a rival cut its list price (partial price matching).

    ``p' = min(p, max(f, p · (1 − m · c)))``

    ``p`` is the competitor's list price index, ``c`` the largest relative cut of a
    rival's *list* price since the competitor's previous review (0 when none; a
    negative ``c``, a rise, counts as 0: rises are not followed), ``m``
    (``market.price_match``) the share of the cut matched and ``f`` the floor: the
    price at which the competitor's gross margin is zero (its unit cost, which is on
    the same index as the price: revenue ``basket · p``, cost of goods
    ``basket · unit_cost``). A price already at or below the floor is kept (the
    rule never raises a price). Source of ``m``: over 75 brands in 25 FMCG
    categories competitors match 15 % of a price reduction in the long run, the
    range across cases very wide (Pauwels 2007, "How retailer and competitor
    decisions drive the long-term effectiveness of manufacturer promotions for fast
    moving consumer goods", Journal of Retailing 83(3), 297-308). Temporary
    promotions are not answered: reaction to promotions is predominantly passive
    (Steenkamp, Nijs, Hanssens & Dekimpe 2005, Marketing Science 24(1)).
    **Bounds:** ``min(p, f) ≤ p' ≤ p``; ``p' = p`` when ``m = 0`` or ``c ≤ 0``.

    >>> round(price_reaction(1.0, 0.10, 0.15, 0.75), 6)   # a 10 % cut, 15 % matched
    0.985
    >>> price_reaction(0.8, 0.5, 1.0, 0.75)               # the floor binds
    0.75
    >>> price_reaction(np.array([1.0, 0.7]), 0.2, 1.0, 0.75)   # full match; below the floor: kept
    array([0.8, 0.7])
    """
    if isinstance(own_price, np.ndarray) or isinstance(rival_cut, np.ndarray) or isinstance(floor, np.ndarray):
        cut = np.maximum(rival_cut, 0.0)
        return np.minimum(own_price, np.maximum(floor, own_price * (1.0 - match * cut)))
    cut = rival_cut if rival_cut > 0.0 else 0.0
    return min(own_price, max(floor, own_price * (1.0 - match * cut)))


def tenure_basket_growth(tenure_weeks: Number, growth: float, scale_weeks: float) -> Number:
    """How much more a customer buys per order the longer it stays (Reichheld's
    "increased purchases").

    ``m_b(τ) = 1 + g_b · (1 − e^{−τ/τ_b})``

    ``τ`` is the weeks in the current spell with the firm, ``g_b``
    (``behaviour.basket_growth``) the relative growth a customer's orders
    approach, ``τ_b`` (``behaviour.basket_growth_weeks``) the tenure at which
    63 % of it is reached. **Bounds:** ``1 ≤ m_b < 1 + g_b``, increasing in
    ``τ``, saturating (no customer grows without limit); ``m_b = 1`` at
    ``τ = 0`` or ``g_b = 0`` (the default: no tenure effect). Evidence: the
    average repeat customer of online apparel stores spent 67 % more, of
    online grocers 23 % more, in months 31–36 than in months 1–6 (Bain &
    Company and Mainspring 2000; Reichheld & Schefter 2000, "E-loyalty",
    HBR 78(4)); personal-insurance premiums grow about 8 % a year with the
    policyholder (Reichheld 1996, The Loyalty Effect). In a noncontractual
    catalogue retailer long-lived customers did not reliably spend more
    (Reinartz & Kumar 2000, JM 64(4)): ``g_b = 0`` there.

    >>> tenure_basket_growth(0.0, 0.5, 104.0)
    1.0
    >>> round(tenure_basket_growth(104.0, 0.5, 104.0), 4)    # 1 + 0.5 · (1 − 1/e)
    1.3161
    >>> tenure_basket_growth(np.array([0.0, 1e6]), 0.5, 104.0)
    array([1. , 1.5])
    """
    return 1.0 + growth * tenure_bond(tenure_weeks, scale_weeks)


def tenure_cost_factor(tenure_weeks: Number, saving: float, scale_weeks: float) -> Number:
    """The share of the unit cost of serving an order that a customer of
    tenure ``τ`` still costs (Reichheld's "lower operating costs").

    ``m_c(τ) = 1 − s · (1 − e^{−τ/τ_s})``

    ``s`` (``costs.serve_cost_saving``, ``0 ≤ s < 1``) is the share of the unit
    cost an experienced customer saves (it knows the product, needs fewer
    contacts, makes fewer errors; the firm knows it), ``τ_s``
    (``costs.serve_cost_saving_weeks``) the tenure at which 63 % of that is
    reached. **Bounds:** ``1 − s < m_c ≤ 1``, decreasing in ``τ``,
    saturating; ``m_c = 1`` at ``τ = 0`` or ``s = 0`` (the default).
    Reichheld & Sasser (1990) and Reichheld (1996) report the cost of serving
    a new customer to be highest in its first year (applications, set-up,
    help calls); they give no share, so ``s`` is an assumption
    (docs/evidence.md).

    >>> tenure_cost_factor(0.0, 0.1, 52.0)
    1.0
    >>> tenure_cost_factor(np.array([0.0, 1e6]), 0.1, 52.0)
    array([1. , 0.9])
    """
    return 1.0 - saving * tenure_bond(tenure_weeks, scale_weeks)


def lifetime_value_closed_form(margin: float, retention: float, discount: float) -> float:
    """Mean discounted lifetime value under constant retention.

    ``CLV = m · r / (1 + i − r)``

    margin ``m`` per period counted from the first retained period, retention
    ``r`` and discount rate ``i`` per period (Gupta & Lehmann 2003).

    >>> round(lifetime_value_closed_form(100.0, 0.8, 0.1), 2)   # 100 · 0.8 / 0.3
    266.67
    """
    return margin * retention / (1.0 + discount - retention)


def bass_adopters(weeks: np.ndarray, p: float, q: float) -> np.ndarray:
    """Cumulative adoption share of the Bass (1969) diffusion model.

    ``F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p) e^{−(p+q)t})``
    """
    growth = np.exp(-(p + q) * np.asarray(weeks, dtype=float))
    return (1.0 - growth) / (1.0 + (q / p) * growth)


#: The scalar form of each function above that tests ``isinstance`` (numba cannot
#: test ``isinstance(x, np.ndarray)``), for compiled code: the rules compile
#: unchanged with numba (``market/jit.compiled_rule``), which calls these where a
#: rule calls the helper; ``logit_probabilities`` of one customer's options is its
#: list form (a list or a 1-D array of utilities, returning a list); a function that
#: rules call (``tenure_bond``, ``logit`` without its cache) is its own scalar form.
SCALAR_FORMS = {clip: _scalar_clip, minimum: _scalar_minimum, exp: _scalar_exp, sigmoid: _scalar_sigmoid,
                logit_probabilities: _listed_logit_probabilities, tenure_bond: tenure_bond,
                logit: logit.__wrapped__}
