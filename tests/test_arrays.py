"""``index.arrays``: the one-file store of the lexicon and the phrase index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.arrays import open_arrays, save_arrays
from index.lexicon import FILENAME, Lexicon


def test_arrays_come_back_as_written_and_mmapped(tmp_path: Path) -> None:
    arrays = {
        "words": np.array([b"coupe", b"monde", b"\xc3\xa9t\xc3\xa9"], dtype="S6"),
        "counts": np.array([3, 1, 2], dtype=np.int32),
        "table": np.arange(12, dtype=np.int32).reshape(4, 3),
        "bits": np.array([1, 2**31], dtype=np.uint32),
        "none": np.zeros(0, dtype=np.int32),
    }
    save_arrays(tmp_path / "x.arrays", arrays)
    opened = open_arrays(tmp_path / "x.arrays")
    assert opened is not None and set(opened) == set(arrays)
    for name, array in arrays.items():
        assert opened[name].dtype == array.dtype and opened[name].shape == array.shape
        assert np.array_equal(opened[name], array), name
    assert isinstance(opened["counts"], np.memmap)
    assert int(np.searchsorted(opened["words"], b"monde")) == 1


def test_a_reader_keeps_the_set_it_opened_while_the_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "x.arrays"
    save_arrays(path, {"a": np.array([1, 2, 3]), "b": np.array([4, 5, 6])})
    old = open_arrays(path)
    save_arrays(path, {"a": np.array([7, 8]), "b": np.array([9, 10])})
    new = open_arrays(path)
    assert old is not None and new is not None
    assert (old["a"].tolist(), old["b"].tolist()) == ([1, 2, 3], [4, 5, 6])
    assert (new["a"].tolist(), new["b"].tolist()) == ([7, 8], [9, 10])
    assert [p.name for p in tmp_path.iterdir()] == ["x.arrays"]  # no temporary file left


def test_no_file_is_none_and_another_file_is_an_error(tmp_path: Path) -> None:
    assert open_arrays(tmp_path / "absent.arrays") is None
    (tmp_path / "other.arrays").write_bytes(b"\x93NUMPY not ours")
    with pytest.raises(ValueError, match="not an arrays file"):
        open_arrays(tmp_path / "other.arrays")


def test_a_store_of_an_older_layout_opens_empty(tmp_path: Path) -> None:
    save_arrays(tmp_path / FILENAME, {"terms": np.array([b"maroc"])})  # fields missing
    assert len(Lexicon.open(tmp_path)) == 0
