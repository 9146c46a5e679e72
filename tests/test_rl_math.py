"""The math of PPO, TD3 and SAC against values computed by hand (in the comments)
and, for the squashed Gaussian, against torch.distributions."""

import math

import numpy as np
import pytest
import torch
from torch.distributions import AffineTransform, Normal, TanhTransform, TransformedDistribution

from refmodels.rl.ppo import clipped_surrogate, compute_gae
from refmodels.rl.sac import SquashedGaussianActor, squashed_log_prob, temperature_loss
from refmodels.rl.td3 import clipped_double_q_target, smoothed_target_action

# -- GAE -------------------------------------------------------------------------------
# One environment, three steps; step 1 ends the episode (terminal), so step 0 and step 1
# form one episode and step 2 starts the next, which the rollout cuts before it ends.
REWARDS = torch.tensor([[1.0], [1.0], [1.0]])
VALUES = torch.tensor([[0.5], [2.0], [2.0]])
DONES = torch.tensor([[0.0], [1.0], [0.0]])
LAST_VALUE = torch.tensor([4.0])  # V(s_3), the observation after the rollout


def test_gae_by_hand():
    # gamma = lambda = 0.5
    # t=2: delta = 1 + 0.5 * 4 - 2 = 1                 A_2 = 1
    # t=1: delta = 1 + 0 (terminal) - 2 = -1           A_1 = -1   (nothing flows back across the end)
    # t=0: delta = 1 + 0.5 * 2 - 0.5 = 1.5             A_0 = 1.5 + 0.5 * 0.5 * (-1) = 1.25
    # returns = A + V = [1.75, 1.0, 3.0]
    adv, ret = compute_gae(REWARDS, VALUES, DONES, LAST_VALUE, gamma=0.5, lam=0.5)
    torch.testing.assert_close(adv, torch.tensor([[1.25], [-1.0], [1.0]]))
    torch.testing.assert_close(ret, torch.tensor([[1.75], [1.0], [3.0]]))


def test_gae_lambda_one_is_the_discounted_return():
    # lambda = 1: returns are Monte-Carlo returns bootstrapped only at the rollout's end.
    # R_2 = 1 + 0.5 * 4 = 3;  R_1 = 1 (terminal);  R_0 = 1 + 0.5 * R_1 = 1.5
    adv, ret = compute_gae(REWARDS, VALUES, DONES, LAST_VALUE, gamma=0.5, lam=1.0)
    torch.testing.assert_close(ret, torch.tensor([[1.5], [1.0], [3.0]]))
    torch.testing.assert_close(adv, ret - VALUES)


def test_gae_lambda_zero_is_the_td_error():
    # lambda = 0: A_t = delta_t = [1.5, -1, 1]
    adv, _ = compute_gae(REWARDS, VALUES, DONES, LAST_VALUE, gamma=0.5, lam=0.0)
    torch.testing.assert_close(adv, torch.tensor([[1.5], [-1.0], [1.0]]))


def test_gae_environments_are_independent():
    # Two environments side by side: the second column must not change the first.
    both = compute_gae(
        REWARDS.repeat(1, 2), VALUES.repeat(1, 2), torch.cat([DONES, 1 - DONES], 1), LAST_VALUE.repeat(2), 0.5, 0.5
    )[0]
    torch.testing.assert_close(both[:, :1], torch.tensor([[1.25], [-1.0], [1.0]]))


# -- PPO's clipped surrogate ------------------------------------------------------------
@pytest.mark.parametrize(
    "ratio, adv, objective, clipped",
    [
        (1.1, 2.0, 2.2, False),  # inside [0.8, 1.2]: r A = 2.2
        (1.5, 2.0, 2.4, True),  # A > 0, r above 1 + eps: min(3.0, 1.2 * 2) = 2.4, no gain from going further
        (0.5, 2.0, 1.0, False),  # A > 0, r below 1 - eps: min(1.0, 0.8 * 2 = 1.6) = 1.0, the unclipped (worse) one
        (1.5, -1.0, -1.5, False),  # A < 0, r above 1 + eps: min(-1.5, -1.2) = -1.5, the penalty stays
        (0.5, -1.0, -0.8, True),  # A < 0, r below 1 - eps: min(-0.5, -0.8) = -0.8
    ],
)
def test_clipped_surrogate_by_hand(ratio, adv, objective, clipped):
    r = torch.tensor([ratio], requires_grad=True)
    loss = clipped_surrogate(r, torch.tensor([adv]), clip=0.2)
    assert loss.item() == pytest.approx(-objective)
    loss.backward()
    # where the clip is active the objective is flat in r: no gradient pushes the ratio further
    assert r.grad.item() == pytest.approx(0.0 if clipped else -adv)


def test_clipped_surrogate_averages_the_batch():
    r, a = torch.tensor([1.1, 1.5, 0.5]), torch.tensor([2.0, 2.0, -1.0])
    assert clipped_surrogate(r, a, 0.2).item() == pytest.approx(-(2.2 + 2.4 - 0.8) / 3)


# -- TD3 -----------------------------------------------------------------------------------
def test_target_smoothing_noise_is_clipped():
    # c = 0.5, bounds [-2, 2]:
    #   0.5 + clip(0.8) = 0.5 + 0.5 = 1.0;  1.9 + 0.3 = 2.2 -> 2.0 (action bound);  -1.0 + (-0.2) = -1.2
    #   0.0 + clip(-3.0) = -0.5
    mu = torch.tensor([[0.5], [1.9], [-1.0], [0.0]])
    noise = torch.tensor([[0.8], [0.3], [-0.2], [-3.0]])
    out = smoothed_target_action(mu, noise, torch.tensor([0.5]), torch.tensor([-2.0]), torch.tensor([2.0]))
    torch.testing.assert_close(out, torch.tensor([[1.0], [2.0], [-1.2], [-0.5]]))


def test_clipped_double_q_target_by_hand():
    # gamma 0.9: y_0 = 1 + 0.9 * min(3, 4) = 3.7;  y_1 = 1 (terminal: no bootstrap)
    y = clipped_double_q_target(
        torch.tensor([1.0, 1.0]), torch.tensor([0.0, 1.0]), torch.tensor([3.0, 5.0]), torch.tensor([4.0, 2.0]), 0.9
    )
    torch.testing.assert_close(y, torch.tensor([3.7, 1.0]))


# -- SAC -----------------------------------------------------------------------------------
def test_squashed_log_prob_at_zero_by_hand():
    # u = mean = 0, std = 1, scale = 1: log N(0; 0, 1) = -log(2 pi) / 2, and tanh'(0) = 1 adds nothing.
    lp = squashed_log_prob(torch.zeros(1, 1), torch.zeros(1, 1), torch.zeros(1, 1), torch.ones(1))
    assert lp.item() == pytest.approx(-0.5 * math.log(2 * math.pi))


def test_squashed_log_prob_matches_torch_distributions():
    gen = torch.Generator().manual_seed(0)
    mean = torch.randn(64, 2, generator=gen, dtype=torch.float64)
    log_std = torch.randn(64, 2, generator=gen, dtype=torch.float64) * 0.5
    u = mean + log_std.exp() * torch.randn(64, 2, generator=gen, dtype=torch.float64)
    u = u.clamp(-3, 3)  # keep atanh (used by the reference to invert the squash) well conditioned
    scale, bias = torch.tensor([2.0, 0.5], dtype=torch.float64), torch.tensor([0.0, 1.0], dtype=torch.float64)
    ref = TransformedDistribution(Normal(mean, log_std.exp()), [TanhTransform(), AffineTransform(bias, scale)])
    expected = ref.log_prob(bias + scale * torch.tanh(u)).sum(-1)
    torch.testing.assert_close(squashed_log_prob(u, mean, log_std, scale), expected)


def test_squashed_log_prob_is_finite_far_in_the_tails():
    # log(1 - tanh(u)^2) computed naively is log(0) = -inf at u = 20 in float32; the stable form is not.
    u = torch.tensor([[20.0], [-20.0]])
    lp = squashed_log_prob(u, u, torch.zeros(2, 1), torch.ones(1))
    naive = torch.log(1 - torch.tanh(u) ** 2)
    assert torch.isfinite(lp).all() and not torch.isfinite(naive).all()
    # log(1 - tanh(20)^2) = log(4) - 2 * 20 + O(e^-40) at u = +-20
    torch.testing.assert_close(lp, torch.full((2,), -0.5 * math.log(2 * math.pi) - (math.log(4.0) - 40.0)))


def test_actor_samples_score_like_torch_distributions():
    torch.manual_seed(0)
    actor = SquashedGaussianActor(3, 1, np.array([-2.0]), np.array([2.0]), hidden=16).double()
    obs = torch.randn(32, 3, dtype=torch.float64)
    gen = torch.Generator().manual_seed(1)
    action, log_prob, mean_action = actor(obs, gen)
    h = actor.trunk(obs)
    mean, std = actor.mean(h), actor.log_std(h).clamp(-20, 2).exp()
    ref = TransformedDistribution(Normal(mean, std), [TanhTransform(), AffineTransform(0.0, 2.0)])
    torch.testing.assert_close(log_prob, ref.log_prob(action.clamp(-2 + 1e-9, 2 - 1e-9)).sum(-1), rtol=1e-5, atol=1e-5)
    assert (action.abs() <= 2).all() and (mean_action.abs() <= 2).all()


def test_temperature_loss_by_hand():
    # alpha = 0.5, target entropy -1.
    # log pi = [-1, -3] (entropy 2 > -1): loss = -0.5 * mean([-2, -4]) = 1.5; d loss / d log alpha = 1.5 > 0,
    # so gradient descent lowers alpha: the policy is more random than asked.
    log_alpha = torch.tensor(math.log(0.5), requires_grad=True)
    log_prob = torch.tensor([-1.0, -3.0], requires_grad=True)
    loss = temperature_loss(log_alpha, log_prob, target_entropy=-1.0)
    loss.backward()
    assert loss.item() == pytest.approx(1.5)
    assert log_alpha.grad.item() == pytest.approx(1.5)
    assert log_prob.grad is None  # only alpha learns from this loss
    # log pi = [2, 2] (entropy -2 < -1): loss = -0.5 * 1 = -0.5, gradient -0.5: alpha goes up.
    log_alpha.grad = None
    loss = temperature_loss(log_alpha, torch.tensor([2.0, 2.0]), target_entropy=-1.0)
    loss.backward()
    assert loss.item() == pytest.approx(-0.5)
    assert log_alpha.grad.item() == pytest.approx(-0.5)
