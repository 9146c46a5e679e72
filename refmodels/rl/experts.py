"""Trained experts: each RL agent the pages train, trained once per code change.

A page (or a gallery script, a test, a later robotics page) that needs a trained agent
calls one of these instead of ``train_*``. The first call trains and stores the result
with :func:`refmodels.cache.cached`; every later call, in the same build or the next,
loads it. The key holds every setting of the run (the whole config), the torch CPU
kernel set (``default``, ``avx2``...: a different kernel rounds differently, and an RL
run that rounds differently is a different run), torch's version and the SHA-256 of
the modules its training runs (and of this file), so changing any of them trains again.

What is stored is plain data: the networks' state dicts, the learning curves, the
counts and the time the training took when it was produced; each function rebuilds
the ``*Result`` of its ``train_*``, with ``produced_seconds`` / ``produced_cpu``
set to that training's wall and CPU time.

>>> import os, tempfile
>>> os.environ["REFMODELS_ARTIFACTS"] = tempfile.mkdtemp()
>>> tiny = dict(total_steps=250, learning_starts=150, batch_size=32, hidden=16)
>>> r = td3_pendulum(**tiny)
[artifact cache] produced td3_pendulum (...)
>>> r.gradient_steps, tuple(r.actor(torch.zeros(2, 3)).shape)
(100, (2, 1))
>>> td3_pendulum(**tiny).gradient_steps  # loaded, not trained
[artifact cache] loaded td3_pendulum (...)
100
>>> del os.environ["REFMODELS_ARTIFACTS"]
"""

import dataclasses
import time

import gymnasium as gym
import numpy as np
import torch

import refmodels.rl.common
import refmodels.rl.ppo
import refmodels.rl.sac
import refmodels.rl.td3
from refmodels.cache import cached
from refmodels.rl.ppo import ActorCritic, PPOConfig, PPOResult, train_ppo
from refmodels.rl.sac import SACConfig, SACResult, SquashedGaussianActor, train_sac
from refmodels.rl.td3 import Actor, Critic, TD3Config, TD3Result, train_td3

__all__ = ["evaluate", "ppo_cartpole", "sac_pendulum", "td3_pendulum"]

# The code each expert's training runs (SAC reuses TD3's critic and target updates).
PPO_CODE = [refmodels.rl.common, refmodels.rl.ppo]
TD3_CODE = [refmodels.rl.common, refmodels.rl.td3]
SAC_CODE = [refmodels.rl.common, refmodels.rl.td3, refmodels.rl.sac]
# The page's curves and lists: what a result holds besides its networks.
_CURVES = ("episode_returns", "episode_steps", "losses", "critic_losses", "actor_losses", "alphas", "entropies")
_COUNTS = ("env_steps", "gradient_steps")


def _settings(cfg) -> dict:
    return {**dataclasses.asdict(cfg), "cpu_capability": torch.backends.cpu.get_cpu_capability()}


def _train_and_pack(train, cfg, networks) -> dict:
    """Train on one torch thread (so the run is the same wherever it is produced) and keep plain data."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cpu = time.process_time()
        result = train(cfg)
        cpu = time.process_time() - cpu
    finally:
        torch.set_num_threads(threads)
    packed = {name: getattr(result, name) for name in (*_CURVES, *_COUNTS) if hasattr(result, name)}
    packed["state_dicts"] = {name: module.state_dict() for name, module in networks(result).items()}
    packed.update(seconds=result.seconds, cpu_seconds=cpu, config=dataclasses.asdict(cfg))
    return packed


def _unpack(result, packed: dict):
    for name in (*_CURVES, *_COUNTS):
        if name in packed:
            setattr(result, name, packed[name])
    result.seconds = packed["seconds"]
    result.produced_seconds, result.produced_cpu = packed["seconds"], packed["cpu_seconds"]
    return result


def ppo_cartpole(**overrides) -> PPOResult:
    """The PPO page's agent: :class:`PPOConfig` on ``CartPole-v1`` (100k steps), trained once."""
    cfg = PPOConfig(**{"env_id": "CartPole-v1", "total_steps": 100_000, "seed": 0, **overrides})
    packed = cached(
        "ppo_cartpole", lambda: _train_and_pack(train_ppo, cfg, lambda r: {"agent": r.agent}),
        settings=_settings(cfg), code=PPO_CODE,
    )
    env = gym.make(cfg.env_id)
    agent = ActorCritic(env.observation_space.shape[0], int(env.action_space.n), cfg.hidden)
    agent.load_state_dict(packed["state_dicts"]["agent"])
    return _unpack(PPOResult(agent), packed)


def _box_env(env_id: str):
    env = gym.make(env_id)
    return env.observation_space.shape[0], env.action_space.shape[0], env.action_space.low, env.action_space.high


def td3_pendulum(**overrides) -> TD3Result:
    """The TD3 page's agent: 8k steps on ``Pendulum-v1``, 128-unit layers, gamma 0.98, trained once."""
    cfg = TD3Config(**{"env_id": "Pendulum-v1", "total_steps": 8_000, "learning_starts": 1_000, "hidden": 128,
                       "gamma": 0.98, "seed": 0, **overrides})
    networks = lambda r: {"actor": r.actor, "q1": r.critics[0], "q2": r.critics[1]}  # noqa: E731
    packed = cached("td3_pendulum", lambda: _train_and_pack(train_td3, cfg, networks), settings=_settings(cfg),
                    code=TD3_CODE)
    obs_dim, action_dim, low, high = _box_env(cfg.env_id)
    actor = Actor(obs_dim, action_dim, low, high, cfg.hidden)
    q1, q2 = Critic(obs_dim, action_dim, cfg.hidden), Critic(obs_dim, action_dim, cfg.hidden)
    for name, module in (("actor", actor), ("q1", q1), ("q2", q2)):
        module.load_state_dict(packed["state_dicts"][name])
    return _unpack(TD3Result(actor, (q1, q2)), packed)


def sac_pendulum(**overrides) -> SACResult:
    """The SAC page's agent: 8k steps on ``Pendulum-v1``, 128-unit layers, trained once."""
    cfg = SACConfig(**{"env_id": "Pendulum-v1", "total_steps": 8_000, "learning_starts": 1_000, "hidden": 128,
                       "seed": 0, **overrides})
    networks = lambda r: {"actor": r.actor, "q1": r.critics[0], "q2": r.critics[1]}  # noqa: E731
    packed = cached("sac_pendulum", lambda: _train_and_pack(train_sac, cfg, networks), settings=_settings(cfg),
                    code=SAC_CODE)
    obs_dim, action_dim, low, high = _box_env(cfg.env_id)
    actor = SquashedGaussianActor(obs_dim, action_dim, low, high, cfg.hidden, cfg.log_std_min, cfg.log_std_max)
    q1, q2 = Critic(obs_dim, action_dim, cfg.hidden), Critic(obs_dim, action_dim, cfg.hidden)
    for name, module in (("actor", actor), ("q1", q1), ("q2", q2)):
        module.load_state_dict(packed["state_dicts"][name])
    return _unpack(SACResult(actor, (q1, q2)), packed)


@torch.no_grad()
def evaluate(policy, env_id: str, episodes: int = 5, seed: int = 1000) -> list[float]:
    """Returns of ``episodes`` episodes of a deterministic policy (``policy(obs (1, obs_dim)) -> action``),
    with environment seeds ``seed, seed + 1, ...`` that training never used."""
    env = gym.make(env_id)
    returns = []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        total, done = 0.0, False
        while not done:
            action = policy(torch.as_tensor(obs, dtype=torch.float32).unsqueeze(0))[0].numpy()
            obs, reward, terminated, truncated, _ = env.step(action.item() if action.ndim == 0 else action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    return returns
