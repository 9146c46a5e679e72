"""Position encodings against the paper's formula, transformers' XLM sinusoids and Llama rotary embedding.

Guards the positional-encoding page: the shapes, the relative-offset properties it
shows, and the rotary parity with ``transformers.models.llama.modeling_llama``.
"""

import math

import pytest
import torch
from transformers import LlamaConfig
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

from refmodels.parity import check_parity

from refmodels.nlp.attention import MultiHeadAttention
from refmodels.nlp.positional import (
    LearnedPositionalEmbedding,
    RelativePositionBias,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
    apply_rotary,
    sinusoidal_table,
)

TOL = dict(rtol=0, atol=1e-5)


def test_sinusoidal_table_is_the_papers_formula():
    n, d = 50, 64
    table = sinusoidal_table(n, d)
    assert tuple(table.shape) == (n, d)
    for pos in (0, 7, 49):
        for i in (0, 5, 31):
            angle = pos / 10000 ** (2 * i / d)
            assert table[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-5)
            assert table[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-5)


def test_sinusoidal_table_equals_transformers_xlm():
    """XLM's create_sinusoidal_embeddings computes equation (1) in float64; base 10001 must not pass."""
    from transformers.models.xlm.modeling_xlm import create_sinusoidal_embeddings

    n, d = 512, 64
    xlm = create_sinusoidal_embeddings(n, d, torch.empty(n, d))
    torch.testing.assert_close(sinusoidal_table(n, d), xlm, rtol=0, atol=1e-4)
    angle = torch.arange(n)[:, None].double() / 10001 ** (torch.arange(0, d, 2) / d)
    wrong = torch.stack([angle.sin(), angle.cos()], -1).flatten(1).float()
    assert (wrong - xlm).abs().max() > 1e-3


def test_relative_bias_clips_beyond_max_distance():
    rel = RelativePositionBias(heads=4, max_distance=8)
    with torch.no_grad():
        row = rel(13, 13)[0, :, 0]  # query 0 against keys 0..12: offsets 0..12
    assert torch.equal(row[:, 8], row[:, 12])
    assert not torch.equal(row[:, 7], row[:, 8])


def test_sinusoidal_shift_is_a_rotation():
    """PE(pos + k) = R_k PE(pos), with R_k the same block rotation for every pos."""
    d, k = 64, 5
    table = sinusoidal_table(60, d)
    inv_freq = 10000 ** (-torch.arange(0, d, 2) / d)
    c, s = torch.cos(k * inv_freq), torch.sin(k * inv_freq)
    sin_, cos_ = table[:-k, 0::2], table[:-k, 1::2]
    torch.testing.assert_close(table[k:, 0::2], sin_ * c + cos_ * s, **TOL)
    torch.testing.assert_close(table[k:, 1::2], cos_ * c - sin_ * s, **TOL)


def test_attention_without_positions_is_permutation_equivariant():
    torch.manual_seed(0)
    mha = MultiHeadAttention(64, 4).eval()
    x = torch.randn(1, 13, 64)
    perm = torch.randperm(13)
    torch.testing.assert_close(mha(x[:, perm])[0], mha(x)[0][:, perm], **TOL)
    pos = SinusoidalPositionalEncoding(64)
    assert (mha(pos(x[:, perm]))[0] - mha(pos(x))[0][:, perm]).abs().max() > 1e-2


def test_learned_table_shapes_and_length_limit():
    emb = LearnedPositionalEmbedding(16, 64)
    assert tuple(emb(torch.zeros(2, 13, 64)).shape) == (2, 13, 64)
    assert sum(p.numel() for p in emb.parameters()) == 16 * 64
    with pytest.raises(ValueError, match=r"sequence of 20 tokens is longer than the learned position table "
                                         r"\(max_len=16\); expected N <= 16"):
        emb(torch.zeros(1, 20, 64))
    with pytest.raises(ValueError, match=r"expects embeddings of shape \(B, N, 64\); got \(13, 64\)"):
        emb(torch.zeros(13, 64))


def test_relative_bias_depends_on_offset_only():
    torch.manual_seed(0)
    rel = RelativePositionBias(heads=4, max_distance=3)
    bias = rel(13, 13)
    assert tuple(bias.shape) == (1, 4, 13, 13)
    for i in range(12):
        for j in range(12):
            torch.testing.assert_close(bias[0, :, i + 1, j + 1], bias[0, :, i, j])
    torch.testing.assert_close(bias[0, :, 0, 12], bias[0, :, 0, 3])  # clipped beyond max_distance


def test_rotary_scores_depend_on_offset_only():
    torch.manual_seed(0)
    rope = RotaryEmbedding(16)
    q, k = torch.randn(16), torch.randn(16)

    def score(m, n):
        cos, sin = rope(torch.tensor([m, n]))
        return (apply_rotary(q, cos[0], sin[0]) * apply_rotary(k, cos[1], sin[1])).sum()

    torch.testing.assert_close(score(3, 1), score(10, 8), **TOL)
    torch.testing.assert_close(score(0, 0), (q * k).sum(), **TOL)
    cos, sin = rope(torch.arange(13))
    assert tuple(cos.shape) == (13, 16)
    torch.testing.assert_close(apply_rotary(q, cos, sin).norm(dim=-1), q.norm().expand(13), **TOL)


class RotateQK(torch.nn.Module):
    """refmodels RoPE with transformers' call signature: (q, k, positions) -> cos, sin, rotated q, rotated k."""

    def __init__(self, head_dim, base):
        super().__init__()
        self.rope = RotaryEmbedding(head_dim, base=base)

    def forward(self, q, k, positions):
        cos, sin = self.rope(positions)
        return cos, sin, apply_rotary(q, cos[:, None], sin[:, None]), apply_rotary(k, cos[:, None], sin[:, None])


def llama_rope(base):
    cfg = LlamaConfig(hidden_size=64, num_attention_heads=4, num_key_value_heads=4, intermediate_size=128,
                      num_hidden_layers=1, vocab_size=32, max_position_embeddings=128, rope_theta=base)
    theirs = LlamaRotaryEmbedding(cfg)

    def run(q, k, positions):
        cos, sin = theirs(q, positions)
        return (cos, sin, *apply_rotary_pos_emb(q, k, cos, sin))

    return run


def rope_inputs():
    torch.manual_seed(0)
    return torch.randn(2, 4, 13, 16), torch.randn(2, 4, 13, 16), torch.arange(13).expand(2, 13)


@pytest.mark.parametrize("base", [10000.0, 500000.0])
def test_rotary_equals_transformers_llama(base):
    # RoPE has no weights to scramble (scramble=False); the next test is its can-fail proof
    check_parity(RotateQK(16, base), llama_rope(base), *rope_inputs(), atol=1e-5, scramble=False)


@pytest.mark.parametrize("broken", ["one frequency", "neighbour pairs"])
def test_rotary_parity_fails_when_ours_is_wrong(broken):
    ours = RotateQK(16, 10000.0)
    if broken == "one frequency":
        with torch.no_grad():
            ours.rope.inv_freq[4] *= 1.1
    else:  # the RoFormer paper's (2i, 2i + 1) layout against Llama's rotate-half
        ours.forward = lambda q, k, positions: _interleaved(ours.rope, q, k, positions)
    with pytest.raises(AssertionError, match="differ by"):
        check_parity(ours, llama_rope(10000.0), *rope_inputs(), atol=1e-5, scramble=False)


def _interleaved(rope, q, k, positions):
    cos, sin = rope(positions)
    cos, sin = cos[..., : rope.head_dim // 2].repeat_interleave(2, -1), sin[..., : rope.head_dim // 2].repeat_interleave(2, -1)

    def rot(x):
        x1, x2 = x[..., 0::2], x[..., 1::2]
        return torch.stack((-x2, x1), dim=-1).flatten(-2)

    return cos, sin, q * cos[:, None] + rot(q) * sin[:, None], k * cos[:, None] + rot(k) * sin[:, None]


def test_odd_widths_are_refused():
    with pytest.raises(ValueError, match="even width; got 7"):
        sinusoidal_table(4, 7)
    with pytest.raises(ValueError, match="even head width; got 5"):
        RotaryEmbedding(5)
