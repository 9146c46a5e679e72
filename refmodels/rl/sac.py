"""SAC: Soft Actor-Critic (Haarnoja et al., 2018), with automatic temperature tuning.

Papers: https://arxiv.org/abs/1801.01290 (maximum-entropy objective, Eq. 1; the
tanh-squashed Gaussian and its log-likelihood, Appendix C, Eq. 21) and
https://arxiv.org/abs/1812.05905 ("Soft Actor-Critic Algorithms and Applications":
twin critics, the temperature loss, Eq. 18, and Algorithm 1).
Checked against: ``torch.distributions.TransformedDistribution`` (Normal + TanhTransform
+ AffineTransform) for the squashed log-probability, hand-computed temperature losses
(``tests/test_rl_math.py``), and Stable-Baselines3's SAC with the same hyperparameters
and budget (``benchmarks/rl_sb3.py``).

Shapes (batch-first, one glossary for the project)::

    B batch of transitions, obs_dim observation size, A action dimension.
    observation (B, obs_dim) -> actor -> mean, log_std (B, A) -> u ~ N(mean, std)
    -> action = bias + scale * tanh(u) (B, A), log pi(action|s) (B,)
    (observation, action) (B, obs_dim + A) -> critic -> Q (B,)

Implementation details:
    * The actor outputs the mean and the log standard deviation of a Gaussian over
      u, clamped to [log_std_min, log_std_max]; actions are squashed by tanh and
      scaled to the bounds, and the log-probability subtracts the log-Jacobian of the
      squash (Eq. 21), computed as 2 (log 2 - u - softplus(-2u)), which is the exact
      log(1 - tanh(u)^2) without its round-off for large ``|u|``.
    * Reparameterization: u = mean + std * eps with eps ~ N(0, I), so the actor's loss
      is differentiated through the sampled action.
    * Twin critics with target copies (Polyak averaging), the minimum of the two in
      both the target and the actor's loss; no separate value network (the v2 paper).
    * Temperature alpha = exp(log_alpha), tuned so that the policy's entropy tracks the
      target -A (Eq. 18 of the second paper).
    * Only ``terminated`` stops the bootstrap (time limits are truncations).

Differences from the paper:
    * Networks and budget sized for a short Pendulum run on one CPU thread (the
      papers use 256-256 networks and millions of steps on MuJoCo).
"""

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
from refmodels.rl.td3 import Critic, frozen_copy, soft_update

__all__ = ["SACConfig", "SACResult", "SquashedGaussianActor", "squashed_log_prob", "temperature_loss", "train_sac"]


@dataclass(frozen=True)
class SACConfig:
    """Hyperparameters of :func:`train_sac`: environment, replay, optimisation, temperature."""

    env_id: str = "Pendulum-v1"
    total_steps: int = 10_000  # environment steps (one gradient step per environment step)
    learning_starts: int = 1_000  # uniformly random actions before the first update
    buffer_size: int = 100_000
    batch_size: int = 256
    gamma: float = 0.99
    tau: float = 0.005
    actor_lr: float = 1e-3
    critic_lr: float = 1e-3
    alpha_lr: float = 1e-3
    hidden: int = 256
    init_alpha: float = 1.0
    autotune: bool = True  # False: alpha stays at init_alpha
    log_std_min: float = -20.0
    log_std_max: float = 2.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("total_steps", "buffer_size", "batch_size", "hidden"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        if not 0 <= self.learning_starts < self.total_steps:
            raise ValueError(
                f"learning_starts must be in [0, total_steps); got {self.learning_starts} and {self.total_steps}"
            )
        if not 0.0 < self.gamma <= 1.0 or not 0.0 < self.tau <= 1.0:
            raise ValueError(f"gamma and tau must be in (0, 1]; got {self.gamma} and {self.tau}")
        for name in ("actor_lr", "critic_lr", "alpha_lr", "init_alpha"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive; got {getattr(self, name)}")
        if self.log_std_min >= self.log_std_max:
            raise ValueError(f"log_std_min must be below log_std_max; got {self.log_std_min} and {self.log_std_max}")


def squashed_log_prob(
    u: Float[Tensor, "B A"], mean: Float[Tensor, "B A"], log_std: Float[Tensor, "B A"], scale: Float[Tensor, " A"]
) -> Float[Tensor, " B"]:
    """log pi(a|s) for a = bias + scale * tanh(u), u ~ N(mean, std) (Eq. 21 of the first paper).

    Change of variables: ``log pi(a) = log N(u) - sum_i log |da_i/du_i|``, with
    da/du = scale * (1 - tanh(u)^2).
    """
    # log N(u; mean, std) per dimension: -((u - mean) / std)^2 / 2 - log std - log sqrt(2 pi)
    log_normal = -0.5 * ((u - mean) / log_std.exp()) ** 2 - log_std - 0.5 * np.log(2 * np.pi)
    # log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), exact and stable for large |u|
    log_det = 2.0 * (np.log(2.0) - u - F.softplus(-2.0 * u)) + torch.log(scale)
    return (log_normal - log_det).sum(-1)  # independent dimensions: sum over A


def temperature_loss(log_alpha: Tensor, log_prob: Float[Tensor, " B"], target_entropy: float) -> Float[Tensor, ""]:
    """Eq. 18 of the second paper: J(alpha) = E[-alpha (log pi(a|s) + H_target)].

    Its gradient raises alpha when the entropy -log pi is below the target, and lowers it
    when above. The log-probabilities are constants here: only alpha learns from this loss.
    """
    return -(log_alpha.exp() * (log_prob.detach() + target_entropy)).mean()


class SquashedGaussianActor(nn.Module):
    """The stochastic policy: a Gaussian over u from an MLP, squashed by tanh to the bounds.

    >>> actor = SquashedGaussianActor(obs_dim=3, action_dim=1, low=np.array([-2.0]), high=np.array([2.0]))
    >>> action, log_prob, mean_action = actor(torch.zeros(5, 3))
    >>> tuple(action.shape), tuple(log_prob.shape), tuple(mean_action.shape)
    ((5, 1), (5,), (5, 1))
    """

    def __init__(
        self, obs_dim: int, action_dim: int, low: np.ndarray, high: np.ndarray, hidden: int = 256,
        log_std_min: float = -20.0, log_std_max: float = 2.0,
    ) -> None:
        super().__init__()
        self.obs_dim = obs_dim
        self.trunk = nn.Sequential(mlp((obs_dim, hidden, hidden)), nn.ReLU())
        self.mean = nn.Linear(hidden, action_dim)
        self.log_std = nn.Linear(hidden, action_dim)
        self.log_std_min, self.log_std_max = log_std_min, log_std_max
        self.register_buffer("scale", torch.as_tensor((high - low) / 2, dtype=torch.float32))
        self.register_buffer("bias", torch.as_tensor((high + low) / 2, dtype=torch.float32))

    def forward(
        self, obs: Tensor, generator: torch.Generator | None = None
    ) -> tuple[Float[Tensor, "B A"], Float[Tensor, " B"], Float[Tensor, "B A"]]:
        """A reparameterized sample, its log-probability, and the deterministic (mean) action."""
        check_obs(obs, self.obs_dim, "SAC actor")
        h = self.trunk(obs)  # (B, obs_dim) -> (B, hidden)
        mean = self.mean(h)  # (B, A)
        log_std = self.log_std(h).clamp(self.log_std_min, self.log_std_max)  # (B, A)
        eps = torch.randn(mean.shape, generator=generator)
        u = mean + log_std.exp() * eps  # the reparameterization trick: gradients flow through mean and std
        action = self.bias + self.scale * torch.tanh(u)
        return action, squashed_log_prob(u, mean, log_std, self.scale), self.bias + self.scale * torch.tanh(mean)


@dataclass
class SACResult:
    """What :func:`train_sac` returns: the trained actor and critics, and the curves."""

    actor: SquashedGaussianActor
    critics: tuple[Critic, Critic]
    episode_returns: list[float] = field(default_factory=list)
    episode_steps: list[int] = field(default_factory=list)  # global step at which each episode ended
    critic_losses: list[float] = field(default_factory=list)  # one per gradient step
    actor_losses: list[float] = field(default_factory=list)
    alphas: list[float] = field(default_factory=list)
    entropies: list[float] = field(default_factory=list)  # -mean log pi of each batch
    seconds: float = 0.0
    gradient_steps: int = 0


def train_sac(cfg: SACConfig, env: gym.Env | None = None) -> SACResult:
    """Algorithm 1 of the second paper: one environment step, then one gradient step on the
    critics, the actor and the temperature, and a Polyak update of the target critics."""
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    env = env if env is not None else gym.make(cfg.env_id)
    obs_dim, action_dim = check_box_env(env, "SAC")
    actor = SquashedGaussianActor(
        obs_dim, action_dim, env.action_space.low, env.action_space.high, cfg.hidden, cfg.log_std_min, cfg.log_std_max
    )
    q1, q2 = Critic(obs_dim, action_dim, cfg.hidden), Critic(obs_dim, action_dim, cfg.hidden)
    q1_t, q2_t = frozen_copy(q1), frozen_copy(q2)
    log_alpha = torch.tensor(float(np.log(cfg.init_alpha)), requires_grad=cfg.autotune)
    target_entropy = -float(action_dim)  # the heuristic of the second paper: -dim(A)
    actor_opt = torch.optim.Adam(actor.parameters(), lr=cfg.actor_lr, fused=True)
    critic_opt = torch.optim.Adam([*q1.parameters(), *q2.parameters()], lr=cfg.critic_lr, fused=True)
    alpha_opt = torch.optim.Adam([log_alpha], lr=cfg.alpha_lr) if cfg.autotune else None
    buffer = ReplayBuffer(min(cfg.buffer_size, cfg.total_steps), obs_dim, action_dim)
    result = SACResult(actor, (q1, q2))

    start = time.perf_counter()
    env.action_space.seed(cfg.seed)
    obs, _ = env.reset(seed=cfg.seed)
    episode_return = 0.0
    for step in range(cfg.total_steps):
        # 1. Act: uniformly at random at first, then a sample of the stochastic policy.
        if step < cfg.learning_starts:
            action = env.action_space.sample()
        else:
            with torch.no_grad():
                action = actor(torch.as_tensor(obs).unsqueeze(0), gen)[0][0].numpy()  # (1, obs_dim) -> (A,)
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

        b = buffer.sample(cfg.batch_size, gen)
        alpha = log_alpha.detach().exp()
        # 2. Critics: the soft target y = r + gamma (1 - d) (min_j Q_j'(s', a') - alpha log pi(a'|s')), a' ~ pi(.|s').
        with torch.no_grad():
            next_action, next_log_prob, _ = actor(b.next_obs, gen)
            q_next = torch.min(q1_t(b.next_obs, next_action), q2_t(b.next_obs, next_action))
            y = b.rewards + cfg.gamma * (1.0 - b.terminated) * (q_next - alpha * next_log_prob)
        critic_loss = F.mse_loss(q1(b.obs, b.actions), y) + F.mse_loss(q2(b.obs, b.actions), y)
        critic_opt.zero_grad()
        critic_loss.backward()
        critic_opt.step()

        # 3. Actor: minimise E[alpha log pi(a|s) - min_j Q_j(s, a)], a reparameterized (Eq. 12, first paper).
        action_pi, log_prob, _ = actor(b.obs, gen)
        actor_loss = (alpha * log_prob - torch.min(q1(b.obs, action_pi), q2(b.obs, action_pi))).mean()
        actor_opt.zero_grad()
        actor_loss.backward()
        actor_opt.step()

        # 4. Temperature: move alpha so the policy's entropy tracks the target.
        if alpha_opt is not None:
            a_loss = temperature_loss(log_alpha, log_prob, target_entropy)
            alpha_opt.zero_grad()
            a_loss.backward()
            alpha_opt.step()

        # 5. Target critics follow slowly.
        soft_update(q1_t, q1, cfg.tau)
        soft_update(q2_t, q2, cfg.tau)
        result.critic_losses.append(critic_loss.item())
        result.actor_losses.append(actor_loss.item())
        result.alphas.append(alpha.item())
        result.entropies.append(-log_prob.mean().item())
        result.gradient_steps += 1
    env.close()
    result.seconds = time.perf_counter() - start
    return result
