"""Your own images: the dataset ``imagefolder:PATH[?size=32&mode=rgb&holdout=0.1]``.

- Files: every ``.png``, ``.jpg`` and ``.jpeg`` (any case) under PATH, recursively,
  in sorted order of their relative paths; names starting with "." are skipped
  (editor and macOS side files). A relative PATH is relative to the current directory.
- ``size`` (default 32): each image is centre-cropped to its largest square, then
  resized to ``size`` x ``size`` with Pillow's BICUBIC filter, which widens its
  kernel by the reduction factor (antialiased, as clean-fid recommends). The
  DCGAN pair halves the size with each stride-2 layer, so ``size`` must be a
  multiple of 4 from 8 to 256 (28, 32 and 64 are the usual ones).
- ``mode``: ``grey`` (1 channel; colour files by Pillow's ITU-R 601-2 luma) or
  ``rgb`` (3 channels; grey files repeated). Default: the folder's own, which
  must then be the same for every file. Alpha channels are dropped; 16-bit grey
  PNGs are scaled to 8 bits (value >> 8), not clipped.
- ``holdout`` (default 0.1): the test split, the images scored against and the
  real-data row's reference: a fraction of the folder (``round(fraction x N)``
  images) or a whole number of images. Files are ranked by the sha256 of their
  relative path and the first ones held out: the same folder always gives the
  same, disjoint splits, and adding a file moves at most one other across.

Images are uint8 [N, C, size, size] in [0, 255], as every image dataset. The
content hash (sha256 over relative paths and bytes, read once while decoding)
is the ``cache_id`` of feature-cache keys, with the options: a changed file is
never scored against stale statistics. Loads are memoised per process by the
files' (path, size, mtime).
"""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch
from PIL import Image, ImageFile

from ganbench.core.errors import ConfigError, DatasetError
from ganbench.datasets.base import DATASETS, DatasetInfo, DataSplit

PREFIX = "imagefolder"
FORM = "imagefolder:PATH[?size=32&mode=grey|rgb&holdout=0.1]"
EXTENSIONS = (".png", ".jpg", ".jpeg")
DEFAULT_SIZE = 32
DEFAULT_HOLDOUT = 0.1
MODES = {"grey": "L", "rgb": "RGB"}
SIZE_RANGE = (8, 256)
MIN_HELD_OUT = 2  # FID needs two samples for a covariance
FILTER = Image.Resampling.BICUBIC
GREY_BANDS = ("L", "1", "I", "F")  # first band of Pillow's one-channel modes (and LA)


@dataclass(frozen=True)
class FolderSpec:
    """A parsed ``imagefolder:`` name: the folder and its options."""

    root: Path
    size: int = DEFAULT_SIZE
    mode: Optional[str] = None
    holdout: Union[float, int] = DEFAULT_HOLDOUT


def parse_spec(arg: str) -> FolderSpec:
    """``PATH[?key=value&...]`` -> FolderSpec, every option checked."""
    path, sep, query = arg.rpartition("?")
    if not sep or not all("=" in pair for pair in query.split("&")):
        path, query = arg, ""
    if not path:
        raise ConfigError(f"dataset {PREFIX}: names no folder; use {FORM}")
    options = dict(pair.split("=", 1) for pair in query.split("&") if pair)
    if unknown := sorted(set(options) - {"size", "mode", "holdout"}):
        raise ConfigError(f"{PREFIX}:{arg}: unknown option(s) {', '.join(unknown)}; valid: size, mode, holdout ({FORM})")
    try:
        size = int(options.get("size", DEFAULT_SIZE))
        text = options.get("holdout", str(DEFAULT_HOLDOUT))
        holdout = int(text) if text.isdigit() else float(text)
    except ValueError:
        raise ConfigError(f"{PREFIX}:{arg}: size must be a whole number and holdout a fraction or a count, "
                          f"got size={options.get('size')!r} holdout={options.get('holdout')!r}") from None
    if size % 4 or not SIZE_RANGE[0] <= size <= SIZE_RANGE[1]:
        raise ConfigError(f"{PREFIX}:{arg}: size={size} cannot be built by the DCGAN pair (stride-2 layers); "
                          f"use a multiple of 4 from {SIZE_RANGE[0]} to {SIZE_RANGE[1]}, e.g. 28, 32 or 64")
    mode = options.get("mode")
    if mode is not None and mode not in MODES:
        raise ConfigError(f"{PREFIX}:{arg}: mode={mode!r} is unknown; use mode=grey or mode=rgb")
    if isinstance(holdout, float) and not 0 < holdout < 1 or isinstance(holdout, int) and holdout < MIN_HELD_OUT:
        raise ConfigError(f"{PREFIX}:{arg}: holdout={text} must be a fraction in (0, 1) or a count >= {MIN_HELD_OUT}")
    return FolderSpec(Path(path), size, mode, holdout)


def image_files(root: Path) -> list[Path]:
    """The folder's PNG/JPEG files, recursively, sorted by relative path; errors name the fix."""
    if not root.exists():
        raise DatasetError(f"image folder {root} does not exist; correct the path in {PREFIX}:PATH")
    if not root.is_dir():
        raise DatasetError(f"image folder {root} is a file, not a folder; name the folder holding the images")
    files = sorted((p for p in root.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(root).parts)),
                   key=lambda p: p.relative_to(root).as_posix())
    if not files:
        raise DatasetError(f"image folder {root} holds no PNG or JPEG files ({', '.join(EXTENSIONS)}, any case, "
                           "searched recursively); put the images there or name the folder that holds them")
    return files


def _kind(bands: tuple[str, ...]) -> str:
    return "grey" if bands[0] in GREY_BANDS else "rgb"


def _open(path: Path, data: Optional[bytes] = None) -> Image.Image:
    """Open (headers only unless ``data``: then decode fully), naming the file on failure."""
    try:
        image = Image.open(io.BytesIO(data) if data is not None else path)
        if data is not None:
            image.load()  # decodes every byte: a truncated file fails here, not later
        return image
    except Image.DecompressionBombError as exc:  # an OSError-like refusal, but the fix is another one
        raise DatasetError(f"{path}: image too large ({exc}); Pillow refuses images over twice "
                           f"PIL.Image.MAX_IMAGE_PIXELS ({Image.MAX_IMAGE_PIXELS} pixels) as a decompression-bomb "
                           "guard: shrink the file, or raise the limit before loading (in Python: "
                           "import PIL.Image; PIL.Image.MAX_IMAGE_PIXELS = None, for files you trust)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot be read as an image ({exc}); the file is truncated or not a "
                           "PNG/JPEG: re-export it, or delete it from the folder") from None


def folder_mode(files: list[Path], root: Path, declared: Optional[str]) -> str:
    """The mode to load in: the declared one, else the folder's single kind."""
    if declared:
        return declared
    first: dict[str, Path] = {}
    for path in files:
        with _open(path) as image:  # headers only; closed at once, not when collected
            first.setdefault(_kind(image.getbands()), path)
    if len(first) > 1:
        raise DatasetError(f"image folder {root} mixes grey and colour images (e.g. {first['grey']} is grey, "
                           f"{first['rgb']} is colour); declare one: {PREFIX}:{root}?mode=grey or ?mode=rgb")
    return next(iter(first))


def to_array(image: Image.Image, size: int, mode: str) -> np.ndarray:
    """One decoded image -> uint8 [C, size, size]: convert, centre-crop to a square, resize (BICUBIC)."""
    if image.mode.startswith("I"):  # 16-bit grey (I;16, or I): convert("L") would clip all above 255 to white
        wide = np.clip(np.asarray(image, dtype=np.int64), 0, 65535)
        image = Image.fromarray((wide >> 8).astype(np.uint8))  # 2-D uint8: mode L
    image = image.convert(MODES[mode])
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    # A hard crop first: resize's own box would let the kernel reach past the square.
    image = image.crop((left, top, left + side, top + side)).resize((size, size), FILTER)
    array = np.asarray(image, dtype=np.uint8)
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def held_out(relpaths: list[str], holdout: Union[float, int]) -> set[str]:
    """The relative paths of the test split: the first ``k`` by sha256 of the path."""
    k = holdout if isinstance(holdout, int) else round(holdout * len(relpaths))
    ranked = sorted(relpaths, key=lambda p: hashlib.sha256(p.encode()).hexdigest())
    return set(ranked[:k])


@functools.lru_cache(maxsize=2)
def _load(spec: FolderSpec, fingerprint: tuple) -> dict[str, DataSplit]:
    root = spec.root.resolve()
    files = [root / rel for rel, _, _ in fingerprint]
    relpaths = [rel for rel, _, _ in fingerprint]
    test = held_out(relpaths, spec.holdout)
    n_train = len(files) - len(test)
    if len(test) < MIN_HELD_OUT or n_train < 1:
        raise DatasetError(f"image folder {root} has {len(files)} images: holdout={spec.holdout} holds out "
                           f"{len(test)} and leaves {n_train} to train on; need >= {MIN_HELD_OUT} held out and >= 1 "
                           "to train on: add images, or set holdout (a fraction or a count)")
    mode = folder_mode(files, root, spec.mode)
    digest = hashlib.sha256()
    arrays = []
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False  # another library may have set it: never pad a truncated file
    try:
        for path, rel in zip(files, relpaths):
            data = path.read_bytes()
            digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
            with _open(path, data) as image:
                arrays.append(to_array(image, spec.size, mode))
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous
    sha = digest.hexdigest()
    cache_id = f"{PREFIX}-{sha[:24]}-size{spec.size}-{mode}-holdout{spec.holdout}"
    channels = len(MODES[mode])
    splits = {}
    for split, keep in (("train", [r not in test for r in relpaths]), ("test", [r in test for r in relpaths])):
        data = torch.from_numpy(np.stack([a for a, k in zip(arrays, keep) if k]))
        info = DatasetInfo(name=f"{PREFIX}:{spec.root}", kind="images", shape=(channels, spec.size, spec.size),
                           num_modes=0, cache_id=cache_id)
        source = {"source": f"image folder {root}", "path": str(root), "images": len(data),
                  "folder_images": len(files), "sha256": sha,
                  "size": spec.size, "mode": mode, "holdout": spec.holdout, "filter": "centre square, PIL BICUBIC"}
        splits[split] = DataSplit(data, torch.zeros(len(data), dtype=torch.int64), info, source)
    return splits


def load_folder(spec: FolderSpec, split: str) -> DataSplit:
    """Split ``split`` of the folder (memoised until a file is added, removed or changed)."""
    root = spec.root.resolve()
    fingerprint = tuple((p.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns)
                        for p in image_files(root) for st in [p.stat()])
    return _load(spec, fingerprint)[split]


def check_unchanged(recorded: dict, current: DataSplit, what: str) -> None:
    """Refuse to score ``what`` (a run, a real-data row) against a folder that no longer
    holds the images it was made from. ``recorded``: its record's ``data`` entry
    (``sha256``, and ``path``: the absolute folder, as resolved when it was made)."""
    old, new = recorded.get("sha256"), current.source.get("sha256")
    if not old or not new or old == new:
        return
    old_path, new_path = recorded.get("path"), current.source.get("path")
    moved = (f"; it was made from {old_path}, and the name now resolves to {new_path} (a relative PATH "
             "from another working directory? run from the one it was made in)") if old_path != new_path else ""
    raise DatasetError(f"{what}: image folder {new_path} does not hold the images it was made from (content "
                       f"sha256 {old[:12]}, now {new[:12]}){moved}; restore the folder's files as they were, "
                       "or retrain on the folder as it is now")


@DATASETS.register_family(PREFIX, FORM)
def imagefolder(arg: str):
    """The loader of ``imagefolder:ARG``; the options are checked now, the files at load time."""
    spec = parse_spec(arg)
    if not spec.root.is_dir():
        image_files(spec.root)  # its error: the folder does not exist, or is a file

    def loader(split: str, data_dir: Optional[Path] = None) -> DataSplit:
        return load_folder(spec, split)

    loader.__doc__ = f"Your own images under {spec.root} ({spec.size}x{spec.size}); see ganbench.datasets.imagefolder."
    return loader
