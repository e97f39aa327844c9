"""Every baseline component is registered through the ganinv-baselines entry points and loads."""

from __future__ import annotations

import ganinv

EXPECTED = {
    "spaces": {"z", "w", "wplus"},
    "refiners": {"optimize"},
    "encoders": {"psp", "e4e", "w_encoder"},
}


def test_components_come_from_the_plugin_distribution():
    for kind, names in EXPECTED.items():
        records = {r.name: r for r in ganinv.registry(kind).info(try_load=True)}
        for name in names:
            record = records[name]
            assert record.distribution == "ganinv-baselines", record
            assert record.loads, record.error
            assert record.target.startswith("ganinv_baselines."), record


def test_core_does_not_import_the_plugin():
    import subprocess
    import sys

    code = (
        "import sys, ganinv, ganinv.builtins\n"
        "ganinv.registry('spaces').names()\n"
        "assert 'ganinv_baselines' not in sys.modules, 'core imported the plugin'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
