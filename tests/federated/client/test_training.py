import numpy as np
import torch

from federated.client.training import RoundSettings, evaluate, train_round


def toy(n: int = 64, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    data = rng.standard_normal((n, 3)).astype(np.float32)
    data[:, 0] += np.where(labels == 1, 1.5, -1.5)
    return data, labels


def test_a_round_of_local_training_lowers_the_loss():
    data, labels = toy()
    torch.manual_seed(0)
    module = torch.nn.Linear(3, 2)
    before = evaluate(module, data, labels)["loss"]
    received = {k: v.clone() for k, v in module.state_dict().items()}
    train_round(module, data, labels, RoundSettings(epochs=20, lr=0.05, batch_size=16), received)
    after = evaluate(module, data, labels)
    assert after["loss"] < before and after["accuracy"] > 0.9


def test_the_fedprox_term_keeps_the_weights_near_the_received_ones():
    data, labels = toy()
    distances = []
    for mu in (0.0, 50.0):
        torch.manual_seed(0)
        module = torch.nn.Linear(3, 2)
        received = {k: v.clone() for k, v in module.state_dict().items()}
        settings = RoundSettings(epochs=20, lr=0.05, batch_size=16, proximal_mu=mu)
        train_round(module, data, labels, settings, received)
        distances.append(
            sum(float(((module.state_dict()[k] - v) ** 2).sum()) for k, v in received.items())
        )
    assert distances[1] < distances[0] / 5


def test_a_round_can_count_steps_instead_of_epochs():
    data, labels = toy(10)
    module = torch.nn.Linear(3, 2)
    calls = []
    module.register_forward_hook(lambda m, i, o: calls.append(m.training))
    received = {k: v.clone() for k, v in module.state_dict().items()}
    train_round(module, data, labels, RoundSettings(1, 0.01, 4, steps=7), received)
    assert calls.count(True) == 7
    calls.clear()
    train_round(module, data, labels, RoundSettings(2, 0.01, 4), received)
    assert calls.count(True) == 6  # 2 epochs of batches 4, 4, 2


def test_the_round_seed_sets_the_dropout_masks_whatever_ran_before():
    data, labels = toy()

    def trained(seed: int, prior: int) -> torch.Tensor:
        torch.manual_seed(0)
        module = torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.Linear(3, 2))
        received = {k: v.clone() for k, v in module.state_dict().items()}
        torch.manual_seed(prior)  # what building the module left in the global generator
        train_round(module, data, labels, RoundSettings(1, 0.05, 16, seed=seed), received)
        return module[1].weight.detach().clone()

    torch.testing.assert_close(trained(seed=1, prior=0), trained(seed=1, prior=99))
