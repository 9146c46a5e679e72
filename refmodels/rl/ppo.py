"""PPO: Proximal Policy Optimization Algorithms (Schulman et al., 2017).

Paper: https://arxiv.org/abs/1707.06347 (clipped surrogate, Eq. 7; the combined
objective, Eq. 9; truncated GAE, Eqs. 11-12), with GAE from Schulman et al. 2016,
https://arxiv.org/abs/1506.02438.
Checked against: the hand-computed values of ``tests/test_rl_math.py`` (GAE, the
clipped surrogate) and Stable-Baselines3's PPO with the same hyperparameters and
budget (``benchmarks/rl_sb3.py``: returns and wall time side by side).

Shapes (batch-first, one glossary for the project)::

    T rollout steps per environment, E parallel environments, B = T * E samples,
    obs_dim observation size, K discrete actions.
    observations (T, E, obs_dim) -> flattened (B, obs_dim) -> logits (B, K), values (B,)

Implementation details (the ones CleanRL's PPO write-up lists, each marked below):
    * E synchronous environments, rollouts of T steps, same-step autoreset.
    * Separate actor and critic MLPs (64-64, tanh), orthogonal initialisation with
      gain sqrt(2), 0.01 for the policy head and 1 for the value head.
    * GAE(gamma, lambda) advantages; returns = advantages + values.
    * Advantages normalised per minibatch; clipped surrogate; clipped value loss;
      entropy bonus; global gradient-norm clipping; Adam with eps 1e-5; learning
      rate annealed linearly to zero.
    * Time-limit truncation (CartPole stops at 500 steps) is not a terminal state:
      the reward of a truncated step gets gamma * V(final observation) added, so the
      return bootstraps through the cut, as Stable-Baselines3 does.

Differences from the paper:
    * Discrete action spaces only (the page trains on CartPole); the paper's MuJoCo
      runs use a Gaussian policy, the change is the distribution and nothing else.
    * The value loss is clipped around the old value (as in OpenAI baselines and
      CleanRL); the paper's Eq. 9 uses a plain squared error.
"""

import time
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from jaxtyping import Float
from torch import Tensor

from refmodels.rl.common import check_discrete_env, check_obs

__all__ = ["ActorCritic", "PPOConfig", "PPOResult", "clipped_surrogate", "compute_gae", "ppo_losses", "train_ppo"]


@dataclass(frozen=True)
class PPOConfig:
    """Hyperparameters of :func:`train_ppo`: environment, rollouts, optimisation, loss weights."""

    env_id: str = "CartPole-v1"
    total_steps: int = 100_000  # environment steps, summed over the E environments
    num_envs: int = 8  # E
    num_steps: int = 64  # T: steps per environment per rollout
    gamma: float = 0.98
    gae_lambda: float = 0.8
    update_epochs: int = 10  # passes over each rollout
    num_minibatches: int = 2
    clip_coef: float = 0.2  # epsilon of Eq. 7
    clip_vloss: bool = True
    ent_coef: float = 0.0  # c2 of Eq. 9
    vf_coef: float = 0.5  # c1 of Eq. 9
    max_grad_norm: float = 0.5
    learning_rate: float = 1e-3
    anneal_lr: bool = True
    norm_adv: bool = True
    hidden: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("total_steps", "num_envs", "num_steps", "update_epochs", "num_minibatches", "hidden"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        if not 0.0 < self.gamma <= 1.0 or not 0.0 <= self.gae_lambda <= 1.0:
            raise ValueError(f"gamma must be in (0, 1] and gae_lambda in [0, 1]; got {self.gamma} and {self.gae_lambda}")
        if self.clip_coef <= 0 or self.learning_rate <= 0 or self.max_grad_norm <= 0:
            raise ValueError(
                "clip_coef, learning_rate and max_grad_norm must be positive; "
                f"got {self.clip_coef}, {self.learning_rate}, {self.max_grad_norm}"
            )
        if (self.num_envs * self.num_steps) % self.num_minibatches:
            raise ValueError(
                f"num_envs * num_steps must be divisible by num_minibatches: "
                f"got {self.num_envs} * {self.num_steps} and {self.num_minibatches}"
            )
        if self.total_steps < self.num_envs * self.num_steps:
            raise ValueError(
                f"total_steps must cover at least one rollout of num_envs * num_steps = "
                f"{self.num_envs * self.num_steps}; got {self.total_steps}"
            )

    @property
    def batch_size(self) -> int:
        return self.num_envs * self.num_steps  # B

    @property
    def num_updates(self) -> int:
        return self.total_steps // self.batch_size


def layer_init(layer: nn.Linear, gain: float = np.sqrt(2), bias: float = 0.0) -> nn.Linear:
    # Orthogonal weights, constant bias: detail 2 of CleanRL's list.
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.constant_(layer.bias, bias)
    return layer


class ActorCritic(nn.Module):
    """Two separate MLPs on the same observation: the policy pi(a|s) and the value V(s).

    >>> agent = ActorCritic(obs_dim=4, num_actions=2)
    >>> action, logprob, entropy, value = agent.act(torch.zeros(5, 4))
    >>> tuple(action.shape), tuple(logprob.shape), tuple(value.shape)
    ((5,), (5,), (5,))
    """

    def __init__(self, obs_dim: int, num_actions: int, hidden: int = 64) -> None:
        super().__init__()
        self.obs_dim = obs_dim
        self.critic = nn.Sequential(
            layer_init(nn.Linear(obs_dim, hidden)), nn.Tanh(),
            layer_init(nn.Linear(hidden, hidden)), nn.Tanh(),
            layer_init(nn.Linear(hidden, 1), gain=1.0),
        )
        self.actor = nn.Sequential(
            layer_init(nn.Linear(obs_dim, hidden)), nn.Tanh(),
            layer_init(nn.Linear(hidden, hidden)), nn.Tanh(),
            # A small gain makes the first policy near uniform: every action gets tried.
            layer_init(nn.Linear(hidden, num_actions), gain=0.01),
        )

    def value(self, obs: Tensor) -> Float[Tensor, " B"]:
        check_obs(obs, self.obs_dim, "PPO critic")
        return self.critic(obs).squeeze(-1)  # (B, 1) -> (B,)

    def act(
        self, obs: Tensor, action: Tensor | None = None
    ) -> tuple[Tensor, Float[Tensor, " B"], Float[Tensor, " B"], Float[Tensor, " B"]]:
        """Sample an action (or score the given one): action, log pi(a|s), entropy, V(s)."""
        check_obs(obs, self.obs_dim, "PPO actor")
        # The categorical distribution written out (torch.distributions costs more than the MLP here).
        log_probs = self.actor(obs).log_softmax(-1)  # (B, K): log pi(.|s)
        if action is None:
            action = torch.multinomial(log_probs.exp(), 1).squeeze(-1)  # (B, 1) -> (B,)
        logprob = log_probs.gather(-1, action.unsqueeze(-1)).squeeze(-1)  # log pi(a|s), (B,)
        entropy = -(log_probs.exp() * log_probs).sum(-1)  # H = -sum_a pi log pi, (B,)
        return action, logprob, entropy, self.critic(obs).squeeze(-1)


def compute_gae(
    rewards: Float[Tensor, "T E"],
    values: Float[Tensor, "T E"],
    dones: Float[Tensor, "T E"],
    last_value: Float[Tensor, " E"],
    gamma: float,
    lam: float,
) -> tuple[Float[Tensor, "T E"], Float[Tensor, "T E"]]:
    """Generalized advantage estimation over a rollout; returns (advantages, returns).

    ``dones[t]`` is 1 where step t ended an episode, so s_{t+1} belongs to a new one
    and neither the TD target nor the advantage looks past it.
    """
    T = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    next_adv = torch.zeros_like(last_value)
    for t in reversed(range(T)):
        next_value = last_value if t == T - 1 else values[t + 1]
        not_done = 1.0 - dones[t]
        # delta_t = r_t + gamma * V(s_{t+1}) - V(s_t)
        delta = rewards[t] + gamma * next_value * not_done - values[t]
        # A_t = delta_t + gamma * lambda * A_{t+1}
        next_adv = advantages[t] = delta + gamma * lam * not_done * next_adv
    return advantages, advantages + values  # returns R_t = A_t + V(s_t): the critic's targets


def clipped_surrogate(ratio: Float[Tensor, " B"], advantages: Float[Tensor, " B"], clip: float) -> Float[Tensor, ""]:
    """The policy loss: minus Eq. 7, -E[min(r A, clip(r, 1 - eps, 1 + eps) A)]."""
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1.0 - clip, 1.0 + clip) * advantages
    return -torch.min(unclipped, clipped).mean()  # a pessimistic bound: never gain from leaving the clip range


@dataclass
class Rollout:
    """One rollout, flattened to B = T * E samples."""

    obs: Tensor  # (B, obs_dim)
    actions: Tensor  # (B,)
    logprobs: Tensor  # (B,) log pi_old(a|s)
    values: Tensor  # (B,) V_old(s)
    advantages: Tensor  # (B,)
    returns: Tensor  # (B,)


def ppo_losses(agent: ActorCritic, mb: Rollout, cfg: PPOConfig) -> dict[str, Tensor]:
    """Eq. 9 on one minibatch: policy loss + c1 * value loss - c2 * entropy, plus diagnostics."""
    _, logprob, entropy, value = agent.act(mb.obs, mb.actions)
    log_ratio = logprob - mb.logprobs
    ratio = log_ratio.exp()  # r_t = pi(a|s) / pi_old(a|s)
    adv = mb.advantages
    if cfg.norm_adv:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    pg_loss = clipped_surrogate(ratio, adv, cfg.clip_coef)
    if cfg.clip_vloss:
        # The value may move at most clip_coef away from the old one; take the worse of the two errors.
        v_clipped = mb.values + torch.clamp(value - mb.values, -cfg.clip_coef, cfg.clip_coef)
        v_loss = 0.5 * torch.max((value - mb.returns) ** 2, (v_clipped - mb.returns) ** 2).mean()
    else:
        v_loss = 0.5 * ((value - mb.returns) ** 2).mean()
    ent = entropy.mean()
    loss = pg_loss + cfg.vf_coef * v_loss - cfg.ent_coef * ent
    with torch.no_grad():
        approx_kl = ((ratio - 1) - log_ratio).mean()  # an unbiased, positive estimator of KL(old || new)
        clipfrac = ((ratio - 1.0).abs() > cfg.clip_coef).float().mean()
    return {"loss": loss, "policy": pg_loss, "value": v_loss, "entropy": ent, "approx_kl": approx_kl, "clipfrac": clipfrac}


@dataclass
class PPOResult:
    """What :func:`train_ppo` returns: the trained agent and its learning curves."""

    agent: ActorCritic
    episode_returns: list[float] = field(default_factory=list)  # in the order episodes ended
    episode_steps: list[int] = field(default_factory=list)  # global env step at which each ended
    losses: list[dict[str, float]] = field(default_factory=list)  # one row per update (last minibatch)
    seconds: float = 0.0
    env_steps: int = 0
    gradient_steps: int = 0


def make_envs(cfg: PPOConfig) -> gym.vector.SyncVectorEnv:
    return gym.vector.SyncVectorEnv(
        [lambda: gym.make(cfg.env_id) for _ in range(cfg.num_envs)],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )


def train_ppo(cfg: PPOConfig, envs: gym.vector.SyncVectorEnv | None = None) -> PPOResult:
    """Collect a rollout, compute GAE, take a few epochs of minibatch steps on Eq. 9; repeat."""
    torch.manual_seed(cfg.seed)
    envs = envs if envs is not None else make_envs(cfg)
    obs_dim, num_actions = check_discrete_env(envs.envs[0], "PPO")
    agent = ActorCritic(obs_dim, num_actions, cfg.hidden)
    optimizer = torch.optim.Adam(agent.parameters(), lr=cfg.learning_rate, eps=1e-5, fused=True)  # fused: one kernel for all tensors
    result = PPOResult(agent)
    T, E = cfg.num_steps, cfg.num_envs
    obs_buf = torch.zeros(T, E, obs_dim)
    act_buf = torch.zeros(T, E, dtype=torch.long)
    logp_buf, rew_buf, done_buf, val_buf = (torch.zeros(T, E) for _ in range(4))

    start = time.perf_counter()
    next_obs = torch.as_tensor(envs.reset(seed=cfg.seed)[0])
    envs.action_space.seed(cfg.seed)
    running = np.zeros(E)  # return of each environment's current episode
    step = 0
    for update in range(cfg.num_updates):
        if cfg.anneal_lr:
            optimizer.param_groups[0]["lr"] = cfg.learning_rate * (1.0 - update / cfg.num_updates)
        # 1. Rollout: T steps in each of the E environments with the current policy.
        for t in range(T):
            obs_buf[t] = next_obs
            with torch.no_grad():
                action, logprob, _, value = agent.act(next_obs)
            obs, reward, terminated, truncated, info = envs.step(action.numpy())
            step += E
            running += reward
            reward = torch.as_tensor(reward, dtype=torch.float32)
            idx = np.flatnonzero(truncated & ~terminated)  # a pole that falls on the last step is terminal
            if idx.size:
                # A time limit is not a terminal state: bootstrap through the cut, r += gamma * V(s_final).
                final = torch.as_tensor(np.stack([info["final_obs"][i] for i in idx]))
                with torch.no_grad():
                    reward[idx] += cfg.gamma * agent.value(final)
            for i in np.flatnonzero(terminated | truncated):
                result.episode_returns.append(float(running[i]))
                result.episode_steps.append(step)
                running[i] = 0.0
            act_buf[t], logp_buf[t], val_buf[t], rew_buf[t] = action, logprob, value, reward
            done_buf[t] = torch.as_tensor(terminated | truncated, dtype=torch.float32)
            next_obs = torch.as_tensor(obs)  # after a done, already the first observation of the next episode

        # 2. Advantages and returns, bootstrapping from V of the observation after the rollout.
        with torch.no_grad():
            advantages, returns = compute_gae(
                rew_buf, val_buf, done_buf, agent.value(next_obs), cfg.gamma, cfg.gae_lambda
            )
        data = Rollout(
            obs_buf.reshape(-1, obs_dim),  # (T, E, obs_dim) -> (B, obs_dim)
            act_buf.reshape(-1), logp_buf.reshape(-1), val_buf.reshape(-1),
            advantages.reshape(-1), returns.reshape(-1),
        )

        # 3. Optimise Eq. 9 for a few epochs of shuffled minibatches of the same rollout.
        mb_size = cfg.batch_size // cfg.num_minibatches
        for _ in range(cfg.update_epochs):
            perm = torch.randperm(cfg.batch_size)
            for i in range(0, cfg.batch_size, mb_size):
                idx = perm[i : i + mb_size]
                mb = Rollout(*(getattr(data, f)[idx] for f in Rollout.__dataclass_fields__))
                losses = ppo_losses(agent, mb, cfg)
                optimizer.zero_grad()
                losses["loss"].backward()
                nn.utils.clip_grad_norm_(agent.parameters(), cfg.max_grad_norm)
                optimizer.step()
                result.gradient_steps += 1
        result.losses.append({k: v.item() for k, v in losses.items()})
    envs.close()
    result.seconds = time.perf_counter() - start
    result.env_steps = step
    return result
