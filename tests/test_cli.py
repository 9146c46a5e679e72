"""The ``refmodels`` command line (refmodels/cli.py): list, trace, compare, and clean errors."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from refmodels.cli import main


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_all_and_filtered(capsys):
    import refmodels

    code, out, _ = run(["list"], capsys)
    assert code == 0 and out.split() == refmodels.list_models()
    code, out, _ = run(["list", "vit_"], capsys)
    assert code == 0 and out.split() == [n for n in refmodels.list_models() if "vit_" in n]
    code, out, _ = run(["list", "resnet1*"], capsys)
    assert out.split() == ["resnet101", "resnet152", "resnet18"]
    code, out, err = run(["list", "no-such-model"], capsys)
    assert code == 1 and out == "" and "no model matches" in err


def test_trace_default_input_on_meta(capsys):
    code, out, _ = run(["trace", "resnet50", "--depth", "1"], capsys)
    assert code == 0
    assert "resnet50 on input (1, 3, 224, 224), counted on the meta device" in out
    assert "25,557,032" in out and "4.09 G MACs" in out
    assert "  stem " in out and "stages.0" not in out  # depth 1: the children only


def test_trace_given_input(capsys):
    code, out, _ = run(["trace", "vit_tiny", "--input", "2,3,32,32", "--depth", "0"], capsys)
    assert code == 0 and "(2, 3, 32, 32)" in out and "(2, 10)" in out
    code, out, _ = run(["trace", "transformer_tiny", "--input", "2,9"], capsys)
    assert code == 0 and "(2, 9) + (2, 9)" in out


@pytest.mark.parametrize("argv, message", [
    (["trace", "resnet5"], "unknown model 'resnet5'; did you mean resnet50"),
    (["trace", "resnet50", "--input", "1,1,224,224"], "ResNet expects 3 input channels"),
    (["trace", "vit_tiny", "--input", "1,3,30,30"], "ViT"),
    (["compare", "resnet5"], "unknown model 'resnet5'"),
])
def test_library_errors_are_one_line_and_exit_2(argv, message, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("value", ["1,x", "1,0,3", ""])
def test_bad_shape_text_is_a_usage_error(value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["trace", "resnet50", "--input", value])
    assert exit_info.value.code == 2
    assert "--input" in capsys.readouterr().err


def test_compare_small_preset(capsys):
    pytest.importorskip("timm")
    code, out, _ = run(["compare", "vit_tiny"], capsys)
    assert code == 0
    assert "vit_tiny against timm.models.vision_transformer.VisionTransformer" in out
    assert "largest difference" in out and "scrambled" in out


def test_compare_without_twin(capsys):
    code, out, err = run(["compare", "lenet5"], capsys)
    assert code == 1 and "lenet5 has no production twin" in err and "Traceback" not in err


def test_console_entry_points():
    """`python -m refmodels` (and the installed `refmodels` script: same main) in a real process."""
    done = subprocess.run([sys.executable, "-m", "refmodels", "trace", "nope"], capture_output=True, text=True)
    assert done.returncode == 2 and "unknown model 'nope'" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "refmodels", "list", "lenet"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.split() == ["lenet5", "lenet_tiny"]
    script = Path(sys.executable).parent / "refmodels"
    script = str(script) if script.exists() else shutil.which("refmodels")
    if script:  # installed by `pip install -e .` ([project.scripts] in pyproject.toml)
        done = subprocess.run([script, "list", "mlp"], capture_output=True, text=True)
        assert done.returncode == 0 and done.stdout.split() == ["mlp_digits", "mlp_tiny"]
