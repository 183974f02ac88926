"""The social network word of mouth travels on.

Built with networkx (small world by default, scale free, or fully mixed) and
stored in compressed sparse row form: the contacts of customer ``i`` are
``indices[indptr[i]:indptr[i + 1]]``. A fully mixed market has no edges: a
talker picks any other customer at random.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from relsim.draws import Draws
from relsim.scenario import NetworkSpec


@dataclass(frozen=True)
class SocialNetwork:
    """Contacts of each customer, in CSR form (``indptr``, ``indices``)."""

    size: int
    indptr: np.ndarray
    indices: np.ndarray
    fully_mixed: bool = False

    def contacts(self, customer: int) -> np.ndarray:
        """Indices of the customers ``customer`` can talk to (empty if fully mixed)."""
        return self.indices[self.indptr[customer]:self.indptr[customer + 1]]

    def pick_listener(self, customer: int, draws: Draws) -> int:
        """A random contact of ``customer``, or ``-1`` if it has none."""
        if self.fully_mixed:
            if self.size < 2:
                return -1
            other = draws.integer(self.size - 1)
            return other + (other >= customer)
        start, end = self.indptr[customer], self.indptr[customer + 1]
        if start == end:
            return -1
        return int(self.indices[start + draws.integer(int(end - start))])

    def degree(self) -> np.ndarray:
        """Number of contacts per customer."""
        if self.fully_mixed:
            return np.full(self.size, self.size - 1)
        return np.diff(self.indptr)


def build_network(spec: NetworkSpec, size: int, rng: np.random.Generator) -> SocialNetwork:
    """Draw the social network of ``size`` customers.

    Parameters
    ----------
    spec : NetworkSpec
        Kind and parameters.
    size : int
        Number of customers.
    rng : numpy.random.Generator
        The run's network stream; networkx gets an integer seed drawn from it.

    Returns
    -------
    SocialNetwork
    """
    if spec.kind == "fully_mixed" or size < 3:
        empty = np.zeros(size + 1, dtype=np.int64)
        return SocialNetwork(size, empty, np.zeros(0, dtype=np.int32), fully_mixed=True)
    seed = int(rng.integers(2**31 - 1))
    degree = min(spec.mean_degree, size - 1)
    if spec.kind == "small_world":
        graph = nx.watts_strogatz_graph(size, max(2, degree - degree % 2), spec.rewiring, seed=seed)
    else:
        graph = nx.barabasi_albert_graph(size, max(1, min(degree // 2, size - 1)), seed=seed)
    matrix = nx.to_scipy_sparse_array(graph, nodelist=range(size), format="csr")
    matrix.sort_indices()
    return SocialNetwork(size, matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32))
