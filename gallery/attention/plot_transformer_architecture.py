"""
The Transformer at a glance: encoder and decoder stacks
=======================================================

The encoder-decoder of Figure 1 of the paper, drawn from :func:`refmodels.trace` of
``transformer_base`` built on the ``meta`` device (shapes only, no memory): a
20-token source and a 16-token target go through the embeddings, six encoder layers
and six decoder layers, and come out as one score per vocabulary entry. Each box is
labelled with its output shape and its parameters, all measured.
"""

# %%
# Trace the model
# ---------------
import matplotlib.pyplot as plt
import torch

import refmodels

with torch.device("meta"):
    model = refmodels.create_model("transformer_base")
src = torch.zeros(1, 20, dtype=torch.long, device="meta")
tgt = torch.zeros(1, 16, dtype=torch.long, device="meta")
tr = refmodels.trace(model, src, tgt)
n = model.cfg.encoder_layers
# one embedding module serves source and target (shared weights): its two calls, in order
src_call, tgt_call = [r for r in tr.rows if r.name == "src_embed"]
rows = {"enc": [("source embedding", src_call)] + [(f"encoder {i}", tr[f"encoder.{i}"]) for i in range(n)],
        "dec": [("target embedding (shared)", tgt_call)] + [(f"decoder {i}", tr[f"decoder.{i}"]) for i in range(n)]
        + [("output linear (shared)", tr["head"])]}
for name, r in rows["enc"] + rows["dec"]:
    params = "+0 (shared)" if "(shared)" in name else f"{r.params:,}"
    print(f"{name.replace(' (shared)', ''):18s} {str(r.output_shapes[0]):16s} {params:>12s}")

# %%
# Draw the two stacks
# -------------------
# Look at the arrows from the top of the encoder into every decoder layer: that is
# cross-attention, the only bridge between source and target. The embedding matrix
# is shared by both embeddings and the output layer, so its parameters are counted
# once, in the source embedding's box.
fig, ax = plt.subplots(figsize=(7, 6))
for col, key, colour in ((0, "enc", "#9ecae1"), (1, "dec", "#fdd0a2")):
    for i, (name, r) in enumerate(rows[key]):
        y = i * 0.9
        ax.add_patch(plt.Rectangle((col * 4.4, y), 3.8, 0.7, fc=colour, ec="black"))
        shape = "x".join(map(str, r.output_shapes[0]))
        # the shared matrix is counted once, in the source embedding's box
        params = "shared with source embedding (+0)" if "(shared)" in name else f"{r.params / 1e6:.2f} M params"
        ax.text(col * 4.4 + 1.9, y + 0.35, f"{name.replace(' (shared)', '')}, {shape}\n{params}",
                ha="center", va="center", fontsize=10)
        if col == 1 and name.startswith("decoder"):
            ax.annotate("", (4.4, y + 0.35), (3.8, (len(rows["enc"]) - 1) * 0.9 + 0.35),
                        arrowprops=dict(arrowstyle="-|>", color="grey", lw=0.6))
ax.set_xlim(-0.1, 8.3)
ax.set_ylim(-0.3, len(rows["dec"]) * 0.9 + 0.2)
ax.axis("off")
ax.set_title(f"transformer_base: {tr.total_params / 1e6:.1f} M parameters,\n{tr.total_macs / 1e9:.2f} G MACs "
             f"for 20 source and 16 target tokens", fontsize=11)
fig.tight_layout()
plt.show()
