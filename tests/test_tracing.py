import pytest
import torch
import torch.nn as nn

import refmodels


def test_linear_counts():
    t = refmodels.trace(nn.Linear(4, 3), torch.zeros(2, 4))
    assert (t.total_params, t.total_macs, t.total_flops) == (15, 2 * 4 * 3, 2 * 2 * 4 * 3)


def test_conv_macs_follow_the_formula():
    conv = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1, bias=False)
    t = refmodels.trace(conv, torch.zeros(1, 3, 16, 16))
    assert t.rows[0].output_shapes == ((1, 8, 8, 8),)
    assert t.total_macs == 8 * 8 * 8 * 3 * 3 * 3  # output positions x channels x kernel volume x in channels


def test_rows_follow_call_order_with_depths():
    net = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Sequential(nn.Linear(5, 2)))
    t = refmodels.trace(net, (3, 4))
    assert [r.name for r in t.rows] == ["", "0", "1", "2", "2.0"]
    assert [r.depth for r in t.rows] == [0, 1, 1, 1, 2]
    assert t["2.0"].input_shapes == ((3, 5),) and t["2.0"].output_shapes == ((3, 2),)
    assert t["0"].params == 25 and t[""].params == 25 + 12
    assert [r.name for r in t.upto(1).rows] == ["", "0", "1", "2"]
    with pytest.raises(KeyError):
        t["missing"]


def test_meta_device_matches_cpu():
    cpu = refmodels.trace(refmodels.create_model("resnet_tiny").eval(), torch.zeros(1, 3, 64, 64))
    with torch.device("meta"):
        model = refmodels.create_model("resnet_tiny")
    meta = refmodels.trace(model, torch.zeros(1, 3, 64, 64))
    assert [(r.name, r.output_shapes, r.params, r.macs) for r in cpu.rows] == [
        (r.name, r.output_shapes, r.params, r.macs) for r in meta.rows
    ]


def test_renderers_name_both_units():
    t = refmodels.trace(nn.Linear(4, 3), torch.zeros(2, 4))
    text, page = str(t), t._repr_html_()
    for rendered in (text, page):
        assert "MACs" in rendered and "FLOPs" in rendered and "15" in rendered
    assert text.splitlines()[0].split()[:2] == ["module", "type"]
    assert page.startswith("<table")


def test_trace_leaves_no_hooks_behind():
    model = nn.Linear(2, 2)
    refmodels.trace(model, (1, 2))
    assert not model._forward_hooks and not model._forward_pre_hooks


def test_fused_attention_on_cpu_is_counted_like_the_explicit_matmuls():
    """F.scaled_dot_product_attention on CPU runs a kernel torch's FlopCounterMode has
    no formula for; the trace must still count QK^T and AV (2 * B*h*N*N*d MACs)."""
    import torch.nn.functional as F

    class Fused(torch.nn.Module):
        def forward(self, q):
            return F.scaled_dot_product_attention(q, q, q)

    class Explicit(torch.nn.Module):
        def forward(self, q):
            return (q @ q.transpose(-1, -2) / q.shape[-1] ** 0.5).softmax(-1) @ q

    b, h, n, d = 2, 3, 5, 4
    q = torch.randn(b, h, n, d)
    expected = 2 * b * h * n * n * d
    assert refmodels.trace(Fused(), q).total_macs == expected
    assert refmodels.trace(Explicit(), q).total_macs == expected
    with torch.device("meta"):
        assert refmodels.trace(Fused(), (b, h, n, d)).total_macs == expected
