import numpy as np
import pytest
import torch

from decoders.pretraining.vq import VectorQuantizer


def quantizer(**options):
    q = VectorQuantizer(3, 2, **options)
    q.codebook.data = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    q.ema_sum.copy_(q.codebook)
    q.initialised.fill_(True)
    return q


def test_vectors_go_to_their_nearest_code_with_straight_through_gradients():
    q = quantizer(beta=0.5).eval()
    x = torch.tensor([[1.0, 1.0], [9.0, 2.0], [-1.0, 8.0]], requires_grad=True)
    out = q(x)
    assert out.codes.tolist() == [0, 1, 2]
    assert torch.equal(out.vectors, q.codebook[out.codes])
    # commitment: 0.5 * mean over values of (x - q)^2 = 0.5 * (2 + 5 + 5) / 6
    assert float(out.loss.detach()) == pytest.approx(0.5 * 12 / 6)
    out.vectors.sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))  # straight through


def test_a_cosine_codebook_compares_directions():
    q = quantizer(cosine=True).eval()
    q.codebook.data = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    out = q(torch.tensor([[100.0, 1.0], [0.1, 5.0], [-0.01, 0.0]]))
    assert out.codes.tolist() == [0, 1, 2]
    assert torch.allclose(out.vectors.norm(dim=-1), torch.ones(3))


def test_weights_mask_vectors_out_of_the_loss_and_the_statistics():
    q = quantizer().train()
    x = torch.tensor([[1.0, 1.0], [50.0, 50.0]])
    out = q(x, torch.tensor([1.0, 0.0]))
    assert float(out.loss) == pytest.approx(0.25 * 2 / 2)
    count, total = q.statistics()
    assert count.tolist() == [1.0, 0.0, 0.0] and total[0].tolist() == [1.0, 1.0]


def test_ema_update_moves_codes_to_the_mean_of_their_vectors():
    q = quantizer(decay=0.5).train()
    q(torch.tensor([[2.0, 0.0], [4.0, 0.0], [10.0, 2.0]]))
    q.update()
    # code 0: count 0.5*1 + 0.5*2 = 1.5, sum 0.5*[0,0] + 0.5*[6,0] = [3,0] -> [2, 0]
    assert q.codebook[0].tolist() == pytest.approx([2.0, 0.0], rel=1e-4)
    # code 1: count 1, sum 0.5*[10,0] + 0.5*[10,2] = [10,1]
    assert q.codebook[1].tolist() == pytest.approx([10.0, 1.0], rel=1e-4)
    assert q.usage == pytest.approx(2 / 3)
    assert q.perplexity == pytest.approx(np.exp(-(2 / 3 * np.log(2 / 3) + 1 / 3 * np.log(1 / 3))))


def test_summed_statistics_update_as_one_pass_over_all_vectors():
    data = torch.randn(40, 2) * 5
    alone, split = quantizer(decay=0.9).train(), quantizer(decay=0.9).train()
    alone(data)
    alone.update()
    split(data[:20])
    first_count, first_total = (t.clone() for t in split.statistics())
    candidates = split.candidates().clone()
    split.update()  # forget: a second process holds the other half
    split.load_state_dict(quantizer(decay=0.9).state_dict())
    split(data[20:])
    count, total = split.statistics()
    split.update(count + first_count, total + first_total, candidates)
    assert torch.allclose(alone.codebook, split.codebook)


def test_kmeans_initialises_codes_on_the_clusters():
    generator = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0], [20.0, 20.0]])
    data = centres.repeat_interleave(50, 0) + torch.randn(200, 2, generator=generator) * 0.1
    q = VectorQuantizer(4, 2, seed=3).train()
    q(data[torch.randperm(200, generator=generator)])
    q.update()
    assert bool(q.initialised)
    distance = torch.cdist(centres, q.codebook).min(dim=1).values
    assert (distance < 0.5).all()


def test_dead_codes_restart_on_recent_vectors():
    q = quantizer(decay=0.5, dead_threshold=0.1).train()
    for _ in range(12):  # every vector near code 0 or code 1: code 2 never used
        q(torch.tensor([[0.5, 0.0], [9.5, 0.0], [10.5, 0.5]]))
        q.update()
    assert int(q.restarts) >= 1
    assert (
        torch.cdist(q.codebook[2:], torch.tensor([[0.5, 0.0], [9.5, 0.0], [10.5, 0.5]])).min()
        < 1e-5
    )
