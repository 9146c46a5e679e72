"""
LSTM gates over a real sequence
===============================

An LSTM from :mod:`refmodels.foundations.lstm`, trained for a few seconds to name a
scikit-learn digit it saw 50 steps earlier (the digit at step 0, blank input after
it). We then run one held-out digit through its cell step by step and draw every
vector the cell computes: the input, forget and output gates, the candidate, the
cell state and the hidden state, one row per unit and one column per time step.
"""

# %%
# Train the model of the LSTM page
# --------------------------------
# The page's model (32 units) with chrono-initialised gates, six epochs of Adam on the
# training digits; their number and the held-out accuracy are printed (chance is 10%).
import matplotlib.pyplot as plt
import torch

import refmodels
from refmodels.foundations.lstm import delayed_digits, train_classifier

DELAY = 50
x_train, y_train, x_test, y_test = delayed_digits(DELAY)
torch.manual_seed(0)
model = refmodels.create_model("lstm_digits", chrono=DELAY + 1)
train_classifier(model, x_train, y_train, epochs=6)
with torch.no_grad():
    accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
print(f"{len(x_train):,} training digits; held-out accuracy after a {DELAY}-step delay: {accuracy:.1%}")
assert accuracy > 0.7, f"held-out accuracy {accuracy:.3f}; claim: the LSTM recalls the digit (above 0.7)"

# %%
# Step through one sequence, keeping every vector
# -----------------------------------------------
# ``LSTMCell.step`` returns the six vectors of one step, each (1, 32) here. We take
# the first held-out digit the model names correctly.
cell = model.encoder.layers[0]
with torch.no_grad():
    first_right = (model(x_test).argmax(1) == y_test).nonzero()[0].item()
seq, label = x_test[first_right : first_right + 1], y_test[first_right].item()  # (1, 51, 64)
h = c = torch.zeros(1, cell.hidden_size)
steps = []
with torch.no_grad():
    for t in range(seq.shape[1]):
        s = cell.step(seq[:, t], h, c)
        h, c = s.h, s.c
        steps.append(s)
    prediction = model.head(h).argmax(1).item()
vectors = {name: torch.cat([getattr(s, name) for s in steps]).T for name in ["i", "f", "o", "g", "c", "h"]}  # (32, 51)
print({name: tuple(v.shape) for name, v in vectors.items()}, "label", label, "prediction", prediction)

# %%
# The numbers behind the picture: how far the gates are open, at the digit and during the delay.
i_digit, i_delay = vectors["i"][:, 0].mean().item(), vectors["i"][:, 1:].mean().item()
f_open = (vectors["f"][:, 1:] > 0.9).float().mean().item()  # share of (unit, delay step) with f > 0.9
print(f"mean input gate at the digit {i_digit:.2f}, during the delay {i_delay:.2f}")
print(f"forget gate above 0.9 for {f_open:.0%} of the units and delay steps")
assert i_digit > 3 * i_delay, f"input gate {i_digit:.3f} at the digit, {i_delay:.3f} after; claim: opens at step 0"
assert f_open > 0.7, f"forget gate above 0.9 for {f_open:.3f} of units x steps; claim: almost every unit and step"

# %%
# What to look at
# ---------------
# Step 0, where the digit arrives, is the bright column at the left of the input
# gate: many units open it and write. After that, the forget gates stay close to 1
# (yellow) for almost every unit and every step, so nothing written is erased. The
# cell does not stand still: a few input gates stay partly open and the candidate
# keeps pushing in a direction that was set at step 0, so each unit's cell value
# drifts steadily one way. The hidden state settles into a fixed pattern of
# saturated units within the first part of the delay; that pattern is what the head
# reads at the last step. Units are sorted by their mean forget gate.
order = vectors["f"].mean(1).argsort(descending=True)
titles = {"i": "input gate i", "f": "forget gate f", "o": "output gate o",
          "g": "candidate g", "c": "cell state c", "h": "hidden state h"}
fig, axes = plt.subplots(3, 2, figsize=(7, 8), sharex=True, sharey=True)
for ax, (name, v) in zip(axes.flat, vectors.items()):
    gate = name in "ifo"
    lim = v.abs().max().item()
    im = ax.imshow(v[order], aspect="auto", cmap="viridis" if gate else "RdBu_r",
                   vmin=0 if gate else -lim, vmax=1 if gate else lim, interpolation="nearest")
    ax.set_title(titles[name], fontsize=11)
    ax.tick_params(labelsize=11)
    cbar = fig.colorbar(im, ax=ax, fraction=0.046)
    cbar.ax.tick_params(labelsize=11)
for ax in axes[-1]:
    ax.set_xlabel("time step", fontsize=11)
for ax in axes[:, 0]:
    ax.set_ylabel("unit (sorted by f)", fontsize=11)
fig.suptitle(f"one held-out '{label}', predicted '{prediction}'\nafter {DELAY} blank steps", fontsize=11)
fig.tight_layout()
plt.show()
