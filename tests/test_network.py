"""The social network: structure of the numpy small world, listener picks."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy.sparse.csgraph import shortest_path

from relsim.market.draws import Draws
from relsim.market.network import build_network, small_world
from relsim.scenario.schema import NetworkSpec


def _graph(network) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(network.size))
    for node in range(network.size):
        graph.add_edges_from((node, int(other)) for other in network.contacts(node))
    return graph


def test_small_world_is_a_simple_symmetric_graph():
    network = small_world(500, 8, 0.3, np.random.default_rng(1))
    for node in range(network.size):
        contacts = network.contacts(node)
        assert node not in contacts                        # no self-loops
        assert len(set(contacts.tolist())) == len(contacts)   # no duplicate edges
        assert all(node in network.contacts(int(other)) for other in contacts)


@pytest.mark.parametrize("rewiring", [0.0, 0.1, 0.3])
def test_small_world_matches_watts_strogatz_theory(rewiring):
    """Mean clustering of a Watts–Strogatz graph is C(β) ≈ 3(k−2)/(4(k−1))·(1−β)³
    (Barrat & Weigt 2000). With 3,000 nodes the sampling spread of the mean
    clustering is below 0.005; the tolerance 0.02 is four times that."""
    size, degree = 3000, 10
    graph = _graph(small_world(size, degree, rewiring, np.random.default_rng(7)))
    expected = 3 * (degree - 2) / (4 * (degree - 1)) * (1 - rewiring) ** 3
    assert abs(nx.average_clustering(graph) - expected) < 0.02
    degrees = np.array([d for _, d in graph.degree()])
    assert abs(degrees.mean() - degree) < 0.05
    if rewiring > 0:   # shortcuts make the world small: paths far shorter than the ring's n/(2k)
        matrix = nx.to_scipy_sparse_array(graph, format="csr")
        lengths = shortest_path(matrix, unweighted=True, indices=np.arange(0, size, 60))
        assert lengths[np.isfinite(lengths)].mean() < 0.1 * size / (2 * degree)


def test_listener_is_a_contact_and_fully_mixed_is_anyone_else():
    rng = np.random.default_rng(3)
    network = build_network(NetworkSpec(kind="small_world", mean_degree=6), 200, rng)
    draws = Draws(np.random.default_rng(4))
    for node in range(50):
        assert network.pick_listener(node, draws) in network.contacts(node)
    mixed = build_network(NetworkSpec(kind="fully_mixed"), 5, rng)
    picks = {mixed.pick_listener(2, draws) for _ in range(400)}
    assert picks == {0, 1, 3, 4}


def test_scale_free_has_hubs():
    network = build_network(NetworkSpec(kind="scale_free", mean_degree=6), 2000, np.random.default_rng(5))
    degrees = network.degree()
    assert degrees.max() > 8 * np.median(degrees)
