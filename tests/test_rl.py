"""PPO, TD3 and SAC: a few hundred steps each (finite losses, documented shapes,
seeded determinism), bad environments and bad inputs, config validation.

Learning itself is checked where it is shown: each page trains its agent at build
time and asserts the return threshold (PPO >= 475 on CartPole-v1, TD3 and SAC
>= -250 on Pendulum-v1)."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from refmodels.rl.common import ReplayBuffer, check_obs
from refmodels.rl.ppo import ActorCritic, PPOConfig, make_envs, train_ppo
from refmodels.rl.sac import SACConfig, SquashedGaussianActor, train_sac
from refmodels.rl.td3 import Actor, Critic, TD3Config, train_td3

PPO_SMOKE = dict(total_steps=512, num_envs=2, num_steps=64, num_minibatches=2, update_epochs=2, hidden=16)
OFF_SMOKE = dict(total_steps=250, learning_starts=150, batch_size=32, hidden=16)


def params(module):
    return torch.cat([p.detach().flatten() for p in module.parameters()])


# -- shapes as documented ------------------------------------------------------------------
def test_ppo_shapes_on_cartpole():
    env = gym.make("CartPole-v1")
    obs = torch.as_tensor(np.stack([env.reset(seed=i)[0] for i in range(5)]))  # (5, 4)
    agent = ActorCritic(obs_dim=4, num_actions=2)
    action, logprob, entropy, value = agent.act(obs)
    assert tuple(obs.shape) == (5, 4)
    assert tuple(action.shape) == tuple(logprob.shape) == tuple(entropy.shape) == tuple(value.shape) == (5,)
    assert tuple(agent.actor(obs).shape) == (5, 2)  # logits (B, K)
    # a fresh policy is near uniform (gain 0.01 on the last layer): entropy close to log 2
    assert entropy.min().item() > math.log(2) - 1e-3


@pytest.mark.parametrize("which", ["td3", "sac"])
def test_off_policy_shapes_on_pendulum(which):
    env = gym.make("Pendulum-v1")
    low, high = env.action_space.low, env.action_space.high
    obs = torch.as_tensor(np.stack([env.reset(seed=i)[0] for i in range(5)]))  # (5, 3)
    q = Critic(3, 1, hidden=16)
    if which == "td3":
        action = Actor(3, 1, low, high, hidden=16)(obs)
    else:
        action, log_prob, mean_action = SquashedGaussianActor(3, 1, low, high, hidden=16)(obs)
        assert tuple(log_prob.shape) == (5,) and tuple(mean_action.shape) == (5, 1)
    assert tuple(action.shape) == (5, 1)
    assert (action.abs() <= 2.0).all()  # inside Pendulum's torque bounds
    assert tuple(q(obs, action).shape) == (5,)


def test_replay_buffer_wraps_around():
    buf = ReplayBuffer(capacity=4, obs_dim=1, action_dim=1)
    for i in range(6):
        buf.add(np.array([i]), np.array([0.0]), float(i), np.array([i + 1]), i == 5)
    assert buf.size == 4
    assert sorted(buf.rewards.tolist()) == [2.0, 3.0, 4.0, 5.0]  # the two oldest were overwritten
    b = buf.sample(16, torch.Generator().manual_seed(0))
    torch.testing.assert_close(b.next_obs, b.obs + 1)  # transitions stay whole
    assert ((b.terminated == 1) == (b.rewards == 5)).all()


# -- a few hundred steps: finite, deterministic ---------------------------------------------
def test_ppo_smoke_and_determinism():
    r1, r2 = train_ppo(PPOConfig(**PPO_SMOKE)), train_ppo(PPOConfig(**PPO_SMOKE))
    cfg = PPOConfig(**PPO_SMOKE)
    assert r1.env_steps == cfg.num_updates * cfg.batch_size == 512
    assert r1.gradient_steps == cfg.num_updates * cfg.update_epochs * cfg.num_minibatches
    assert len(r1.losses) == cfg.num_updates
    assert all(math.isfinite(v) for row in r1.losses for v in row.values())
    assert len(r1.episode_returns) > 0 and all(r >= 1 for r in r1.episode_returns)
    assert r1.episode_returns == r2.episode_returns
    torch.testing.assert_close(params(r1.agent), params(r2.agent), rtol=0, atol=0)


@pytest.mark.parametrize("algo", ["td3", "sac"])
def test_off_policy_smoke_and_determinism(algo):
    train, config = (train_td3, TD3Config) if algo == "td3" else (train_sac, SACConfig)
    r1, r2 = train(config(**OFF_SMOKE)), train(config(**OFF_SMOKE))
    updates = OFF_SMOKE["total_steps"] - OFF_SMOKE["learning_starts"]
    assert r1.gradient_steps == len(r1.critic_losses) == updates
    assert all(math.isfinite(v) for v in r1.critic_losses + r1.actor_losses)
    if algo == "td3":
        assert len(r1.actor_losses) == updates // 2  # delayed: one actor step per two critic steps
    else:
        assert len(r1.alphas) == updates and r1.alphas[-1] != r1.alphas[0]  # the temperature moved
    assert len(r1.episode_returns) == 1  # Pendulum's episodes are 200 steps
    assert r1.episode_returns == r2.episode_returns
    torch.testing.assert_close(params(r1.actor), params(r2.actor), rtol=0, atol=0)


def test_td3_delayed_targets_move_only_on_actor_steps():
    r = train_td3(TD3Config(**{**OFF_SMOKE, "total_steps": 153, "policy_delay": 2}))
    # updates at steps 150, 151, 152: actor (and targets) at 150 and 152
    assert r.gradient_steps == 3 and len(r.actor_losses) == 2


# -- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize("train, config", [(train_td3, TD3Config), (train_sac, SACConfig)])
def test_discrete_env_rejected_by_continuous_algorithms(train, config):
    name = "TD3" if train is train_td3 else "SAC"
    with pytest.raises(ValueError, match=rf"{name} expects a continuous Box action space \(A,\); got Discrete\(2\)"):
        train(config(**OFF_SMOKE), env=gym.make("CartPole-v1"))


def test_continuous_env_rejected_by_ppo():
    envs = make_envs(PPOConfig(env_id="Pendulum-v1", **PPO_SMOKE))
    with pytest.raises(ValueError, match=r"PPO expects a Discrete action space; got Box"):
        train_ppo(PPOConfig(**PPO_SMOKE), envs=envs)


@pytest.mark.parametrize(
    "call, who",
    [
        (lambda x: ActorCritic(4, 2).act(x), "PPO actor"),
        (lambda x: ActorCritic(4, 2).value(x), "PPO critic"),
        (lambda x: Actor(4, 1, np.array([-1.0]), np.array([1.0]))(x), "TD3 actor"),
        (lambda x: SquashedGaussianActor(4, 1, np.array([-1.0]), np.array([1.0]))(x), "SAC actor"),
        (lambda x: Critic(4, 1)(x, torch.zeros(len(x), 1)), "critic"),
    ],
)
@pytest.mark.parametrize("shape", [(4,), (2, 3), (2, 4, 1)])
def test_wrong_observation_shape(call, who, shape):
    x = torch.zeros(shape)
    with pytest.raises(ValueError, match=rf"{who} expects observations of shape \(B, 4\); got {re_shape(shape)}"):
        call(x)


def re_shape(shape):
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


def test_check_obs_rejects_non_tensors():
    with pytest.raises(ValueError, match=r"got ndarray"):
        check_obs(np.zeros((2, 4)), 4, "PPO actor")


# -- config validation ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "config, kwargs, message",
    [
        (PPOConfig, dict(num_envs=0), r"num_envs must be a positive integer; got 0"),
        (PPOConfig, dict(num_envs=3, num_steps=5, num_minibatches=2), r"divisible by num_minibatches: got 3 \* 5 and 2"),
        (PPOConfig, dict(gamma=1.5), r"gamma must be in \(0, 1\]"),
        (PPOConfig, dict(total_steps=10), r"at least one rollout of num_envs \* num_steps = 512; got 10"),
        (PPOConfig, dict(clip_coef=0.0), r"clip_coef, learning_rate and max_grad_norm must be positive"),
        (TD3Config, dict(learning_starts=10_000, total_steps=5_000), r"learning_starts must be in \[0, total_steps\)"),
        (TD3Config, dict(policy_delay=0), r"policy_delay must be a positive integer; got 0"),
        (TD3Config, dict(noise_clip=-0.1), r"noise_clip must be non-negative; got -0.1"),
        (TD3Config, dict(tau=0.0), r"gamma and tau must be in \(0, 1\]"),
        (SACConfig, dict(alpha_lr=0.0), r"alpha_lr must be positive; got 0.0"),
        (SACConfig, dict(log_std_min=2.0, log_std_max=-2.0), r"log_std_min must be below log_std_max"),
        (SACConfig, dict(batch_size=0), r"batch_size must be a positive integer; got 0"),
    ],
)
def test_config_validation(config, kwargs, message):
    with pytest.raises(ValueError, match=message):
        config(**kwargs)


def test_configs_are_frozen():
    with pytest.raises(AttributeError):
        PPOConfig().gamma = 0.5


# -- trained experts: trained once, loaded afterwards (refmodels.cache) ------------------------
TINY_TD3 = dict(total_steps=220, learning_starts=200, batch_size=16, hidden=8)


def test_expert_second_call_loads_without_training(monkeypatch, tmp_path):
    from refmodels.rl import experts

    monkeypatch.setenv("REFMODELS_ARTIFACTS", str(tmp_path))
    calls = []
    monkeypatch.setattr(experts, "train_td3", lambda cfg: calls.append(cfg) or train_td3(cfg))
    first = experts.td3_pendulum(**TINY_TD3)
    second = experts.td3_pendulum(**TINY_TD3)
    assert len(calls) == 1, f"trained {len(calls)} times; claim: once"
    assert len(list(tmp_path.glob("td3_pendulum-*.pt"))) == 1
    assert second.episode_returns == first.episode_returns and second.gradient_steps == first.gradient_steps
    torch.testing.assert_close(params(second.actor), params(first.actor), rtol=0, atol=0)
    assert second.produced_seconds == first.produced_seconds  # the stored time of the one training


def test_expert_changed_setting_is_a_new_entry(monkeypatch, tmp_path):
    from refmodels.rl import experts

    monkeypatch.setenv("REFMODELS_ARTIFACTS", str(tmp_path))
    calls = []
    monkeypatch.setattr(experts, "train_td3", lambda cfg: calls.append(cfg) or train_td3(cfg))
    experts.td3_pendulum(**TINY_TD3)
    experts.td3_pendulum(**{**TINY_TD3, "gamma": 0.9})
    experts.td3_pendulum(**{**TINY_TD3, "gamma": 0.9})
    assert [c.gamma for c in calls] == [0.98, 0.9], f"trained with gammas {[c.gamma for c in calls]}"
    assert len(list(tmp_path.glob("td3_pendulum-*.pt"))) == 2


# -- against Stable-Baselines3: same data and weights in, same pieces out ------------------------
sb3_mod = pytest.importorskip("refmodels.rl.sb3")
pytest.importorskip("stable_baselines3")


def _ppo_rollout(T=32, E=4, seed=0):
    from refmodels.parity import randomize_constants_

    torch.manual_seed(seed)
    agent = ActorCritic(4, 2)
    randomize_constants_(agent, seed=seed)  # the zero biases of the orthogonal init become random
    envs = make_envs(PPOConfig(num_envs=E, num_steps=T))
    obs = torch.as_tensor(envs.reset(seed=seed)[0])
    O, A = torch.zeros(T, E, 4), torch.zeros(T, E, dtype=torch.long)
    LP, R, D, V = (torch.zeros(T, E) for _ in range(4))
    with torch.no_grad():
        for t in range(T):
            O[t] = obs
            A[t], LP[t], _, V[t] = agent.act(obs)
            o, r, term, trunc, _ = envs.step(A[t].numpy())
            R[t], D[t] = torch.as_tensor(r, dtype=torch.float32), torch.as_tensor(term | trunc, dtype=torch.float32)
            obs = torch.as_tensor(o)
        last = agent.value(obs)
    return agent, O, A, LP, R, D, V, last


def test_gae_equals_sb3_rollout_buffer():
    from refmodels.rl.ppo import compute_gae

    _, _, _, _, R, D, V, last = _ppo_rollout()
    assert D.sum() > 0, "the rollout must contain episode ends"
    ours = compute_gae(R, V, D, last, 0.98, 0.8)
    theirs = sb3_mod.gae(R, V, D, last, 0.98, 0.8)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)
    wrong = sb3_mod.gae(R, V, D, last, 0.98, 0.95)[0]
    assert (wrong - ours[0]).abs().max() > 1e-2, "a wrong lambda must break the comparison"


def test_ppo_pieces_equal_sb3_and_scrambling_fails():
    from refmodels.parity import check_parity, scramble_one_
    from refmodels.rl.ppo import Rollout, compute_gae, ppo_losses

    agent, O, A, LP, R, D, V, last = _ppo_rollout()
    adv, ret = compute_gae(R, V, D, last, 0.98, 0.8)
    batch = Rollout(O.reshape(-1, 4), A.reshape(-1), LP.reshape(-1), V.reshape(-1), adv.reshape(-1), ret.reshape(-1))
    opt = torch.optim.Adam(agent.parameters(), lr=1e-2)
    for _ in range(20):  # move the policy so some ratios leave the clip range
        loss = ppo_losses(agent, batch, PPOConfig())["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert ppo_losses(agent, batch, PPOConfig())["clipfrac"] > 0
    inputs = (batch.obs, batch.actions, batch.logprobs, batch.advantages)
    policy = sb3_mod.ppo_policy(agent)
    theirs = lambda *x: sb3_mod.ppo_policy_loss(policy, *x, clip_range=0.2)  # noqa: E731
    report = check_parity(sb3_mod.PPOPieces(agent, 0.2), theirs, *inputs, atol=1e-5)
    assert report.max_abs <= 1e-5
    scramble_one_(agent)
    with pytest.raises(AssertionError):
        check_parity(sb3_mod.PPOPieces(agent, 0.2), theirs, *inputs, atol=1e-5, scramble=False)


def _pendulum_batch(n=64, seed=0):
    buf = ReplayBuffer(300, 3, 1)
    env = gym.make("Pendulum-v1")
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    for _ in range(300):
        a = env.action_space.sample()
        nxt, r, term, trunc, _ = env.step(a)
        buf.add(obs, a, float(r), nxt, bool(term))
        obs = env.reset()[0] if term or trunc else nxt
    b = buf.sample(n, torch.Generator().manual_seed(seed))
    b.terminated[: n // 4] = 1.0  # exercise (1 - d): Pendulum itself never terminates
    return b


def _random_bounds(actor):
    from refmodels.parity import randomize_constants_

    changed = randomize_constants_(actor, seed=3)  # scale and bias buffers: bounds other than [-2, 2]
    assert {"scale", "bias"} <= set(changed), changed
    return (actor.bias - actor.scale).numpy(), (actor.bias + actor.scale).numpy()


def test_td3_target_equals_sb3_and_scrambling_fails():
    from refmodels.parity import check_parity, scramble_one_

    torch.manual_seed(0)
    nets = [Actor(3, 1, np.array([-2.0]), np.array([2.0]), 32), Critic(3, 1, 32), Critic(3, 1, 32)]
    nets += [Actor(3, 1, np.array([-2.0]), np.array([2.0]), 32), Critic(3, 1, 32), Critic(3, 1, 32)]
    low, high = _random_bounds(nets[0])
    nets[3].load_state_dict(nets[3].state_dict() | {"scale": nets[0].scale, "bias": nets[0].bias})
    policy = sb3_mod.td3_policy(*nets, low, high)
    b = _pendulum_batch()
    noise = 0.2 * torch.randn(b.actions.shape, generator=torch.Generator().manual_seed(1))
    inputs = (b.obs, b.rewards, b.terminated, b.next_obs, noise)
    theirs = lambda *x: sb3_mod.td3_pieces(policy, *x, gamma=0.98, target_noise_clip=0.5)  # noqa: E731
    ours = sb3_mod.TD3Pieces(*nets, gamma=0.98, noise_clip=0.5)
    check_parity(ours, theirs, *inputs, atol=1e-5)
    with pytest.raises(AssertionError):  # a wrong gamma on SB3's side
        check_parity(ours, lambda *x: sb3_mod.td3_pieces(policy, *x, gamma=0.5, target_noise_clip=0.5), *inputs,
                     atol=1e-5, scramble=False)
    scramble_one_(ours, "q2_t.net.2.weight")  # the second target critic: only the minimum sees it
    with pytest.raises(AssertionError):
        check_parity(ours, theirs, *inputs, atol=1e-5, scramble=False)


def test_sac_target_equals_sb3_in_torque_units_and_scrambling_fails():
    from refmodels.parity import check_parity, scramble_one_

    torch.manual_seed(0)
    actor = SquashedGaussianActor(3, 1, np.array([-2.0]), np.array([2.0]), 32)
    low, high = _random_bounds(actor)
    nets = [actor, *(Critic(3, 1, 32) for _ in range(4))]
    policy = sb3_mod.sac_policy(*nets, low, high)
    b = _pendulum_batch()
    inputs = (b.obs, b.rewards, b.terminated, b.next_obs)
    shift = -float(torch.log(actor.scale).sum())
    theirs = lambda *x: sb3_mod.sac_pieces(policy, *x, seed=2, ent_coef=0.3, gamma=0.99, log_prob_shift=shift,  # noqa: E731
                                           epsilon=0.0)
    ours = sb3_mod.SACPieces(*nets, alpha=0.3, gamma=0.99, seed=2)
    check_parity(ours, theirs, *inputs, atol=1e-4)
    # As SB3 runs ([-1, 1] units, epsilon 1e-6), its log pi is larger by sum log scale
    as_run = sb3_mod.sac_pieces(policy, *inputs, seed=2, ent_coef=0.3, gamma=0.99)
    torch.testing.assert_close(as_run[0] - ours(*inputs)[0], torch.full((len(b.obs),), -shift), rtol=0, atol=1e-2)
    scramble_one_(ours, "actor.log_std.weight")
    with pytest.raises(AssertionError):
        check_parity(ours, theirs, *inputs, atol=1e-4, scramble=False)


class _FallsOnTheLastStep(gym.Wrapper):
    """A time limit whose last step is also terminal (the pole falls exactly at the cut)."""

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, terminated or truncated, truncated, info


def test_ppo_survives_terminated_and_truncated_on_the_same_step():
    cfg = PPOConfig(**PPO_SMOKE)
    envs = gym.vector.SyncVectorEnv(
        [lambda: _FallsOnTheLastStep(gym.make("CartPole-v1", max_episode_steps=10)) for _ in range(cfg.num_envs)],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )
    result = train_ppo(cfg, envs=envs)  # used to raise "need at least one array to stack"
    assert result.episode_returns and max(result.episode_returns) <= 10
