"""refmodels.rl against Stable-Baselines3: returns and wall time, side by side.

Trains our PPO (CartPole-v1), TD3 and SAC (Pendulum-v1) and Stable-Baselines3's with
matched hyperparameters, networks and budgets (the ones the pages use), over several
seeds, one torch thread each, one run at a time, and prints for every run the mean
return of the last 10 training episodes and the wall time, then a summary: the mean
over seeds and our/SB3 wall-time ratio. The goal: our returns at least SB3's, our
wall time no worse than 1.25x.

This is a benchmark, not a test: it prints figures and never fails. It takes a
while (18 training runs with the defaults). Run it from the repository root after
``pip install -e .[bench]``::

    OMP_NUM_THREADS=1 python benchmarks/rl_sb3.py                    # all three, seeds 0 1 2
    OMP_NUM_THREADS=1 python benchmarks/rl_sb3.py --algos sac --seeds 0 1

Matching notes: SB3 gets the same network sizes and activations (``net_arch``,
``activation_fn``), learning rates (annealed linearly to zero for PPO), clip ranges
(``clip_range_vf`` for PPO's value clipping), noise scales, delays, buffer, batch and
start-up sizes. Both sides use Adam; ours uses torch's fused CPU kernel, SB3 its
default. Remaining differences are SB3's (each measured piece by piece in
``refmodels/rl/sb3.py`` and ``tests/test_rl.py``): it rescales actions to [-1, 1]
before the critics see them; its SAC log-probability is that of the [-1, 1] action,
larger than that of the torque by sum(log scale) (log 2 on Pendulum), so with the same
target entropy -A its temperature tuning asks for log 2 nats more torque entropy than
ours; it adds 1e-6 inside log(1 - tanh^2 u); its temperature loss differentiates with
respect to log alpha rather than alpha (same fixed point); and its PPO value loss is
the squared error of the clipped value alone (ours: half the larger of the clipped and
unclipped errors).

No output of this benchmark is recorded in the repository; the pages say so and
show none of its numbers.
"""

import argparse
import statistics
import time

import numpy as np
import torch

from refmodels.rl.ppo import PPOConfig, train_ppo
from refmodels.rl.sac import SACConfig, train_sac
from refmodels.rl.td3 import TD3Config, train_td3

# The budgets of the pages (docs/rl/*.md).
PPO = dict(env_id="CartPole-v1", total_steps=100_000)
TD3 = dict(env_id="Pendulum-v1", total_steps=8_000, learning_starts=1_000, hidden=128, gamma=0.98)
SAC = dict(env_id="Pendulum-v1", total_steps=8_000, learning_starts=1_000, hidden=128)


def ours(algo: str, seed: int) -> tuple[float, float]:
    train, cfg = {
        "ppo": (train_ppo, PPOConfig(**PPO, seed=seed)),
        "td3": (train_td3, TD3Config(**TD3, seed=seed)),
        "sac": (train_sac, SACConfig(**SAC, seed=seed)),
    }[algo]
    start = time.perf_counter()
    result = train(cfg)
    return float(np.mean(result.episode_returns[-10:])), time.perf_counter() - start


def sb3(algo: str, seed: int) -> tuple[float, float]:
    import gymnasium as gym
    from stable_baselines3 import PPO as SB3PPO
    from stable_baselines3 import SAC as SB3SAC
    from stable_baselines3 import TD3 as SB3TD3
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.noise import NormalActionNoise

    if algo == "ppo":
        c = PPOConfig(**PPO, seed=seed)
        env = make_vec_env(c.env_id, n_envs=c.num_envs, seed=seed)
        model = SB3PPO(
            "MlpPolicy", env, learning_rate=lambda remaining: c.learning_rate * remaining, n_steps=c.num_steps,
            batch_size=c.batch_size // c.num_minibatches, n_epochs=c.update_epochs, gamma=c.gamma,
            gae_lambda=c.gae_lambda, clip_range=c.clip_coef, clip_range_vf=c.clip_coef, normalize_advantage=c.norm_adv,
            ent_coef=c.ent_coef, vf_coef=c.vf_coef, max_grad_norm=c.max_grad_norm,
            policy_kwargs=dict(net_arch=dict(pi=[c.hidden] * 2, vf=[c.hidden] * 2), activation_fn=torch.nn.Tanh),
            seed=seed, device="cpu",
        )
    elif algo == "td3":
        c = TD3Config(**TD3, seed=seed)
        env = gym.make(c.env_id)
        dim = env.action_space.shape[0]
        model = SB3TD3(
            "MlpPolicy", env, learning_rate=c.critic_lr, buffer_size=c.buffer_size, learning_starts=c.learning_starts,
            batch_size=c.batch_size, tau=c.tau, gamma=c.gamma, train_freq=1, gradient_steps=1,
            action_noise=NormalActionNoise(np.zeros(dim), c.exploration_noise * np.ones(dim)),
            policy_delay=c.policy_delay, target_policy_noise=c.policy_noise, target_noise_clip=c.noise_clip,
            policy_kwargs=dict(net_arch=[c.hidden] * 2), seed=seed, device="cpu",
        )
    else:
        c = SACConfig(**SAC, seed=seed)
        env = gym.make(c.env_id)
        model = SB3SAC(
            "MlpPolicy", env, learning_rate=c.critic_lr, buffer_size=c.buffer_size, learning_starts=c.learning_starts,
            batch_size=c.batch_size, tau=c.tau, gamma=c.gamma, train_freq=1, gradient_steps=1,
            ent_coef=f"auto_{c.init_alpha}", target_entropy="auto",
            policy_kwargs=dict(net_arch=[c.hidden] * 2), seed=seed, device="cpu",
        )
    start = time.perf_counter()
    model.learn(total_timesteps=c.total_steps)
    seconds = time.perf_counter() - start
    returns = [info["r"] for info in model.ep_info_buffer]
    return float(np.mean(returns[-10:])), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--algos", nargs="+", default=["ppo", "td3", "sac"], choices=["ppo", "td3", "sac"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    print(f"{'algo':5s} {'seed':>4s} {'ours: return':>13s} {'SB3: return':>12s} {'ours: s':>8s} {'SB3: s':>8s}", flush=True)
    for algo in args.algos:
        for seed in args.seeds:
            r_ours, t_ours = ours(algo, seed)
            r_sb3, t_sb3 = sb3(algo, seed)
            rows.append((algo, seed, r_ours, r_sb3, t_ours, t_sb3))
            print(f"{algo:5s} {seed:4d} {r_ours:13.1f} {r_sb3:12.1f} {t_ours:8.1f} {t_sb3:8.1f}", flush=True)
    print("\nmean over seeds (return of the last 10 training episodes; wall time, one torch thread)")
    print("| algorithm | environment | ours: return | SB3: return | ours: s | SB3: s | time ratio ours/SB3 |")
    print("|---|---|---|---|---|---|---|")
    envs = {"ppo": PPO["env_id"], "td3": TD3["env_id"], "sac": SAC["env_id"]}
    for algo in args.algos:
        sel = [r for r in rows if r[0] == algo]
        ro, rs, to, ts = (statistics.mean(r[i] for r in sel) for i in (2, 3, 4, 5))
        print(f"| {algo.upper()} | {envs[algo]} | {ro:.1f} | {rs:.1f} | {to:.1f} | {ts:.1f} | {to / ts:.2f} |")


if __name__ == "__main__":
    main()
