"""
Byte-level BPE: vocabulary size against compression
===================================================

How much shorter does text get as a BPE vocabulary grows, and does that hold on text
the tokenizer never saw? :class:`refmodels.nlp.bpe.ByteBPE` is trained on half of
Python's help topics (``pydoc_data.topics``, every other topic) until no pair of
tokens is left to merge (every distinct pre-token is one token), then cut back to smaller vocabularies (``ByteBPE.truncated``) and used
to encode both halves. The second panel shows why the returns diminish: each merge is
learned because its pair is frequent, and the counts fall quickly with the merge rank.
"""

# %%
# Train on half the topics
# ------------------------
# The other half is held out: its words and punctuation differ, so its bytes per
# token measure how the merges generalise beyond the training text.
import matplotlib.pyplot as plt
import numpy as np
from pydoc_data.topics import topics

from refmodels.nlp.bpe import ByteBPE

names = sorted(topics)
train_text = "\n".join(topics[n] for n in names[0::2])
held_out = "\n".join(topics[n] for n in names[1::2])
full = ByteBPE.train(train_text, 100_000)  # stops early: when every distinct pre-token is one token
print(f"training half: {len(train_text.encode()):,} bytes; held-out half: {len(held_out.encode()):,} bytes")
print(f"training stopped at V = {len(full):,} ({len(full.merges):,} merges)")

# %%
# Bytes per token
# ---------------
# Look at the gap between the two curves: the first few hundred merges are common
# English and code pieces that serve the held-out text as well as the training half;
# later merges increasingly spell the training half's own words, and the curves part.
sizes = [v for v in (256, 400, 700, 1000, 2000, 3000, 5000) if v < len(full)] + [len(full)]
ratios = {"training half": [], "held-out half": []}
for v in sizes:
    bpe = full.truncated(v)
    for name, t in (("training half", train_text), ("held-out half", held_out)):
        ratios[name].append(len(t.encode()) / len(bpe.encode(t)))
for v, r_train, r_held in zip(sizes, *ratios.values()):
    print(f"V = {v:5,}: {r_train:.2f} bytes per token on the training half, {r_held:.2f} held out")

# %%
# Merge count against merge rank, and both panels drawn
# ------------------------------------------------------
# Look at the slope on the right: on log-log axes the counts fall roughly like a
# power law, the Zipf-like tail of language. The last merges join pairs seen only a
# few times.
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for (name, values), colour in zip(ratios.items(), ("#3182bd", "#e6550d")):
    axes[0].semilogx(sizes, values, "o-", color=colour, label=name, ms=4)
axes[0].set_xticks(sizes, [f"{v:,}" for v in sizes], rotation=45, fontsize=8)
axes[0].minorticks_off()
axes[0].set_xlabel("vocabulary size V")
axes[0].set_ylabel("bytes per token")
axes[0].set_title("compression grows with the vocabulary")
_ = axes[0].legend()
ranks = np.arange(1, len(full.merge_counts) + 1)
axes[1].loglog(ranks, full.merge_counts, color="#31a354")
axes[1].set_xlabel("merge rank")
axes[1].set_ylabel("pair count when merged")
axes[1].set_title("each merge is rarer than the one before")
axes[1].set_ylim(0.7, 5 * full.merge_counts[0])
for rank in (1, 10, 100, 1000):
    a, b = full.merges[rank - 1]
    token = (full.vocab[a] + full.vocab[b]).decode("utf-8", errors="replace").replace(" ", "␣").replace("\n", "↵")
    axes[1].annotate(repr(token), (rank, full.merge_counts[rank - 1]), fontsize=8, xytext=(4, 4),
                     textcoords="offset points", family="monospace")
fig.tight_layout()
plt.show()
