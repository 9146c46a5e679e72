"""ViT against its paper (Table 1, equations 1-4) and its production twin (timm).

The shapes here are the paper's, written once: 224x224 in 16x16 patches is 196 patch
tokens, 197 with [CLS], width 768 for ViT-B. Every shape the ViT page shows comes from
the same model, so a change in refmodels/vision/vit.py fails here first.
"""

import pytest
import timm
import torch
from timm.layers import resample_abs_pos_embed

import refmodels
from refmodels.parity import check_parity, randomize_constants_, scramble_one_
from refmodels.vision.vit import ViTConfig, resample_pos_embed

# Table 1 (ViT-S is DeiT's): (width D, layers, heads, MLP size), and timm's parameter counts
PAPER = {
    "vit_small_patch16_224": (384, 12, 6, 1536),
    "vit_base_patch16_224": (768, 12, 12, 3072),
    "vit_large_patch16_224": (1024, 24, 16, 4096),
}


def meta_trace(name, size=224, **overrides):
    with torch.device("meta"):
        model = refmodels.create_model(name, **overrides)
    return model, refmodels.trace(model, (1, 3, size, size))


@pytest.mark.parametrize("name", list(PAPER))
def test_shapes_match_table_1(name):
    width, depth, heads, mlp = PAPER[name]
    model, tr = meta_trace(name)
    assert (model.cfg.width, model.cfg.depth, model.cfg.heads) == (width, depth, heads)
    assert len(model.blocks) == depth
    assert tr["patch_embed.proj"].output_shapes == ((1, width, 14, 14),)
    assert tr["patch_embed"].output_shapes == ((1, 196, width),)
    assert tr["blocks.0"].input_shapes == ((1, 197, width),)
    assert tr["blocks.0.mlp.fc1"].output_shapes == ((1, 197, mlp),)
    assert tr["blocks.0.attn.qkv"].output_shapes == ((1, 197, 3 * width),)
    assert tr[f"blocks.{depth - 1}"].output_shapes == ((1, 197, width),)
    assert tr["norm"].output_shapes == ((1, 197, width),)
    assert tr["head"].input_shapes == ((1, width),)
    assert tr["head"].output_shapes == ((1, 1000),)
    assert tuple(model.pos_embed.shape) == (1, 197, width)


def test_vit_b16_tokens_and_attention_shapes():
    torch.manual_seed(0)
    model = refmodels.create_model("vit_base_patch16_224", depth=1).eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        tokens = model.embed(x)
        assert tuple(model.patch_embed(x).shape) == (1, 196, 768)
        assert tuple(tokens.shape) == (1, 197, 768)
        attn = model.blocks[0].attn.weights(model.blocks[0].norm1(tokens))
    assert tuple(attn.shape) == (1, 12, 197, 197)
    torch.testing.assert_close(attn.sum(-1), torch.ones(1, 12, 197))


def test_explicit_attention_equals_fused():
    torch.manual_seed(0)
    model = refmodels.create_model("vit_tiny").eval()
    block = model.blocks[0]
    x = torch.randn(2, 17, 32)
    q, k, v = block.attn._qkv(x)
    explicit = (block.attn.weights(x) @ v).transpose(1, 2).flatten(2)
    torch.testing.assert_close(block.attn.proj(explicit), block.attn(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(PAPER))
def test_parameter_count_equals_timm_on_meta(name):
    with torch.device("meta"):
        ours = refmodels.create_model(name)
        theirs = timm.create_model(name, pretrained=False)
    count = sum(p.numel() for p in ours.parameters())
    assert count == sum(p.numel() for p in theirs.parameters())
    if name == "vit_base_patch16_224":
        assert count == 86_567_656


def test_vit_b16_logits_equal_timm_with_same_weights():
    """Every constant tensor of timm's model (LayerNorm scales and shifts, zero biases) is
    randomised before the copy, so no norm or bias mapping can hide behind a 1 or a 0."""
    torch.manual_seed(0)
    theirs = timm.create_model("vit_base_patch16_224", pretrained=False).eval()
    changed = len(randomize_constants_(theirs, seed=0))
    ours = refmodels.from_timm(theirs)
    assert not ours.training and changed > 0
    x = torch.randn(1, 3, 224, 224)
    report = check_parity(ours, theirs, x, atol=1e-4, randomized=changed)
    assert report.scrambled_abs > 100 * report.atol


def test_parity_check_fails_when_one_inner_weight_is_scrambled():
    torch.manual_seed(0)
    theirs = timm.create_model("vit_small_patch16_224", pretrained=False, depth=4, img_size=64).eval()
    randomize_constants_(theirs, seed=0)
    ours = refmodels.from_timm(theirs)
    x = torch.randn(2, 3, 64, 64)
    check_parity(ours, theirs, x, atol=1e-5)  # equal before
    scramble_one_(ours, "blocks.2.attn.qkv.weight")
    with pytest.raises(AssertionError, match="differ by"):
        check_parity(ours, theirs, x, atol=1e-5, scramble=False)


def test_other_resolution_equals_timm_dynamic_img_size():
    """At 48x48 the position embeddings are resampled: logits still equal timm's."""
    torch.manual_seed(0)
    kwargs = dict(img_size=32, patch_size=8, embed_dim=64, depth=2, num_heads=4, num_classes=10)
    theirs = timm.models.vision_transformer.VisionTransformer(dynamic_img_size=True, **kwargs).eval()
    randomize_constants_(theirs, seed=0)
    ours = refmodels.from_timm(theirs)
    assert ours.cfg.img_size == 32
    x = torch.randn(2, 3, 48, 40)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=1e-5)


@pytest.mark.parametrize("grid", [(24, 24), (10, 7), (14, 14)])
def test_resample_pos_embed_equals_timm(grid):
    torch.manual_seed(0)
    pos = torch.randn(1, 197, 16)
    expected = resample_abs_pos_embed(pos, list(grid), old_size=[14, 14], num_prefix_tokens=1)
    ours = resample_pos_embed(pos, grid)
    assert tuple(ours.shape) == (1, 1 + grid[0] * grid[1], 16)
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-6)


def test_train_mode_backward_matches_timm():
    torch.manual_seed(0)
    theirs = timm.create_model("vit_small_patch16_224", pretrained=False, depth=2, num_classes=5, img_size=64)
    randomize_constants_(theirs, seed=0)
    ours = refmodels.from_timm(theirs.train())
    x = torch.randn(2, 3, 64, 64)
    ours(x).square().sum().backward()
    theirs(x).square().sum().backward()
    torch.testing.assert_close(ours.pos_embed.grad, theirs.pos_embed.grad, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(ours.blocks[0].attn.qkv.weight.grad, theirs.blocks[0].attn.qkv.weight.grad,
                               rtol=1e-4, atol=1e-5)


def test_from_timm_refuses_variants_it_does_not_build():
    with torch.device("meta"):
        gap = timm.create_model("vit_base_patch16_224", pretrained=False, global_pool="avg", class_token=False)
        scaled = timm.create_model("vit_small_patch16_224", pretrained=False, init_values=1e-5)
    with pytest.raises(ValueError, match="only \\[CLS\\]-token ViTs"):
        refmodels.from_timm(gap)
    with pytest.raises(ValueError, match="LayerScale"):
        refmodels.from_timm(scaled)


def test_bad_input_raises_clear_value_error():
    model = refmodels.create_model("vit_tiny").eval()
    with pytest.raises(ValueError, match=r"ViT expects H and W to be multiples of 8; got 30x32"):
        model(torch.zeros(1, 3, 30, 32))
    with pytest.raises(ValueError, match=r"ViT expects 3 input channels \(B, 3, H, W\); got shape \(1, 1, 32, 32\)"):
        model(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match=r"expects a batch of images"):
        model(torch.zeros(3, 32, 32))


def test_config_validates_itself():
    with pytest.raises(ValueError, match="width must be divisible by heads: got 770 and 12"):
        ViTConfig(width=770, heads=12)
    with pytest.raises(ValueError, match="img_size must be divisible by patch_size: got 224 and 15"):
        ViTConfig(patch_size=15)
    with pytest.raises(ValueError, match="depth must be a positive integer; got 0"):
        ViTConfig(depth=0)
