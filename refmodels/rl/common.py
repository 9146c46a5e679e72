"""What the RL algorithms share unchanged: input checks, an MLP builder, a replay buffer.

The replay buffer is taught on the TD3 page and reused as is by SAC; the checks give
every algorithm the same clear ``ValueError`` for the wrong environment or input.
"""

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from torch import Tensor

__all__ = ["ReplayBuffer", "Batch", "check_box_env", "check_discrete_env", "check_obs", "mlp"]


def check_obs(obs: object, obs_dim: int, who: str) -> None:
    """``obs`` must be a batch ``(B, obs_dim)``; anything else is a ValueError naming both.

    >>> check_obs(torch.zeros(3), 3, "SAC actor")
    Traceback (most recent call last):
      ...
    ValueError: SAC actor expects observations of shape (B, 3); got (3,)
    """
    if not isinstance(obs, torch.Tensor) or obs.ndim != 2 or obs.shape[1] != obs_dim:
        got = tuple(obs.shape) if isinstance(obs, torch.Tensor) else type(obs).__name__
        raise ValueError(f"{who} expects observations of shape (B, {obs_dim}); got {got}")


def _check_flat_obs(env: gym.Env, who: str) -> int:
    space = env.observation_space
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise ValueError(f"{who} expects a flat Box observation space (obs_dim,); got {space}")
    return int(space.shape[0])


def check_discrete_env(env: gym.Env, who: str) -> tuple[int, int]:
    """(obs_dim, number of actions) of an environment with a Discrete action space."""
    obs_dim = _check_flat_obs(env, who)
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise ValueError(f"{who} expects a Discrete action space; got {env.action_space}")
    return obs_dim, int(env.action_space.n)


def check_box_env(env: gym.Env, who: str) -> tuple[int, int]:
    """(obs_dim, action_dim) of an environment with a bounded continuous (Box) action space."""
    obs_dim = _check_flat_obs(env, who)
    space = env.action_space
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise ValueError(f"{who} expects a continuous Box action space (A,); got {space}")
    if not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))):
        raise ValueError(f"{who} expects finite action bounds; got low={space.low}, high={space.high}")
    return obs_dim, int(space.shape[0])


def mlp(sizes: tuple[int, ...], act: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Linear layers of the given sizes with ``act`` between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


@dataclass
class Batch:
    """A minibatch of transitions (s, a, r, s', terminated), each a (B, ...) tensor."""

    obs: Tensor  # (B, obs_dim)
    actions: Tensor  # (B, A)
    rewards: Tensor  # (B,)
    next_obs: Tensor  # (B, obs_dim)
    terminated: Tensor  # (B,) 1.0 where s' is terminal: no bootstrap from it


class ReplayBuffer:
    """A fixed-size ring buffer of transitions, sampled uniformly (off-policy learning).

    ``terminated`` is stored, not ``done``: an episode cut by a time limit (Pendulum
    stops after 200 steps) is not over, and the target must still bootstrap from s'.

    >>> buf = ReplayBuffer(capacity=100, obs_dim=3, action_dim=1)
    >>> buf.add(np.zeros(3), np.zeros(1), 1.0, np.ones(3), False)
    >>> b = buf.sample(8, torch.Generator().manual_seed(0))
    >>> tuple(b.obs.shape), tuple(b.actions.shape), tuple(b.rewards.shape)
    ((8, 3), (8, 1), (8,))
    """

    def __init__(self, capacity: int, obs_dim: int, action_dim: int) -> None:
        self.capacity, self.size, self.pos = capacity, 0, 0
        self.obs = torch.zeros(capacity, obs_dim)
        self.actions = torch.zeros(capacity, action_dim)
        self.rewards = torch.zeros(capacity)
        self.next_obs = torch.zeros(capacity, obs_dim)
        self.terminated = torch.zeros(capacity)

    def add(self, obs: np.ndarray, action: np.ndarray, reward: float, next_obs: np.ndarray, terminated: bool) -> None:
        i = self.pos
        self.obs[i] = torch.as_tensor(obs)
        self.actions[i] = torch.as_tensor(action)
        self.rewards[i] = float(reward)
        self.next_obs[i] = torch.as_tensor(next_obs)
        self.terminated[i] = float(terminated)
        self.pos = (self.pos + 1) % self.capacity  # overwrite the oldest once full
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        idx = torch.randint(0, self.size, (batch_size,), generator=generator)
        return Batch(self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx], self.terminated[idx])
