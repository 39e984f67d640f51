"""The file format of a saved ``SentimentModel``: named arrays in an ``.npz``, nothing pickled.

Members (format version 2): ``format_version``; ``param.<name>`` for every trainable array;
``words.codes`` and ``words.lengths``, the vocabulary's words (without the padding entry)
stored exactly by ``storage.encode_strings``; ``reset_after`` and ``one_hot``. Writing and
reading go through ``gru_lib.storage``: atomic, permission- and symlink-preserving saves that
refuse a non-finite model, and loads that turn every malformed file into a ValueError.
"""

import os

import numpy as np

from gru_lib.storage import decode_strings, encode_strings, load_arrays, save_arrays

FORMAT_VERSION = 2
PARAM_PREFIX = "param."
REQUIRED = ("format_version", "reset_after", "one_hot", "param.head_w", "param.head_b",
            "words.codes", "words.lengths")


def save_sentiment_arrays(path, parameters, words, *, reset_after, one_hot):
    """Write a model's arrays to ``path`` (``.npz`` appended as by ``np.savez``) atomically.

    Returns the path written. A parameter holding NaN or infinity raises ValueError and leaves
    any existing file untouched.
    """
    arrays = {PARAM_PREFIX + name: a for name, a in parameters.items()}
    arrays["format_version"] = np.array(FORMAT_VERSION)
    arrays.update(encode_strings(list(words), name="words"))
    arrays["reset_after"] = np.array(bool(reset_after))
    arrays["one_hot"] = np.array(bool(one_hot))
    return save_arrays(path, arrays)


def _flag(path, arrays, name):
    value = arrays[name]
    if value.shape != () or value.dtype != np.bool_:
        raise ValueError(f"{path}: {name!r} must be a boolean scalar, got {value.dtype} "
                         f"{value.shape}")
    return bool(value)


def load_sentiment_arrays(path):
    """``(parameters, words, reset_after, one_hot)`` from a file written by
    ``save_sentiment_arrays``; ValueError naming the file and the problem for a malformed one."""
    try:
        arrays = load_arrays(path)
    except ValueError as err:
        raise ValueError(f"{os.fspath(path)} is not a saved SentimentModel: {err}") from err
    path = os.fspath(path)
    missing = [k for k in REQUIRED if k not in arrays]
    if missing:
        raise ValueError(f"{path} is not a saved SentimentModel: missing {', '.join(missing)}")
    version = arrays["format_version"]
    if version.shape != () or version.dtype.kind not in "iu":
        raise ValueError(f"{path}: format_version must be an integer scalar, got "
                         f"{version.dtype} {version.shape}")
    if int(version) != FORMAT_VERSION:
        raise ValueError(f"{path} has format version {int(version)}; this gru_lib reads "
                         f"version {FORMAT_VERSION}")
    words = decode_strings(arrays, name="words")
    params = {k[len(PARAM_PREFIX):]: v for k, v in arrays.items() if k.startswith(PARAM_PREFIX)}
    for name, value in params.items():
        if value.dtype.kind != "f" or not np.all(np.isfinite(value)):
            raise ValueError(f"{path}: parameter {name} is not a finite float array")
    return params, words, _flag(path, arrays, "reset_after"), _flag(path, arrays, "one_hot")
