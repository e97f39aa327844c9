"""`ganinv weights download` against a small HTTP server on 127.0.0.1 started by the test: a good
file, a corrupted file, a server that dies mid-transfer (then a resume), no published hash,
a file already there, and no network at all."""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch

from ganinv.core.errors import GanInvError
from ganinv.weights.download import PART_SUFFIX, Expected, download

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Server:
    """Serves PAYLOAD (or `body`) at any path; honours Range; can die after `die_after` bytes."""

    def __init__(self) -> None:
        self.body = PAYLOAD
        self.die_after: int | None = None
        self.ranges: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep the test output clean
                pass

            def do_GET(self) -> None:
                server.ranges.append(self.headers.get("Range"))
                body, start = server.body, 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                chunk = body[start:]
                if server.die_after is not None:
                    self.wfile.write(chunk[: server.die_after])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)  # the server dies mid-transfer
                    return
                self.wfile.write(chunk)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/file.bin"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


def _fetch(server: _Server, target: Path, expected: Expected | None = None, **kw) -> str:
    return download(
        server.url, target, expected or Expected(sha256=SHA), progress=False, timeout=5, **kw
    )


def test_good_file_lands_with_its_hash_and_no_leftovers(server, tmp_path):
    target = tmp_path / "w" / "file.bin"
    assert _fetch(server, target) == SHA
    assert target.read_bytes() == PAYLOAD
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]


def test_published_prefix_is_enough(server, tmp_path):
    assert _fetch(server, tmp_path / "f", Expected(sha256_prefix=SHA[:8])) == SHA


def test_corrupted_file_leaves_nothing(server, tmp_path):
    server.body = PAYLOAD[:-1] + b"\x00"
    target = tmp_path / "file.bin"
    with pytest.raises(GanInvError, match="corrupted or a different file; nothing was kept"):
        _fetch(server, target)
    assert list(tmp_path.iterdir()) == []


def test_server_dying_mid_transfer_keeps_a_partial_file_that_the_next_call_resumes(
    server, tmp_path
):
    target = tmp_path / "file.bin"
    server.die_after = 300_000
    with pytest.raises(GanInvError, match="run the same command again to resume"):
        _fetch(server, target)
    assert not target.exists()  # never under the target's name before the check
    part = tmp_path / ("file.bin" + PART_SUFFIX)
    kept = part.stat().st_size
    assert 0 < kept <= 300_000
    server.die_after = None
    assert _fetch(server, target) == SHA
    assert server.ranges[-1] == f"bytes={kept}-"  # only the missing bytes were asked for
    assert target.read_bytes() == PAYLOAD and not part.exists()


def test_no_resume_starts_again(server, tmp_path):
    target = tmp_path / "file.bin"
    (tmp_path / ("file.bin" + PART_SUFFIX)).write_bytes(b"garbage")
    assert _fetch(server, target, resume=False) == SHA
    assert server.ranges == [None]


def test_unknown_hash_needs_consent_and_returns_the_hash(server, tmp_path):
    target = tmp_path / "file.bin"
    with pytest.raises(GanInvError, match="--accept-unknown-hash"):
        _fetch(server, target, Expected())
    assert not target.exists() and server.ranges == []
    assert _fetch(server, target, Expected(), accept_unknown_hash=True) == SHA


def test_an_existing_file_is_checked_and_never_replaced(server, tmp_path):
    target = tmp_path / "file.bin"
    target.write_bytes(b"someone else's file")
    with pytest.raises(GanInvError, match="does not replace a file it did not download"):
        _fetch(server, target)
    assert target.read_bytes() == b"someone else's file" and server.ranges == []


def test_a_server_sending_more_than_announced_is_cut_off(server, tmp_path):
    with pytest.raises(GanInvError, match="more than the 1000 bytes announced"):
        _fetch(server, tmp_path / "f", Expected(sha256=SHA, size_bytes=1000))
    assert list(tmp_path.iterdir()) == []


def test_offline_says_what_to_fetch_and_where(tmp_path):
    closed = _Server()
    url = closed.url
    closed.close()  # nothing listens on that port any more
    target = tmp_path / "file.bin"
    with pytest.raises(
        GanInvError, match=f"fetch {url} on a machine that has it and put the file at {target}"
    ):
        download(url, target, Expected(sha256=SHA), progress=False, timeout=5)


def test_cli_downloads_a_catalogue_entry_checks_its_network_and_records_it(
    server, tmp_path, monkeypatch, capsys
):
    """`ganinv weights download facenet_vggface2` with the catalogue pointed at the local server."""
    import dataclasses
    import io
    import json

    from ganinv.cli.main import main
    from ganinv.weights import catalog, load_state_dict

    cache = tmp_path / "cache"
    monkeypatch.setenv("GANINV_CACHE", str(cache))
    entry = dataclasses.replace(catalog.CATALOG["facenet_vggface2"], url=server.url)
    monkeypatch.setitem(catalog.CATALOG, "facenet_vggface2", entry)
    command = ["weights", "download", "facenet_vggface2"]
    assert main(command) == 2  # no published hash: consent first
    assert "--accept-unknown-hash" in capsys.readouterr().err
    buffer = io.BytesIO()
    torch.save({"conv.weight": torch.zeros(2)}, buffer)
    server.body = buffer.getvalue()
    # Not a FaceNet state dict: refused by its network check, and the download removed.
    assert main([*command, "--accept-unknown-hash"]) == 2
    assert "ganinv weights: error" in capsys.readouterr().err
    assert not (cache / entry.filename).exists()
    facenet = pytest.importorskip("facenet_pytorch.models.inception_resnet_v1")
    buffer = io.BytesIO()
    torch.save(facenet.InceptionResnetV1(pretrained=None).state_dict(), buffer)
    server.body = buffer.getvalue()
    assert main([*command, "--accept-unknown-hash"]) == 0
    recorded = json.loads((cache / "manifest.json").read_text())["facenet_vggface2"]["sha256"]
    assert recorded == hashlib.sha256(server.body).hexdigest()
    assert "block8.conv2d.weight" in load_state_dict("facenet_vggface2")


def test_cli_downloads_a_registry_card_file(server, tmp_path, capsys):
    from ganinv.cli.main import main

    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "tiny_gan.yaml").write_text(
        "name: tiny_gan\nkind: generator\ntitle: t\nused_for: u\nsource: s\nlicence: l\n"
        "obtain: o\nfile:\n  filename: sub/tiny.pkl\n  format: nvlabs\n"
        f"  sha256: {SHA}\n  url: {server.url}\n"
        "provenance: {verified: [test]}\n"
    )
    args = [
        "weights",
        "download",
        "tiny_gan",
        "--registry",
        str(cards),
        "--to",
        str(tmp_path / "a"),
    ]
    assert main(args) == 0, capsys.readouterr().err
    assert (tmp_path / "a" / "sub" / "tiny.pkl").read_bytes() == PAYLOAD
    assert main([*args[:2], "nothing", *args[3:]]) == 2
    assert "downloadable: " in capsys.readouterr().err
