"""ConvNeXt, PoolFormer (MetaFormer), FastViT and EfficientViT against their papers' shapes
and their production twins (timm).

Every shape the modern-backbones page shows is computed from these models, so a change
of stride, width or block layout fails these tests before it can change the page.
"""

import pytest
import timm
import torch
from timm.models import reparameterize_model

import refmodels
from refmodels.parity import check_parity, randomize_constants_, scramble_one_
from refmodels.vision.fastvit import FastViTConfig, RepMixer
from refmodels.vision.poolformer import MetaFormerConfig

# (name, input side, stem output, stage output (channels, side) x 4): the papers' layouts
PAPER_SHAPES = {
    "convnext_tiny": (224, (96, 56), [(96, 56), (192, 28), (384, 14), (768, 7)]),
    "poolformer_s12": (224, (64, 56), [(64, 56), (128, 28), (320, 14), (512, 7)]),
    "fastvit_t8": (256, (48, 64), [(48, 64), (96, 32), (192, 16), (384, 8)]),
    "fastvit_sa12": (256, (64, 64), [(64, 64), (128, 32), (256, 16), (512, 8)]),
    "efficientvit_b0": (224, (8, 112), [(16, 56), (32, 28), (64, 14), (128, 7)]),
    "efficientvit_b1": (224, (16, 112), [(32, 56), (64, 28), (128, 14), (256, 7)]),
}
COUNTED = [
    "convnext_tiny", "convnext_small", "convnext_base",
    "poolformer_s12", "poolformer_s24", "poolformer_s36",
    "fastvit_t8", "fastvit_t12", "fastvit_s12", "fastvit_sa12",
    "efficientvit_b0", "efficientvit_b1", "efficientvit_b2",
]
PARITY = ["convnext_tiny", "poolformer_s12", "fastvit_t8", "fastvit_sa12", "efficientvit_b0", "efficientvit_b1"]


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def meta_trace(name, size):
    with torch.device("meta"):
        model = refmodels.create_model(name)
    return model, refmodels.trace(model, (1, 3, size, size))


@pytest.mark.parametrize("name", sorted(PAPER_SHAPES))
def test_stage_shapes_match_papers(name):
    size, (c0, s0), stages = PAPER_SHAPES[name]
    _, tr = meta_trace(name, size)
    assert tr["stem"].output_shapes == ((1, c0, s0, s0),)
    for i, (c, s) in enumerate(stages):
        assert tr[f"stages.{i}"].output_shapes == ((1, c, s, s),), f"stage {i + 1}"
    assert tr[""].output_shapes == ((1, 1000),)


def test_stem_versus_patch_embedding_shapes():
    """ConvNeXt patchifies (4x4, stride 4, no overlap); ResNet convolves 7x7/2 and pools 3x3/2."""
    _, cn = meta_trace("convnext_tiny", 224)
    assert cn["stem.conv"].output_shapes == ((1, 96, 56, 56),)
    with torch.device("meta"):
        model = refmodels.create_model("convnext_tiny")
    assert model.stem.conv.kernel_size == model.stem.conv.stride == (4, 4)
    with torch.device("meta"):
        resnet = refmodels.create_model("resnet50")
    rn = refmodels.trace(resnet, (1, 3, 224, 224))
    assert rn["stem.conv"].output_shapes == ((1, 64, 112, 112),) and rn["stem"].output_shapes == ((1, 64, 56, 56),)


@pytest.mark.parametrize("name", COUNTED)
def test_parameter_count_equals_timm_on_meta(name):
    with torch.device("meta"):
        ours = refmodels.create_model(name)
        theirs = timm.create_model(name, pretrained=False)
    assert n_params(ours) == n_params(theirs)


def test_known_counts():
    with torch.device("meta"):
        counts = {n: n_params(refmodels.create_model(n)) for n in PARITY}
    assert counts == {
        "convnext_tiny": 28_589_128, "poolformer_s12": 11_915_176, "fastvit_t8": 4_026_232,
        "fastvit_sa12": 11_580_968, "efficientvit_b0": 3_410_008, "efficientvit_b1": 9_102_024,
    }


# Tolerance, and the weight the can-fail proof scrambles, per family. EfficientViT's logits
# barely move at random init (ReLU linear attention averages over all tokens), so its
# twin is held to 1e-5 and the proof scrambles a LiteMLA's q/k/v projection.
ATOL = {"convnext": 1e-4, "poolformer": 1e-4, "fastvit": 1e-4, "efficientvit": 1e-5}
SCRAMBLE = {"efficientvit": "stages.2.1.context.qkv.weight"}
# one weight inside a residual branch per family, for the must-fail test
INNER = {"convnext": "stages.1.blocks.1.fc1.weight", "poolformer": "stages.1.blocks.1.fc1.weight",
         "fastvit": "stages.1.blocks.1.mlp.fc1.weight", "efficientvit": "stages.2.1.context.qkv.weight"}


def timm_twin(name, seed=0):
    """timm's random-init model with every constant tensor randomised (layer scales start at
    1e-5 / 1e-6, BatchNorm is the identity), and the refmodels model with its weights."""
    torch.manual_seed(seed)
    theirs = timm.create_model(name, pretrained=False).eval()
    changed = randomize_constants_(theirs, seed=seed)
    return refmodels.from_timm(theirs), theirs, len(changed)


@pytest.mark.parametrize("name", PARITY)
def test_logits_equal_timm_with_same_weights(name):
    family = name.split("_")[0]
    ours, theirs, changed = timm_twin(name)
    assert not ours.training and type(ours).__module__ == f"refmodels.vision.{family}" and changed > 0
    x = torch.randn(1, 3, PAPER_SHAPES[name][0], PAPER_SHAPES[name][0])
    report = check_parity(ours, theirs, x, atol=ATOL[family], scramble=SCRAMBLE.get(family, True), randomized=changed)
    assert report.scrambled_abs > 100 * report.atol


@pytest.mark.parametrize("name", ["convnext_tiny", "poolformer_s12", "fastvit_t8", "efficientvit_b0"])
def test_parity_check_fails_when_one_inner_weight_is_scrambled(name):
    family = name.split("_")[0]
    ours, theirs, _ = timm_twin(name)
    assert scramble_one_(ours, INNER[family]) == INNER[family]
    x = torch.randn(1, 3, PAPER_SHAPES[name][0], PAPER_SHAPES[name][0])
    with pytest.raises(AssertionError, match="differ by"):
        check_parity(ours, theirs, x, atol=ATOL[family], scramble=False)


@pytest.mark.parametrize("name", ["convnext_tiny", "poolformer_s12", "fastvit_t8"])
def test_timm_init_hides_the_residual_branches(name):
    """Why the constants are randomised: at timm's init the layer scales (1e-6 / 1e-5) make a
    scrambled branch weight move the logits by less than the tolerance."""
    torch.manual_seed(0)
    theirs = timm.create_model(name, pretrained=False).eval()
    ours = refmodels.from_timm(theirs)
    scramble_one_(ours, INNER[name.split("_")[0]])
    x = torch.randn(1, 3, PAPER_SHAPES[name][0], PAPER_SHAPES[name][0])
    with torch.no_grad():
        assert (ours(x) - theirs(x)).abs().max().item() < 1e-4


@pytest.mark.parametrize("name", ["fastvit_t8", "fastvit_sa12"])
def test_fastvit_reparameterization_keeps_outputs_and_drops_parameters(name):
    ours, theirs, _ = timm_twin(name)
    fused = ours.fused_copy()
    x = torch.randn(1, 3, 256, 256)
    with torch.no_grad():
        before, after = ours(x), fused(x)
        timm_fused = reparameterize_model(theirs)(x)
    torch.testing.assert_close(after, before, rtol=0, atol=1e-4)
    torch.testing.assert_close(after, timm_fused, rtol=0, atol=1e-4)
    assert n_params(fused) < n_params(ours)
    assert n_params(fused) == n_params(reparameterize_model(theirs))
    # no multi-branch module is left: every RepMixer is one depthwise conv
    mixers = [m for m in fused.modules() if isinstance(m, RepMixer)]
    assert mixers and all(m.fused is not None and m.mixer is None and m.norm is None for m in mixers)
    assert all(m.fused.groups == m.dim and m.fused.kernel_size == (3, 3) for m in mixers)


def test_one_repmixer_folds_into_one_depthwise_conv():
    """In eval mode (running statistics) the four branches and the skip become one 3x3 depthwise conv."""
    torch.manual_seed(0)
    mixer = RepMixer(8)
    randomize_constants_(mixer, seed=0)  # BN statistics and the 1e-5 layer scale become random
    mixer.eval()
    x = torch.randn(2, 8, 16, 16)
    with torch.no_grad():
        before = mixer(x)
        mixer.reparameterize()
        after = mixer(x)
    torch.testing.assert_close(after, before, rtol=0, atol=1e-5)
    assert n_params(mixer) == 8 * 9 + 8  # one 3x3 depthwise kernel and a bias per channel


@pytest.mark.parametrize("mixer", ["pooling", "attention", "identity"])
def test_metaformer_mixers_share_everything_but_the_mixer(mixer):
    base = refmodels.create_model("poolformer_tiny")
    model = refmodels.create_model("poolformer_tiny", mixer=mixer)
    mixer_params = sum(n_params(b.mixer) for s in model.stages for b in s.blocks)
    assert n_params(model) - mixer_params == n_params(base)
    assert (mixer_params > 0) == (mixer == "attention")
    assert tuple(model(torch.randn(2, 3, 64, 64)).shape) == (2, 10)


def test_metaformer_on_digits_shapes():
    model = refmodels.create_model("poolformer_tiny", in_chans=1, depths=(1, 1), dims=(16, 32),
                                   stem_kernel=3, stem_stride=1, stem_padding=1)
    feats = model.features(torch.zeros(1, 1, 8, 8))
    assert {k: tuple(v.shape) for k, v in feats.items()} == {
        "stem": (1, 16, 8, 8), "stage1": (1, 16, 8, 8), "stage2": (1, 32, 4, 4)}


@pytest.mark.parametrize("name", ["convnext_tiny", "poolformer_tiny", "fastvit_tiny", "efficientvit_tiny"])
def test_bad_input_raises_clear_value_error(name):
    with torch.device("meta"):
        model = refmodels.create_model(name)
    label = {"convnext": "ConvNeXt", "poolformer": "MetaFormer", "fastvit": "FastViT", "efficientvit": "EfficientViT"}
    label = label[name.split("_")[0]]
    with pytest.raises(ValueError, match=rf"{label} expects a batch of images \(B, 3, H, W\); got a 3-d tensor"):
        model(torch.zeros(3, 64, 64, device="meta"))
    with pytest.raises(ValueError, match=rf"{label} expects 3 input channels .* got shape \(1, 1, 64, 64\)"):
        model(torch.zeros(1, 1, 64, 64, device="meta"))
    with pytest.raises(ValueError, match=rf"{label} expects H and W to be multiples of 32; got 100x100"):
        model(torch.zeros(1, 3, 100, 100, device="meta"))


def test_from_timm_refuses_variants_it_does_not_build():
    with torch.device("meta"):
        v2 = timm.create_model("convnextv2_atto", pretrained=False)
        caformer = timm.create_model("caformer_s18", pretrained=False)
    with pytest.raises(ValueError, match="Linear MLP|V2"):
        refmodels.from_timm(v2)
    with pytest.raises(ValueError, match="only PoolFormer v1"):
        refmodels.from_timm(caformer)
    fused = reparameterize_model(timm.create_model("fastvit_t8", pretrained=False).eval())
    with pytest.raises(ValueError, match="already reparameterized"):
        refmodels.from_timm(fused)


def test_configs_validate_themselves():
    with pytest.raises(ValueError, match="mixer must be one of"):
        MetaFormerConfig(mixer="conv")
    with pytest.raises(ValueError, match="divisible by head_dim"):
        MetaFormerConfig(mixer="attention", dims=(48, 96, 100, 200))
    with pytest.raises(ValueError, match=r"mixers\[3\] must be 'repmixer' or 'attention'"):
        FastViTConfig(mixers=("repmixer", "repmixer", "repmixer", "pooling"))
    with pytest.raises(ValueError, match="one entry per stage"):
        refmodels.create_model("convnext_tiny", depths=(1, 1, 1))
    with pytest.raises(ValueError, match="5 entries"):
        refmodels.create_model("efficientvit_tiny", widths=(8, 16, 32, 64))


def test_block_shapes_the_page_shows():
    """ConvNeXt's block goes channels-last for its MLP; EfficientViT's multi-scale heads double the attention width."""
    _, cn = meta_trace("convnext_tiny", 224)
    expected = {
        "dwconv": ((1, 96, 56, 56), (1, 96, 56, 56)),
        "norm": ((1, 56, 56, 96), (1, 56, 56, 96)),
        "fc1": ((1, 56, 56, 96), (1, 56, 56, 384)),
        "fc2": ((1, 56, 56, 384), (1, 56, 56, 96)),
    }
    for name, (inp, out) in expected.items():
        row = cn[f"stages.0.blocks.0.{name}"]
        assert (row.input_shapes[0], row.output_shapes[0]) == (inp, out), name
    _, ev = meta_trace("efficientvit_b1", 224)
    expected = {
        "context.qkv": ((1, 128, 14, 14), (1, 384, 14, 14)),
        "context.multiscale.0": ((1, 384, 14, 14), (1, 384, 14, 14)),
        "context.proj": ((1, 256, 14, 14), (1, 128, 14, 14)),
        "local.expand": ((1, 128, 14, 14), (1, 512, 14, 14)),
        "local.project": ((1, 512, 14, 14), (1, 128, 14, 14)),
    }
    for name, (inp, out) in expected.items():
        row = ev[f"stages.2.1.{name}"]
        assert (row.input_shapes[0], row.output_shapes[0]) == (inp, out), name
    for name, side in [("poolformer_s12", 224), ("fastvit_sa12", 256), ("efficientvit_b1", 224)]:
        _, tr = meta_trace(name, side)
        assert tr["stem"].input_shapes[0] == (1, 3, side, side)


@pytest.mark.parametrize("module", ["refmodels.vision.convnext", "refmodels.vision.poolformer"])
def test_costs_match_the_papers_tables(module):
    """ConvNeXt Table 1 and PoolFormer Table 2: parameters (whole millions) and
    multiply-adds (0.1 G) of every preset, counted on the meta device at 224x224."""
    import importlib

    paper = importlib.import_module(module).PAPER
    for name, (params_m, gmacs) in paper.items():
        with torch.device("meta"):
            t = refmodels.trace(refmodels.create_model(name), (1, 3, 224, 224))
        assert round(t.total_params / 1e6) == params_m, (name, t.total_params)
        assert abs(t.total_macs / 1e9 - gmacs) < 0.05 + 1e-9, (name, t.total_macs)
