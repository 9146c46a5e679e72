"""scikit-learn's bundled digits as images, and a small training loop for the pages.

The 1,797 8x8 grey digits ship inside scikit-learn (no download). :func:`load_digits`
returns them as a float tensor ``(N, 1, size, size)``, upsampled bilinearly and
standardised, with the labels. :func:`fit_and_score` trains a classifier on a subset
for a fixed number of steps (AdamW, one-cycle learning rate) and returns its test
accuracy: the same budget for every model, so comparisons are fair.

>>> x, y = load_digits(size=16)
>>> tuple(x.shape), tuple(y.shape)
((1797, 1, 16, 16), (1797,))
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

__all__ = ["fit_and_score", "load_digits", "split"]


def load_digits(size: int = 8) -> tuple[Tensor, Tensor]:
    """(N, 1, size, size) standardised images and (N,) labels 0-9."""
    from sklearn.datasets import load_digits as _load

    data = _load()
    x = torch.tensor(data.images, dtype=torch.float32)[:, None] / 16  # pixel values 0..16 -> [0, 1]
    if size != 8:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return (x - x.mean()) / x.std(), torch.tensor(data.target)


def split(n: int, n_test: int, seed: int = 0) -> tuple[Tensor, Tensor]:
    """A fixed random split of ``range(n)``: (test indices, the rest as a training pool)."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[:n_test], perm[n_test:]


def fit_and_score(model: nn.Module, x: Tensor, y: Tensor, train_idx: Tensor, test_idx: Tensor, *,
                  steps: int = 200, batch: int = 50, lr: float = 2e-3, weight_decay: float = 0.05,
                  seed: int = 0) -> float:
    """Train ``model`` for ``steps`` minibatches drawn from ``train_idx``; the accuracy on ``test_idx``."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        b = train_idx[torch.randint(len(train_idx), (batch,), generator=gen)]
        loss = F.cross_entropy(model(x[b]), y[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    with torch.no_grad():
        return (model(x[test_idx]).argmax(1) == y[test_idx]).float().mean().item()
