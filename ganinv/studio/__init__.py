"""ganinv studio: a local web app to invert, compare and edit images (`ganinv studio`).

The interface (Gradio, the optional ``studio`` extra) is only a face: every action goes through the
same code as the CLI (`ganinv.harness.method.Method.invert`, `ganinv.editing.operations`, the
metrics registry, the bench table). Layout:

- `config.py`:    what a studio offers (`StudioConfig`, read from ``configs/demo/studio.yaml``);
- `catalog.py`:   the methods on offer, built once and shared by every browser session;
- `workspace.py`: per-session temporary folders and untrusted uploads;
- `actions.py`:   invert, edit, blend, custom edit: plain functions the interface calls;
- `bench_run.py`: reading a saved `ganinv bench` run (its ``table.json`` and images);
- `shared.py`:    what every browser session shares (`Studio`);
- `app.py`:       the Gradio interface (its tabs and handlers);
- `server.py`:    starting and stopping it (workspace first, then Gradio; cleanup on exit).
"""
