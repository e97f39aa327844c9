"""The studio's Gradio interface: the Invert, Edit and Compare tabs.

Every handler is a thin layer over `ganinv.studio.actions` (the CLI's code paths). Elements the
tests drive carry ``elem_id`` s; images are shown upscaled with nearest-neighbour sampling so that
a 32 px reconstruction stays readable. Import this module only after `ganinv.studio.server` has
pointed Gradio at the studio's upload folder (Gradio reads it when it is imported).
"""

from __future__ import annotations

import html
import os
import time
from typing import Any

import gradio as gr
import numpy as np
import torch

from ganinv.core.errors import GanInvError
from ganinv.core.images import to_uint8
from ganinv.core.progress import Cancelled
from ganinv.studio import actions
from ganinv.studio.bench_run import bench_run_html, read_bench_run
from ganinv.studio.shared import Studio
from ganinv.studio.workspace import Session

_CSS = """
.pixelated img, img.pixelated { image-rendering: pixelated; }
#invert-results img, #compare-view img { width: 96px; height: 96px; }
"""
INVERT_TAB = "the Invert tab's image"
TEST_IMAGE = "test image {}"
DEFAULT_METHODS = 2  # methods ticked when the page opens
PROGRESS_INTERVAL = 0.1  # seconds between two progress-bar updates


# -- pieces of the page --------------------------------------------------------------------------
def _upscaled(image: np.ndarray, size: int = 192) -> np.ndarray:
    """Nearest-neighbour upscaling for display (a 32 px image stays crisp in the browser)."""
    factor = max(1, size // image.shape[0])
    return image.repeat(factor, axis=0).repeat(factor, axis=1)


def _results_html(image: torch.Tensor, done: list[actions.Reconstruction]) -> str:
    """The input, then each method's reconstruction beside its error map (the report's grid)."""
    from ganinv.core.images import from_uint8
    from ganinv.harness.grids import ERROR_MAP_NOTE
    from ganinv.harness.report import grid_html

    if not done:
        return ""
    recons = {r.label: from_uint8(r.image[None]) for r in done}
    return grid_html(image.cpu(), recons) + f"<p class='note'>{html.escape(ERROR_MAP_NOTE)}</p>"


def _scores_rows(done: list[actions.Reconstruction]) -> list[list[Any]]:
    return [
        [r.label, *(round(v, 5) for v in r.metrics.values()), round(r.seconds, 3)] for r in done
    ]


def _image_choices(studio: Studio) -> list[str]:
    count = 0 if studio.test_images is None else studio.test_images.shape[0]
    return [INVERT_TAB] + [TEST_IMAGE.format(i + 1) for i in range(count)]


def _pick(studio: Studio, session: Session, choice: str, upload: str | None) -> tuple[str, Any]:
    """(cache key, image [1, 3, R, R]) of an image chooser: an upload wins over the list."""
    if upload:
        return f"upload:{upload}", studio.workspace.read_upload(upload, studio.resolution)
    if choice == INVERT_TAB:
        if session.image is None:
            raise GanInvError("upload an image or pick a test image on the Invert tab first")
        return f"input:{session.image_version}", session.image
    for i in range(0 if studio.test_images is None else studio.test_images.shape[0]):
        if choice == TEST_IMAGE.format(i + 1):
            return f"test:{i}", studio.test_images[i : i + 1]
    raise GanInvError(f"no image called {choice!r}")


def _shown_image(label: str, elem_id: str, height: int = 220) -> Any:
    """An output image: lossless PNG (what the method rendered), drawn with crisp pixels."""
    return gr.Image(
        format="png",
        label=label,
        interactive=False,
        height=height,
        elem_id=elem_id,
        elem_classes="pixelated",
    )


# -- the interface -------------------------------------------------------------------------------
def build_interface(studio: Studio) -> Any:
    """The Gradio Blocks app (not launched)."""
    catalog, workspace = studio.catalog, studio.workspace
    metric_names = [m.name for m in studio.scores.metrics]

    def fail(exc: Exception) -> Exception:
        return gr.Error(str(exc), print_exception=False)

    def start_session(request: gr.Request) -> Session:
        return workspace.new_session(request.session_hash)

    def end_session(request: gr.Request) -> None:
        workspace.end_session_of(request.session_hash)

    def show_input(session: Session) -> tuple[np.ndarray, str]:
        size = studio.resolution
        shown = _upscaled(to_uint8(session.image)[0])
        return shown, f"input ready ({size} x {size} px, as the generator sees it)"

    def on_upload(path: str | None, session: Session) -> tuple[Any, str]:
        if not path:
            return gr.update(), ""
        try:
            session.set_image(workspace.read_upload(path, studio.resolution))
        except GanInvError as exc:
            raise fail(exc) from exc
        return show_input(session)

    def on_pick_test(session: Session, evt: gr.SelectData) -> tuple[Any, str]:
        session.set_image(studio.test_images[evt.index : evt.index + 1])
        return show_input(session)

    # Gradio finds the progress bar by this default value.
    def on_invert(labels: list[str], session: Session, progress: Any = gr.Progress()) -> Any:  # noqa: B008
        if session.image is None:
            raise fail(GanInvError("upload an image or pick a test image first"))
        if not labels:
            raise fail(GanInvError("tick at least one method"))
        image, done, failed, files = session.image, [], [], []
        for i, label in enumerate(labels):
            shown = [0.0]

            def observer(
                desc: str, step: int, total: int, label: str = label, shown: list = shown
            ) -> None:
                session.check_cancel()
                # At most ~10 updates a second: a message per step would flood the page.
                if time.monotonic() - shown[0] >= PROGRESS_INTERVAL:
                    shown[0] = time.monotonic()
                    progress((step, total), desc=f"{label}: {desc}")

            progress((i, len(labels)), desc=f"{label}", unit="methods")
            try:
                session.check_cancel()
                done.append(actions.invert(catalog, label, image, studio.scores, observer))
                name = f"{i + 1:02d} {label}"  # numbered: two labels may share a file-name slug
                files.append(str(actions.save_code(session.folder, name, done[-1].code)))
            except Cancelled:
                unchanged = gr.update(), gr.update(), gr.update()
                yield _status(done, failed, len(labels), "cancelled"), *unchanged
                return
            except Exception as exc:  # noqa: BLE001
                # One method's failure (a user error, or a bug in a third-party plugin) is
                # reported in the status; the other methods still run.
                failed.append(f"{label}: {type(exc).__name__}: {exc}")
            yield (
                _status(done, failed, len(labels), "running" if i + 1 < len(labels) else "done"),
                _results_html(image, done),
                _scores_rows(done),
                list(files),
            )

    def on_arm(session: Session) -> None:
        session.cancel_requested.clear()

    def on_cancel(session: Session) -> None:
        session.cancel_requested.set()

    def on_edit(
        label: str,
        kind: str,
        component: float,
        strength: float,
        choice: str,
        upload: str | None,
        session: Session,
    ) -> Any:
        try:
            key, image = _pick(studio, session, choice, upload)
            code = session.code_for(catalog, label, key, image)
            direction = studio.directions.direction(kind, int(component))
            edited = actions.edit(catalog, label, code, direction, float(strength))
            unedited = actions.edit(catalog, label, code, direction, 0.0)
        except (GanInvError, ValueError) as exc:
            raise fail(exc) from exc
        return _upscaled(unedited), _upscaled(edited)

    def on_blend(
        label: str, a: str, a_up: str | None, b: str, b_up: str | None, session: Session
    ) -> Any:
        try:
            codes = [
                session.code_for(catalog, label, *_pick(studio, session, c, u))
                for c, u in ((a, a_up), (b, b_up))
            ]
            return _upscaled(actions.blend(catalog, label, *codes))
        except GanInvError as exc:
            raise fail(exc) from exc

    def on_custom(
        label: str,
        alpha: float,
        s: str,
        s_up: str | None,
        e: str,
        e_up: str | None,
        t: str,
        t_up: str | None,
        session: Session,
    ) -> Any:
        try:
            codes = [
                session.code_for(catalog, label, *_pick(studio, session, c, u))
                for c, u in ((s, s_up), (e, e_up), (t, t_up))
            ]
            return _upscaled(actions.custom_edit(catalog, label, *codes, alpha=float(alpha)))
        except GanInvError as exc:
            raise fail(exc) from exc

    def on_compare(folder: str) -> str:
        if not folder:
            return ""
        if not studio.free_paths and folder not in studio.bench_runs:
            raise fail(GanInvError("this studio shows only the bench runs of its config"))
        try:
            return bench_run_html(read_bench_run(folder))
        except GanInvError as exc:
            raise fail(exc) from exc

    def image_chooser(label: str, key: str, value: str | None = None) -> tuple[Any, Any]:
        choices = _image_choices(studio)
        with gr.Column(min_width=160):
            chosen = gr.Dropdown(
                choices, value=value or choices[0], label=label, elem_id=f"{key}-choice"
            )
            upload = gr.File(
                label=f"or upload ({label})", type="filepath", height=120, elem_id=f"{key}-upload"
            )
        return chosen, upload

    labels = catalog.labels
    edit_default = next((x for x in labels if catalog.offers[x].config.encoder_checkpoint), None)
    with gr.Blocks(title="ganinv studio", analytics_enabled=False) as demo:
        session = gr.State(None, delete_callback=workspace.end_session)
        g = catalog.generator
        gr.Markdown(
            f"## ganinv studio\nGenerator **{html.escape(str(catalog.config.generator))}** "
            f"({g.resolution} px, {g.num_ws} W+ rows) on **{catalog.device}**; "
            f"{len(labels)} methods."
        )
        with gr.Tab("Invert", id="invert"):
            with gr.Row():
                with gr.Column(scale=1, min_width=260):
                    upload = gr.File(
                        label="Upload an image", type="filepath", elem_id="invert-upload"
                    )
                    if studio.test_images is not None:
                        gallery = gr.Gallery(
                            [_upscaled(a, 64) for a in to_uint8(studio.test_images)],
                            format="png",
                            label="...or pick a test image",
                            columns=4,
                            height="auto",
                            allow_preview=False,
                            elem_id="invert-tests",
                        )
                    shown = _shown_image("input", "invert-input", 200)
                    ready = gr.Markdown(elem_id="invert-ready")
                with gr.Column(scale=3):
                    methods = gr.CheckboxGroup(
                        labels,
                        value=labels[:DEFAULT_METHODS],
                        label="Methods",
                        elem_id="invert-methods",
                    )
                    with gr.Row():
                        run = gr.Button("Invert", variant="primary", elem_id="invert-run")
                        cancel = gr.Button("Cancel", variant="stop", elem_id="invert-cancel")
                    status = gr.Markdown(elem_id="invert-status")
                    results = gr.HTML(elem_id="invert-results")
                    scores = gr.Dataframe(
                        headers=["method", *metric_names, "seconds"],
                        label="per-image metrics and inversion time",
                        interactive=False,
                        elem_id="invert-scores",
                    )
                    codes = gr.File(
                        label="codes (.safetensors: `ganinv edit`, `ganinv export`, Code.load)",
                        file_count="multiple",
                        interactive=False,
                        elem_id="invert-codes",
                    )
        with gr.Tab("Edit", id="edit"):
            edit_method = gr.Dropdown(
                labels, value=edit_default, label="Method", elem_id="edit-method"
            )
            with gr.Accordion("Move along a direction", open=True):
                with gr.Row():
                    edit_image, edit_upload = image_chooser("image", "edit")
                    with gr.Column(scale=2):
                        kinds = studio.directions.kinds
                        kind = gr.Dropdown(
                            kinds, value=kinds[0], label="direction", elem_id="edit-direction"
                        )
                        component = gr.Slider(
                            0,
                            19,
                            value=0,
                            step=1,
                            label="component (GANSpace / SeFa)",
                            elem_id="edit-component",
                        )
                        strength = gr.Slider(
                            -8, 8, value=0, step=0.5, label="strength", elem_id="edit-strength"
                        )
                    unedited = _shown_image("unedited", "edit-unedited")
                    edited = _shown_image("edited", "edit-result")
            with gr.Accordion("Blend: structure of one image, appearance of another", open=False):
                with gr.Row():
                    blend_a, blend_a_up = image_chooser("structure", "blend-structure")
                    blend_b, blend_b_up = image_chooser(
                        "appearance", "blend-appearance", _image_choices(studio)[-1]
                    )
                    blended = _shown_image("blend", "blend-result")
                blend_run = gr.Button("Blend", elem_id="blend-run")
            with gr.Accordion("Custom edit: target + alpha x (edited - source)", open=False):
                with gr.Row():
                    # A pair (an image and an edited copy, e.g. from a photo editor) whose
                    # difference is added to the target: two other images by default.
                    pair = _image_choices(studio)[1:3] or [None, None]
                    src, src_up = image_chooser("source", "custom-source", pair[0])
                    dst, dst_up = image_chooser("edited source", "custom-edited", pair[-1])
                    tgt, tgt_up = image_chooser("target", "custom-target")
                    custom_out = _shown_image("result", "custom-result")
                alpha = gr.Slider(-2, 3, value=1, step=0.1, label="alpha", elem_id="custom-alpha")
                custom_run = gr.Button("Apply the edit", elem_id="custom-run")
        with gr.Tab("Compare", id="compare"):
            runs = [r for r in studio.bench_runs if os.path.isfile(os.path.join(r, "table.json"))]
            folder = gr.Dropdown(
                runs,
                value=runs[0] if runs else None,
                allow_custom_value=studio.free_paths,
                label="a saved `ganinv bench` run (its output folder)",
                elem_id="compare-folder",
            )
            show = gr.Button("Show", elem_id="compare-show")
            view = gr.HTML(elem_id="compare-view")

        demo.load(start_session, outputs=session)
        demo.unload(end_session)  # the page was closed or reloaded: its folder goes
        upload.upload(on_upload, [upload, session], [shown, ready])
        if studio.test_images is not None:
            gallery.select(on_pick_test, session, [shown, ready])
        # The Cancel flag is lowered when Invert is clicked, not when the queued work starts: a
        # Cancel pressed while the work waits in the queue still counts.
        run.click(on_arm, session, None, queue=False).then(
            on_invert, [methods, session], [status, results, scores, codes]
        )
        # Cancel only raises the session's flag: the running work stops at its next step and
        # says so itself (cancelling Gradio's task would leave its worker thread running). No
        # output of its own, which could arrive after the work's "cancelled" and hide it.
        cancel.click(on_cancel, session, None, queue=False)
        edit_inputs = [edit_method, kind, component, strength, edit_image, edit_upload, session]
        for trigger in (strength.release, component.release, kind.change, edit_image.change):
            trigger(on_edit, edit_inputs, [unedited, edited])
        blend_run.click(
            on_blend, [edit_method, blend_a, blend_a_up, blend_b, blend_b_up, session], blended
        )
        custom_run.click(
            on_custom,
            [edit_method, alpha, src, src_up, dst, dst_up, tgt, tgt_up, session],
            custom_out,
        )
        show.click(on_compare, folder, view)
    return demo


def _status(done: list[actions.Reconstruction], failed: list[str], total: int, state: str) -> str:
    lines = [f"**{state}**: {len(done)} of {total} method(s) inverted"]
    lines += [f"- {r.label}: {r.seconds:.2f} s" for r in done]
    lines += [f"- failed: {html.escape(f)}" for f in failed]
    return "\n".join(lines)


def css() -> str:
    from ganinv.harness.report import PARTS_CSS

    return PARTS_CSS + _CSS
