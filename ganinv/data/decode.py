"""Robust image decoding: encoded bytes -> RGB uint8 tensor [3, H, W], or a clear error.

What happens to each kind of input (documented in docs/data.md):

- empty file, or bytes whose signature is no supported image format -> `ImageDecodeError`
  ("empty file", "not an image (starts with ...)");
- corrupt or truncated file -> `ImageDecodeError` with the decoder's message (truncated data is
  never silently completed with grey pixels: `PIL.ImageFile.LOAD_TRUNCATED_IMAGES` is not used);
- grayscale ("1", "L") -> the gray value repeated on R, G, B;
- palette ("P") -> its RGB colours; transparency as for alpha below;
- alpha ("RGBA", "LA", "PA", palette with transparency) -> composited on black, i.e.
  rgb * alpha / 255 (the background matches the black padding used elsewhere);
- 16-bit grayscale ("I;16*", "I") -> scaled to 8 bits (value / 257, rounded); 16-bit RGB files are
  reduced to 8 bits by Pillow itself when it opens them (it keeps the high byte, value >> 8);
- CMYK, YCbCr, LAB, HSV -> Pillow's conversion to RGB (no ICC colour management);
- 32-bit float ("F") -> `ImageDecodeError` (no agreed range to map from);
- EXIF orientation -> applied (the image is turned the way a photo viewer shows it); a malformed
  EXIF block is ignored;
- animated GIF/WebP -> the first frame;
- any size up to `MAX_PIXELS` -> kept; the transform crops and resizes. A larger image (a
  decompression bomb: a few bytes that claim billions of pixels) -> `ImageDecodeError` "image too
  large to decode safely", from the header alone, in every command (`describe` included);
- any other failure inside the decoder -> `ImageDecodeError` (never another exception).

Files are read with `read_image_file`: only regular files (a FIFO, device or socket, or a
symlink to one, is an `ImageDecodeError`, without blocking), at most the size the file had when
opened (a file that keeps growing is not followed) and at most `MAX_FILE_BYTES`.

Supported formats: PNG, JPEG, WebP, BMP, GIF, TIFF, PPM/PGM/PBM.
"""

from __future__ import annotations

import io
import os
import stat
import warnings

import numpy as np
import torch
from PIL import Image, ImageOps

from ganinv.core.errors import GanInvError

# File name extensions that `folder` and `zip` datasets treat as images (lower case).
IMAGE_EXTENSIONS = (
    ".png",
    ".jpg",
    ".jpeg",
    ".webp",
    ".bmp",
    ".gif",
    ".tif",
    ".tiff",
    ".ppm",
    ".pgm",
    ".pbm",
    ".pnm",
)

# How decoding treats each kind of input (recorded in every dataset's protocol).
DECODE_PROTOCOL = {
    "library": "Pillow",
    "grayscale": "repeated to RGB",
    "alpha": "composited on black",
    "16-bit": "gray: value / 257 rounded; RGB: high byte (Pillow)",
    "cmyk": "Pillow conversion, no ICC profile",
    "exif_orientation": "applied",
    "animation": "first frame",
}

# How many leading bytes `sniff_format` needs.
HEADER_BYTES = 16
# Largest image decoded (Pillow's default MAX_IMAGE_PIXELS, ~0.27 GB as RGB), applied strictly
# from the header, before any pixel is decoded.
MAX_PIXELS = 89_478_485
# Largest encoded image file (or archive member) read into memory.
MAX_FILE_BYTES = 256 << 20


class ImageDecodeError(GanInvError):
    """One image could not be read; `name` is the file (or key) and `problem` says why."""

    def __init__(self, name: str, problem: str | None = None) -> None:
        if problem is None:
            # Re-created from its message alone (DataLoader re-raises worker errors this way).
            self.name, self.problem = "", name
            super().__init__(name)
            return
        self.name = name
        self.problem = problem
        super().__init__(
            f"cannot read image {name!r}: {problem}. Replace or remove the file, or set "
            "on_error: skip to leave it out"
        )


def is_image_name(name: str) -> bool:
    """True when a file name has one of `IMAGE_EXTENSIONS` (case-insensitive)."""
    return name.lower().endswith(IMAGE_EXTENSIONS)


def sniff_format(head: bytes) -> str | None:
    """The image format named by the first `HEADER_BYTES` bytes, or None if none matches."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"BM"):
        return "bmp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if len(head) >= 3 and head[0:1] == b"P" and head[1:2] in b"123456" and head[2:3].isspace():
        return "pnm"
    return None


def check_header(head: bytes, name: str) -> str:
    """Cheap validation from the first bytes: the format name, or `ImageDecodeError`."""
    if len(head) == 0:
        raise ImageDecodeError(name, "empty file")
    fmt = sniff_format(head[:HEADER_BYTES])
    if fmt is None:
        raise ImageDecodeError(
            name,
            f"not an image (starts with {bytes(head[:8])!r}; supported: PNG, JPEG, WebP, BMP, "
            "GIF, TIFF, PPM)",
        )
    return fmt


_SPECIAL_FILES = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_image_file(
    path: str | os.PathLike[str], name: str | None = None, size: int | None = None
) -> bytes:
    """The bytes of a regular image file (or its first `size`), or `ImageDecodeError`.

    Never blocks and never reads without bound: the file is opened non-blocking (a FIFO opens
    at once), anything but a regular file is refused, at most the size it had when opened is
    read, and a file over `MAX_FILE_BYTES` is refused.
    """
    name = str(path) if name is None else name
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ImageDecodeError(name, f"cannot be read ({exc.strerror or exc})") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((k for test, k in _SPECIAL_FILES if test(info.st_mode)), "not a file")
            raise ImageDecodeError(name, f"not a regular file ({kind})")
        if size is None and info.st_size > MAX_FILE_BYTES:
            raise ImageDecodeError(
                name, f"file too large ({info.st_size} bytes; limit {MAX_FILE_BYTES})"
            )
        remaining = info.st_size if size is None else min(size, info.st_size)
        chunks = []
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break  # shrank while reading
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise ImageDecodeError(name, f"cannot be read ({exc.strerror or exc})") from exc
    finally:
        os.close(fd)


def _too_large(name: str, size: str) -> ImageDecodeError:
    # One message for every command and both of Pillow's zones, so reports compare.
    return ImageDecodeError(
        name, f"image too large to decode safely (over {MAX_PIXELS} pixels: {size})"
    )


def open_header(data: bytes, name: str) -> dict[str, object]:
    """Format, size (width, height) and Pillow mode read from the header; no pixel decoding.

    Raises `ImageDecodeError` for anything that is not a supported image or is larger than
    `MAX_PIXELS` (the same message `decode_image` gives).
    """
    fmt = check_header(data[:HEADER_BYTES], name)
    try:
        with _open(data, name) as image:
            return {"format": fmt, "size": image.size, "mode": image.mode}
    except ImageDecodeError:
        raise
    except Exception as exc:  # hostile bytes: Pillow's plugins raise many kinds of error
        raise ImageDecodeError(name, f"corrupt image header ({exc})") from exc


def _open(data: bytes, name: str) -> Image.Image:
    """Image.open with the `MAX_PIXELS` bound checked before anything is decoded."""
    with warnings.catch_warnings():
        # The bound is ours (below); Pillow's own warning/error zone would be inconsistent.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            raise _too_large(name, str(exc).split(")", 1)[0].split("(")[-1]) from exc
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise _too_large(name, f"{width} x {height}")
    return image


def decode_image(data: bytes, name: str) -> torch.Tensor:
    """Decode encoded image bytes to an RGB uint8 tensor [3, H, W] (CPU).

    `name` is only used in error messages. Raises `ImageDecodeError` for anything that is not a
    readable image of a supported format (see the module docstring for each case).
    """
    check_header(data[:HEADER_BYTES], name)
    try:
        with _open(data, name) as image:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image.load()
            image = _apply_exif_orientation(image)
            if image.size[0] * image.size[1] > MAX_PIXELS:  # e.g. a frame larger than the header
                raise _too_large(name, "{} x {}".format(*image.size))
            array = _to_rgb8(image, name)
        return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))
    except ImageDecodeError:
        raise
    except Exception as exc:  # hostile bytes: Pillow's plugins raise many kinds of error
        raise ImageDecodeError(name, f"corrupt or truncated image ({exc})") from exc


def _apply_exif_orientation(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # malformed EXIF block: keep the stored orientation
        return image


def _to_rgb8(image: Image.Image, name: str) -> np.ndarray:
    """Any Pillow mode -> uint8 array [H, W, 3] following the rules of the module docstring."""
    mode = image.mode
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32)
        # Composite on black: rgb * alpha, rounded half up.
        rgb = rgba[..., :3] * (rgba[..., 3:4] / 255.0)
        return np.floor(rgb + 0.5).clip(0, 255).astype(np.uint8)
    if mode.startswith("I;16") or mode == "I":
        wide = np.asarray(image, dtype=np.float64)
        gray = np.floor(wide.clip(0, 65535) / 257.0 + 0.5).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if mode == "F":
        raise ImageDecodeError(name, "32-bit float images are not supported; save as 8 or 16 bit")
    if mode != "RGB":
        image = image.convert("RGB")
    return np.asarray(image, dtype=np.uint8)


def encode_png(image: torch.Tensor) -> bytes:
    """RGB uint8 tensor [3, H, W] -> PNG bytes (lossless; used by the dataset writers)."""
    return encode_image(image, "png")


def encode_image(image: torch.Tensor, encoding: str, quality: int = 95) -> bytes:
    """RGB uint8 tensor [3, H, W] -> bytes in `encoding` ('png' lossless, 'jpeg' or 'webp')."""
    if image.dtype != torch.uint8 or image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"expected a uint8 tensor [3, H, W], got {image.dtype} {image.shape}")
    pil = Image.fromarray(image.permute(1, 2, 0).contiguous().numpy())
    buffer = io.BytesIO()
    if encoding == "png":
        pil.save(buffer, format="PNG", compress_level=6)
    elif encoding == "jpeg":
        pil.save(buffer, format="JPEG", quality=quality)
    elif encoding == "webp":
        pil.save(buffer, format="WEBP", quality=quality)
    else:
        raise GanInvError(f"unknown image encoding {encoding!r}: use png, jpeg or webp")
    return buffer.getvalue()
