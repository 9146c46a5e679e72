"""The Transformer against its paper (Table 3) and torch.nn's Transformer layers.

The shapes and counts here are the ones the transformer page shows: the base and big
presets counted on the meta device beside the paper's 65M and 213M, and encoder and
decoder layers equal to ``torch.nn.TransformerEncoderLayer`` / ``TransformerDecoderLayer``
(post-norm and pre-norm) with the same weights.
"""

import pytest
import torch
import torch.nn as nn

import refmodels
from refmodels.convert.torch_nn import decoder_layer_from_torch, encoder_layer_from_torch
from refmodels.nlp.attention import causal_mask, padding_mask
from refmodels.nlp.text import CharVocab, reversal_batch
from refmodels.nlp.transformer import PAPER_PARAMS, Transformer, TransformerConfig
from refmodels.parity import check_parity, randomize_constants_, scramble_one_

TOL = dict(rtol=0, atol=1e-5)

# Table 3: d_model, d_ff, h, N (layers per stack)
PAPER_CONFIGS = {"transformer_base": (512, 2048, 8, 6), "transformer_big": (1024, 4096, 16, 6)}


@pytest.fixture(autouse=True)
def _no_mha_fastpath():
    torch.backends.mha.set_fastpath_enabled(False)
    yield
    torch.backends.mha.set_fastpath_enabled(True)


def count(model):
    return sum(p.numel() for p in model.parameters())


def on_meta(name, **overrides):
    with torch.device("meta"):
        return refmodels.create_model(name, **overrides)


@pytest.mark.parametrize("name", ["transformer_base", "transformer_big"])
def test_presets_match_table_3_and_count_near_the_paper(name):
    model = on_meta(name)
    d, ff, h, n = PAPER_CONFIGS[name]
    cfg = model.cfg
    assert (cfg.dim, cfg.ffn_dim, cfg.heads, cfg.encoder_layers, cfg.decoder_layers) == (d, ff, h, n, n)
    v = cfg.vocab_size
    layer_enc = 4 * (d * d + d) + (d * ff + ff + ff * d + d) + 2 * 2 * d
    layer_dec = 2 * 4 * (d * d + d) + (d * ff + ff + ff * d + d) + 3 * 2 * d
    assert count(model) == v * d + n * (layer_enc + layer_dec)  # one shared embedding matrix
    assert abs(count(model) - PAPER_PARAMS[name]) / PAPER_PARAMS[name] < 0.035
    untied = on_meta(name, share_embeddings=False)
    assert count(untied) - count(model) == 2 * v * d


def test_exact_counts_the_page_shows():
    assert count(on_meta("transformer_base")) == 63_082_496
    assert count(on_meta("transformer_big")) == 214_245_376


@pytest.mark.parametrize("norm_first", [False, True])
def test_layer_counts_equal_torch_nn_transformer(norm_first):
    model = on_meta("transformer_base", norm_first=norm_first)
    with torch.device("meta"):
        theirs = nn.Transformer(512, 8, 6, 6, 2048, batch_first=True, norm_first=norm_first)
    assert count(model.encoder) == count(theirs.encoder.layers)
    assert count(model.decoder) == count(theirs.decoder.layers)
    # torch always closes each stack with a LayerNorm; refmodels only for pre-norm (post-norm already ends in one)
    final = count(model.encoder_norm) + count(model.decoder_norm)
    assert final == (4 * 512 if norm_first else 0)


def encoder_twins(norm_first, seed=0):
    """torch's encoder layer with every constant (LayerNorm scales and offsets, attention biases)
    randomised, and ours with its weights."""
    torch.manual_seed(seed)
    theirs = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0, batch_first=True, norm_first=norm_first).eval()
    changed = randomize_constants_(theirs, seed=seed)
    assert {"norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias", "self_attn.in_proj_bias"} <= set(changed)
    return encoder_layer_from_torch(theirs).eval(), theirs


def decoder_twins(norm_first, seed=0):
    torch.manual_seed(seed)
    theirs = nn.TransformerDecoderLayer(64, 4, 128, dropout=0.0, batch_first=True, norm_first=norm_first).eval()
    changed = randomize_constants_(theirs, seed=seed)
    assert {"norm3.weight", "norm3.bias", "multihead_attn.in_proj_bias"} <= set(changed)
    return decoder_layer_from_torch(theirs).eval(), theirs


ENC_IDS = torch.tensor([[4] * 7, [4] * 5 + [0] * 2])
DEC_SRC = torch.tensor([[4] * 7, [4] * 5 + [0] * 2])


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_equals_torch(norm_first):
    ours, theirs = encoder_twins(norm_first)
    x = torch.randn(2, 7, 64)
    check_parity(ours, lambda x: theirs(x), x, atol=1e-5)
    check_parity(ours, lambda x, m: theirs(x, src_key_padding_mask=ENC_IDS == 0), x, padding_mask(ENC_IDS, 0), atol=1e-5)


def _torch_decoder(theirs):
    return lambda y, memory, self_mask, memory_mask: theirs(
        y, memory, tgt_mask=~causal_mask(y.shape[1]), memory_key_padding_mask=DEC_SRC == 0)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_equals_torch(norm_first):
    ours, theirs = decoder_twins(norm_first)
    y, memory = torch.randn(2, 5, 64), torch.randn(2, 7, 64)
    check_parity(ours, _torch_decoder(theirs), y, memory, causal_mask(5), padding_mask(DEC_SRC, 0), atol=1e-5)


@pytest.mark.parametrize("name", ["self_attn.v_proj.weight", "ffn.linear1.weight", "norm2.weight"])
def test_layer_parity_fails_when_one_weight_is_scrambled(name):
    """A parity test that cannot fail proves nothing: break one tensor of ours and it must raise."""
    for norm_first in (False, True):
        ours, theirs = encoder_twins(norm_first)
        x = torch.randn(2, 7, 64)
        scramble_one_(ours, name)
        with pytest.raises(AssertionError, match="differ by"):
            check_parity(ours, lambda x: theirs(x), x, atol=1e-5, scramble=False)
        ours, theirs = decoder_twins(norm_first)
        y, memory = torch.randn(2, 5, 64), torch.randn(2, 7, 64)
        scramble_one_(ours, "cross_attn.k_proj.weight")
        with pytest.raises(AssertionError, match="differ by"):
            check_parity(ours, _torch_decoder(theirs), y, memory, causal_mask(5), padding_mask(DEC_SRC, 0),
                         atol=1e-5, scramble=False)


def test_train_mode_layer_parity_without_dropout_and_backward():
    torch.manual_seed(0)
    theirs = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True).train()
    ours = encoder_layer_from_torch(theirs)
    assert ours.training
    x = torch.randn(2, 6, 32)
    ours(x).square().sum().backward()
    theirs(x).square().sum().backward()
    torch.testing.assert_close(ours.ffn.linear1.weight.grad, theirs.linear1.weight.grad, rtol=1e-5, atol=1e-5)


def test_tiny_model_shapes_on_the_page_word():
    """transformer page: the word 'attention' through the tiny encoder-decoder (D = 64)."""
    vocab = CharVocab()
    model = refmodels.create_model("transformer_tiny", vocab_size=len(vocab), dim=64, heads=4, ffn_dim=128).eval()
    src, tgt_in, tgt_out = reversal_batch(vocab, ["attention"])
    assert tuple(src.shape) == (1, 9) and tuple(tgt_in.shape) == (1, 10) and tuple(tgt_out.shape) == (1, 10)
    tr = refmodels.trace(model, src, tgt_in)
    assert tr["src_embed"].output_shapes[0] == (1, 9, 64)
    assert tr["encoder.1"].output_shapes[0] == (1, 9, 64)
    assert tr["decoder.0.cross_attn"].output_shapes == ((1, 10, 64), (1, 4, 10, 9))
    assert tr["decoder.1"].output_shapes[0] == (1, 10, 64)
    assert tr["head"].output_shapes[0] == (1, 10, len(vocab))
    assert model.head.weight is model.src_embed.weight is model.tgt_embed.weight


def test_generate_stops_and_pads():
    torch.manual_seed(0)
    model = refmodels.create_model("transformer_tiny").eval()
    out = model.generate(torch.randint(3, 32, (3, 5)), bos_id=1, eos_id=2, max_new_tokens=6)
    assert out.shape[0] == 3 and out.shape[1] <= 7 and (out[:, 0] == 1).all()


def test_learned_positions_and_untied_variant():
    model = refmodels.create_model("transformer_tiny", positional="learned", max_len=8, share_embeddings=False)
    assert model.head.weight is not model.src_embed.weight
    assert tuple(model(torch.randint(1, 32, (2, 8)), torch.randint(1, 32, (2, 3))).shape) == (2, 3, 32)
    with pytest.raises(ValueError, match=r"sequence of 9 tokens is longer than the learned position table"):
        model(torch.randint(1, 32, (2, 9)), torch.randint(1, 32, (2, 3)))


def test_bad_input_raises_clear_value_error():
    model = refmodels.create_model("transformer_tiny")
    with pytest.raises(ValueError, match=r"expects source token ids of shape \(B, L\) and an integer dtype; "
                                         r"got shape \(2, 7, 32\)"):
        model(torch.randn(2, 7, 32), torch.randint(1, 32, (2, 3)))
    with pytest.raises(ValueError, match=r"expects target token ids .* got shape \(3,\)"):
        model(torch.randint(1, 32, (2, 7)), torch.randint(1, 32, (3,)))


def test_config_validates_itself():
    with pytest.raises(ValueError, match=r"width must be divisible by heads: got 770 and 12"):
        TransformerConfig(dim=770, heads=12)
    with pytest.raises(ValueError, match="dropout must be in"):
        TransformerConfig(dropout=1.0)
    with pytest.raises(ValueError, match="positional must be"):
        TransformerConfig(positional="rotary")
    with pytest.raises(ValueError, match=r"encoder_layers must be a positive integer; got 0"):
        TransformerConfig(encoder_layers=0)
    with pytest.raises(ValueError, match=r"pad_id must be a token id"):
        TransformerConfig(vocab_size=10, pad_id=10)
    assert isinstance(Transformer(TransformerConfig(vocab_size=10, dim=8, heads=2, ffn_dim=8, encoder_layers=1,
                                                    decoder_layers=1)), Transformer)
