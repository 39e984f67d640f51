"""Safe files of named arrays: an atomic ``.npz`` writer, a strict reader, and exact strings.

``save_arrays`` writes the format of ``np.savez`` (a zip of ``.npy`` members, which ``np.load``
reads too) so that a failed save never leaves a truncated or half-new file where a good one was,
and a model whose weights went NaN never overwrites a good file. ``load_arrays`` reads such a
file without pickles, checks every size before allocating, and turns every way a file can be
malformed into a ValueError naming the file. ``encode_strings``/``decode_strings`` store a list
of str exactly, as two integer arrays.
"""

import contextlib
import errno
import io
import os
import secrets
import stat
import struct
import zipfile
import zlib
from collections.abc import Mapping

import numpy as np

from gru_lib.checks import check_positive_int

# load_arrays refuses more: far above any model of the book (well under 1 MiB), yet small enough
# that a wrong or hostile file cannot exhaust a laptop's memory.
DEFAULT_MAX_BYTES = 256 * 2**20

# save_arrays writes booleans and numbers only: 'U' and 'S' strings lose trailing NULs (use
# encode_strings), objects need pickles. load_arrays also reads strings, which older files hold.
_SAVE_KINDS, _LOAD_KINDS = "biufc", "biufcUS"
# What np.savez and np.savez_compressed write; other methods are refused before reading.
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
# np.savez's own parameters, which cannot also be the names of arrays passed to it.
_RESERVED_NAMES = ("file", "allow_pickle")
# What the zip and .npy readers raise for damaged input. MemoryError is not among them: sizes
# are checked before anything is allocated, so it would mean a real shortage of memory.
_MALFORMED = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, struct.error, EOFError,
              OSError, ValueError, TypeError, KeyError, IndexError, OverflowError,
              NotImplementedError, RuntimeError, SyntaxError, UnicodeDecodeError)


def _fspath(path, function):
    """``path`` as a non-empty str; TypeError for a file object, bytes or anything else."""
    path = os.fspath(path) if isinstance(path, str | os.PathLike) else None
    if not isinstance(path, str):
        raise TypeError(f"{function} needs a path (a str or os.PathLike of str)")
    if not path:
        raise ValueError(f"{function} needs a non-empty path")
    return path


# -- saving ----------------------------------------------------------------------------------


def _checked_arrays(arrays):
    """Validate the arrays before anything touches the disk; returns a dict of ndarrays."""
    if not isinstance(arrays, Mapping):
        raise TypeError(f"arrays must be a dict name -> array, got {type(arrays).__name__}")
    out = {}
    for name, value in arrays.items():
        if not isinstance(name, str):
            raise TypeError(f"array names must be str, got {type(name).__name__} {name!r}")
        # zipfile cuts a member name at a NUL, and the zip directory holds names as UTF-8.
        if not name or "\0" in name:
            raise ValueError(f"array name {name!r} must be non-empty and free of NUL characters")
        if name in _RESERVED_NAMES:
            raise ValueError(f"array name {name!r} is a parameter of np.savez; choose another")
        try:
            name.encode("utf-8")
        except UnicodeEncodeError as err:  # a lone surrogate
            raise ValueError(f"array name {name!r} cannot be written as UTF-8") from err
        if isinstance(value, np.ma.MaskedArray):
            raise TypeError(f"arrays[{name!r}] is a masked array; its mask would be lost")
        if not isinstance(value, np.ndarray | np.generic):
            raise TypeError(f"arrays[{name!r}] must be a NumPy array, got {type(value).__name__}")
        value = np.asarray(value)
        if value.dtype.kind not in _SAVE_KINDS:
            hint = " (store strings with encode_strings)" if value.dtype.kind in "US" else ""
            raise TypeError(f"arrays[{name!r}] has dtype {value.dtype}; only booleans and "
                            f"numbers are saved{hint}")
        if value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
            raise ValueError(f"arrays[{name!r}] contains NaN or infinity; refusing to save it "
                             f"(it could overwrite a good file)")
        out[name] = value
    return out


def _destination(path):
    """The file to replace (a symlink's target, as ``open`` follows it) and its status or None.

    An existing file must be a regular file with write permission in its mode bits as well as
    for ``os.access``: root may write any file, yet a file made read-only (0o444) says "keep".
    """
    target = os.path.realpath(path)
    try:
        status = os.stat(target)
    except FileNotFoundError:
        status = None
    if status is not None and stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a file", path)
    if status is not None and not stat.S_ISREG(status.st_mode):
        raise ValueError(f"{path} exists and is not a regular file; refusing to replace it")
    if status is not None and (not status.st_mode & 0o222 or not os.access(target, os.W_OK)):
        raise PermissionError(errno.EACCES, "the file is not writable; refusing to replace it",
                              path)
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise FileNotFoundError(errno.ENOENT, "no such directory for the file", path)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "cannot create a file in its directory", path)
    return target, status


def _create_temp(target):
    """A new empty file beside ``target``: ``(fd, path)``. ``os.open`` with mode 0o666 lets the
    kernel apply the umask (and default ACLs) as for ``open()``; ``mkstemp`` would give 0o600."""
    directory, base = os.path.split(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags | getattr(os, "O_CLOEXEC", 0), 0o666), tmp
        except FileExistsError:  # another file has this random name: draw again
            continue


def _keep_mode_and_owner(fd, tmp, status):
    """Give the new file the old one's permission bits and, where permitted, its owner."""
    os.chmod(tmp, stat.S_IMODE(status.st_mode) & 0o777)
    mine = os.fstat(fd)
    if hasattr(os, "fchown") and (mine.st_uid, mine.st_gid) != (status.st_uid, status.st_gid):
        # Only root may give a file away; otherwise the new file belongs to its writer.
        with contextlib.suppress(PermissionError):
            os.fchown(fd, status.st_uid, status.st_gid)


def _fsync_directory(directory):
    """Make the rename durable, where the system can sync a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # e.g. Windows, where a directory cannot be opened (nor needs syncing)
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def save_arrays(path, arrays):
    """Write ``arrays`` (dict name -> array) to the ``.npz`` file ``path``, atomically.

    Paths are as for ``np.savez``: a str or ``os.PathLike``, with ``.npz`` appended when it does
    not end with it. The arrays go to a temporary file in the destination's directory, which is
    flushed, synced and renamed over the destination (``os.replace``), then the directory is
    synced: readers see the old file or the new one, never a mix, and on any failure the
    temporary file is removed and an existing file is left untouched. As when writing in place,
    a symlink is written through (its target replaced, the link kept), an existing file keeps
    its permission bits (and owner, where permitted), and a new file gets ``0o666 & ~umask``;
    being a new file, it does not update other hard links to the old one. Should syncing the
    directory fail after the rename, the new file is in place and that OSError is raised.

    Returns the path written, as a str (with its ``.npz`` suffix). Raises TypeError for a bad
    path type, name type, value type or dtype (only booleans and numbers: strings go through
    ``encode_strings``), ValueError for a bad name or a float array holding NaN or infinity,
    PermissionError for an existing file without write permission bits (even for root).
    """
    path = _fspath(path, "save_arrays")
    if not path.endswith(".npz"):
        path += ".npz"  # as np.savez does
    arrays = _checked_arrays(arrays)
    target, status = _destination(path)
    fd, tmp = _create_temp(target)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, allow_pickle=False, **arrays)  # uncompressed .npy members
            f.flush()
            if status is not None:
                _keep_mode_and_owner(f.fileno(), tmp, status)
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(os.path.dirname(target))
    return path


# -- loading ---------------------------------------------------------------------------------


def _check_layout(data, zf):
    """The members must lie back to back from byte 0 up to the zip directory, as np.savez
    writes them: a damaged directory could otherwise hide members (a corrupt comment length
    swallows the entries after it), and the file would load as fewer arrays."""
    infos = sorted(zf.infolist(), key=lambda info: info.header_offset)
    ends = [info.header_offset for info in infos[1:]] + [getattr(zf, "start_dir", None)]
    position = 0
    for info, end in zip(infos, ends, strict=True):
        header = data[info.header_offset:info.header_offset + 30]
        if info.header_offset != position or len(header) < 30:
            raise ValueError(f"the zip directory does not match the file at byte {position}")
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        position += 30 + name_length + extra_length + info.compress_size
        # A member written to a stream is followed by a data descriptor of 12 to 24 bytes.
        if end is not None and end - position in ((12, 16, 20, 24) if info.flag_bits & 8 else ()):
            position = end
    if position != getattr(zf, "start_dir", position):
        raise ValueError(f"the zip directory does not match the file at byte {position}")


def _read_member(zf, info, budget):
    """``(name, array, bytes)`` of one member, its .npy header checked against the zip
    directory and the remaining ``budget`` before the array is allocated."""
    name = info.filename
    if not name.endswith(".npy") or name == ".npy":
        raise ValueError(f"member {name!r} is not a named .npy array")
    if info.flag_bits & 0x1:
        raise ValueError(f"member {name!r} is encrypted")
    if info.compress_type not in _COMPRESSIONS:
        raise ValueError(f"member {name!r} uses compression method {info.compress_type}; only "
                         f"stored and deflated members (as np.savez writes them) are read")
    with zf.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in ((1, 0), (2, 0)):  # 3.0 exists only for structured dtypes
            raise ValueError(f"member {name!r} has .npy version {version}: no plain array")
        read_header = getattr(np.lib.format, f"read_array_header_{version[0]}_0")
        shape, _, dtype = read_header(member)
        header_size = member.tell()
    if dtype.hasobject or dtype.kind not in _LOAD_KINDS or dtype.itemsize == 0:
        raise ValueError(f"member {name!r} has dtype {dtype}; only booleans, numbers and "
                         f"strings are read (objects would need pickles)")
    if any(n < 0 for n in shape):
        raise ValueError(f"member {name!r} has an invalid shape {shape}")
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize  # Python ints: no overflow
    if nbytes > budget:
        raise ValueError(f"member {name!r} claims {nbytes} bytes ({shape} of {dtype}), more "
                         f"than the {budget} bytes left of max_bytes")
    if header_size + nbytes != info.file_size:
        raise ValueError(f"member {name!r} is {info.file_size} bytes, but its header describes "
                         f"{header_size + nbytes} ({shape} of {dtype}): truncated or corrupt")
    with zf.open(info) as member:
        array = np.lib.format.read_array(member, allow_pickle=False)
        if member.read(1):  # reading to the end also makes zipfile check the CRC-32
            raise ValueError(f"member {name!r} has data after its array")
    return name[:-len(".npy")], array, nbytes


def load_arrays(path, *, max_bytes=DEFAULT_MAX_BYTES):
    """Read a ``.npz`` file of named arrays (as ``save_arrays`` or ``np.savez`` write it).

    Returns a dict name -> array, in the file's order; no pickles are loaded. The file and the
    arrays' data must each be at most ``max_bytes`` (default ``DEFAULT_MAX_BYTES``, 256 MiB):
    every size is checked against the zip directory and each ``.npy`` header before anything is
    allocated. A missing file raises FileNotFoundError (other OSErrors pass through); any
    malformed file raises ValueError naming the file and the problem: not a zip (``.npy``,
    random or truncated bytes), a compression other than stored or deflated, a member that is
    not a ``.npy`` array, repeated names, object arrays, inconsistent or too large sizes, a
    failed checksum.
    """
    path = _fspath(path, "load_arrays")
    max_bytes = check_positive_int("max_bytes", max_bytes)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise ValueError(f"{path} is {size} bytes, more than max_bytes = {max_bytes}")
        # Held in memory, so that a bogus size in the zip directory cannot make a read allocate.
        data = f.read(max_bytes + 1)
    if data.startswith(b"\x93NUMPY"):
        raise ValueError(f"{path} is a single .npy array, not an .npz archive of named arrays "
                         f"(read it with np.load)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [info.filename for info in zf.infolist()]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"members are repeated: {repeated}")
            total = sum(info.file_size for info in zf.infolist())
            if total > max_bytes:
                raise ValueError(f"its members total {total} bytes, more than max_bytes = "
                                 f"{max_bytes}")
            _check_layout(data, zf)
            arrays, budget = {}, max_bytes
            for info in zf.infolist():
                key, arrays[key], nbytes = _read_member(zf, info, budget)
                budget -= nbytes
    except _MALFORMED as err:
        raise ValueError(f"{path} is not a valid .npz file of arrays: {err}") from err
    return arrays


# -- strings ---------------------------------------------------------------------------------


def encode_strings(strings, *, name="strings"):
    """Encode a list of str exactly, as ``{name + ".codes": uint32, name + ".lengths": int64}``:
    every character's code point, and each string's length.

    Unlike NumPy's ``'U'`` dtype, which drops trailing NUL characters, this keeps every str as
    it is: empty strings, NULs anywhere, any code point, lone surrogates included.
    ``decode_strings`` inverts it.
    """
    if not isinstance(strings, list | tuple):
        raise TypeError(f"strings must be a list of str, got {type(strings).__name__}")
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    for i, s in enumerate(strings):
        if not isinstance(s, str):
            raise TypeError(f"strings[{i}] must be a str, got {type(s).__name__}")
    # UTF-32 is one 4-byte unit per code point; surrogatepass lets lone surrogates through.
    text = "".join(strings).encode("utf-32-le", "surrogatepass")
    return {f"{name}.codes": np.frombuffer(text, dtype="<u4").astype(np.uint32),
            f"{name}.lengths": np.array([len(s) for s in strings], dtype=np.int64)}


def decode_strings(arrays, *, name="strings"):
    """The list of str that ``encode_strings(strings, name=name)`` put into ``arrays`` (a dict
    such as ``load_arrays`` returns). ValueError if the two arrays are missing or inconsistent:
    not 1-D integers, a negative length, lengths that do not add up to the number of codes, or
    a code that is not a Unicode code point."""
    if not isinstance(arrays, Mapping):
        raise TypeError(f"arrays must be a dict name -> array, got {type(arrays).__name__}")
    keys = (f"{name}.codes", f"{name}.lengths")
    missing = [key for key in keys if key not in arrays]
    if missing:
        raise ValueError(f"no encoded strings {name!r}: missing {missing}")
    for key in keys:
        value = arrays[key]
        if not isinstance(value, np.ndarray) or value.ndim != 1 or value.dtype.kind not in "iu":
            raise ValueError(f"{key} must be a 1-D integer array, got "
                             f"{getattr(value, 'dtype', type(value).__name__)} of shape "
                             f"{np.shape(value)}")
    codes, lengths = arrays[keys[0]], arrays[keys[1]]
    if codes.size and (codes.min() < 0 or codes.max() > 0x10FFFF):
        raise ValueError(f"{keys[0]} holds a value that is not a Unicode code point")
    lengths = lengths.tolist()  # Python ints: their sum cannot overflow
    if any(n < 0 for n in lengths):
        raise ValueError(f"{keys[1]} holds a negative length")
    if sum(lengths) != codes.size:
        raise ValueError(f"{keys[1]} add up to {sum(lengths)} characters, but {keys[0]} holds "
                         f"{codes.size}")
    text = codes.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")
    ends = np.cumsum([0, *lengths]).tolist()
    return [text[start:end] for start, end in zip(ends[:-1], ends[1:], strict=True)]


__all__ = ["DEFAULT_MAX_BYTES", "decode_strings", "encode_strings", "load_arrays",
           "save_arrays"]
