"""TD3: Addressing Function Approximation Error in Actor-Critic Methods (Fujimoto et al., 2018).

Paper: https://arxiv.org/abs/1802.09477 (Algorithm 1; clipped double Q, Eq. 10; target
policy smoothing, Eq. 15; delayed policy updates, Section 5.2).
Checked against: the hand-computed values of ``tests/test_rl_math.py`` (clipped
double-Q target, smoothing-noise clipping) and Stable-Baselines3's TD3 with the same
hyperparameters and budget (``benchmarks/rl_sb3.py``).

Shapes (batch-first, one glossary for the project)::

    B batch of transitions, obs_dim observation size, A action dimension.
    observation (B, obs_dim) -> actor -> action (B, A) in [low, high]
    (observation, action) (B, obs_dim + A) -> critic -> Q (B,)

Implementation details:
    * A deterministic actor mu(s) = bias + scale * tanh(MLP(s)), so actions land in the
      environment's bounds; two critics Q1, Q2 (MLP on the concatenated (s, a)), each
      with a slowly following target copy (Polyak averaging with tau).
    * ``learning_starts`` steps of uniformly random actions fill the buffer first;
      afterwards Gaussian exploration noise (std ``exploration_noise * scale``).
    * Only ``terminated`` stops the bootstrap: Pendulum's 200-step time limit is a
      truncation, and the target still bootstraps through it.
    * ``twin=False`` gives the single-critic target r + gamma Q1'(s', a') of DDPG, the
      baseline whose overestimation the paper measures (Figure 1).

Differences from the paper:
    * 256-256 ReLU networks for actor and critics (the paper's are 400-300), and the
      learning rate and start-up length tuned for a short Pendulum run (the paper
      trains MuJoCo tasks for a million steps).
"""

import copy
import time
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor

from refmodels.rl.common import ReplayBuffer, check_box_env, check_obs, mlp

__all__ = ["Actor", "Critic", "TD3Config", "TD3Result", "clipped_double_q_target", "smoothed_target_action", "train_td3"]


@dataclass(frozen=True)
class TD3Config:
    """Hyperparameters of :func:`train_td3`: environment, replay, noise, update delays."""

    env_id: str = "Pendulum-v1"
    total_steps: int = 10_000  # environment steps (one gradient step per environment step)
    learning_starts: int = 1_000  # uniformly random actions before the first update
    buffer_size: int = 100_000
    batch_size: int = 256
    gamma: float = 0.99
    tau: float = 0.005  # target networks: theta' <- tau theta + (1 - tau) theta'
    actor_lr: float = 1e-3
    critic_lr: float = 1e-3
    hidden: int = 256
    exploration_noise: float = 0.1  # std of the behaviour noise, as a fraction of the action scale
    policy_noise: float = 0.2  # sigma of target policy smoothing (fraction of the scale)
    noise_clip: float = 0.5  # c: the smoothing noise is clipped to [-c, c] (fraction of the scale)
    policy_delay: int = 2  # d: one actor and target update per d critic updates
    twin: bool = True  # False: a single critic's target (DDPG), to measure overestimation
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("total_steps", "buffer_size", "batch_size", "hidden", "policy_delay"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        if not 0 <= self.learning_starts < self.total_steps:
            raise ValueError(
                f"learning_starts must be in [0, total_steps); got {self.learning_starts} and {self.total_steps}"
            )
        if not 0.0 < self.gamma <= 1.0 or not 0.0 < self.tau <= 1.0:
            raise ValueError(f"gamma and tau must be in (0, 1]; got {self.gamma} and {self.tau}")
        for name in ("actor_lr", "critic_lr"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive; got {getattr(self, name)}")
        for name in ("exploration_noise", "policy_noise", "noise_clip"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be non-negative; got {getattr(self, name)}")


class Actor(nn.Module):
    """The deterministic policy mu(s): an MLP squashed by tanh and scaled to the action bounds.

    >>> actor = Actor(obs_dim=3, action_dim=1, low=np.array([-2.0]), high=np.array([2.0]))
    >>> tuple(actor(torch.zeros(5, 3)).shape)
    (5, 1)
    """

    def __init__(self, obs_dim: int, action_dim: int, low: np.ndarray, high: np.ndarray, hidden: int = 256) -> None:
        super().__init__()
        self.obs_dim = obs_dim
        self.net = mlp((obs_dim, hidden, hidden, action_dim))
        self.register_buffer("scale", torch.as_tensor((high - low) / 2, dtype=torch.float32))
        self.register_buffer("bias", torch.as_tensor((high + low) / 2, dtype=torch.float32))

    def forward(self, obs: Tensor) -> Float[Tensor, "B A"]:
        check_obs(obs, self.obs_dim, "TD3 actor")
        return self.bias + self.scale * torch.tanh(self.net(obs))  # (B, obs_dim) -> (B, A) in [low, high]


class Critic(nn.Module):
    """Q(s, a): an MLP on the observation and the action, concatenated.

    >>> tuple(Critic(obs_dim=3, action_dim=1)(torch.zeros(5, 3), torch.zeros(5, 1)).shape)
    (5,)
    """

    def __init__(self, obs_dim: int, action_dim: int, hidden: int = 256) -> None:
        super().__init__()
        self.obs_dim = obs_dim
        self.net = mlp((obs_dim + action_dim, hidden, hidden, 1))

    def forward(self, obs: Tensor, action: Float[Tensor, "B A"]) -> Float[Tensor, " B"]:
        check_obs(obs, self.obs_dim, "critic")
        return self.net(torch.cat([obs, action], dim=-1)).squeeze(-1)  # (B, obs_dim + A) -> (B, 1) -> (B,)


def smoothed_target_action(
    target_action: Float[Tensor, "B A"], noise: Float[Tensor, "B A"], noise_clip: Float[Tensor, " A"],
    low: Float[Tensor, " A"], high: Float[Tensor, " A"],
) -> Float[Tensor, "B A"]:
    """Target policy smoothing (Eq. 15): a' = clip(mu'(s') + clip(eps, -c, c), low, high)."""
    return (target_action + noise.clamp(-noise_clip, noise_clip)).clamp(low, high)


def clipped_double_q_target(
    rewards: Float[Tensor, " B"], terminated: Float[Tensor, " B"],
    q1_next: Float[Tensor, " B"], q2_next: Float[Tensor, " B"], gamma: float,
) -> Float[Tensor, " B"]:
    """Clipped double Q (Eq. 10): y = r + gamma (1 - terminated) min(Q1'(s', a'), Q2'(s', a'))."""
    return rewards + gamma * (1.0 - terminated) * torch.min(q1_next, q2_next)


def frozen_copy(module: nn.Module) -> nn.Module:
    target = copy.deepcopy(module)
    target.requires_grad_(False)  # targets move only by Polyak averaging, never by gradients
    return target


def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    # Polyak averaging: theta' <- tau theta + (1 - tau) theta'
    with torch.no_grad():
        torch._foreach_lerp_(list(target.parameters()), list(source.parameters()), tau)


@dataclass
class TD3Result:
    """What :func:`train_td3` returns: the trained actor and critics, and the curves."""

    actor: Actor
    critics: tuple[Critic, Critic]
    episode_returns: list[float] = field(default_factory=list)
    episode_steps: list[int] = field(default_factory=list)  # global step at which each episode ended
    critic_losses: list[float] = field(default_factory=list)  # one per gradient step
    actor_losses: list[float] = field(default_factory=list)  # one per delayed actor update
    seconds: float = 0.0
    gradient_steps: int = 0


def train_td3(cfg: TD3Config, env: gym.Env | None = None) -> TD3Result:
    """Algorithm 1 of the paper: one environment step, then one critic update; every
    ``policy_delay`` critic updates, one actor update and one target update."""
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    env = env if env is not None else gym.make(cfg.env_id)
    obs_dim, action_dim = check_box_env(env, "TD3")
    low, high = env.action_space.low, env.action_space.high
    actor = Actor(obs_dim, action_dim, low, high, cfg.hidden)
    q1, q2 = Critic(obs_dim, action_dim, cfg.hidden), Critic(obs_dim, action_dim, cfg.hidden)
    actor_t, q1_t, q2_t = (frozen_copy(m) for m in (actor, q1, q2))
    actor_opt = torch.optim.Adam(actor.parameters(), lr=cfg.actor_lr, fused=True)
    critic_opt = torch.optim.Adam([*q1.parameters(), *q2.parameters()], lr=cfg.critic_lr, fused=True)
    buffer = ReplayBuffer(min(cfg.buffer_size, cfg.total_steps), obs_dim, action_dim)
    scale, low_t, high_t = actor.scale, torch.as_tensor(low), torch.as_tensor(high)
    result = TD3Result(actor, (q1, q2))

    start = time.perf_counter()
    env.action_space.seed(cfg.seed)
    obs, _ = env.reset(seed=cfg.seed)
    episode_return = 0.0
    for step in range(cfg.total_steps):
        # 1. Act: random at first, then mu(s) plus Gaussian exploration noise, clipped to the bounds.
        if step < cfg.learning_starts:
            action = env.action_space.sample()
        else:
            with torch.no_grad():
                a = actor(torch.as_tensor(obs).unsqueeze(0))[0]  # (obs_dim,) -> (1, obs_dim) -> (A,)
                a = a + cfg.exploration_noise * scale * torch.randn(action_dim, generator=gen)
            action = a.clamp(low_t, high_t).numpy()
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add(obs, action, float(reward), next_obs, bool(terminated))
        episode_return += float(reward)
        obs = next_obs
        if terminated or truncated:
            result.episode_returns.append(episode_return)
            result.episode_steps.append(step + 1)
            obs, _ = env.reset()
            episode_return = 0.0
        if step < cfg.learning_starts:
            continue

        # 2. Critic update towards the clipped double-Q target with a smoothed target action.
        b = buffer.sample(cfg.batch_size, gen)
        with torch.no_grad():
            noise = cfg.policy_noise * scale * torch.randn(b.actions.shape, generator=gen)
            next_action = smoothed_target_action(actor_t(b.next_obs), noise, cfg.noise_clip * scale, low_t, high_t)
            q1_next, q2_next = q1_t(b.next_obs, next_action), q2_t(b.next_obs, next_action)
            if not cfg.twin:
                q2_next = q1_next  # DDPG's target: one critic, no minimum
            y = clipped_double_q_target(b.rewards, b.terminated, q1_next, q2_next, cfg.gamma)
        critic_loss = F.mse_loss(q1(b.obs, b.actions), y) + F.mse_loss(q2(b.obs, b.actions), y)
        critic_opt.zero_grad()
        critic_loss.backward()
        critic_opt.step()
        result.critic_losses.append(critic_loss.item())
        result.gradient_steps += 1

        # 3. Delayed policy update: ascend Q1(s, mu(s)), then move the targets.
        if step % cfg.policy_delay == 0:
            actor_loss = -q1(b.obs, actor(b.obs)).mean()
            actor_opt.zero_grad()
            actor_loss.backward()
            actor_opt.step()
            result.actor_losses.append(actor_loss.item())
            for target, source in ((actor_t, actor), (q1_t, q1), (q2_t, q2)):
                soft_update(target, source, cfg.tau)
    env.close()
    result.seconds = time.perf_counter() - start
    return result
