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
        sigma2 = np.log1p(np.square(cv))
        return mean * np.exp(np.sqrt(sigma2) * normal - sigma2 / 2)
    sigma2 = math.log1p(cv * cv)
    return mean * math.exp(math.sqrt(sigma2) * normal - sigma2 / 2)


#: Above this rate the CDF walk takes too many steps; numpy's sampler is used.
INVERSION_MAX_RATE = 30.0


def poisson(generator: np.random.Generator, rates: np.ndarray) -> np.ndarray:
    """Poisson counts with the given rates, one uniform draw per rate (inversion).

    ``N = min{k : u < P(X ≤ k)}``, walking the CDF term by term
    (``P(X = k) = P(X = k−1) · λ / k``) only for the draws not settled yet.
    With weekly need rates well below one, almost every customer is settled
    by the first comparison, which makes this several times faster than
    ``Generator.poisson`` for a million customers; rates above
    ``INVERSION_MAX_RATE`` go to ``Generator.poisson``.
    """
    rates = np.asarray(rates, dtype=float)
    uniforms = generator.random(rates.size)
    counts = np.zeros(rates.size, dtype=np.int64)
    large = rates > INVERSION_MAX_RATE
    if large.any():
        counts[large] = generator.poisson(rates[large])
        uniforms[large] = 0.0          # settled
    term = np.exp(-rates)              # P(X = 0)
    walking = np.flatnonzero(uniforms >= term)
    term, cdf, rate, draw = term[walking], term[walking], rates[walking], uniforms[walking]
    k = 0
    while walking.size:
        k += 1
        counts[walking] = k
        term = term * rate / k
        cdf = cdf + term
        # a draw above the CDF's last representable value stops when the terms vanish
        going = (draw >= cdf) & (term > 0.0)
        walking, term, cdf, rate, draw = walking[going], term[going], cdf[going], rate[going], draw[going]
    return counts
