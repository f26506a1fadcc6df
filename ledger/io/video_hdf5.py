"""Frames stored in HDF5: raw 4-D datasets, and images embedded in ``.slp`` packages.

Two layouts share SLEAP's ``HDF5Video``:

* **Raw**: a ``(frames, H, W, C)`` dataset (``input_format="channels_last"``) or
  LEAP/MATLAB's ``(frames, C, W, H)`` (``"channels_first"``, transposed on read).
  ``convert_range`` scales data whose maximum is <= 1 by 255, as SLEAP does (so an
  all-black or binary frame is scaled too; that is SLEAP's rule, kept on purpose).
* **Embedded images** (reference §4.6): the dataset has a ``format`` attribute and
  each row is one encoded image (int8, zero padded). ``<group>/frame_numbers`` maps
  the *original* frame index to a row, and ``<group>/source_video`` holds the
  serialised original video, used for frames that were not embedded.

Colour of embedded images: SLEAP hands its RGB frames to ``cv2.imencode``, which
treats them as BGR, so a standard PNG decoder sees the channels swapped. Unless the
dataset (or its group) says ``channel_order="RGB"`` (sleap-io with imageio), the
decoded channels are reversed, which gives back exactly SLEAP's RGB frames.

The HDF5 file is opened read-only on first use and kept open; `close` releases it
(and forgets the layout, so a file rewritten in between is seen afresh).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ledger.errors import ValidationError, VideoError
from ledger.io.video_base import FrameIndexError, VideoBackend, as_uint8_frame

INPUT_FORMATS = ("channels_last", "channels_first")
PILLOW_FORMATS = frozenset({"png", "jpg", "jpeg", "bmp", "tif", "tiff"})


@dataclass
class _Layout:
    """What was learned about the file once, on first access."""

    path: str  # resolved dataset path ("video0" -> "/video0/video")
    group: str | None  # parent group holding frame_numbers/source_video, None at root
    image_format: str | None  # "png", "jpg"... for encoded rows, None for raw data
    rgb_order: bool  # encoded bytes already hold RGB (channel_order == "RGB")
    frame_map: dict[int, int] | None  # original frame index -> row, None if no map
    frame_numbers: list[int] = field(default_factory=list)


class HDF5Backend(VideoBackend):
    """SLEAP's ``HDF5Video``."""

    EXTENSIONS = (".h5", ".hdf5", ".slp")
    FIELDS = ("filename", "dataset", "input_format", "convert_range")
    MATCH_FIELDS = FIELDS
    OPTIONS = ("enable_source_video",)
    SLEAP_NAME = "HDF5Video"

    def __init__(
        self,
        filename: str | os.PathLike[str],
        dataset: str = "",
        input_format: str = "channels_last",
        convert_range: bool = True,
        enable_source_video: bool = True,
    ) -> None:
        super().__init__()
        if input_format and input_format not in INPUT_FORMATS:
            raise ValidationError(
                f"HDF5 input_format must be one of {INPUT_FORMATS}, not {input_format!r}"
            )
        self.filename = os.fspath(filename)
        self.dataset = dataset
        self.input_format = input_format
        self.convert_range = bool(convert_range)
        self.enable_source_video = bool(enable_source_video)
        self._file: Any = None
        self._layout: _Layout | None = None
        self._source: VideoBackend | None = None
        self._source_loaded = False

    # -- file and layout ------------------------------------------------------------------

    def _h5(self) -> Any:
        if self._file is None:
            import h5py

            try:
                self._file = h5py.File(self.filename, "r")
            except Exception as exc:
                raise VideoError(f"{self.filename}: cannot open HDF5 file ({exc})") from exc
        return self._file

    def _dataset(self) -> Any:
        return self._h5()[self._get_layout().path]

    def _get_layout(self) -> _Layout:
        if self._layout is None:
            self._layout = self._read_layout()
        return self._layout

    def _read_layout(self) -> _Layout:
        import h5py

        f = self._h5()
        if not self.dataset:
            raise VideoError(f"{self.filename}: no HDF5 dataset name given")
        try:
            obj = f[self.dataset]
            if isinstance(obj, h5py.Group):  # "video0" means "video0/video"
                obj = obj["video"]
        except KeyError:
            raise VideoError(f"{self.filename}: no dataset {self.dataset!r}") from None
        if not isinstance(obj, h5py.Dataset):
            raise VideoError(f"{self.filename}: {self.dataset!r} is not a dataset")
        parent = obj.parent
        group = parent.name if parent.name != "/" else None
        fmt = _text(obj.attrs.get("format", ""))
        order = _text(obj.attrs.get("channel_order", parent.attrs.get("channel_order", "")))
        frame_map = None
        numbers: list[int] = []
        if group is not None and "frame_numbers" in parent:
            numbers = [int(n) for n in np.asarray(parent["frame_numbers"][()]).ravel()]
            frame_map = {n: row for row, n in enumerate(numbers)}
        return _Layout(
            path=obj.name,
            group=group,
            image_format=fmt.lstrip(".").lower() or None,
            rgb_order=order.upper() == "RGB",
            frame_map=frame_map,
            frame_numbers=numbers,
        )

    # -- shape -----------------------------------------------------------------------------

    def _read_shape(self) -> tuple[int, int, int, int]:
        layout = self._get_layout()
        ds = self._dataset()
        rows = int(ds.shape[0])
        if layout.image_format is not None:
            attrs = ds.attrs
            if all(k in attrs for k in ("height", "width", "channels")):
                return rows, int(attrs["height"]), int(attrs["width"]), int(attrs["channels"])
            h, w, c = self._read_row(0).shape
            return rows, h, w, c
        dims = tuple(int(d) for d in ds.shape)
        if self.input_format == "channels_first":
            if len(dims) == 3:  # (frames, width, height), no channel axis
                return dims[0], dims[2], dims[1], 1
            return dims[0], dims[3], dims[2], dims[1]
        if len(dims) == 3:
            return dims[0], dims[1], dims[2], 1
        return dims[0], dims[1], dims[2], dims[3]

    @property
    def last_frame_idx(self) -> int | None:
        """Largest embedded *original* frame index; ``frames - 1`` without a map."""
        try:
            layout = self._get_layout()
        except VideoError:
            return None
        if layout.frame_map:
            return max(layout.frame_map)
        return super().last_frame_idx

    # -- embedded images -------------------------------------------------------------------

    @property
    def embedded_frame_inds(self) -> list[int]:
        """Original frame indices of the embedded rows, in row order."""
        if self.is_missing:
            return []
        return list(self._get_layout().frame_numbers)

    @property
    def has_embedded_images(self) -> bool:
        return len(self.embedded_frame_inds) > 0

    @property
    def source_video_dict(self) -> dict[str, Any] | None:
        """The serialised original video (``{"backend": {...}}``), if stored."""
        if self.is_missing:
            return None
        layout = self._get_layout()
        if layout.group is None:
            return None
        parent = self._h5()[layout.group]
        if "source_video" not in parent:
            return None
        node = parent["source_video"]
        if "json" in node.attrs:
            raw = node.attrs["json"]
        elif "json" in node:  # sleap-io moves large JSON into a dataset
            raw = node["json"][()]
        else:
            return None
        try:
            return json.loads(_text(raw))
        except ValueError as exc:
            raise VideoError(f"{self.filename}: source_video JSON is malformed ({exc})") from exc

    @property
    def source_video(self) -> VideoBackend | None:
        """Backend of the original video (built lazily, never opened until read)."""
        if not self._source_loaded:
            d = self.source_video_dict
            if d is not None:
                from ledger.io.video_backends import backend_from_dict

                self._source = backend_from_dict(d)
            self._source_loaded = True
        return self._source

    # -- frames ----------------------------------------------------------------------------

    def _read_frame(self, idx: int) -> np.ndarray:
        layout = self._get_layout()
        if layout.frame_map is not None:
            row = layout.frame_map.get(idx)
            if row is None:
                return self._from_source(idx)
        else:
            row = idx
        rows = int(self._dataset().shape[0])
        if row >= rows:
            raise FrameIndexError(
                f"{self.filename}: frame {idx} is out of range ({layout.path} has {rows} rows)"
            )
        frame = self._read_row(row)
        if self.convert_range and frame.size and frame.max() <= 1:
            frame = frame.astype(np.float64) * 255
        return as_uint8_frame(frame)

    def _from_source(self, idx: int) -> np.ndarray:
        source = self.source_video if self.enable_source_video else None
        if source is None:
            raise FrameIndexError(
                f"{self.filename}: frame {idx} is not embedded in {self._get_layout().path}"
                + ("" if self.enable_source_video else " (source video disabled)")
            )
        return source.get_frame(idx)

    def _read_row(self, row: int) -> np.ndarray:
        """Row ``row`` as an image in the dataset's dtype, ``(H, W, C)``."""
        layout = self._get_layout()
        ds = self._dataset()
        try:
            data = np.asarray(ds[row])
        except Exception as exc:
            raise VideoError(f"{self.filename}: cannot read row {row} of {layout.path}") from exc
        if layout.image_format is None:
            if self.input_format == "channels_first":
                data = np.transpose(data, (2, 1, 0) if data.ndim == 3 else (1, 0))
            return data if data.ndim == 3 else data[..., None]
        return self._decode(data, row, ds.attrs.get("channels"))

    def _decode(self, data: np.ndarray, row: int, channels: Any) -> np.ndarray:
        import imageio.v3 as iio

        layout = self._get_layout()
        fmt = str(layout.image_format)
        plugin = "pillow" if fmt in PILLOW_FORMATS else None  # no slow probing of every plugin
        try:
            image = iio.imread(data.tobytes(), extension="." + fmt, plugin=plugin)
        except Exception as exc:
            raise VideoError(
                f"{self.filename}: cannot decode {layout.image_format} image in row {row} "
                f"of {layout.path} ({exc})"
            ) from exc
        image = np.asarray(image)
        if image.ndim == 2:
            image = image[..., None]
        if image.shape[-1] == 4:  # alpha never carries frame data
            image = image[..., :3]
        if channels is not None and int(channels) == 1 and image.shape[-1] > 1:
            image = image[..., :1]
        if image.shape[-1] == 3 and not layout.rgb_order:
            image = image[..., ::-1]  # SLEAP's bytes hold the channels swapped
        return image

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        f, self._file = self._file, None
        self._layout = None
        self._shape = None
        if f is not None:
            try:
                f.close()
            except Exception:
                pass
        if self._source is not None:
            self._source.close()

    def to_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "dataset": self.dataset,
            "input_format": self.input_format,
            "convert_range": self.convert_range,
        }


def _text(value: Any) -> str:
    """HDF5 attributes come back as str, bytes or numpy byte arrays."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SU" and value.ndim == 0:
            return _text(value[()])
        return value.tobytes().decode().rstrip("\x00")
    if isinstance(value, np.bytes_ | np.str_):
        return _text(value.item())
    return str(value)
