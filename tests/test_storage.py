"""gru_lib.storage: atomic saves that keep what a file is, and exact strings.

Loading malformed files is tested in test_storage_loading.py.
"""

import io
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gru_lib import storage
from gru_lib.storage import decode_strings, encode_strings, load_arrays, save_arrays

SAMPLE = {
    "weights": np.arange(12, dtype=np.float64).reshape(3, 4) / 7,
    "half": np.array([1.5, -2.25], dtype=np.float32),
    "fortran": np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)),
    "big_endian": np.arange(3, dtype=">i8"),
    "flag": np.array(True),
    "empty": np.zeros((0, 3)),
    "small": np.array([1, 2], dtype=np.uint8),
    "complex": np.array([1 + 2j]),
}


def assert_same_arrays(got, expected):
    assert list(got) == list(expected)
    for name, value in expected.items():
        assert got[name].dtype == value.dtype and got[name].shape == value.shape, name
        np.testing.assert_array_equal(got[name], value, err_msg=name)


def leftovers(directory):
    return sorted(p.name for p in Path(directory).iterdir() if p.name.endswith(".tmp"))


# -- saving ----------------------------------------------------------------------------------


def test_round_trip_keeps_values_dtypes_order_and_loads_with_numpy(tmp_path):
    path = save_arrays(tmp_path / "m.npz", SAMPLE)
    assert path == str(tmp_path / "m.npz")
    assert_same_arrays(load_arrays(path), SAMPLE)
    with np.load(path, allow_pickle=False) as f:  # the format of np.savez
        assert_same_arrays({k: f[k] for k in f.files}, SAMPLE)
    assert load_arrays(path)["weights"].flags.writeable


@pytest.mark.parametrize("compressed", [False, True], ids=["savez", "savez_compressed"])
def test_reads_files_numpy_wrote(tmp_path, compressed):
    (np.savez_compressed if compressed else np.savez)(tmp_path / "n.npz", **SAMPLE)
    assert_same_arrays(load_arrays(tmp_path / "n.npz"), SAMPLE)


@pytest.mark.parametrize("name, written", [("m", "m.npz"), ("m.npz", "m.npz"),
                                           ("m.bin", "m.bin.npz")],
                         ids=["no-suffix", "suffix", "other-suffix"])
@pytest.mark.parametrize("kind", [str, Path], ids=["str", "pathlike"])
def test_the_npz_suffix_is_appended_as_np_savez_does(tmp_path, name, written, kind):
    assert save_arrays(kind(tmp_path / name), {"a": np.ones(2)}) == str(tmp_path / written)
    assert sorted(os.listdir(tmp_path)) == [written]


def test_a_new_file_gets_the_mode_open_would_give(tmp_path):
    old = os.umask(0o027)
    try:
        save_arrays(tmp_path / "new.npz", SAMPLE)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.npz").st_mode) == 0o640


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664, 0o200], ids=oct)
def test_an_existing_file_keeps_its_mode(tmp_path, mode):
    path = tmp_path / "m.npz"
    save_arrays(path, SAMPLE)
    os.chmod(path, mode)
    save_arrays(path, {"a": np.zeros(1)})
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    os.chmod(path, 0o600)
    assert list(load_arrays(path)) == ["a"]


@pytest.mark.parametrize("mode", [0o444, 0o400, 0o000], ids=oct)
def test_a_file_without_write_permission_is_not_replaced_even_by_root(tmp_path, mode):
    path = tmp_path / "m.npz"
    save_arrays(path, SAMPLE)
    before = path.read_bytes()
    os.chmod(path, mode)
    with pytest.raises(PermissionError, match="not writable") as info:
        save_arrays(path, {"a": np.zeros(1)})
    assert str(path) in str(info.value)
    os.chmod(path, 0o600)
    assert path.read_bytes() == before and leftovers(tmp_path) == []


def test_a_symlink_is_written_through(tmp_path):
    target = tmp_path / "data" / "real.npz"
    target.parent.mkdir()
    save_arrays(target, SAMPLE)
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    save_arrays(link, {"a": np.zeros(1)})
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert list(load_arrays(target)) == ["a"]
    dangling = tmp_path / "dangling.npz"
    dangling.symlink_to(tmp_path / "data" / "later.npz")
    save_arrays(dangling, SAMPLE)
    assert dangling.is_symlink() and (tmp_path / "data" / "later.npz").is_file()


BAD_ARRAYS = [
    pytest.param({"w": np.array([1.0, np.nan])}, ValueError, "NaN", id="nan"),
    pytest.param({"w": np.array([np.inf], dtype=np.float32)}, ValueError, "NaN", id="inf"),
    pytest.param({"w": np.array([complex(0, np.nan)])}, ValueError, "NaN", id="complex-nan"),
    pytest.param({"w": np.array([None, 1], dtype=object)}, TypeError, "dtype object", id="object"),
    pytest.param({"w": np.array(["a\0"])}, TypeError, "encode_strings", id="unicode"),
    pytest.param({"w": np.array([b"a"])}, TypeError, "encode_strings", id="bytes"),
    pytest.param({"w": np.ma.masked_array([1.0], mask=[True])}, TypeError, "mask", id="masked"),
    pytest.param({"w": [1.0, 2.0]}, TypeError, "NumPy array", id="list"),
    pytest.param({3: np.zeros(1)}, TypeError, "names must be str", id="int-name"),
    pytest.param({"": np.zeros(1)}, ValueError, "non-empty", id="empty-name"),
    pytest.param({"a\0b": np.zeros(1)}, ValueError, "NUL", id="nul-name"),
    pytest.param({"\ud800": np.zeros(1)}, ValueError, "UTF-8", id="surrogate-name"),
    pytest.param({"file": np.zeros(1)}, ValueError, "np.savez", id="name-file"),
    pytest.param({"allow_pickle": np.zeros(1)}, ValueError, "np.savez", id="name-allow_pickle"),
    pytest.param([np.zeros(1)], TypeError, "dict", id="not-a-dict"),
]


@pytest.mark.parametrize("arrays, error, message", BAD_ARRAYS)
def test_bad_arrays_are_refused_and_the_old_file_kept(tmp_path, arrays, error, message):
    path = tmp_path / "m.npz"
    save_arrays(path, SAMPLE)
    before = path.read_bytes()
    with pytest.raises(error, match=message):
        save_arrays(path, {"good": np.ones(3), **arrays} if isinstance(arrays, dict) else arrays)
    assert path.read_bytes() == before and leftovers(tmp_path) == []


@pytest.mark.parametrize("path, error", [
    pytest.param(b"m.npz", TypeError, id="bytes"),
    pytest.param(io.BytesIO(), TypeError, id="file-object"),
    pytest.param(None, TypeError, id="none"),
    pytest.param("", ValueError, id="empty"),
])
def test_bad_paths(path, error):
    with pytest.raises(error, match="path"):
        save_arrays(path, SAMPLE)


def test_directories_and_missing_directories(tmp_path):
    (tmp_path / "d.npz").mkdir()
    with pytest.raises(IsADirectoryError):
        save_arrays(tmp_path / "d.npz", SAMPLE)
    with pytest.raises(FileNotFoundError, match="no such directory"):
        save_arrays(tmp_path / "missing" / "m.npz", SAMPLE)


@pytest.mark.parametrize("failure", ["write", "replace", "interrupt", "savez"])
def test_a_failed_save_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch, failure):
    path = tmp_path / "m.npz"
    save_arrays(path, SAMPLE)
    before = path.read_bytes()
    calls = []

    def broken_write(fp, array, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # half-way through the file
            raise KeyboardInterrupt if failure == "interrupt" else OSError("disk full")
        real_write(fp, array, **kwargs)

    def explode(*args, **kwargs):
        raise OSError("rename failed" if failure == "replace" else "np.savez failed")

    real_write = np.lib.format.write_array
    if failure == "replace":
        monkeypatch.setattr(storage.os, "replace", explode)
    elif failure == "savez":
        monkeypatch.setattr(np, "savez", explode)
    else:  # np.savez writes each member with write_array
        monkeypatch.setattr(np.lib.format, "write_array", broken_write)
    with pytest.raises(KeyboardInterrupt if failure == "interrupt" else OSError):
        save_arrays(path, {"a": np.zeros(2), "b": np.ones(2)})
    assert path.read_bytes() == before and leftovers(tmp_path) == []


# -- strings ---------------------------------------------------------------------------------


STRINGS = ["", "good", "trailing\0\0", "\0", "ünïcödé", "\U0001f600", "\ud800", "\udfff\ud800",
           "\U0010ffff", "a b\tc\n"]


def test_strings_round_trip_exactly_through_a_file(tmp_path):
    encoded = encode_strings(STRINGS, name="words")
    assert set(encoded) == {"words.codes", "words.lengths"}
    assert all(a.dtype.kind in "iu" for a in encoded.values())
    path = save_arrays(tmp_path / "s.npz", {**encoded, "other": np.ones(1)})
    assert decode_strings(load_arrays(path), name="words") == STRINGS
    assert decode_strings(encode_strings([])) == []


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(strings=st.lists(st.text(st.characters(codec=None, exclude_categories=()), max_size=8)
                        | st.lists(st.integers(0, 0x10FFFF).map(chr), max_size=4).map("".join),
                        max_size=6))
def test_any_unicode_list_round_trips(tmp_path, strings):
    path = save_arrays(tmp_path / "s.npz", encode_strings(strings))
    assert decode_strings(load_arrays(path)) == strings


def encoded(**changes):
    arrays = encode_strings(["ab", "c"])
    arrays.update(changes)
    return arrays


@pytest.mark.parametrize("arrays, message", [
    pytest.param({}, "missing", id="missing"),
    pytest.param(encoded(**{"strings.codes": np.array([97.0, 98, 99])}), "integer",
                 id="float-codes"),
    pytest.param(encoded(**{"strings.lengths": np.array([[2, 1]])}), "1-D", id="2-d-lengths"),
    pytest.param(encoded(**{"strings.lengths": [2, 1]}), "integer array", id="list-lengths"),
    pytest.param(encoded(**{"strings.lengths": np.array([4, -1])}), "negative", id="negative"),
    pytest.param(encoded(**{"strings.lengths": np.array([2, 2])}), "add up", id="too-long"),
    pytest.param(encoded(**{"strings.lengths": np.array([1, 1])}), "add up", id="too-short"),
    pytest.param(encoded(**{"strings.codes": np.array([97, 0x110000, 99])}), "code point",
                 id="beyond-unicode"),
    pytest.param(encoded(**{"strings.codes": np.array([97, -1, 99])}), "code point",
                 id="negative-code"),
])
def test_inconsistent_encoded_strings_are_refused(arrays, message):
    with pytest.raises(ValueError, match=message):
        decode_strings(arrays)


@pytest.mark.parametrize("strings", ["good", ["good", 3], None, ("a", b"b")],
                         ids=["bare-str", "int-item", "none", "bytes-item"])
def test_encode_needs_a_list_of_str(strings):
    with pytest.raises(TypeError, match="str"):
        encode_strings(strings)
