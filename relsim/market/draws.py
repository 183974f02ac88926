"""Scalar random numbers, served from blocks.

A call such as ``Generator.random()`` costs about as much as a whole behaviour
rule in the agent engine. :class:`Draws` takes numbers from one
``numpy.random.Generator`` in blocks and hands them out one at a time; the
sequence is fully determined by the generator's seed, so runs stay
reproducible to the bit.
"""

from __future__ import annotations

import math

import numpy as np

BLOCK = 4096


class Draws:
    """Uniform and normal scalars from ``generator``, drawn ``block`` at a time."""

    __slots__ = ("_normals", "_uniforms", "block", "generator")

    def __init__(self, generator: np.random.Generator, block: int = BLOCK) -> None:
        self.generator = generator
        self.block = block
        self._uniforms: list[float] = []
        self._normals: list[float] = []

    def uniform(self) -> float:
        """A draw from U[0, 1)."""
        if not self._uniforms:
            self._uniforms = self.generator.random(self.block).tolist()
        return self._uniforms.pop()

    def normal(self) -> float:
        """A standard normal draw."""
        if not self._normals:
            self._normals = self.generator.standard_normal(self.block).tolist()
        return self._normals.pop()

    def integer(self, high: int) -> int:
        """A uniform integer in ``[0, high)``."""
        return min(int(self.uniform() * high), high - 1)

    def exponential(self, mean: float) -> float:
        """An exponential draw with the given mean."""
        return -mean * math.log1p(-self.uniform())


def lognormal(mean, cv, normal):
    """A lognormal value with the given mean and coefficient of variation,
    from a standard normal draw ``normal`` (a float or an array).

    ``X = mean · exp(σ·Z − σ²/2)`` with ``σ² = ln(1 + cv²)``, so ``E[X] = mean``.
    """
    if isinstance(normal, np.ndarray):
        sigma, half_variance = lognormal_shape(cv)
        return lognormal_from(mean, sigma, half_variance, normal)
    sigma2 = math.log1p(cv * cv)
    return mean * math.exp(math.sqrt(sigma2) * normal - sigma2 / 2)


def lognormal_shape(cv):
    """``(σ, σ²/2)`` of :func:`lognormal` with coefficient of variation ``cv`` (numpy values):
    ``σ² = ln(1 + cv²)``. Worked out once for a few values (a segment's, a supplier's), then
    gathered for each draw, they give :func:`lognormal_from` the numbers :func:`lognormal`
    works out draw by draw."""
    sigma2 = np.log1p(np.square(cv))
    return np.sqrt(sigma2), sigma2 / 2


def lognormal_from(mean, sigma, half_variance, normal):
    """:func:`lognormal` from its shape (:func:`lognormal_shape`): ``mean · exp(σ·Z − σ²/2)``."""
    return mean * np.exp(sigma * normal - half_variance)


#: Above this rate the CDF walk takes too many steps; numpy's sampler is used.
INVERSION_MAX_RATE = 30.0


def poisson(generator: np.random.Generator, rates: np.ndarray,
            first_terms: np.ndarray | None = None) -> np.ndarray:
    """Poisson counts with the given rates, one uniform draw per rate (inversion).

    ``N = min{k : u < P(X ≤ k)}``, walking the CDF term by term
    (``P(X = k) = P(X = k−1) · λ / k``) only for the draws not settled yet.
    With weekly need rates well below one, almost every customer is settled
    by the first comparison, which makes this several times faster than
    ``Generator.poisson`` for a million customers; rates above
    ``INVERSION_MAX_RATE`` go to ``Generator.poisson``. ``first_terms``: ``e^-rate``
    (``P(X = 0)``) of each rate, if the caller keeps them (the same numbers).
    """
    rates = np.asarray(rates, dtype=float)
    uniforms = generator.random(rates.size)
    counts = np.zeros(rates.size, dtype=np.int64)
    large = rates > INVERSION_MAX_RATE
    if large.any():
        counts[large] = generator.poisson(rates[large])
        uniforms[large] = 0.0          # settled
    term = np.exp(-rates) if first_terms is None else first_terms   # P(X = 0)
    from relsim.market import kernels  # compiled walk (imported here: building a market does not load numba)
    kernels.poisson_walk(uniforms, term, rates, counts)
    return counts


# ==========================================================================
# The random numbers of customer events (relsim.market.events)
# ==========================================================================
#: Every kind of random draw a customer event takes, and the run's stream it
#: comes from in an ordinary run ("events" or "operations", see
#: ``model.STREAMS``). An event function names the purpose of each draw it takes.
PURPOSES = {
    "sample": "events",        # a firm or the model picks customers (MarketModel.sample)
    "choice": "events",        # the logit pick among the firms a buyer knows
    "basket": "events",        # the normal of a lognormal order value
    "basket_gamma": "events",  # a Gamma-Gamma order value
    "dropout": "events",       # BG/NBD dropout after a repeat purchase
    "order_time": "operations",  # when in the week the order is placed
    "lead_time": "operations",   # the normal of the supplier's lead time
    "defect": "operations",      # whether the delivered product is defective
    "question": "operations",    # whether a delivery raises a question
    "voice": "operations",       # complaint after a failure
    "exit": "operations",        # silent exit after a failure
    "handling": "operations",    # desk handling time of a ticket
    "resolution": "operations",  # whether the desk resolves a ticket
    "answer_exit": "events",   # exit after an unresolved complaint
    "listener": "events",      # which contact a talker tells
    "referral": "events",      # a referred prospect tries the firm next week
    "habit": "events",         # a habitual repeat with the current firm, without choosing
}
PURPOSE_CODE = {name: code for code, name in enumerate(PURPOSES)}


class BatchDraws:
    """Event draws in an ordinary run of the array engine: each call draws one
    number per entry of ``customers`` from the purpose's stream, in the order
    of the calls (``need`` is ignored: the whole batch is drawn, as numpy draws
    a batch at once)."""

    #: whether a draw depends on which entries need it and on their dyads (``need``, ``firms``);
    #: an event may skip working those out when it does not
    by_entry = False

    def __init__(self, streams: dict[str, np.random.Generator]) -> None:
        self.streams = streams

    def uniform(self, purpose, customers, firms=0, need=None) -> np.ndarray:
        return self.streams[PURPOSES[purpose]].random(len(customers))

    def normal(self, purpose, customers, firms=0, need=None) -> np.ndarray:
        return self.streams[PURPOSES[purpose]].standard_normal(len(customers))

    def exponential(self, purpose, customers, firms, mean, need=None) -> np.ndarray:
        return self.streams[PURPOSES[purpose]].exponential(mean, len(customers))

    def gamma(self, purpose, customers, firms, shape, scale) -> np.ndarray:
        return self.streams[PURPOSES[purpose]].gamma(shape, scale)


class ReplicateDraws:
    """Event draws for a batch spanning replicates advanced together (``relsim.market.replicates``):
    the batch's customers are rows of the stacked state, replicate ``r`` owning rows
    ``r·size … (r+1)·size − 1``, grouped by replicate (the rows of replicate 0 first, then
    those of replicate 1 …, each replicate's in its own order). Each call splits the batch at
    the replicate boundaries and draws each block from that replicate's streams
    (``replicates[r]``, as :class:`BatchDraws` takes them), so every replicate's streams see the
    same calls with the same sizes as in a separate run: the numbers equal, bit for bit."""

    by_entry = False

    def __init__(self, replicates: list[BatchDraws], size: int) -> None:
        if not replicates:
            raise ValueError("ReplicateDraws needs the streams of at least one replicate")
        self.replicates = replicates
        self.size = size

    def blocks(self, customers) -> list[tuple[int, int, int]]:
        """``(replicate, start, stop)`` of each replicate's block of ``customers`` (rows of the
        stacked state, grouped by replicate), every replicate once, empty blocks included."""
        customers = np.asarray(customers)
        replicate = customers // self.size
        if customers.size and (np.any(np.diff(replicate) < 0) or replicate[0] < 0
                               or replicate[-1] >= len(self.replicates)):
            raise ValueError("a batch drawn for replicates must hold rows of the stacked state "
                             f"(0 … {len(self.replicates) * self.size - 1}) grouped by replicate")
        edges = np.searchsorted(replicate, np.arange(len(self.replicates) + 1), side="left").tolist()
        return [(r, edges[r], edges[r + 1]) for r in range(len(self.replicates))]

    def _each(self, customers, draw) -> np.ndarray:
        parts = [draw(self.replicates[r], start, stop) for r, start, stop in self.blocks(customers)]
        return np.concatenate(parts) if parts else np.zeros(0)

    def uniform(self, purpose, customers, firms=0, need=None) -> np.ndarray:
        return self._each(customers, lambda streams, start, stop: streams.uniform(
            purpose, customers[start:stop]))

    def normal(self, purpose, customers, firms=0, need=None) -> np.ndarray:
        return self._each(customers, lambda streams, start, stop: streams.normal(
            purpose, customers[start:stop]))

    def exponential(self, purpose, customers, firms, mean, need=None) -> np.ndarray:
        mean = np.broadcast_to(mean, len(customers)) if np.ndim(mean) else mean
        return self._each(customers, lambda streams, start, stop: streams.exponential(
            purpose, customers[start:stop], firms, mean[start:stop] if np.ndim(mean) else mean))

    def gamma(self, purpose, customers, firms, shape, scale) -> np.ndarray:
        shape, scale = np.broadcast_to(shape, len(customers)), np.broadcast_to(scale, len(customers))
        return self._each(customers, lambda streams, start, stop: streams.gamma(
            purpose, customers[start:stop], firms, shape[start:stop], scale[start:stop]))


class ScalarDraws:
    """Event draws in an ordinary run of the agent engine: one scalar per entry
    of ``customers`` where ``need`` holds (all entries without ``need``), served
    from blocks (:class:`Draws`) of the purpose's stream; entries not needed get NaN."""

    by_entry = True

    def __init__(self, streams: dict[str, Draws]) -> None:
        self.streams = streams

    def _fill(self, customers, need, draw) -> np.ndarray:
        values = np.full(len(customers), np.nan)
        for position in (range(len(customers)) if need is None else np.flatnonzero(need).tolist()):
            values[position] = draw()
        return values

    def uniform(self, purpose, customers, firms=0, need=None) -> np.ndarray:
        return self._fill(customers, need, self.streams[PURPOSES[purpose]].uniform)

    def normal(self, purpose, customers, firms=0, need=None) -> np.ndarray:
        return self._fill(customers, need, self.streams[PURPOSES[purpose]].normal)

    def exponential(self, purpose, customers, firms, mean, need=None) -> np.ndarray:
        draws = self.streams[PURPOSES[purpose]]
        return self._fill(customers, need, lambda: draws.exponential(mean))

    def gamma(self, purpose, customers, firms, shape, scale) -> np.ndarray:
        generator = self.streams[PURPOSES[purpose]].generator
        return np.array([generator.gamma(a, b) for a, b in zip(np.broadcast_to(shape, len(customers)).tolist(),
                                                              np.broadcast_to(scale, len(customers)).tolist(),
                                                              strict=True)])


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on uint64 arrays (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def keyed_uniforms(seed: int, purpose: int, step: int, customers, firms, occurrence) -> np.ndarray:
    """Counter-based uniforms in (0, 1): a hash of (seed, purpose, step, customer, firm,
    occurrence), so a draw depends on what it is for, never on when it is asked for."""
    with np.errstate(over="ignore"):
        key = _splitmix(np.full(len(customers), np.uint64(seed) * _GOLDEN + np.uint64(purpose + 1)))
        for part in (np.uint64(step + 1), np.asarray(customers, dtype=np.uint64),
                     np.asarray(firms, dtype=np.uint64), np.asarray(occurrence, dtype=np.uint64)):
            key = _splitmix((key + _GOLDEN) ^ part)
    return ((key >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0 ** -53


class KeyedDraws:
    """Event draws for lock-step runs (``MarketModel(..., lockstep=True)``).

    Draw number ``k`` of a purpose for the dyad (customer, firm) in a step is
    :func:`keyed_uniforms` of (seed, purpose, step, customer, firm, k): the
    same in both engines whatever the order in which they schedule the
    events, as long as each dyad's events come in the same order. Only the
    entries where ``need`` holds count as draws (the others get a value that
    the event ignores), so drawing for a whole batch or for one customer at a
    time gives the same numbers. Normals and gammas are the inverse CDFs of
    such uniforms.
    """

    by_entry = True

    def __init__(self, seed: int, clock, firm_count: int) -> None:
        self.seed = seed
        self.clock = clock            # () -> the current step number
        self.firm_count = firm_count
        self.step = -1
        self.counts: dict[tuple[int, int], int] = {}

    def uniform(self, purpose, customers, firms=0, need=None) -> np.ndarray:
        customers = np.asarray(customers, dtype=np.int64)
        firms = np.broadcast_to(np.asarray(firms, dtype=np.int64), customers.shape)
        step = self.clock()
        if step != self.step:
            self.step, self.counts = step, {}
        code = PURPOSE_CODE[purpose]
        chosen = range(customers.size) if need is None else np.flatnonzero(need).tolist()
        occurrence = np.zeros(customers.size, dtype=np.int64)
        counts = self.counts
        for position in chosen:
            key = (code, int(customers[position]) * self.firm_count + int(firms[position]))
            occurrence[position] = counts.get(key, 0)
            counts[key] = occurrence[position] + 1
        values = keyed_uniforms(self.seed, code, step, customers, firms, occurrence)
        if need is not None:
            values[~np.asarray(need, dtype=bool)] = np.nan
        return values

    def normal(self, purpose, customers, firms=0, need=None) -> np.ndarray:
        from scipy.special import ndtri
        return ndtri(self.uniform(purpose, customers, firms, need))

    def exponential(self, purpose, customers, firms, mean, need=None) -> np.ndarray:
        return -mean * np.log1p(-self.uniform(purpose, customers, firms, need))

    def gamma(self, purpose, customers, firms, shape, scale) -> np.ndarray:
        from scipy.special import gammaincinv
        return gammaincinv(shape, self.uniform(purpose, customers, firms)) * scale
