"""gru_lib.storage.load_arrays: every malformed file is a ValueError naming it, never other
arrays. Saving and strings are tested in test_storage.py."""

import io
import os
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_storage import SAMPLE, assert_same_arrays

from gru_lib.storage import encode_strings, load_arrays, save_arrays

# -- loading ---------------------------------------------------------------------------------


def zip_bytes(members, compression=zipfile.ZIP_STORED):
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(buffer, "w", compression=compression) as zf:
            for name, data in members:
                zf.writestr(name, data)
    return buffer.getvalue()


def npy_bytes(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def huge_header():
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": (10**12, 10**6)})
    return buffer.getvalue()


def encrypted_flag(data):
    data = bytearray(data)
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature)
        data[at + flag_offset] |= 1
    return bytes(data)


GOOD = npy_bytes(np.arange(3.0))
MALFORMED = [
    pytest.param(GOOD, "single .npy array", id="npy-file"),
    pytest.param(b"", "not a valid .npz", id="empty-file"),
    pytest.param(os.urandom(200), "not a valid .npz", id="random-bytes"),
    pytest.param(pickle.dumps({"a": 1}), "not a valid .npz", id="pickle"),
    pytest.param(zip_bytes([("a.npy", GOOD)])[:-30], "not a valid .npz", id="truncated"),
    pytest.param(zip_bytes([("a.npy", GOOD)], zipfile.ZIP_BZIP2), "compression method 12",
                 id="bzip2"),
    pytest.param(zip_bytes([("a.npy", GOOD)], zipfile.ZIP_LZMA), "compression method 14",
                 id="lzma"),
    pytest.param(zip_bytes([("a.npy", huge_header())]), "claims", id="enormous-shape"),
    pytest.param(zip_bytes([("a.npy", GOOD[:-8])]), "truncated or corrupt", id="short-data"),
    pytest.param(zip_bytes([("a.npy", GOOD + b"\0" * 8)]), "truncated or corrupt",
                 id="extra-data"),
    pytest.param(zip_bytes([("a.npy", npy_bytes(np.array([{}], dtype=object), True))]),
                 "dtype object", id="object-array"),
    pytest.param(zip_bytes([("a.npy", GOOD), ("a.npy", GOOD)]), "repeated", id="duplicate"),
    pytest.param(zip_bytes([("notes.txt", b"hello")]), "not a named .npy", id="not-npy"),
    pytest.param(zip_bytes([(".npy", GOOD)]), "not a named .npy", id="no-name"),
    pytest.param(zip_bytes([("a.npy", b"\x93NUMPY\x09\x00" + GOOD[8:])]), "not a valid .npz",
                 id="bad-npy-version"),
    pytest.param(zip_bytes([("a.npy", GOOD.replace(b"<f8", b"|O8"))]), "dtype object",
                 id="object-in-header"),
    pytest.param(encrypted_flag(zip_bytes([("a.npy", GOOD)])), "encrypted", id="encrypted"),
]


@pytest.mark.parametrize("data, message", MALFORMED)
def test_malformed_files_give_a_value_error_naming_the_file(tmp_path, data, message):
    path = tmp_path / "bad.npz"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message) as info:
        load_arrays(path)
    assert str(path) in str(info.value)


def test_sizes_are_limited(tmp_path):
    path = save_arrays(tmp_path / "m.npz", {"a": np.zeros(1000)})
    with pytest.raises(ValueError, match="max_bytes"):
        load_arrays(path, max_bytes=4000)
    assert load_arrays(path, max_bytes=10_000)["a"].shape == (1000,)
    # A compressed member may be much larger than the file: its own size counts.
    np.savez_compressed(tmp_path / "z.npz", a=np.zeros(100_000))
    assert os.path.getsize(tmp_path / "z.npz") < 10_000
    with pytest.raises(ValueError, match="max_bytes"):
        load_arrays(tmp_path / "z.npz", max_bytes=10_000)


@pytest.mark.parametrize("value, error", [(0, ValueError), (-1, ValueError), (True, TypeError),
                                          (1.5, TypeError), (None, TypeError)],
                         ids=["zero", "negative", "bool", "float", "none"])
def test_bad_max_bytes(tmp_path, value, error):
    path = save_arrays(tmp_path / "m.npz", SAMPLE)
    with pytest.raises(error, match="max_bytes"):
        load_arrays(path, max_bytes=value)


def test_a_missing_file_stays_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_arrays(tmp_path / "nothing.npz")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    arrays = {"w": np.linspace(-1, 1, 6).reshape(2, 3), "n": np.array([3], dtype=np.int16),
              **encode_strings(["good", "bad\0"], name="words")}
    path = save_arrays(tmp_path_factory.mktemp("saved") / "m.npz", arrays)
    return arrays, Path(path).read_bytes(), tmp_path_factory.mktemp("fuzz")


def load_or_refuse(directory, data):
    """Exactly the saved arrays, or a ValueError: never another error or other arrays."""
    path = directory / "f.npz"
    path.write_bytes(data)
    try:
        return load_arrays(path)
    except ValueError:
        return None


FUZZ = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.data())
def test_truncated_or_damaged_files_never_load_as_other_arrays(saved, data):
    arrays, good, directory = saved
    damaged = bytearray(good[:data.draw(st.integers(0, len(good)), label="length")])
    for _ in range(data.draw(st.integers(0, 3), label="changes")):
        if damaged:
            at = data.draw(st.integers(0, len(damaged) - 1), label="at")
            damaged[at] = data.draw(st.integers(0, 255), label="byte")
    loaded = load_or_refuse(directory, bytes(damaged))
    if loaded is not None:
        assert_same_arrays(loaded, arrays)


@FUZZ
@given(noise=st.binary(max_size=600))
def test_random_bytes_never_load(saved, noise):
    # Only a genuine (empty) archive could load; random bytes practically never are one.
    assert load_or_refuse(saved[2], noise) in (None, {})


