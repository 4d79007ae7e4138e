import pytest
import torch

from decoders.history import TrainingRun
from decoders.models.rl.dqn import epsilon_greedy, rewards, train_dqn
from decoders.models.rl.replay import ReplayBuffer
from decoders.models.rl.settings import DqnConfig


def test_rewards_are_plus_one_and_minus_one():
    assert rewards(torch.tensor([0, 1, 2]), torch.tensor([0, 2, 2])).tolist() == [1, -1, 1]


def test_epsilon_greedy_explores_at_the_given_rate():
    generator = torch.Generator().manual_seed(0)
    q_values = torch.tensor([[0.0, 1.0, 0.0]]).repeat(4000, 1)
    assert (epsilon_greedy(q_values, 0.0, generator) == 1).all()
    actions = epsilon_greedy(q_values, 0.3, generator)
    # a random action is the greedy one a third of the time: 0.3 * 2/3 = 20% non-greedy
    assert float((actions != 1).float().mean()) == pytest.approx(0.2, abs=0.02)
    assert DqnConfig(epsilon_decay=0.5).epsilon(2) == 0.25
    assert DqnConfig(epsilon_end=0.05).epsilon(100) == 0.05


def test_replay_buffer_overwrites_the_oldest_transitions():
    replay = ReplayBuffer(capacity=4)
    for start in (0, 3):
        states = torch.arange(start, start + 3)
        replay.push(states, states % 2, torch.ones(3), states + 1, states == 5)
    assert len(replay) == 4
    assert sorted(replay.state.tolist()) == [2, 3, 4, 5]  # 0 and 1 overwritten
    state, action, reward, next_state, done = replay.sample(64, torch.Generator().manual_seed(0))
    assert set(state.tolist()) <= {2, 3, 4, 5} and torch.equal(next_state, state + 1)
    assert torch.equal(done, state == 5) and torch.equal(action, state % 2)
    assert (reward == 1).all()
    copy = ReplayBuffer(4)
    copy.load_state_dict(replay.state_dict())
    assert torch.equal(copy.state, replay.state) and copy.position == replay.position


class Interrupted(Exception):
    pass


def test_interrupted_training_resumes_from_its_checkpoint(tmp_path):
    def qnet():
        torch.manual_seed(0)
        return torch.nn.Sequential(
            torch.nn.Flatten(), torch.nn.Linear(6, 8), torch.nn.Dropout(0.2), torch.nn.Linear(8, 2)
        )

    generator = torch.Generator().manual_seed(1)
    states = torch.randn(40, 2, 3, generator=generator)
    labels = (states[:, 0, 0] > 0).long()
    config = DqnConfig(episodes=8, patience=8, batch_size=8, parallel_trials=4, target_sync=5)
    arguments = (states[:30], labels[:30], states[30:], labels[30:], config)

    uninterrupted = qnet()
    torch.manual_seed(5)
    expected = train_dqn(uninterrupted, *arguments)

    def stop_after_three(episode, history):
        if episode == 2:
            raise Interrupted

    resumed, checkpoint = qnet(), tmp_path / "dqn.pt"
    torch.manual_seed(5)
    with pytest.raises(Interrupted):
        train_dqn(
            resumed, *arguments, TrainingRun(on_epoch=stop_after_three, checkpoint=checkpoint)
        )
    torch.manual_seed(123)  # whatever happened meanwhile, the checkpoint restores the RNG
    history = train_dqn(qnet(), *arguments, TrainingRun(checkpoint=checkpoint))
    assert history.to_dict() == expected.to_dict()
    assert len(history.epochs) == 8
