import pytest
import torch

from physwm.nn import fully_connected_graph, knn_graph, radius_graph


def test_fully_connected_graph_has_every_ordered_pair_per_graph():
    ei = fully_connected_graph(4, 3)
    assert ei.shape == (2, 3 * 12)
    assert not bool((ei[0] == ei[1]).any())
    assert bool((ei[0] // 4 == ei[1] // 4).all())  # no edge between graphs
    assert len({tuple(e) for e in ei.T.tolist()}) == 36


def test_knn_graph_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    pos = torch.randn(3, 20, 3, generator=g, dtype=torch.float64)
    ei = knn_graph(pos, 6)
    assert ei.shape == (2, 3 * 20 * 6)
    flat = pos.reshape(-1, 3)
    for i in [0, 17, 45]:
        src = sorted(ei[0][ei[1] == i].tolist())
        b = i // 20
        d = (pos[b] - flat[i]).norm(dim=-1)
        d[i % 20] = float("inf")
        assert src == sorted((d.argsort()[:6] + 20 * b).tolist())


def test_radius_graph_keeps_every_neighbour_and_checks_the_cap():
    pos = torch.zeros(1, 50, 3)
    pos[0, :, 0] = torch.linspace(0, 0.49, 50)  # all 50 within r = 1 of each other: 49 neighbours each
    ei = radius_graph(pos, 1.0)
    assert ei.shape[1] == 50 * 49  # torch_cluster's default cap of 32 would have dropped 17 per node
    with pytest.raises(ValueError, match="49 neighbours.*`max_num_neighbors`=32"):
        radius_graph(pos, 1.0, max_num_neighbors=32)
    assert radius_graph(pos, 1.0, max_num_neighbors=49).shape == ei.shape


def test_graph_errors():
    # the message of physwm._validate ("`k` must be an int >= 1 and <= 4, got 5") or the older wording
    with pytest.raises(ValueError, match=r"`k` must be an int >= 1 and <= 4, got 5"):
        knn_graph(torch.randn(5, 3), 5)
    with pytest.raises(ValueError, match="`pos` must have shape"):
        knn_graph(torch.randn(5, 2), 2)
    with pytest.raises(ValueError, match=r"`r` must be a finite number > 0"):
        radius_graph(torch.randn(5, 3), -1.0)
    with pytest.raises(ValueError, match="`pos` must be finite"):
        radius_graph(torch.full((5, 3), float("nan")), 1.0)
    with pytest.raises(ValueError, match="`n_nodes`"):
        fully_connected_graph(1)
