"""Our PPO, TD3 and SAC pieces beside Stable-Baselines3's, on the same weights and data.

Stable-Baselines3 (Raffin et al., 2021; checked with version 2.x) is the field's
reference implementation. This module copies our networks' weights into SB3's
policies and computes each piece both ways, so the RL pages and ``tests/test_rl.py``
can compare them:

* GAE: SB3's own ``RolloutBuffer.compute_returns_and_advantage`` on our rollout.
* PPO: SB3's ``ActorCriticPolicy.evaluate_actions`` (log-probabilities, values,
  entropies) and the clipped policy loss as written in SB3's ``PPO.train``.
* TD3: SB3's actor, target actor and target critics, and the target of ``TD3.train``.
* SAC: SB3's actor distribution (``SquashedDiagGaussianDistribution.log_prob``),
  critics, and the soft target and actor loss of ``SAC.train``.

SB3 writes its losses and targets inline in ``train()``; the functions below repeat
those lines (quoted from ``stable_baselines3/{ppo/ppo.py,td3/td3.py,sac/sac.py}``)
around SB3's modules, which do the network work. SB3 2.9's TD3 and SAC targets use
``discounts`` (per-sample, for n-step returns) where these use ``gamma``: equivalent
for the 1-step returns compared here. Each ``*Pieces`` module is our side,
built from our own functions, so :func:`refmodels.parity.check_parity` can scramble
one of its weights.

Conventions that differ, and how the comparison bridges them:

* SB3's TD3 and SAC actors output actions in [-1, 1] and its critics read those;
  ours output torques in [low, high] and our critics read torques. With
  a = bias + scale * a_sb3, the copy multiplies the action columns of each critic's
  first layer by ``scale`` (and folds ``bias`` into its bias).
* SB3's SAC log-probability is that of the [-1, 1] action, ours that of the torque:
  log pi_ours = log pi_SB3 - sum_i log scale_i. SB3 also adds 1e-6 inside
  log(1 - tanh^2 u). So SB3's soft target and actor loss, as SB3 runs them, measure
  entropy in other units: with the same target entropy -A, SB3 asks for
  sum_i log scale_i more nats of the torque's entropy than ours. ``log_prob_shift``
  re-expresses SB3's log-probabilities in torque units for the comparison.
* PPO's value loss differs by design: by default (``clip_range_vf=None``) SB3 takes
  ``F.mse_loss(returns, values)``, unclipped and without the 1/2; only with
  ``clip_range_vf`` set does it clip the value, and then it squares the clipped error
  alone, without the max with the unclipped one that ours takes. So only the policy
  loss, the log-probabilities, values and entropies are compared.
"""

import numpy as np
import torch
import torch.nn as nn
from gymnasium import spaces
from torch import Tensor

from refmodels.rl.ppo import ActorCritic, PPOConfig, Rollout, ppo_losses
from refmodels.rl.sac import SquashedGaussianActor
from refmodels.rl.td3 import Actor, Critic, clipped_double_q_target, smoothed_target_action

__all__ = [
    "PPOPieces", "SACPieces", "TD3Pieces", "gae", "ppo_policy", "ppo_policy_loss", "sac_pieces", "sac_policy",
    "td3_pieces", "td3_policy",
]


def _lr(_progress_remaining) -> float:
    return 1e-3  # SB3 policies want a schedule to build their optimiser; never used here


def _obs_space(obs_dim: int) -> spaces.Box:
    return spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)


@torch.no_grad()
def _copy_linear(dst: nn.Linear, src: nn.Linear) -> None:
    dst.weight.copy_(src.weight)
    dst.bias.copy_(src.bias)


@torch.no_grad()
def _copy_critic(dst: nn.Sequential, src: Critic, obs_dim: int, scale: Tensor, bias: Tensor) -> None:
    """Our Q(s, a) reads torques a = bias + scale * a_sb3; SB3's reads a_sb3 in [-1, 1]."""
    first = src.net[0]
    w_obs, w_act = first.weight[:, :obs_dim], first.weight[:, obs_dim:]
    dst[0].weight.copy_(torch.cat([w_obs, w_act * scale], dim=1))  # W a = W bias + (W scale) a_sb3
    dst[0].bias.copy_(first.bias + w_act @ bias)
    _copy_linear(dst[2], src.net[2])
    _copy_linear(dst[4], src.net[4])


# -- PPO ---------------------------------------------------------------------------------
def ppo_policy(agent: ActorCritic):
    """An SB3 ``ActorCriticPolicy`` (separate 2-layer tanh MLPs) holding ``agent``'s weights."""
    from stable_baselines3.common.policies import ActorCriticPolicy

    hidden, num_actions = agent.actor[0].out_features, agent.actor[4].out_features
    policy = ActorCriticPolicy(
        _obs_space(agent.obs_dim), spaces.Discrete(num_actions), _lr,
        net_arch=dict(pi=[hidden, hidden], vf=[hidden, hidden]), activation_fn=nn.Tanh,
    )
    pairs = [(policy.mlp_extractor.policy_net[0], agent.actor[0]), (policy.mlp_extractor.policy_net[2], agent.actor[2]),
             (policy.action_net, agent.actor[4]), (policy.mlp_extractor.value_net[0], agent.critic[0]),
             (policy.mlp_extractor.value_net[2], agent.critic[2]), (policy.value_net, agent.critic[4])]
    for dst, src in pairs:
        _copy_linear(dst, src)
    return policy.eval()


def gae(rewards: Tensor, values: Tensor, dones: Tensor, last_value: Tensor, gamma: float, lam: float):
    """SB3's ``RolloutBuffer.compute_returns_and_advantage`` on our (T, E) rollout: (advantages, returns).

    Ours marks ``dones[t] = 1`` when step t ended an episode; SB3 marks
    ``episode_starts[t + 1] = 1`` (the observation after it starts a new one) and passes
    the last step's dones separately.
    """
    from stable_baselines3.common.buffers import RolloutBuffer

    T, E = rewards.shape
    buffer = RolloutBuffer(T, spaces.Box(-1, 1, (1,)), spaces.Discrete(2), device="cpu", gae_lambda=lam, gamma=gamma,
                           n_envs=E)
    starts = torch.cat([torch.zeros(1, E), dones[:-1]])  # (T, E): episode_starts[t] = dones[t - 1]
    for t in range(T):
        buffer.add(np.zeros((E, 1), np.float32), np.zeros((E, 1)), rewards[t].numpy(), starts[t].numpy(),
                   values[t].clone(), torch.zeros(E))
    buffer.compute_returns_and_advantage(last_values=last_value.clone(), dones=dones[-1].numpy())
    return torch.as_tensor(buffer.advantages), torch.as_tensor(buffer.returns)


def ppo_policy_loss(policy, obs: Tensor, actions: Tensor, old_log_prob: Tensor, advantages: Tensor, clip_range: float):
    """SB3's ``evaluate_actions`` and the policy loss of ``PPO.train`` (normalize_advantage=True):
    (log_prob, values, entropy, policy_loss)."""
    with torch.no_grad():
        values, log_prob, entropy = policy.evaluate_actions(obs, actions)
        values = values.flatten()
        # stable_baselines3/ppo/ppo.py, PPO.train:
        if len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        ratio = torch.exp(log_prob - old_log_prob)
        policy_loss_1 = advantages * ratio
        policy_loss_2 = advantages * torch.clamp(ratio, 1 - clip_range, 1 + clip_range)
        policy_loss = -torch.min(policy_loss_1, policy_loss_2).mean()
    return log_prob, values, entropy, policy_loss


class PPOPieces(nn.Module):
    """Our side of :func:`ppo_policy_loss`: ``ppo_losses`` of ``refmodels.rl.ppo`` on one minibatch."""

    def __init__(self, agent: ActorCritic, clip_coef: float) -> None:
        super().__init__()
        self.agent, self.cfg = agent, PPOConfig(clip_coef=clip_coef)

    def forward(self, obs: Tensor, actions: Tensor, old_log_prob: Tensor, advantages: Tensor):
        _, log_prob, entropy, value = self.agent.act(obs, actions)
        zeros = torch.zeros_like(advantages)  # old values and returns: only the value loss reads them
        policy_loss = ppo_losses(self.agent, Rollout(obs, actions, old_log_prob, zeros, advantages, zeros), self.cfg)["policy"]
        return log_prob, value, entropy, policy_loss


# -- TD3 ---------------------------------------------------------------------------------
def td3_policy(actor: Actor, q1: Critic, q2: Critic, actor_t: Actor, q1_t: Critic, q2_t: Critic, low, high):
    """An SB3 ``TD3Policy`` holding our actor, critics and their targets."""
    from stable_baselines3.td3.policies import TD3Policy

    hidden = actor.net[0].out_features
    policy = TD3Policy(_obs_space(actor.obs_dim), spaces.Box(low, high, dtype=np.float32), _lr, net_arch=[hidden, hidden])
    for dst, src in ((policy.actor, actor), (policy.actor_target, actor_t)):
        for i in (0, 2, 4):
            _copy_linear(dst.mu[i], src.net[i])  # SB3: tanh(mu(s)) in [-1, 1]; ours: bias + scale * tanh(net(s))
    for dst, pair in ((policy.critic, (q1, q2)), (policy.critic_target, (q1_t, q2_t))):
        for qf, src in zip(dst.q_networks, pair):
            _copy_critic(qf, src, actor.obs_dim, actor.scale, actor.bias)
    return policy.eval()


def td3_pieces(policy, obs, rewards, terminated, next_obs, noise, gamma: float, target_noise_clip: float):
    """``TD3.train``'s target and actor loss with SB3's networks; ``noise`` ~ N(0, target_policy_noise)
    in SB3's [-1, 1] units. Returns (target y, next action in [-1, 1], Q1'(s', a'), Q2'(s', a'), actor loss)."""
    rewards, dones = rewards.reshape(-1, 1), terminated.reshape(-1, 1)
    with torch.no_grad():
        # stable_baselines3/td3/td3.py, TD3.train:
        noise = noise.clamp(-target_noise_clip, target_noise_clip)
        next_actions = (policy.actor_target(next_obs) + noise).clamp(-1, 1)
        next_q_values = torch.cat(policy.critic_target(next_obs, next_actions), dim=1)
        q1_next, q2_next = next_q_values[:, 0], next_q_values[:, 1]
        next_q_values, _ = torch.min(next_q_values, dim=1, keepdim=True)
        target_q_values = rewards + (1 - dones) * gamma * next_q_values  # SB3 2.9: discounts, = gamma (1-step)
        actor_loss = -policy.critic.q1_forward(obs, policy.actor(obs)).mean()
    return target_q_values.flatten(), next_actions, q1_next, q2_next, actor_loss


class TD3Pieces(nn.Module):
    """Our side of :func:`td3_pieces`, from ``refmodels.rl.td3``'s functions, in the same units."""

    def __init__(self, actor, q1, q2, actor_t, q1_t, q2_t, gamma: float, noise_clip: float) -> None:
        super().__init__()
        self.actor, self.q1, self.q2, self.actor_t, self.q1_t, self.q2_t = actor, q1, q2, actor_t, q1_t, q2_t
        self.gamma, self.noise_clip = gamma, noise_clip

    def forward(self, obs, rewards, terminated, next_obs, noise):
        scale, bias = self.actor.scale, self.actor.bias
        low, high = bias - scale, bias + scale
        # SB3's noise is in [-1, 1] units; ours in torque units (policy_noise * scale * eps in train_td3)
        next_action = smoothed_target_action(self.actor_t(next_obs), noise * scale, self.noise_clip * scale, low, high)
        q1_next, q2_next = self.q1_t(next_obs, next_action), self.q2_t(next_obs, next_action)
        y = clipped_double_q_target(rewards, terminated, q1_next, q2_next, self.gamma)
        actor_loss = -self.q1(obs, self.actor(obs)).mean()
        return y, (next_action - bias) / scale, q1_next, q2_next, actor_loss


# -- SAC ---------------------------------------------------------------------------------
def sac_policy(actor: SquashedGaussianActor, q1: Critic, q2: Critic, q1_t: Critic, q2_t: Critic, low, high):
    """An SB3 ``SACPolicy`` holding our actor, critics and target critics."""
    from stable_baselines3.sac.policies import SACPolicy

    hidden = actor.mean.in_features
    policy = SACPolicy(_obs_space(actor.obs_dim), spaces.Box(low, high, dtype=np.float32), _lr, net_arch=[hidden, hidden])
    _copy_linear(policy.actor.latent_pi[0], actor.trunk[0][0])
    _copy_linear(policy.actor.latent_pi[2], actor.trunk[0][2])
    _copy_linear(policy.actor.mu, actor.mean)
    _copy_linear(policy.actor.log_std, actor.log_std)
    for dst, pair in ((policy.critic, (q1, q2)), (policy.critic_target, (q1_t, q2_t))):
        for qf, src in zip(dst.q_networks, pair):
            _copy_critic(qf, src, actor.obs_dim, actor.scale, actor.bias)
    return policy.eval()


def sac_pieces(policy, obs, rewards, terminated, next_obs, seed: int, ent_coef: float, gamma: float,
               log_prob_shift: float = 0.0, epsilon: float = 1e-6, float64: bool = False):
    """``SAC.train``'s soft target and actor loss with SB3's networks and distribution.

    The Gaussian noise is drawn from ``torch.Generator().manual_seed(seed)``, first for
    s' then for s, as our ``train_sac`` draws it; ``log_prob_shift`` is added to SB3's
    log-probabilities (``-sum log scale`` puts them in torque units, 0 leaves them as SB3
    runs them). ``epsilon`` is the distribution's constant inside ``log(1 - tanh^2 u + epsilon)``
    (SB3's default 1e-6; 0 gives the exact density). ``float64`` runs SB3's distribution in
    double precision: float32 log(1 - tanh^2 u) loses its digits where tanh u is near +-1,
    so in float32 the comparison would measure SB3's round-off rather than ours. Returns (``log pi(a'|s')``, target y,
    ``log pi(a|s)``, actor loss).
    """
    gen = torch.Generator().manual_seed(seed)
    eps_next = torch.randn(len(next_obs), policy.actor.action_dist.action_dim, generator=gen)
    eps = torch.randn(len(obs), policy.actor.action_dist.action_dim, generator=gen)

    def action_log_prob(o, e):  # Actor.action_log_prob, with the noise given instead of drawn
        mean_actions, log_std, _ = policy.actor.get_action_dist_params(o)
        if float64:
            mean_actions, log_std, e = mean_actions.double(), log_std.double(), e.double()
        dist = policy.actor.action_dist.proba_distribution(mean_actions, log_std)
        gaussian_actions = mean_actions + log_std.exp() * e
        actions = torch.tanh(gaussian_actions)
        return actions, dist.log_prob(actions, gaussian_actions) + log_prob_shift

    rewards, dones = rewards.reshape(-1, 1), terminated.reshape(-1, 1)
    default_epsilon, policy.actor.action_dist.epsilon = policy.actor.action_dist.epsilon, epsilon
    with torch.no_grad():
        # stable_baselines3/sac/sac.py, SAC.train:
        next_actions, next_log_prob = action_log_prob(next_obs, eps_next)
        next_q_values = torch.cat(policy.critic_target(next_obs, next_actions.float()), dim=1)
        next_q_values, _ = torch.min(next_q_values, dim=1, keepdim=True)
        next_q_values = next_q_values - ent_coef * next_log_prob.reshape(-1, 1)
        target_q_values = rewards + (1 - dones) * gamma * next_q_values  # SB3 2.9: discounts, = gamma (1-step)
        actions_pi, log_prob = action_log_prob(obs, eps)
        q_values_pi = torch.cat(policy.critic(obs, actions_pi.float()), dim=1)
        min_qf_pi, _ = torch.min(q_values_pi, dim=1, keepdim=True)
        actor_loss = (ent_coef * log_prob - min_qf_pi).mean()
    policy.actor.action_dist.epsilon = default_epsilon
    return next_log_prob, target_q_values.flatten(), log_prob, actor_loss


class SACPieces(nn.Module):
    """Our side of :func:`sac_pieces`: the lines of ``train_sac`` for one batch, same noise."""

    def __init__(self, actor, q1, q2, q1_t, q2_t, alpha: float, gamma: float, seed: int) -> None:
        super().__init__()
        self.actor, self.q1, self.q2, self.q1_t, self.q2_t = actor, q1, q2, q1_t, q2_t
        self.alpha, self.gamma, self.seed = alpha, gamma, seed

    def forward(self, obs, rewards, terminated, next_obs):
        gen = torch.Generator().manual_seed(self.seed)
        next_action, next_log_prob, _ = self.actor(next_obs, gen)
        q_next = torch.min(self.q1_t(next_obs, next_action), self.q2_t(next_obs, next_action))
        y = rewards + self.gamma * (1.0 - terminated) * (q_next - self.alpha * next_log_prob)
        action_pi, log_prob, _ = self.actor(obs, gen)
        actor_loss = (self.alpha * log_prob - torch.min(self.q1(obs, action_pi), self.q2(obs, action_pi))).mean()
        return next_log_prob, y, log_prob, actor_loss
