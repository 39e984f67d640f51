"""The file format of a saved ``SentimentModel``: named arrays in an ``.npz``, nothing pickled.

Members: ``format_version``; ``param.<name>`` for every trainable array; the vocabulary's words
(without the padding entry); ``reset_after`` and ``one_hot``.
"""

import os
import tempfile
import zipfile

import numpy as np

FORMAT_VERSION = 1


def save_sentiment_arrays(path, parameters, words, *, reset_after, one_hot):
    """Write a model's arrays to ``path`` atomically (temporary file, then rename)."""
    arrays = {f"param.{name}": a for name, a in parameters.items()}
    arrays["format_version"] = np.array(FORMAT_VERSION)
    arrays["words"] = np.array(words, dtype=str)
    arrays["reset_after"] = np.array(reset_after)
    arrays["one_hot"] = np.array(one_hot)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load_sentiment_arrays(path):
    """``(parameters, words, reset_after, one_hot)`` from a file written by
    ``save_sentiment_arrays``; ValueError naming the problem for a malformed file."""
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {key: f[key] for key in f.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path} is not a saved SentimentModel (.npz): {err}") from err
    required = ["format_version", "words", "reset_after", "one_hot", "param.head_w",
                "param.head_b"]
    missing = [k for k in required if k not in arrays]
    if missing:
        raise ValueError(f"{path} is not a saved SentimentModel: missing {', '.join(missing)}")
    version = arrays["format_version"]
    if version.shape != () or int(version) != FORMAT_VERSION:
        raise ValueError(f"{path} has format version {version}, expected {FORMAT_VERSION}")
    if arrays["words"].dtype.kind != "U" or arrays["words"].ndim != 1:
        raise ValueError(f"{path}: 'words' must be a 1-D array of strings")
    params = {k[len("param."):]: v for k, v in arrays.items() if k.startswith("param.")}
    for name, value in params.items():
        if value.dtype.kind != "f" or not np.all(np.isfinite(value)):
            raise ValueError(f"{path}: parameter {name} is not a finite float array")
    return (params, arrays["words"].tolist(), bool(arrays["reset_after"]),
            bool(arrays["one_hot"]))
