"""Class 2 for exported encoders: every header value is checked before it is acted on, and the
network a header describes is bounded before it is built. A bad value is one `GanInvError` line
naming the file and the field (the CLI: exit 2, no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from security_testkit import SPEC, read_file, rewrite, rewrite_method

from ganinv.cli.main import main as ganinv_main
from ganinv.core.errors import GanInvError
from ganinv.harness.method import build_method
from ganinv.harness.schema import MethodConfig

HERE = Path(__file__).resolve().parent


def _method_text(path: Path, replace: str) -> str:
    """The header's method JSON with `"encoder": {...}` swapped for raw text."""
    method = json.loads(read_file(path)[0]["method"])
    method["encoder"] = "@@"
    return json.dumps(method).replace('"@@"', replace)


# name -> (how to damage the header, the field the error must name)
CASES = {
    "method is not JSON": (lambda p, n: rewrite(p, n, method="{"), "method"),
    "method is a list": (lambda p, n: rewrite(p, n, method="[]"), "method"),
    "method is missing": (lambda p, n: rewrite(p, n, method=None), "method"),
    "encoder is missing": (lambda p, n: rewrite_method(p, n, encoder=None), "method.encoder"),
    "encoder is a number": (lambda p, n: rewrite_method(p, n, encoder=42), "method.encoder"),
    "generator is a number": (lambda p, n: rewrite_method(p, n, generator=7), "method.generator"),
    "NaN in the specs": (
        lambda p, n: rewrite(p, n, method=_method_text(p, '{"name": "w_encoder", "x": NaN}')),
        "method",
    ),
    "nesting 100k deep": (
        lambda p, n: rewrite(p, n, method=_method_text(p, "[" * 100_000 + "]" * 100_000)),
        "method",
    ),
    "a 5000-digit integer": (
        lambda p, n: rewrite(
            p, n, method=_method_text(p, '{"name": "w_encoder", "x": ' + "9" * 5000 + "}")
        ),
        "method",
    ),
    "an unknown key with a line break": (
        lambda p, n: rewrite_method(p, n, **{"bad\nkey": 1}),
        "method.bad\\nkey",  # escaped: the message stays one line
    ),
    "info is a list": (lambda p, n: rewrite(p, n, info="[1]"), "info"),
    "info is not JSON": (lambda p, n: rewrite(p, n, info="{"), "info"),
    "a listed path is absolute": (
        lambda p, n: rewrite_method(p, n, generator="/etc/hostname", paths=["generator"]),
        "method.generator",
    ),
    "a listed path is not in the specs": (
        lambda p, n: rewrite_method(p, n, paths=["encoder.nothing"]),
        "method.paths",
    ),
    "a spec names a device file": (
        lambda p, n: rewrite_method(p, n, encoder={**SPEC, "backbone_weights": "/dev/zero"}),
        "method.encoder.backbone_weights",
    ),
    "a path in an unknown home folder": (
        lambda p, n: rewrite_method(p, n, encoder={**SPEC, "backbone_weights": "~nobody_x/w.pt"}),
        "method.encoder",
    ),
    "a negative width": (
        lambda p, n: rewrite_method(p, n, encoder={**SPEC, "widths": [-1, 4, 4, 4]}),
        "method.encoder",
    ),
    "a depth the backbone does not know": (
        lambda p, n: rewrite_method(p, n, encoder={**SPEC, "units": None, "num_layers": 7}),
        "method.encoder",
    ),
    "a space argument out of range": (
        lambda p, n: rewrite_method(p, n, space={"name": "w", "w_std_samples": 0}),
        "method.space",
    ),
    "an input size of a million": (
        lambda p, n: rewrite_method(p, n, encoder={**SPEC, "input_resolution": 1_000_000}),
        "input_resolution",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_header_value_is_one_line_naming_file_and_field(tiny, case, request):
    damage, field = CASES[case]
    path = damage(tiny["encoder"], f"{request.node.name[-40:]}.safetensors".replace("/", "_"))
    with pytest.raises(GanInvError) as info:
        build_method(MethodConfig(encoder_checkpoint=str(path)), generator=tiny["generator"])
    message = str(info.value)
    assert "\n" not in message and len(message) < 1000, message
    assert path.name in message and field in message, message


def test_cli_exits_2_with_one_line(tiny, capsys):
    path = rewrite(tiny["encoder"], "cli-bad.safetensors", method='{"space": "w"}')
    code = ganinv_main(["invert", "--method", str(path), "--input", "x.png", "--out", "o"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "method.encoder" in err and "Traceback" not in err


def test_a_header_cannot_allocate_what_it_merely_claims(tiny):
    """The file holds 1,545 values; its header claims 1024-channel stages (~100M values). The
    network is checked on the meta device and refused; peak memory grows by under 100 MB."""
    path = rewrite_method(
        tiny["encoder"], "huge.safetensors", encoder={**SPEC, "widths": [1024] * 4}
    )
    script = textwrap.dedent(
        f"""
        import json, resource, sys
        from ganinv import load_generator
        from ganinv.core.errors import GanInvError
        from ganinv.harness.method import build_method
        from ganinv.harness.schema import MethodConfig
        g = load_generator({str(tiny["generator_file"])!r})
        build_method(MethodConfig(encoder_checkpoint={str(tiny["encoder"])!r}), generator=g)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            build_method(MethodConfig(encoder_checkpoint={str(path)!r}), generator=g)
            outcome = "built"
        except GanInvError as exc:
            outcome = str(exc)
        grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print(json.dumps({{"outcome": outcome, "grew_kb": grew}}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert "huge.safetensors" in record["outcome"], record
    print(f"peak RSS grew {record['grew_kb']} kB")
    assert record["grew_kb"] < 100_000, record
