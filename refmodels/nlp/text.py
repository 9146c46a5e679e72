"""Real text that ships with Python, and the small tasks the attention pages use.

Everything comes from ``pydoc_data.topics`` (the text of ``help()`` on a keyword or
topic, part of the standard library), so nothing is downloaded.

* ``sentence(topic, index)``: one sentence of a help page, and ``words(text)``, a
  simple word-level tokenizer (lower-cased runs of letters), enough for the
  attention pages; the tokenization page builds the real thing (BPE).
* ``doc_words(...)``: the distinct words of all help pages, and ``CharVocab`` with
  ``reversal_batch``: the word-reversal task the Transformer page trains on
  ("attention" -> "noitnetta"), which a reader checks by eye.
* ``trained_reversal_model(...)``: the Transformer page's small encoder-decoder trained
  on that task once (through ``refmodels.cache``); the page and the cross-attention
  gallery script load the same run instead of training twice.
"""

import random
import re
import string
import time
from typing import NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from jaxtyping import Int
from torch import Tensor

__all__ = [
    "CharVocab",
    "doc_words",
    "reversal_accuracy",
    "reversal_batch",
    "sentence",
    "split_held_out",
    "train_reversal",
    "trained_reversal_model",
    "words",
]


def _topics() -> dict[str, str]:
    from pydoc_data.topics import topics

    return topics


def words(text: str) -> list[str]:
    """Word-level tokens: lower-cased runs of letters.

    >>> words("Assert statements are a convenient way.")
    ['assert', 'statements', 'are', 'a', 'convenient', 'way']
    """
    return re.findall(r"[a-z]+", text.lower())


def sentence(topic: str = "assert", index: int = 0) -> str:
    """Sentence ``index`` of the prose (not code) of ``help(topic)``, on one line.

    >>> sentence("assert")
    'Assert statements are a convenient way to insert debugging assertions into a program:'
    """
    paragraphs = [p for p in _topics()[topic].split("\n\n") if p and not p.startswith((" ", "*", "="))]
    prose = " ".join(" ".join(p.split()) for p in paragraphs[1:])  # paragraph 0 is the title
    return re.split(r"(?<=[.:])\s+", prose)[index]


def doc_words(min_len: int = 3, max_len: int = 8) -> list[str]:
    """The distinct lower-case words of every ``help()`` page, sorted, with min_len..max_len letters."""
    found = {w for text in _topics().values() for w in re.findall(r"\b[a-z]+\b", text)}
    return sorted(w for w in found if min_len <= len(w) <= max_len)


def split_held_out(items: list[str], fraction: float, seed: int = 0) -> tuple[list[str], list[str]]:
    """Shuffle with ``seed`` and split into (train, held out); no word is in both."""
    items = items[:]
    random.Random(seed).shuffle(items)
    k = round(len(items) * fraction)
    return items[k:], items[:k]


class CharVocab:
    """Letters a-z plus three special tokens: <pad> = 0, <bos> = 1 (begin), <eos> = 2 (end).

    >>> v = CharVocab()
    >>> v.encode("cat"), v.decode([1, 5, 3, 22, 2, 0])
    ([5, 3, 22], 'cat')
    """

    specials = ("<pad>", "<bos>", "<eos>")
    pad_id, bos_id, eos_id = 0, 1, 2

    def __init__(self) -> None:
        self.itos = list(self.specials) + list(string.ascii_lowercase)
        self.stoi = {s: i for i, s in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, word: str) -> list[int]:
        return [self.stoi[c] for c in word]

    def decode(self, ids: list[int]) -> str:
        """Letters up to the first <eos>, specials dropped."""
        out = []
        for i in ids:
            if i == self.eos_id:
                break
            if i >= len(self.specials):
                out.append(self.itos[i])
        return "".join(out)

    def pad(self, rows: list[list[int]]) -> Int[Tensor, "B L"]:
        width = max(len(r) for r in rows)
        return torch.tensor([r + [self.pad_id] * (width - len(r)) for r in rows])


def reversal_batch(
    vocab: CharVocab, batch: list[str], left_pad: bool = False
) -> tuple[Int[Tensor, "B N"], Int[Tensor, "B T"], Int[Tensor, "B T"]]:
    """Source ids, decoder input (<bos> + reversed word) and target (reversed word + <eos>).

    ``left_pad=True`` pads the source on the left, so every word ends at the same
    position and "the k-th letter from the end" is always the same source position.

    >>> src, tgt_in, tgt_out = reversal_batch(CharVocab(), ["cat", "ox"])
    >>> src.tolist(), tgt_in.tolist(), tgt_out.tolist()
    ([[5, 3, 22], [17, 26, 0]], [[1, 22, 3, 5], [1, 26, 17, 0]], [[22, 3, 5, 2], [26, 17, 2, 0]])
    >>> reversal_batch(CharVocab(), ["cat", "ox"], left_pad=True)[0].tolist()
    [[5, 3, 22], [0, 17, 26]]
    """
    src = vocab.pad([vocab.encode(w) for w in batch])
    if left_pad:
        src = torch.stack([row.roll(int((row == vocab.pad_id).sum())) for row in src])
    rev = [vocab.encode(w[::-1]) for w in batch]
    tgt_in = vocab.pad([[vocab.bos_id] + r for r in rev])  # shifted right: what the decoder reads
    tgt_out = vocab.pad([r + [vocab.eos_id] for r in rev])  # what it must predict at each position
    return src, tgt_in, tgt_out


def train_reversal(model: nn.Module, vocab: CharVocab, train_words: list[str], steps: int = 300, batch_size: int = 32,
                   lr: float = 5e-3, warmup: int = 30, seed: int = 0) -> list[float]:
    """Teacher-forced training with Adam (beta2 = 0.98 as in the paper), linear warm-up then
    linear decay; returns the loss of every step (cross-entropy per target token, padding ignored)."""
    rng = random.Random(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98), eps=1e-9)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warmup, (steps - s) / (steps - warmup)))
    model.train()
    losses = []
    for _ in range(steps):
        src, tgt_in, tgt_out = reversal_batch(vocab, rng.sample(train_words, batch_size), left_pad=True)
        logits = model(src, tgt_in)  # (B, T, V): every target position predicted in one pass
        loss = F.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=vocab.pad_id)
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        losses.append(loss.item())
    return losses


def reversal_accuracy(model: nn.Module, vocab: CharVocab, test_words: list[str]) -> tuple[float, list[str]]:
    """Greedy-decode every word (the model sees only what it wrote); return the share of
    exactly right reversals and the predictions."""
    model.eval()
    src, _, _ = reversal_batch(vocab, test_words, left_pad=True)
    out = model.generate(src, vocab.bos_id, vocab.eos_id, max_new_tokens=src.shape[1] + 1)
    preds = [vocab.decode(row[1:].tolist()) for row in out]
    return sum(p == w[::-1] for p, w in zip(preds, test_words)) / len(test_words), preds


class ReversalRun(NamedTuple):
    """A trained reversal model with its data split and training record."""

    model: nn.Module
    losses: list[float]
    train_seconds: float
    vocab: "CharVocab"
    train_words: list[str]
    test_words: list[str]


def trained_reversal_model(steps: int = 300, seed: int = 0, held_out: float = 0.2, width: int = 64,
                           heads: int = 4, ffn_dim: int = 128) -> ReversalRun:
    """The ``transformer_tiny`` encoder-decoder trained to reverse words (``train_reversal``),
    produced once per change of this code or of the settings and then loaded from the
    artifact cache (``refmodels.cache``). ``seed`` seeds both the initial weights and the
    batches; ``held_out`` words never reach training. Returns the model in eval mode."""
    from refmodels import create_model
    from refmodels.cache import cached
    from refmodels.nlp import attention, positional, transformer

    vocab = CharVocab()
    train_words, test_words = split_held_out(doc_words(), held_out)

    def build() -> nn.Module:
        return create_model("transformer_tiny", vocab_size=len(vocab), dim=width, heads=heads, ffn_dim=ffn_dim)

    def produce() -> dict:
        torch.manual_seed(seed)
        model = build()
        start = time.perf_counter()
        losses = train_reversal(model, vocab, train_words, steps=steps, seed=seed)
        return {"state": model.state_dict(), "losses": losses, "train_seconds": time.perf_counter() - start}

    settings = {"steps": steps, "seed": seed, "held_out": held_out, "width": width, "heads": heads, "ffn_dim": ffn_dim}
    run = cached("transformer-reversal", produce, settings=settings, code=[transformer, attention, positional])
    model = build()
    model.load_state_dict(run["state"])
    model.eval()
    return ReversalRun(model, run["losses"], run["train_seconds"], vocab, train_words, test_words)
