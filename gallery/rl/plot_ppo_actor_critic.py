"""
PPO's actor-critic on CartPole: the structure
=============================================

The agent PPO trains on ``CartPole-v1`` is two small MLPs that read the same
observation: the *actor* outputs one logit per action, a softmax of which is the
policy :math:`\\pi(a|s)`, and the *critic* outputs one number, the value
:math:`V(s)`. This script builds :class:`refmodels.rl.ppo.ActorCritic` for the
environment, runs one real observation through both heads, and draws every layer
with the shape it produced and its parameter count.
"""

# %%
# Run one observation through both networks
# ------------------------------------------
# A forward hook records each layer's output shape; nothing below is typed by hand.
import gymnasium as gym
import matplotlib.pyplot as plt
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from refmodels.rl.ppo import ActorCritic

torch.manual_seed(0)
env = gym.make("CartPole-v1")
obs, _ = env.reset(seed=0)
obs_dim, num_actions = env.observation_space.shape[0], int(env.action_space.n)
agent = ActorCritic(obs_dim, num_actions)
shapes = {}
for name, module in agent.named_modules():
    if name.count(".") == 1:
        module.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape)))
x = torch.as_tensor(obs).unsqueeze(0)  # (obs_dim,) -> (1, obs_dim)
action, logprob, entropy, value = agent.act(x)
print(f"observation {tuple(x.shape)}: action {action.item()}, pi(a|s) = {logprob.exp().item():.3f}, V(s) = {value.item():.4f}")
for name, shape in shapes.items():
    print(f"{name:10s} -> {shape}")

# %%
# Draw the two heads
# ------------------
# Look at the sizes: the whole agent has a few thousand weights, and both heads see
# the same four numbers (cart position and velocity, pole angle and angular
# velocity). The actor's last layer starts with tiny weights (gain 0.01), so the
# first policy is close to 50/50: every action gets tried.
fig, ax = plt.subplots(figsize=(10, 3.6))
for row, (head, y) in enumerate((("actor", 1.2), ("critic", -1.2))):
    layers = [(name, shape) for name, shape in shapes.items() if name.startswith(head)]
    xs = 1.6
    prev = 0.9
    for name, shape in layers:
        module = dict(agent.named_modules())[name]
        n = sum(p.numel() for p in module.parameters())
        kind = type(module).__name__
        colour = "#9ecae1" if kind == "Linear" else "#fdd0a2"
        ax.add_patch(FancyBboxPatch((xs, y - 0.45), 1.05, 0.9, boxstyle="round,pad=0.03", fc=colour, ec="black"))
        label = f"{kind}\n{shape[1:]}" + (f"\n{n:,} params" if n else "")
        ax.text(xs + 0.52, y, label, ha="center", va="center", fontsize=8)
        ax.add_patch(FancyArrowPatch((prev, y), (xs - 0.03, y), arrowstyle="-|>", mutation_scale=10))
        prev = xs + 1.08
        xs += 1.35
    out = "logits -> softmax -> pi(a|s)" if head == "actor" else "V(s)"
    ax.text(prev + 0.1, y, out, va="center", fontsize=9)
ax.add_patch(FancyBboxPatch((-0.6, -0.5), 1.3, 1.0, boxstyle="round,pad=0.03", fc="#dddddd", ec="black"))
ax.text(0.05, 0, f"observation\n{tuple(x.shape[1:])}", ha="center", va="center", fontsize=8)
for y in (1.2, -1.2):
    ax.add_patch(FancyArrowPatch((0.7, 0), (0.9, y), arrowstyle="-", mutation_scale=10))
total = sum(p.numel() for p in agent.parameters())
ax.set_title(f"ActorCritic for CartPole-v1: {total:,} parameters, two separate 2-layer tanh MLPs")
ax.set_xlim(-0.8, 11.5)
ax.set_ylim(-2, 2)
ax.axis("off")
fig.tight_layout()
plt.show()
