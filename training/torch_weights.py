"""Read a PyTorch state dict saved in the legacy (non-zip) format, without PyTorch: name -> numpy array.

The legacy `torch.save` file is a run of pickles: a magic number, the protocol version, system
info, the object itself (tensors refer to storages by a persistent id), the list of storage keys,
then each storage's raw bytes (an int64 element count, then little-endian data). Only what a
state dict of float tensors needs is understood; any other class in the pickle is refused, so a
weights file cannot run code.
"""

from __future__ import annotations

import pickle
import struct
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


@dataclass(frozen=True)
class _StorageType:
    dtype: type


class _Storage:
    def __init__(self, dtype: type, numel: int) -> None:
        self.dtype = np.dtype(dtype)
        self.numel = numel
        self.data: np.ndarray | None = None


@dataclass(frozen=True)
class _TensorRef:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def array(self) -> np.ndarray:
        if self.storage.data is None:
            raise ValueError("a tensor refers to a storage the file does not hold")
        flat = self.storage.data[self.offset :]
        item = self.storage.dtype.itemsize
        if not self.size:
            return flat[:1].reshape(()).copy()
        strides = tuple(s * item for s in self.stride)
        return np.lib.stride_tricks.as_strided(flat, shape=self.size, strides=strides).copy()


def _rebuild_tensor(
    storage: _Storage, storage_offset: int, size: Sequence[int], stride: Sequence[int], *_: object
) -> _TensorRef:
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


def _rebuild_parameter(data: object, *_: object) -> object:
    return data


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(STORAGE_DTYPES[name])
        raise pickle.UnpicklingError(f"refusing {module}.{name} in a weights file")

    def persistent_load(self, pid: Any) -> _Storage:
        kind, storage_type, key, _location, numel = pid[:5]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id {kind!r}")
        return self.storages.setdefault(str(key), _Storage(storage_type.dtype, int(numel)))


def load_legacy_state_dict(path: Path) -> OrderedDict[str, np.ndarray]:
    """The tensors of a legacy-format `.pth` state dict as numpy arrays (PyTorch's shapes and layout)."""
    with Path(path).open("rb") as fh:
        if fh.read(2) == b"PK":
            raise ValueError(f"{path} is a zip-format PyTorch file, not the legacy format")
        fh.seek(0)
        if _Unpickler(fh).load() != MAGIC_NUMBER:
            raise ValueError(f"{path} is not a legacy PyTorch file")
        if _Unpickler(fh).load() != PROTOCOL_VERSION:
            raise ValueError(f"{path}: unknown PyTorch file protocol")
        _Unpickler(fh).load()  # system info (byte order, type sizes): plain dict
        unpickler = _Unpickler(fh)
        state = unpickler.load()
        keys = _Unpickler(fh).load()
        for key in keys:
            storage = unpickler.storages[str(key)]
            (numel,) = struct.unpack("<q", fh.read(8))
            raw = fh.read(numel * storage.dtype.itemsize)
            if len(raw) != numel * storage.dtype.itemsize:
                raise ValueError(f"{path} is truncated")
            storage.data = np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<"))
    return OrderedDict((name, ref.array()) for name, ref in state.items() if isinstance(ref, _TensorRef))
