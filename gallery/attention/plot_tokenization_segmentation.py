"""
Byte-level BPE: one sentence as the vocabulary grows
====================================================

A byte-level BPE tokenizer (:class:`refmodels.nlp.bpe.ByteBPE`) trained on Python's own
help texts (``pydoc_data.topics``, shipped with every Python), then cut back to smaller
vocabularies. Each row shows how the same sentence is split: one coloured box per
token. With only the 256 bytes every character is a token (an emoji is four); every
merge the trainer learned glues two tokens into one, so rows get shorter as the
vocabulary grows. Because training is greedy, a smaller vocabulary is exactly the
first merges of a larger one (``ByteBPE.truncated``).
"""

# %%
# Train once, cut back
# --------------------
# One training run to 4,000 tokens; the smaller tokenizers are its prefixes.
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from refmodels.nlp.bpe import ByteBPE, load_pydoc_text

text = load_pydoc_text()
big = ByteBPE.train(text, 4000)
sizes = [256, 300, 500, 1000, 2000, 4000]
tokenizers = {v: big.truncated(v) for v in sizes}
sentence = "Generators yield values lazily; tokenizers split 'unfamiliar' words 🙂."
for v, bpe in tokenizers.items():
    print(f"V={v:5d}: {len(bpe.encode(sentence)):3d} tokens")
# the first vocabulary size at which each word of the sentence is a single token
for word in (" yield", " values", " words", " lazily", " unfamiliar"):
    first = next((v for v, bpe in tokenizers.items() if len(bpe.encode(word)) == 1), None)
    print(f"{word!r:14s} one token from V = {first}" if first else f"{word!r:14s} never one token here")


# %%
# Draw the segmentations
# ----------------------
# Look at where whole words appear: words the help texts use often (" values",
# " yield") become single tokens once V reaches one or two thousand (printed above),
# rarer ones (" lazily", " unfamiliar") stay in pieces at every size here, and the
# emoji, which the corpus never contains, stays as raw bytes (the ``<xx>`` boxes) at
# every size: byte-level BPE never needs an unknown token.
def label(token: bytes) -> str:
    """A token for display: spaces as '␣', bytes that are not whole UTF-8 characters as <hex>."""
    try:
        return token.decode("utf-8").replace(" ", "␣")
    except UnicodeDecodeError:
        return "".join(f"<{b:02x}>" for b in token)


colours = ["#c6dbef", "#fdd0a2", "#c7e9c0", "#dadaeb", "#fcbba1"]
fig, ax = plt.subplots(figsize=(12, 0.75 * len(sizes) + 0.6))
char_w = 0.118
right = 0.0
for row, (v, bpe) in enumerate(tokenizers.items()):
    y = -row
    x = 0.0
    tokens = bpe.tokens(sentence)
    for k, token in enumerate(tokens):
        width = max(len(label(token)), 1) * char_w + 0.06
        ax.add_patch(
            FancyBboxPatch((x, y - 0.3), width, 0.6, boxstyle="round,pad=0.01", fc=colours[k % len(colours)], ec="#555")
        )
        ax.text(x + width / 2, y, label(token), ha="center", va="center", fontsize=7, family="monospace")
        x += width + 0.04
    right = max(right, x)
    ax.text(-0.2, y, f"V = {v:,}\n{len(tokens)} tokens", ha="right", va="center", fontsize=9)
ax.set_xlim(-1.6, right + 0.2)
ax.set_ylim(-len(sizes) + 0.4, 0.6)
ax.axis("off")
ax.set_title("The same sentence under byte-level BPE vocabularies of growing size (trained on pydoc_data.topics)")
fig.tight_layout()
plt.show()
