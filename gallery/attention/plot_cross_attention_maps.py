"""
Cross-attention maps of a Transformer that learned to reverse words
===================================================================

A tiny encoder-decoder from :mod:`refmodels.nlp.transformer` (two encoder and two
decoder layers, post-norm as in the paper; width, heads and number of steps are set in
the first cell) trained to spell words from Python's documentation backwards, with the recipe of
:func:`refmodels.nlp.text.train_reversal` (the one the Transformer page runs). Then,
for words it never saw, we read the cross-attention weights: which source letter
each output letter looked at.
"""

# %%
# Train, then check on held-out words
# -----------------------------------
# The source is padded on the left, so the last letter of every word sits at the
# same position. A few held-out words and their greedy decodings are printed.
import math

import matplotlib.pyplot as plt
import torch

from refmodels.nlp.text import reversal_accuracy, reversal_batch, trained_reversal_model

# the page's run: trained once, then loaded from the artifact cache (refmodels.cache)
steps, width, heads = 300, 64, 4
run = trained_reversal_model(steps=steps, seed=0, held_out=0.2, width=width, heads=heads, ffn_dim=128)
model, vocab, test_words, losses = run.model, run.vocab, run.test_words, run.losses
accuracy, preds = reversal_accuracy(model, vocab, test_words)
print(f"{steps} steps, width {width}, {heads} heads")
print(f"held-out words reversed exactly: {accuracy:.1%} of {len(test_words)}")
for w, p in list(zip(test_words, preds))[:5]:
    print(f"{w:>10s} -> {p}")

# %%
# Cross-attention of the last decoder layer
# -----------------------------------------
# Rows: output letters (what the decoder was writing), columns: source letters.
# Look for the anti-diagonal: to write the k-th output letter the decoder looks at
# the k-th letter from the end. Weights are averaged over the heads; forward hooks
# read them without changing the model. The pass is teacher-forced on the correct
# reversal, so we pick long held-out words the model also reverses correctly on its
# own (greedy decoding); each panel's title shows the model's own output.
right = [w for w, p in zip(test_words, preds) if len(w) >= 7 and p == w[::-1]]
wrong = [w for w, p in zip(test_words, preds) if len(w) >= 7 and p != w[::-1]]
examples = (right + wrong)[:3]  # three long held-out words, correctly reversed ones first
predicted = dict(zip(test_words, preds))
maps = []
hook = model.decoder[-1].cross_attn.register_forward_hook(lambda m, args, out: maps.append(out[1]))
src, tgt_in, _ = reversal_batch(vocab, examples, left_pad=True)
model.eval()
with torch.no_grad():
    model(src, tgt_in)  # teacher-forced pass over the correct reversal
hook.remove()
weights = maps[0].mean(1)  # (B, nh, T, N) -> (B, T, N)
fig, axes = plt.subplots(1, len(examples), figsize=(10, 3.4))
for ax, word, w, s in zip(axes, examples, weights, src):
    cols = [vocab.itos[i] if i else "" for i in s.tolist()]
    rows = list(word[::-1]) + ["<eos>"]
    ax.imshow(w[: len(rows)], cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("source letter (key)")
    ax.set_ylabel("output letter (query)")
    mark = "" if predicted[word] == word[::-1] else f" (wrong; right: {word[::-1]})"
    ax.set_title(f"{word} -> {predicted[word]}{mark}", fontsize=10)
fig.tight_layout()
plt.show()

# %%
# The loss curve
# --------------
# Cross-entropy per target letter. A uniform guess over the V tokens of the vocabulary
# scores ln V; a fresh model starts a little above it.
V = len(vocab)
print(f"V = {V} tokens, ln V = {math.log(V):.2f}; first loss {losses[0]:.2f}, last {losses[-1]:.3f}")
fig, ax = plt.subplots(figsize=(6, 3))
ax.semilogy(losses)
ax.set_xlabel("step")
ax.set_ylabel("loss")
fig.tight_layout()
plt.show()
