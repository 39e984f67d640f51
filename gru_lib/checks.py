"""Input validation: every rule of the library, written once.

A wrong argument must fail loudly at the call, with a message that names it, rather than deep
inside a matrix product or, worse, as a silently wrong answer. One kind of mistake gets one kind
of exception everywhere:

- **TypeError**: the value is of the wrong type (a float where an integer is needed, a list
  where an array is needed, ``True`` as a size, a float32 array beside float64 parameters);
- **ValueError**: the type is right but the value is not (a size of 0, a wrong shape, a NaN,
  a mask entry of 2, an unknown option).
"""

import functools
import numbers

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# -- scalars ---------------------------------------------------------------------------------


def check_int(name, value, *, minimum=None):
    """Return ``value`` as an int if it is an integer (Python or NumPy, not a bool) >= minimum.

    ``True`` is an int to Python, but never a size or a count here: it is refused (TypeError).
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def check_positive_int(name, value):
    """An integer >= 1 (a size, a count, a number of steps)."""
    return check_int(name, value, minimum=1)


def check_real(name, value, *, positive=False, nonnegative=False, below=None):
    """Return ``value`` as a float if it is a finite real number (not a bool).

    ``positive``: must be > 0; ``nonnegative``: must be >= 0; ``below``: must be < this.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if nonnegative and not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    if below is not None and not value < below:
        raise ValueError(f"{name} must be < {below}, got {value!r}")
    return value


def check_bool(name, value):
    """Return ``value`` as a bool if it is one (Python or NumPy); ``"no"`` or 0 is refused."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def check_choice(name, value, choices):
    """Return ``value`` if it is one of ``choices`` (a tuple of strings), else ValueError."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {list(choices)}, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_seed(name, value):
    """A seed: an integer >= 0 or a ``numpy.random.Generator``. None is refused: a run that
    must be reproducible needs a seed that says so."""
    if isinstance(value, np.random.Generator):
        return value
    if value is None:
        raise TypeError(f"{name} must be an integer seed or a numpy.random.Generator, got None "
                        f"(a run without a seed could not be reproduced)")
    return check_int(name, value, minimum=0)


def make_rng(rng):
    """A Generator from ``rng``: a Generator (used as is), an int seed >= 0, or None (seed 0,
    so that a call without a generator is still reproducible)."""
    return np.random.default_rng(0 if rng is None else check_seed("rng", rng))


def check_float_dtype(dtype):
    """Return ``np.dtype(dtype)`` if it is float32 or float64, else raise TypeError."""
    try:
        dtype = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from err
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


# -- arrays ----------------------------------------------------------------------------------


def check_ndarray(name, value):
    """Raise TypeError unless ``value`` is a NumPy array."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(value).__name__}")
    return value


def check_finite(name, value):
    """Raise ValueError if the array ``value`` holds a NaN or an infinity."""
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} contains NaN or infinity")
    return value


def check_array(name, value, shape, dtype):
    """Raise TypeError/ValueError unless ``value`` is a finite ndarray of this shape and dtype."""
    check_ndarray(name, value)
    if value.dtype != dtype:
        raise TypeError(f"{name} has dtype {value.dtype}, but the parameters are {dtype}; "
                        f"convert it with .astype(np.{dtype.name})")
    if value.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {value.shape}")
    return check_finite(name, value)


def check_vector(name, value, length, dtype):
    """A finite (length,) array of ``dtype``: a bias, a head's weights, a batch of targets."""
    return check_array(name, value, (length,), dtype)


def check_parameter_arrays(owner, arrays, shapes_for):
    """Validate a layer's parameter arrays when its container is built.

    Args:
        owner: the class name for messages, e.g. "GRUParams".
        arrays: dict name -> value; the first entry is the (D, H) input weight matrix.
        shapes_for: a function ``(D, H) -> dict name -> expected shape``.

    Every value must be a NumPy array, all of one float dtype, with the expected shapes.
    """
    for name, value in arrays.items():
        check_ndarray(f"{owner}.{name}", value)
    first_name, first = next(iter(arrays.items()))
    dtype = first.dtype
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"{owner} arrays must be float32 or float64, got {dtype}")
    for name, value in arrays.items():
        if value.dtype != dtype:
            raise TypeError(f"{owner}.{name} has dtype {value.dtype}, but {first_name} has "
                            f"{dtype}; all parameters must share one dtype")
    if first.ndim != 2:
        raise ValueError(f"{owner}.{first_name} must be 2-D (D, H), got shape {first.shape}")
    d, h = first.shape
    for name, shape in shapes_for(d, h).items():
        if arrays[name].shape != shape:
            raise ValueError(f"{owner}.{name} must have shape {shape} for D={d}, H={h}, "
                             f"got {arrays[name].shape}")


def check_params(params, params_type):
    """Raise unless ``params`` is a ``params_type`` whose arrays are all finite."""
    if not isinstance(params, params_type):
        raise TypeError(f"params must be {params_type.__name__} parameters, "
                        f"got {type(params).__name__}")
    for name, value in params.arrays().items():
        check_finite(f"{params_type.__name__}.{name}", value)


def check_step_inputs(x, h_prev, params, params_type):
    """Validate one step's ``x`` (B, D) and ``h_prev`` (B, H) against ``params``."""
    check_params(params, params_type)
    check_ndarray("x", x)
    if x.ndim != 2:
        raise ValueError(f"x must be a 2-D array (B, D), got shape {x.shape}")
    b = x.shape[0]
    check_array("x", x, (b, params.input_size), params.dtype)
    check_array("h_prev", h_prev, (b, params.hidden_size), params.dtype)


def check_mask(mask, steps, batch, dtype):
    """Return ``mask`` (T, B) of 0/1 as a (T, B, 1) array of ``dtype``, or None for no mask."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.shape != (steps, batch):
        raise ValueError(f"mask must have shape (T, B) = {(steps, batch)}, got {mask.shape}")
    if mask.dtype.kind not in "biuf":
        raise TypeError(f"mask must hold numbers 0 and 1, got dtype {mask.dtype}")
    if not np.all((mask == 0) | (mask == 1)):
        raise ValueError("mask must hold only 0 (padding) and 1 (a real step)")
    # (T, B, 1) so that it broadcasts over the hidden units.
    return mask.astype(dtype)[:, :, None]


def check_sequence_inputs(xs, h0, params, mask, params_type):
    """Validate a sequence call; return the mask as (T, B, 1) in the parameters' dtype, or None.

    ``xs`` must be (T, B, D) with T, B >= 1, ``h0`` (B, H), and ``mask`` None or (T, B) of 0/1.
    """
    check_params(params, params_type)
    check_ndarray("xs", xs)
    if xs.ndim != 3:
        raise ValueError(f"xs must be a 3-D array (T, B, D), got shape {xs.shape}")
    t, b, _ = xs.shape
    if t == 0 or b == 0:
        raise ValueError(f"xs must hold at least one step and one sequence, got shape {xs.shape}")
    check_array("xs", xs, (t, b, params.input_size), params.dtype)
    check_array("h0", h0, (b, params.hidden_size), params.dtype)
    return check_mask(mask, t, b, params.dtype)


def check_cache(cache, cache_type, function):
    """Raise TypeError unless ``cache`` is what ``function``'s forward pass returns."""
    if not isinstance(cache, cache_type):
        raise TypeError(f"{function} needs the {cache_type.__name__} of its own forward pass, "
                        f"got {type(cache).__name__}")
    return cache


def check_ids(name, ids, num_ids):
    """Return ``ids`` if it is an integer array (any shape) with every entry in ``[0, num_ids)``:
    token or character ids, which index a vocabulary (a negative id would silently read from
    its end)."""
    check_ndarray(name, ids)
    num_ids = check_int("the number of ids", num_ids, minimum=1)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array of ids, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= num_ids):
        raise ValueError(f"{name} must lie in [0, {num_ids}), got ids from {ids.min()} to "
                         f"{ids.max()}")
    return ids


def check_token_ids(ids, num_tokens):
    """Raise unless ``ids`` is an integer array (T, B) of ids in ``[0, num_tokens)``."""
    check_ndarray("token ids", ids)
    if ids.ndim != 2:
        raise ValueError(f"token ids must be a 2-D array (T, B), got shape {ids.shape}")
    return check_ids("token ids", ids, num_tokens)


def check_targets(y, batch, dtype, *, binary):
    """``y`` as a finite (batch,) array of ``dtype``; with ``binary``, every entry 0 or 1."""
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"targets must be numbers, got dtype {y.dtype}")
    if y.shape != (batch,):
        raise ValueError(f"targets must have shape ({batch},), got {y.shape}")
    y = check_finite("targets", y.astype(dtype))
    if binary and not np.all((y == 0) | (y == 1)):
        raise ValueError(f"a classifier's targets must be 0 or 1, got {np.unique(y)}")
    return y


def finite_outputs(function):
    """Decorator for a layer function: its results are finite, or it raises ValueError.

    With parameters or inputs so large that a product overflows, NumPy would return inf and NaN
    with a RuntimeWarning, and the NaN would travel on silently. Here the arithmetic runs with
    those warnings off and every array returned (directly, or in a container with ``arrays()``)
    is checked; a non-finite one is reported as an overflow, naming the function.
    """

    @functools.wraps(function)
    def checked(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):
            result = function(*args, **kwargs)
        values = result if isinstance(result, tuple) else (result,)
        for value in values:
            arrays = value.arrays().values() if hasattr(value, "arrays") else (value,)
            for array in arrays:
                if isinstance(array, np.ndarray) and not np.all(np.isfinite(array)):
                    raise ValueError(f"{function.__name__}: a result overflowed to infinity or "
                                     f"NaN; the parameters or inputs are too large for "
                                     f"{array.dtype} (scale them down)")
        return result

    return checked
