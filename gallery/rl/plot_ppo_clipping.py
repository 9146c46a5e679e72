"""
PPO's clipped surrogate, as a function of the probability ratio
===============================================================

PPO maximises :math:`\\min(r A, \\operatorname{clip}(r, 1-\\epsilon, 1+\\epsilon) A)`,
where :math:`r = \\pi(a|s) / \\pi_\\text{old}(a|s)` is how much more (or less) likely
the new policy makes an action than the policy that collected the data, and
:math:`A` is that action's advantage. This script evaluates
:func:`refmodels.rl.ppo.clipped_surrogate` on a grid of ratios, for a good action
(:math:`A > 0`) and a bad one (:math:`A < 0`), with the gradient autograd gives.
"""

# %%
# Evaluate the objective and its gradient
# ---------------------------------------
# ``clipped_surrogate`` returns the *loss* (minus the objective, averaged over the
# batch); with one ratio per element and ``reduction`` by hand we get the objective
# of every ratio on the grid at once.
import matplotlib.pyplot as plt
import torch

from refmodels.rl.ppo import clipped_surrogate

eps = 0.2
ratios = torch.linspace(0.0, 2.0, 401)
curves = {}
for adv in (1.0, -1.0):
    r = ratios.clone().requires_grad_(True)
    objective = torch.stack([-clipped_surrogate(ri[None], torch.tensor([adv]), eps) for ri in r])
    objective.sum().backward()
    curves[adv] = (objective.detach(), r.grad)
    flat = (r.grad == 0).float().mean().item()
    print(f"A = {adv:+.0f}: objective flat (zero gradient) on {100 * flat:.0f}% of the ratio grid [0, 2]")

# %%
# Plot it
# -------
# Look at where the curve goes flat. For a good action (left) the objective stops
# rewarding a ratio above :math:`1+\epsilon`: once the new policy makes the action
# 20% more likely than before, there is nothing more to gain from this sample. For
# a bad action (right) it stops rewarding a ratio below :math:`1-\epsilon`. In the
# other direction the clip does *not* apply: a step that made a good action less
# likely (or a bad one more likely) is still penalised in full, so the objective is
# a pessimistic (lower) bound on the unclipped one.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharex=True)
for ax, adv in zip(axes, (1.0, -1.0)):
    objective, grad = curves[adv]
    ax.plot(ratios, ratios * adv, color="0.7", ls="--", label=r"unclipped $rA$")
    ax.plot(ratios, objective, color="#3182bd", lw=2, label=r"$\min(rA, \mathrm{clip}(r)A)$")
    ax.axvspan(1 - eps, 1 + eps, color="#fdd0a2", alpha=0.5, label=r"$[1-\epsilon, 1+\epsilon]$")
    ax.set_title(f"A = {adv:+.0f}")
    ax.set_xlabel(r"probability ratio $r = \pi(a|s) / \pi_\mathrm{old}(a|s)$")
    ax.axhline(0, color="black", lw=0.5)
axes[0].set_ylabel("objective (per sample)")
axes[0].legend(fontsize=8, loc="upper left")
fig.tight_layout()
plt.show()
