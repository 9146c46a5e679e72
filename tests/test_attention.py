"""Attention against the paper's shapes and its production twins: torch.nn.MultiheadAttention
(outputs and per-head weights, with and without masks) and F.scaled_dot_product_attention.

Guards the self-attention, masked-attention and cross-attention pages: every shape
they show is the shape checked here.
"""

import pytest
import torch
import torch.nn as nn

from refmodels.convert.torch_nn import mha_from_torch
from refmodels.nlp.attention import MultiHeadAttention, causal_mask, padding_mask, scaled_dot_product_attention
from refmodels.nlp.text import sentence, words
from refmodels.nlp.transformer import DecoderLayer
from refmodels.parity import check_parity, randomize_constants_, scramble_one_

TOL = dict(rtol=0, atol=1e-5)


@pytest.fixture(autouse=True)
def _no_mha_fastpath():
    # torch's eval-mode fast path returns zeros at padded positions (nested tensors);
    # the parity tests compare the reference computation everywhere.
    torch.backends.mha.set_fastpath_enabled(False)
    yield
    torch.backends.mha.set_fastpath_enabled(True)


def twins(dim=64, heads=4, seed=0):
    """torch's layer with its zero-initialised biases randomised, and ours with its weights."""
    torch.manual_seed(seed)
    theirs = nn.MultiheadAttention(dim, heads, batch_first=True).eval()
    assert randomize_constants_(theirs, seed=seed) == ["in_proj_bias", "out_proj.bias"]
    return mha_from_torch(theirs).eval(), theirs


def test_page_sentences_are_what_the_pages_say():
    assert words(sentence("assert")) == [
        "assert", "statements", "are", "a", "convenient", "way", "to", "insert", "debugging", "assertions", "into",
        "a", "program",
    ]


def test_multi_head_shapes_on_the_page_sentence():
    """self-attention page: 13 words, D = 64, 4 heads of 16."""
    mha = MultiHeadAttention(64, 4)
    x = torch.randn(1, 13, 64)
    assert tuple(mha.split_heads(mha.q_proj(x)).shape) == (1, 4, 13, 16)
    out, w = mha(x)
    assert tuple(out.shape) == (1, 13, 64) and tuple(w.shape) == (1, 4, 13, 13)
    torch.testing.assert_close(w.sum(-1), torch.ones(1, 4, 13))
    assert sum(p.numel() for p in mha.parameters()) == 4 * (64 * 64 + 64)


def test_scores_variance_grows_with_width_and_scaling_removes_it():
    torch.manual_seed(0)
    for d in (16, 256):
        q, k = torch.randn(4000, d), torch.randn(4000, d)
        var = (q * k).sum(-1).var().item()
        assert var == pytest.approx(d, rel=0.1)
        assert ((q * k).sum(-1) / d**0.5).var().item() == pytest.approx(1.0, rel=0.1)


@pytest.mark.parametrize("masked", [False, True])
def test_mha_equals_torch_outputs_and_weights(masked):
    ours, theirs = twins()
    x = torch.randn(2, 9, 64)
    mask = causal_mask(9) if masked else None
    # check_parity compares outputs and per-head weights, then scrambles one weight of a copy of ours
    check_parity(ours, lambda x, k, v, m: theirs(x, x, x, attn_mask=None if m is None else ~m, average_attn_weights=False),
                 x, None, None, mask, atol=1e-5)  # ours(query, key=None, value=None, mask)


def test_mha_parity_fails_when_one_weight_is_scrambled():
    ours, theirs = twins()
    x = torch.randn(2, 9, 64)
    scramble_one_(ours, "k_proj.weight")
    with pytest.raises(AssertionError, match="differ by"):
        check_parity(ours, lambda x: theirs(x, x, x, average_attn_weights=False), x, atol=1e-5, scramble=False)


def test_mha_parity_fails_when_a_bias_is_dropped():
    """The randomised biases are what the comparison sees: zeroing one copied bias breaks it."""
    ours, theirs = twins()
    x = torch.randn(2, 9, 64)
    with torch.no_grad():
        ours.v_proj.bias.zero_()
    with pytest.raises(AssertionError, match="differ by"):
        check_parity(ours, lambda x: theirs(x, x, x, average_attn_weights=False), x, atol=1e-5, scramble=False)


def test_mha_equals_torch_with_padding_and_causal_masks():
    ours, theirs = twins()
    ids = torch.tensor([[5, 6, 7, 8, 9, 10], [5, 6, 7, 0, 0, 0]])
    x = torch.randn(2, 6, 64)
    mask = padding_mask(ids, 0) & causal_mask(6)
    check_parity(ours, lambda x, k, v, m: theirs(x, x, x, attn_mask=~causal_mask(6), key_padding_mask=ids == 0,
                                                 average_attn_weights=False), x, None, None, mask, atol=1e-5)
    _, w = ours(x, mask=mask)
    assert (w[1, :, :, 3:] == 0).all()  # padded keys receive exactly zero weight


def test_cross_attention_equals_torch_with_source_padding():
    """cross-attention page: T = 5 queries from the decoder, N = 7 keys from the encoder."""
    ours, theirs = twins()
    y, memory = torch.randn(2, 5, 64), torch.randn(2, 7, 64)
    src = torch.tensor([[3] * 7, [3] * 4 + [0] * 3])
    out, w = ours(y, memory, memory, mask=padding_mask(src, 0))
    assert tuple(out.shape) == (2, 5, 64) and tuple(w.shape) == (2, 4, 5, 7)
    check_parity(ours, lambda y, k, v, m: theirs(y, k, v, key_padding_mask=src == 0, average_attn_weights=False),
                 y, memory, memory, padding_mask(src, 0), atol=1e-5)


@pytest.mark.parametrize("masked", [False, True])
def test_fused_path_equals_explicit(masked):
    explicit, _ = twins()
    fused = MultiHeadAttention(64, 4, fused=True).eval()
    fused.load_state_dict(explicit.state_dict())
    x = torch.randn(2, 9, 64)
    mask = causal_mask(9) & padding_mask(torch.tensor([[1] * 9, [1] * 6 + [0] * 3]), 0) if masked else None
    out_f, w_f = fused(x, mask=mask)
    out_e, _ = explicit(x, mask=mask)
    assert w_f is None
    torch.testing.assert_close(out_f, out_e, **TOL)


def test_masked_keys_get_zero_weight_and_float_masks_add():
    q = k = v = torch.randn(1, 2, 4, 8)
    _, w = scaled_dot_product_attention(q, k, v, causal_mask(4))
    assert (w.triu(1) == 0).all()
    bias = torch.zeros(4, 4).masked_fill(~causal_mask(4), float("-inf"))
    torch.testing.assert_close(scaled_dot_product_attention(q, k, v, bias)[1], w)


def test_causal_mask_removes_the_leak_in_mha():
    """masked-attention page: changing a future token changes earlier outputs only without the mask."""
    torch.manual_seed(0)
    mha = MultiHeadAttention(64, 4).eval()
    x = torch.randn(1, 13, 64)
    x2 = x.clone()
    x2[0, 8:] = torch.randn(5, 64)  # change tokens 8..12
    leak = (mha(x)[0] - mha(x2)[0]).abs()[0, :8].max()
    sealed = (mha(x, mask=causal_mask(13))[0] - mha(x2, mask=causal_mask(13))[0]).abs()[0, :8].max()
    assert leak > 1e-3 and sealed == 0


def test_causal_mask_removes_the_leak_in_the_decoder():
    """The refmodels decoder (layer and whole model): position t never sees targets after t."""
    import refmodels

    torch.manual_seed(0)
    layer = DecoderLayer(32, 4, 64).eval()
    y, memory = torch.randn(1, 6, 32), torch.randn(1, 5, 32)
    y2 = y.clone()
    y2[0, 4:] = torch.randn(2, 32)
    assert (layer(y, memory) - layer(y2, memory)).abs()[0, :4].max() > 1e-3
    assert (layer(y, memory, causal_mask(6)) - layer(y2, memory, causal_mask(6))).abs()[0, :4].max() == 0

    model = refmodels.create_model("transformer_tiny").eval()
    src, tgt = torch.randint(1, 32, (1, 7)), torch.randint(1, 32, (1, 6))
    tgt2 = tgt.clone()
    tgt2[0, 3:] = (tgt[0, 3:] % 31) + 1  # different future tokens, never padding
    with torch.no_grad():
        a, b = model(src, tgt), model(src, tgt2)
    assert (a[0, :3] - b[0, :3]).abs().max() == 0 and (a[0, 3:] - b[0, 3:]).abs().max() > 0


def test_padding_does_not_change_real_tokens():
    """masked-attention page: a sentence padded to the batch's length gives the same outputs."""
    torch.manual_seed(0)
    mha = MultiHeadAttention(64, 4).eval()
    x = torch.randn(1, 9, 64)
    padded = torch.cat([x, torch.randn(1, 4, 64)], dim=1)
    ids = torch.tensor([[1] * 9 + [0] * 4])
    alone, _ = mha(x)
    in_batch, _ = mha(padded, mask=padding_mask(ids, 0))
    torch.testing.assert_close(in_batch[:, :9], alone, **TOL)


def test_bad_input_raises_clear_value_error():
    mha = MultiHeadAttention(64, 4)
    x = torch.randn(2, 5, 64)
    with pytest.raises(ValueError, match=r"must broadcast to \(B, nh, N, M\) = \(2, 4, 5, 5\); got shape \(5, 6\)"):
        mha(x, mask=causal_mask(6)[:5])
    with pytest.raises(ValueError, match=r"must broadcast to .* got shape \(3, 1, 1, 5\)"):
        mha(x, mask=torch.ones(3, 1, 1, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="boolean .* or floating"):
        mha(x, mask=torch.ones(5, 5, dtype=torch.long))
    with pytest.raises(ValueError, match=r"width must be divisible by heads: got 770 and 12"):
        MultiHeadAttention(770, 12)
    with pytest.raises(ValueError, match=r"expects query of shape \(B, N, 64\); got \(5, 64\)"):
        mha(torch.randn(5, 64))
