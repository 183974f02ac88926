"""The social network word of mouth travels on.

A small world (the default) is built directly in compressed sparse row form
with numpy (fast up to millions of customers); a scale-free network comes
from networkx's Barabási–Albert generator; a fully mixed market has no edges.
Contacts are stored in compressed sparse row form: the contacts of customer ``i`` are
``indices[indptr[i]:indptr[i + 1]]``. A fully mixed market has no edges: a
talker picks any other customer at random.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from relsim.market.draws import Draws
from relsim.scenario.schema import NetworkSpec


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

    def pick_listeners(self, talkers: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        """A random contact of each of ``talkers`` (``-1`` for one with none),
        from one uniform draw each: the array form of :meth:`pick_listener`."""
        talkers = np.asarray(talkers, dtype=np.int64)
        if self.fully_mixed:
            if self.size < 2:
                return np.full(talkers.size, -1, dtype=np.int64)
            other = np.minimum((uniforms * (self.size - 1)).astype(np.int64), self.size - 2)
            return other + (other >= talkers)
        # talker by talker in compiled code (imported here: building a market does not load numba):
        # the contact at offset min(⌊u · degree⌋, degree − 1) of the talker's row
        from relsim.market import kernels
        return kernels.pick_listeners(self.indptr, self.indices, talkers, np.asarray(uniforms, dtype=np.float64))

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
        The run's network stream.

    Returns
    -------
    SocialNetwork
    """
    if spec.kind == "fully_mixed" or size < 3:
        empty = np.zeros(size + 1, dtype=np.int64)
        return SocialNetwork(size, empty, np.zeros(0, dtype=np.int32), fully_mixed=True)
    degree = min(spec.mean_degree, size - 1)
    if spec.kind == "small_world":
        return small_world(size, max(2, degree - degree % 2), spec.rewiring, rng)
    seed = int(rng.integers(2**31 - 1))
    graph = nx.barabasi_albert_graph(size, max(1, min(degree // 2, size - 1)), seed=seed)
    matrix = nx.to_scipy_sparse_array(graph, nodelist=range(size), format="csr")
    matrix.sort_indices()
    return SocialNetwork(size, matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32))


def small_world(size: int, degree: int, rewiring: float, rng: np.random.Generator) -> SocialNetwork:
    """Watts–Strogatz small world, built directly in CSR form with numpy.

    A ring where each customer knows its ``degree / 2`` nearest neighbours on
    each side; each edge's far end is then moved, with probability
    ``rewiring``, to a customer drawn uniformly among all others. Duplicate
    edges created by rewiring are merged, so a few customers end up with one
    contact less than ``degree``. No networkx objects are built: a million
    customers take seconds and about 12 bytes per contact.
    """
    half = degree // 2
    source = np.repeat(np.arange(size, dtype=np.int64), half)
    target = (source + np.tile(np.arange(1, half + 1, dtype=np.int64), size)) % size
    moved = rng.random(source.size) < rewiring
    # uniform over the other customers: never a self-loop
    target[moved] = (source[moved] + 1 + rng.integers(size - 1, size=int(moved.sum()))) % size
    rows = np.concatenate([source, target])
    cols = np.concatenate([target, source]).astype(np.int32)
    del source, target, moved
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    keep = np.ones(rows.size, dtype=bool)
    keep[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])     # merge duplicate edges
    rows, cols = rows[keep], cols[keep]
    indptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=size), out=indptr[1:])
    return SocialNetwork(size, indptr, cols)
