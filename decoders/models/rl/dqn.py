"""Deep Q-learning of a classifier: actions are classes, reward +1 if right and -1 if wrong.

The environment presents the training trials of an episode in a shuffled order; the agent
acts epsilon-greedily on each trial, is rewarded, and moves to the next trial (the episode
ends after the last one). Transitions go to an experience replay; the online Q-network
learns from replayed minibatches towards ``reward + gamma * max_a' Q_target(next trial, a')``
with a target network synchronised every ``target_sync`` updates (Mnih et al. 2015).
Because the next trial does not depend on the action, the discounted term shifts every
action's value by the same amount; a small ``gamma`` keeps its variance low. The environment
is vectorised: ``parallel_trials`` trials are presented per step, then one update follows.

Model selection uses the validation trials only: after each episode the greedy policy is
scored on them, the best episode's weights are kept, and training stops after ``patience``
episodes without improvement.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from decoders.history import QUIET, History, TrainingRun
from decoders.training.state import ResumableState

from .replay import ReplayBuffer
from .settings import DqnConfig

if TYPE_CHECKING:
    from torch import Tensor


def rewards(actions: Tensor, labels: Tensor) -> Tensor:
    """Return +1 for a correct class and -1 for a wrong one."""
    return torch.where(actions == labels, 1.0, -1.0)


def epsilon_greedy(q_values: Tensor, epsilon: float, generator: torch.Generator) -> Tensor:
    """Return the greedy action of each row, replaced by a random one with probability epsilon."""
    greedy = q_values.argmax(dim=1)
    random = torch.randint(q_values.shape[1], greedy.shape, generator=generator)
    explore = torch.rand(greedy.shape, generator=generator) < epsilon
    return torch.where(explore, random, greedy)


def td_loss(
    qnet: torch.nn.Module,
    target: torch.nn.Module,
    bank: Tensor,
    batch: tuple[Tensor, ...],
    gamma: float,
) -> Tensor:
    """Return the Huber loss between Q(s, a) and the bootstrapped target of a minibatch."""
    state, action, reward, next_state, done = batch
    q_taken = qnet(bank[state]).gather(1, action[:, None])[:, 0]
    goal = reward
    if gamma > 0:
        with torch.no_grad():
            following = target(bank[next_state]).amax(dim=1)
        goal = reward + gamma * (~done).float() * following
    return F.smooth_l1_loss(q_taken, goal)


def train_dqn(
    qnet: torch.nn.Module,
    train_states: Tensor,
    train_labels: Tensor,
    valid_states: Tensor,
    valid_labels: Tensor,
    config: DqnConfig,
    run: TrainingRun = QUIET,
) -> History:
    """Train ``qnet`` by DQN on training trials; keep the episode best on validation.

    Parameters
    ----------
    qnet : torch.nn.Module
        Maps states (batch, ...) to Q-values (batch, n_actions).
    train_states, valid_states : Tensor
        Trial banks (n_trials, ...), already in the Q-network's input space.
    train_labels, valid_labels : Tensor of int64
        Classes, which define the rewards.
    run : TrainingRun
        Progress reporting, and the checkpoint file holding the complete training state,
        written after each episode (training resumes from it when it exists).

    Returns
    -------
    History
        Per episode: mean TD loss, validation cross-entropy of softmax(Q) and accuracy of the
        greedy policy, exploration rate and mean reward; ``best_epoch`` is the kept episode.
    """
    from tqdm.auto import tqdm

    target = copy.deepcopy(qnet).eval()
    replay = ReplayBuffer(config.replay_size)
    optimizer = torch.optim.Adam(qnet.parameters(), lr=config.lr)
    state = ResumableState(qnet, optimizer, config.seed, {"target": target, "replay": replay})
    state.resume(run.checkpoint)
    updates = state.counters.setdefault("updates", 0)
    n_trials = len(train_states)
    first = state.next_epoch
    episodes = range(first, first if state.stopped(config.patience) else config.episodes)
    bar = tqdm(episodes, desc="episodes", unit="ep", disable=not run.progress, leave=False)
    for episode in bar:
        epsilon = config.epsilon(episode)
        order = torch.randperm(n_trials, generator=state.generator)
        losses, earned = [], []
        for offset in range(0, n_trials, config.parallel_trials):
            trials = order[offset : offset + config.parallel_trials]
            qnet.eval()
            with torch.no_grad():
                actions = epsilon_greedy(qnet(train_states[trials]), epsilon, state.generator)
            reward = rewards(actions, train_labels[trials])
            following = offset + 1 + torch.arange(len(trials))
            done = following >= n_trials
            replay.push(trials, actions, reward, order[following.clamp(max=n_trials - 1)], done)
            earned.append(reward)
            if len(replay) < config.batch_size:
                continue
            qnet.train()
            batch = replay.sample(config.batch_size, state.generator)
            loss = td_loss(qnet, target, train_states, batch, config.gamma)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            updates += 1
            if updates % config.target_sync == 0:
                target.load_state_dict(qnet.state_dict())
        state.counters["updates"] = updates
        valid_loss, valid_accuracy = _validate(qnet, valid_states, valid_labels)
        row = {
            "epoch": episode,
            "train_loss": float(np.mean(losses)) if losses else float("nan"),
            "valid_loss": valid_loss,
            "valid_accuracy": valid_accuracy,
            "epsilon": epsilon,
            "mean_reward": float(torch.cat(earned).mean()),
        }
        state.record(row, (valid_accuracy, -valid_loss))
        bar.set_postfix(valid_acc=f"{valid_accuracy:.2f}", epsilon=f"{epsilon:.2f}")
        if run.checkpoint is not None:
            state.save(run.checkpoint)
        run.epoch_done(episode, state.history)
        if state.stopped(config.patience):
            break
    return state.finish()


def _validate(qnet: torch.nn.Module, states: Tensor, labels: Tensor) -> tuple[float, float]:
    qnet.eval()
    with torch.no_grad():
        q_values = qnet(states)
    loss = float(F.cross_entropy(q_values, labels))
    return loss, float((q_values.argmax(dim=1) == labels).float().mean())
