"""Starting and stopping the studio: workspace first, then the methods, then the web server.

The upload folder must be set before Gradio is imported (it reads ``GRADIO_TEMP_DIR`` once), so
`serve` creates the workspace, points Gradio at it, and only then imports the interface. The
workspace is removed however the server stops (Ctrl-C, SIGTERM, an error).
"""

from __future__ import annotations

import importlib.util
import ipaddress
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

import torch

from ganinv.core.errors import GanInvError
from ganinv.studio.config import StudioConfig
from ganinv.studio.workspace import Workspace

logger = logging.getLogger("ganinv.studio")
LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_studio(config: StudioConfig, device: torch.device, workspace: Workspace) -> Any:
    """The shared state of the app: methods, metrics, directions, test images, bench runs."""
    from ganinv.harness.inputs import load_inputs
    from ganinv.studio import actions
    from ganinv.studio.catalog import Catalog
    from ganinv.studio.shared import Studio

    catalog = Catalog(config, device)
    test_images = None
    if config.test_images is not None:
        try:
            spec = config.test_images
            test_images, _ = load_inputs(spec, catalog.generator.resolution)
        except GanInvError as exc:
            logger.warning("studio: no test images to pick from (%s)", exc)
    return Studio(
        workspace=workspace,
        catalog=catalog,
        scores=actions.PerImageScores(list(config.metrics), catalog.device),
        directions=actions.Directions(catalog),
        test_images=test_images,
        bench_runs=[str(r) for r in config.bench_runs],
    )


def serve(
    config: StudioConfig,
    host: str = LOOPBACK,
    port: int | None = None,
    device: torch.device | str = "cpu",
    echo: Callable[[str], None] = print,
) -> None:
    """Run the studio until Ctrl-C or SIGTERM; its temporary folder is removed on the way out."""
    if "gradio" in sys.modules:
        raise GanInvError(
            "studio: Gradio was imported before the studio set its upload folder; start the "
            "studio in a fresh process (`ganinv studio`)"
        )
    if importlib.util.find_spec("gradio") is None:
        raise GanInvError(
            "the studio needs Gradio: pip install 'ganinv[studio]' (or pip install gradio)"
        )
    exposed = not is_loopback(host)
    workspace = Workspace(int(config.max_upload_mb * 2**20))
    os.environ["GRADIO_TEMP_DIR"] = str(workspace.uploads)
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        studio = build_studio(config, torch.device(device), workspace)
        studio.free_paths = not exposed
        import gradio as gr

        from ganinv.studio.app import build_interface, css

        if exposed:
            echo(
                f"WARNING: the studio listens on {host}, not only on this machine: anyone who "
                "can reach this port can run inversions here and upload images. The Compare "
                "tab then shows only the config's bench runs."
            )
        echo(f"studio: temporary folder {workspace.root} (removed when the studio stops)")
        demo = build_interface(studio)
        demo.queue(default_concurrency_limit=1)
        # System fonts: the default theme would fetch its fonts from the network.
        theme = gr.themes.Default(
            font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
        )
        demo.launch(
            server_name=host,
            server_port=port,
            max_file_size=int(config.max_upload_mb * 2**20),
            ssr_mode=False,
            share=False,
            show_error=True,
            theme=theme,
            css=css(),
            footer_links=[],
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
        workspace.close()


def _interrupt(signum: int, frame: Any) -> None:
    # SIGTERM ends the server as Ctrl-C does, so the `finally` above removes the workspace.
    raise KeyboardInterrupt
