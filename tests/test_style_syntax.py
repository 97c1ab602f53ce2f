"""One style syntax for the CLI's --style, the node's style parameter and the launch argument."""

from __future__ import annotations

import argparse
import logging
import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from sim2real_gan.artifact import STYLE_SYNTAX, StyleError, StyleSpec, UnknownStyleError
from sim2real_gan.artifact.styles import check_style_name
from sim2real_gan.cli.main import main
from sim2real_gan.node.params import (
    TRANSLATOR_NODE,
    ParameterError,
    TranslatorSettings,
    default_config_path,
    launch_arguments,
    load_config,
)
from sim2real_gan.runtime import Translator
from sim2real_gan.runtime.styles import style_value

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "models" / "default"


@pytest.mark.parametrize("text,kind,value", [
    ("random", "random", None), ("7", "seed", 7), (" 7 ", "seed", 7), ("0", "seed", 0),
    ("seed_3", "name", "seed_3"), ("default", "name", "default"),
    ("ref.png", "image", "ref.png"), ("REF.JPG", "image", "REF.JPG"),
    ("imgs/ref", "image", "imgs/ref"), ("./ref", "image", "./ref"),
])
def test_syntax(text: str, kind: str, value: object) -> None:
    spec = StyleSpec.parse(text)
    assert spec == StyleSpec(kind, value)
    assert StyleSpec.parse(str(spec)) == spec  # canonical text parses back


def test_home_is_expanded() -> None:
    assert StyleSpec.parse("~/ref.png").value == str(Path.home() / "ref.png")


@pytest.mark.parametrize("text,needle", [
    ("", "style: empty text; expected random, an integer seed"),
    ("   ", "empty text"), ("-3", "seed must be >= 0"), (str(2**64), r"< 2\*\*63"),
    ("a:b", "style names have no ':'"), ("seed:", "nothing after ':'"),
])
def test_bad_text(text: str, needle: str) -> None:
    with pytest.raises(StyleError, match=needle):
        StyleSpec.parse(text)
    with pytest.raises(StyleError, match="expected text"):
        StyleSpec.parse(7)


def test_old_node_syntax_is_read_with_one_deprecation_line(caplog: pytest.LogCaptureFixture,
                                                           tmp_path: Path) -> None:
    with caplog.at_level(logging.WARNING, logger="sim2real_gan.style"):
        assert StyleSpec.parse("seed:12") == StyleSpec("seed", 12)
        assert StyleSpec.parse("seed:12") == StyleSpec("seed", 12)  # warned once per text
        assert StyleSpec.parse("name:seed_1") == StyleSpec("name", "seed_1")
        assert StyleSpec.parse(f"image:{tmp_path}/r.png") == StyleSpec("image", f"{tmp_path}/r.png")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "style 'seed:12': the seed:... form is deprecated; write '12' instead",
        "style 'name:seed_1': the name:... form is deprecated; write 'seed_1' instead",
        f"style 'image:{tmp_path}/r.png': the image:... form is deprecated; write "
        f"'{tmp_path}/r.png' instead"]


def test_missing_file_vs_unknown_name(tmp_path: Path) -> None:
    missing = tmp_path / "nope.png"
    with pytest.raises(StyleError, match=f"reference image {missing} does not exist"):
        StyleSpec.parse(str(missing), check_file=True)
    with pytest.raises(StyleError, match="is not a file"):
        StyleSpec.parse(str(tmp_path), check_file=True)
    assert StyleSpec.parse("nope", check_file=True) == StyleSpec("name", "nope")  # not a path
    t = Translator.from_artifact(DEFAULT_MODEL, backend="onnxruntime", threads=1)
    with pytest.raises(UnknownStyleError) as info:
        t.set_style(style_value(StyleSpec.parse("nope"), random.Random(0)))
    assert str(info.value).startswith("unknown style 'nope'; the model's style bank has "
                                      "['default', 'seed_0', ")
    assert isinstance(info.value, ValueError) and isinstance(info.value, KeyError)


def test_style_values(tmp_path: Path) -> None:
    rng = random.Random(1)
    a, b = style_value(StyleSpec("random"), rng), style_value(StyleSpec("random"), rng)
    assert isinstance(a, int) and a != b
    assert style_value(StyleSpec("seed", 4), rng) == 4
    ref = np.zeros((8, 10, 3), np.uint8)
    ref[..., 0] = 200  # red in RGB
    cv2.imwrite(str(tmp_path / "r.png"), ref[:, :, ::-1])
    np.testing.assert_array_equal(style_value(StyleSpec("image", str(tmp_path / "r.png")),
                                              rng), ref)
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(StyleError, match="cannot be read as an image"):
        style_value(StyleSpec("image", str(tmp_path / "junk.png")), rng)


# ----------------------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def sim_bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sim2real_gan.pipeline.sim_source import simulate_to_bag

    path = tmp_path_factory.mktemp("style") / "bag"
    simulate_to_bag(path, frames=1, width=32, height=32, seed=4)
    return path


def _cli(sim_bag: Path, out: Path, style: str) -> int:
    return main(["translate-bag", str(sim_bag), str(out), "--model", str(DEFAULT_MODEL),
                 "--backend", "onnxruntime", "--threads", "1", "--no-progress",
                 "--style", style])


def test_cli_style_errors(sim_bag: Path, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str],
                          caplog: pytest.LogCaptureFixture) -> None:
    for text, needle in ((str(tmp_path / "missing.png"),
                          f"reference image {tmp_path / 'missing.png'} does not exist"),
                         ("", "style: empty text"), ("a:b", "style names have no ':'")):
        with pytest.raises(SystemExit) as info:
            _cli(sim_bag, tmp_path / "out", text)
        assert info.value.code == 2
        assert needle in capsys.readouterr().err
    with caplog.at_level(logging.ERROR):
        assert _cli(sim_bag, tmp_path / "out", "nope") == 2
    assert "unknown style 'nope'; the model's style bank has ['default'" in caplog.text
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("style", ["5", "seed_2", "random", "seed:5"])
def test_cli_style_forms_run(sim_bag: Path, tmp_path: Path, style: str) -> None:
    assert _cli(sim_bag, tmp_path / "out", style) == 0


# ----------------------------------------------------------------------------- node, launch
def test_node_parameter_uses_the_same_syntax(tmp_path: Path) -> None:
    config = load_config(default_config_path())

    def settings(style: str) -> TranslatorSettings:
        return TranslatorSettings.from_params({**config[TRANSLATOR_NODE], "style": style})

    assert settings("7").style == StyleSpec("seed", 7)
    assert settings("seed_3").style == StyleSpec("name", "seed_3")
    assert settings("random").style == StyleSpec("random")
    with pytest.raises(ParameterError, match=f"reference image {tmp_path / 'x.png'} does not"):
        settings(str(tmp_path / "x.png"))
    with pytest.raises(ParameterError, match="empty text"):
        settings("")
    assert STYLE_SYNTAX in launch_arguments(config)["style"][1]  # the launch argument's help


def test_export_refuses_reference_names_the_syntax_cannot_select() -> None:
    assert check_style_name("ref_1") == "ref_1"
    for bad in ("7", "random", "a:b", "x.png", "a/b", "", " ref"):
        with pytest.raises(StyleError, match="could not be selected with --style"):
            check_style_name(bad)
    with pytest.raises(argparse.ArgumentTypeError):
        from sim2real_gan.cli.translate_bag import parse_style

        parse_style("")


def test_a_style_the_model_cannot_use_names_what_it_has() -> None:
    """The node's ``style`` parameter is checked against the loaded model (runtime.styles)."""
    from sim2real_gan.artifact import load_manifest
    from sim2real_gan.runtime.styles import check_style_for

    manifest = load_manifest(DEFAULT_MODEL)
    check_style_for(StyleSpec("name", "default"), manifest)
    check_style_for(StyleSpec("seed", 3), manifest)
    with pytest.raises(StyleError, match=r"style: 'nope' is not in the model's style bank "
                                         r"\['default', "):
        check_style_for(StyleSpec("name", "nope"), manifest)
    if manifest.style_encoder_file:  # the shipped model has one: a reference image is fine
        check_style_for(StyleSpec("image", "/x/ref.png"), manifest)
    from dataclasses import replace

    bare = replace(manifest, style_encoder_file=None)
    with pytest.raises(StyleError, match="no style encoder, so the reference image /x/ref.png"):
        check_style_for(StyleSpec("image", "/x/ref.png"), bare)
