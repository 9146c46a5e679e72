"""ViT: An Image is Worth 16x16 Words (Dosovitskiy et al., 2021).

Paper: https://arxiv.org/abs/2010.11929 (model variants in Table 1, the encoder in
equations 1-4 of section 3.1).
Checked against: ``timm.models.vision_transformer.VisionTransformer``
(``vit_small_patch16_224``, ``vit_base_patch16_224``, ``vit_large_patch16_224``):
same parameter counts on the meta device, same logits with the same weights and randomised
constants, also at another resolution with the position embeddings resampled
(``tests/test_vit.py``, converter in ``refmodels/convert/timm_vit.py``).

Shapes (batch-first, one glossary for the project)::

    B batch, C channels, H W image size, P patch side, N tokens, D width,
    nh heads, hd head width (D / nh), K classes.
    image (B, 3, 224, 224) -> patches (B, 196, 768) -> + [CLS] (B, 197, 768)
    -> 12 encoder blocks (B, 197, 768) -> final LayerNorm -> [CLS] token (B, 768)
    -> logits (B, K)                                                   [ViT-B/16]

Differences from the paper:
    * The patch embedding is a convolution with kernel = stride = P, the same linear
      map of each flattened P x P patch as the paper's E (equation 1), written the way
      every implementation writes it.
    * The head is one linear layer on the final [CLS] token, the paper's fine-tuning
      head; pre-training used an MLP with one tanh hidden layer (section 3.1).
    * At an image size other than the one the position embeddings were made for, they
      are resampled on the fly with bicubic interpolation of the 2D grid (section 3.2
      describes the 2D interpolation; timm's ``resample_abs_pos_embed`` does the same,
      and is what the tests compare against).
    * Attention runs through ``F.scaled_dot_product_attention``; ``Attention.weights``
      computes the same softmax explicitly for the attention maps on the page.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor

from refmodels.checks import check_image, check_positive
from refmodels.registry import register_model

__all__ = ["PAPER_PARAMS_M", "Attention", "Block", "Mlp", "PatchEmbed", "ViT", "ViTConfig", "resample_pos_embed"]

#: Table 1 of the paper, "Params" column, in millions (ViT-S is not in the paper). The
#: paper gives one figure per model size; ViT-L/16 as built here (and by timm) has 304.3M,
#: and the ViT page computes which variants could give 307M.
PAPER_PARAMS_M = {"vit_base_patch16_224": 86, "vit_large_patch16_224": 307}


@dataclass(frozen=True)
class ViTConfig:
    """Settings of :class:`ViT`; the defaults are ViT-B/16 at 224x224."""

    img_size: int = 224  # the size the position embeddings are made for
    patch_size: int = 16
    in_chans: int = 3
    num_classes: int = 1000
    width: int = 768  # D, the "hidden size" of Table 1
    depth: int = 12  # encoder blocks ("layers")
    heads: int = 12
    mlp_ratio: float = 4.0  # MLP size = mlp_ratio * D (3072 for ViT-B)
    eps: float = 1e-6  # LayerNorm epsilon of the JAX original and timm

    def __post_init__(self) -> None:
        check_positive(img_size=self.img_size, patch_size=self.patch_size, in_chans=self.in_chans,
                       num_classes=self.num_classes, width=self.width, depth=self.depth, heads=self.heads)
        if self.img_size % self.patch_size:
            raise ValueError(f"img_size must be divisible by patch_size: got {self.img_size} and {self.patch_size}")
        if self.width % self.heads:
            raise ValueError(f"width must be divisible by heads: got {self.width} and {self.heads}")
        if self.mlp_ratio <= 0:
            raise ValueError(f"mlp_ratio must be positive; got {self.mlp_ratio!r}")

    @property
    def grid(self) -> int:
        """Patches per side at ``img_size``: 224 / 16 = 14."""
        return self.img_size // self.patch_size


def resample_pos_embed(pos_embed: Float[Tensor, "1 N D"], grid: tuple[int, int]) -> Float[Tensor, "1 M D"]:
    """The position embeddings of a square g x g grid (plus [CLS]) resampled to ``grid``.

    The [CLS] entry is kept; the g*g patch entries are laid back on their 2D grid and
    interpolated bicubically, as timm does (the paper says "2D interpolation"; its
    released code interpolates linearly).

    >>> resample_pos_embed(torch.zeros(1, 1 + 14 * 14, 8), (24, 24)).shape
    torch.Size([1, 577, 8])
    """
    cls_pos, patch_pos = pos_embed[:, :1], pos_embed[:, 1:]
    old = math.isqrt(patch_pos.shape[1])
    if (old, old) == tuple(grid):
        return pos_embed
    d = patch_pos.shape[-1]
    patch_pos = patch_pos.reshape(1, old, old, d).permute(0, 3, 1, 2)  # (1, g*g, D) -> (1, D, g, g)
    patch_pos = F.interpolate(patch_pos.float(), size=grid, mode="bicubic", antialias=True, align_corners=False)
    patch_pos = patch_pos.permute(0, 2, 3, 1).reshape(1, grid[0] * grid[1], d)  # -> (1, h*w, D)
    return torch.cat([cls_pos, patch_pos.to(pos_embed.dtype)], dim=1)


class PatchEmbed(nn.Module):
    """Cut the image into P x P patches and map each (P*P*C values) linearly to D: equation 1's x_p E."""

    def __init__(self, in_chans: int, width: int, patch_size: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_chans, width, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: Float[Tensor, "B C H W"]) -> Float[Tensor, "B N D"]:
        x = self.proj(x)  # (B, C, H, W) -> (B, D, H/P, W/P): one vector per patch
        return x.flatten(2).transpose(1, 2)  # -> (B, N, D), N = (H/P)(W/P), row by row


class Attention(nn.Module):
    """Multi-head self-attention, softmax(q k^T / sqrt(hd)) v, with one fused q/k/v projection."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)  # W_q, W_k, W_v stacked: one matmul instead of three
        self.proj = nn.Linear(width, width)

    def _qkv(self, x: Float[Tensor, "B N D"]) -> tuple[Tensor, Tensor, Tensor]:
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads)  # (B, N, 3D) -> (B, N, 3, nh, hd)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # -> 3 x (B, nh, N, hd)
        return q, k, v

    def weights(self, x: Float[Tensor, "B N D"]) -> Float[Tensor, "B nh N N"]:
        """The attention matrix of every head, written out: row i says where token i looks."""
        q, k, _ = self._qkv(x)
        return (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(dim=-1)

    def forward(self, x: Float[Tensor, "B N D"]) -> Float[Tensor, "B N D"]:
        q, k, v = self._qkv(x)
        out = F.scaled_dot_product_attention(q, k, v)  # (B, nh, N, hd), the same softmax as weights()
        out = out.transpose(1, 2).flatten(2)  # -> (B, N, nh, hd) -> (B, N, D): heads side by side
        return self.proj(out)


class Mlp(nn.Module):
    """The block's MLP: two linear layers with a GELU between, D -> mlp_ratio * D -> D."""

    def __init__(self, width: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x: Float[Tensor, "B N D"]) -> Float[Tensor, "B N D"]:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """One encoder block, pre-norm: x + MSA(LN(x)), then x + MLP(LN(x)) (equations 2 and 3)."""

    def __init__(self, width: int, heads: int, hidden: int, eps: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(width, eps=eps)
        self.attn = Attention(width, heads)
        self.norm2 = nn.LayerNorm(width, eps=eps)
        self.mlp = Mlp(width, hidden)

    def forward(self, x: Float[Tensor, "B N D"]) -> Float[Tensor, "B N D"]:
        x = x + self.attn(self.norm1(x))  # tokens exchange information
        return x + self.mlp(self.norm2(x))  # each token is processed on its own


class ViT(nn.Module):
    """Patch embedding, [CLS] token, position embeddings, encoder blocks, LayerNorm, linear head.

    >>> model = ViT(ViTConfig(width=64, heads=2, depth=1))
    >>> tuple(model.tokens(torch.zeros(1, 3, 224, 224)).shape)
    (1, 197, 64)
    >>> tuple(model(torch.zeros(1, 3, 224, 224)).shape)
    (1, 1000)
    """

    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.patch_embed = PatchEmbed(cfg.in_chans, cfg.width, cfg.patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.width))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + cfg.grid**2, cfg.width))  # learned, 1D-indexed
        hidden = int(cfg.width * cfg.mlp_ratio)
        self.blocks = nn.Sequential(*[Block(cfg.width, cfg.heads, hidden, cfg.eps) for _ in range(cfg.depth)])
        self.norm = nn.LayerNorm(cfg.width, eps=cfg.eps)
        self.head = nn.Linear(cfg.width, cfg.num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        # timm's default: truncated normal (std 0.02) for linear weights and the
        # position embeddings, a near-zero [CLS] token, zero biases.
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def embed(self, x: Tensor) -> Float[Tensor, "B N D"]:
        """Equation 1: patch embeddings, the [CLS] token in front, position embeddings added."""
        check_image(x, channels=self.cfg.in_chans, model="ViT", multiple_of=self.cfg.patch_size)
        grid = (x.shape[2] // self.cfg.patch_size, x.shape[3] // self.cfg.patch_size)
        x = self.patch_embed(x)  # (B, C, H, W) -> (B, N, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (1, 1, D) -> (B, 1, D)
        x = torch.cat([cls, x], dim=1)  # -> (B, 1 + N, D)
        return x + resample_pos_embed(self.pos_embed, grid)

    def tokens(self, x: Tensor) -> Float[Tensor, "B N D"]:
        """Every token after the encoder and the final LayerNorm (equation 4 before the head)."""
        return self.norm(self.blocks(self.embed(x)))

    def forward_head(self, x: Float[Tensor, "B N D"]) -> Float[Tensor, "B K"]:
        return self.head(x[:, 0])  # the [CLS] token alone classifies: (B, N, D) -> (B, D) -> (B, K)

    def forward(self, x: Tensor) -> Float[Tensor, "B K"]:
        return self.forward_head(self.tokens(x))


def _build(**config) -> ViT:
    return ViT(ViTConfig(**config))


@register_model()
def vit_small_patch16_224(**overrides) -> ViT:
    """ViT-S/16 (DeiT-S's shape; not in the paper's Table 1, introduced by Touvron et al. 2021)."""
    return _build(**{"width": 384, "depth": 12, "heads": 6, **overrides})


@register_model()
def vit_base_patch16_224(**overrides) -> ViT:
    """ViT-B/16: Table 1's ViT-Base (D 768, 12 layers, 12 heads, MLP 3072) with 16x16 patches."""
    return _build(**{"width": 768, "depth": 12, "heads": 12, **overrides})


@register_model()
def vit_large_patch16_224(**overrides) -> ViT:
    """ViT-L/16: Table 1's ViT-Large (D 1024, 24 layers, 16 heads, MLP 4096)."""
    return _build(**{"width": 1024, "depth": 24, "heads": 16, **overrides})


@register_model()
def vit_tiny(**overrides) -> ViT:
    """A test preset (not timm's ViT-Ti): 32x32 images, 8x8 patches, 2 narrow blocks."""
    defaults = dict(img_size=32, patch_size=8, num_classes=10, width=32, depth=2, heads=2)
    return _build(**{**defaults, **overrides})
