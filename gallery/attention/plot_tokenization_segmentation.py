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
shown = [256, 1000, 2000, 4000]  # four of the sizes, so that the boxes stay readable
fig_w, label_w, line_h, font = 9.0, 1.1, 0.34, 9  # inches; axes coordinates are inches below
char_w = font / 72 * 0.62  # the advance of one monospace character, in inches


def layout(tokens):
    """(x, line, width) of each token's box, wrapping to a new line at the figure's edge."""
    boxes, x, line = [], 0.0, 0
    for token in tokens:
        width = max(len(label(token)), 1) * char_w + 0.05
        if x + width > fig_w - label_w - 0.15:
            x, line = 0.0, line + 1
        boxes.append((x, line, width))
        x += width + 0.03
    return boxes


layouts = {v: layout(tokenizers[v].tokens(sentence)) for v in shown}
n_lines = sum(boxes[-1][1] + 1 for boxes in layouts.values())
fig_h = n_lines * line_h + 0.25 * len(shown) + 0.5
fig = plt.figure(figsize=(fig_w, fig_h))
ax = fig.add_axes([0, 0, 1, 1])
ax.set_xlim(0, fig_w)
ax.set_ylim(0, fig_h)
ax.axis("off")
y = fig_h - 0.55
for v, boxes in layouts.items():
    tokens = tokenizers[v].tokens(sentence)
    ax.text(label_w - 0.1, y, f"V = {v:,}\n{len(tokens)} tokens", ha="right", va="top", fontsize=font)
    for k, (token, (x, line, width)) in enumerate(zip(tokens, boxes)):
        yc = y - line * line_h - line_h / 2
        ax.add_patch(FancyBboxPatch((label_w + x, yc - 0.12), width, 0.24, boxstyle="round,pad=0.01",
                                    fc=colours[k % len(colours)], ec="#555"))
        ax.text(label_w + x + width / 2, yc, label(token), ha="center", va="center", fontsize=font,
                family="monospace")
    y -= (boxes[-1][1] + 1) * line_h + 0.25
ax.text(fig_w / 2, fig_h - 0.12, "One sentence under byte-level BPE vocabularies of growing size",
        ha="center", va="top", fontsize=11)
plt.show()
