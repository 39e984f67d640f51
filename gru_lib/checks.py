"""Input validation shared by the recurrent layers (``gru``, ``rnn``).

A wrong shape, dtype or a NaN must fail loudly at the call, with a message that names the
argument, rather than deep inside a matrix product or, worse, as a silently wrong answer.
"""

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_float_dtype(dtype):
    """Return ``np.dtype(dtype)`` if it is float32 or float64, else raise TypeError."""
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def check_layer_sizes(input_size, hidden_size):
    """Raise ValueError unless both sizes are positive integers."""
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def check_parameter_arrays(owner, arrays, shapes_for):
    """Validate a layer's parameter arrays when its dataclass is built.

    Args:
        owner: the class name for messages, e.g. "GRUParams".
        arrays: dict name -> value; the first entry is the (D, H) input weight matrix.
        shapes_for: a function ``(D, H) -> dict name -> expected shape``.

    Every value must be a NumPy array, all of one float dtype, with the expected shapes.
    """
    for name, value in arrays.items():
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{owner}.{name} must be a NumPy array, got {type(value).__name__}")
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


def check_array(name, value, shape, dtype):
    """Raise TypeError/ValueError unless ``value`` is a finite ndarray of this shape and dtype."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(value).__name__}")
    if value.dtype != dtype:
        raise TypeError(f"{name} has dtype {value.dtype}, but the parameters are {dtype}; "
                        f"convert it with .astype(np.{dtype.name})")
    if value.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {value.shape}")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} contains NaN or infinity")


def check_params(params, params_type):
    """Raise unless ``params`` is a ``params_type`` whose arrays are all finite."""
    if not isinstance(params, params_type):
        raise TypeError(f"params must be {params_type.__name__} parameters, "
                        f"got {type(params).__name__}")
    for name, value in params.arrays().items():
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{params_type.__name__}.{name} contains NaN or infinity")


def check_step_inputs(x, h_prev, params, params_type):
    """Validate one step's ``x`` (B, D) and ``h_prev`` (B, H) against ``params``."""
    check_params(params, params_type)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a NumPy array, got {type(x).__name__}")
    if x.ndim != 2:
        raise ValueError(f"x must be a 2-D array (B, D), got shape {x.shape}")
    b = x.shape[0]
    check_array("x", x, (b, params.input_size), params.dtype)
    check_array("h_prev", h_prev, (b, params.hidden_size), params.dtype)


def check_sequence_inputs(xs, h0, params, mask, params_type):
    """Validate a sequence call; return the mask as (T, B, 1) in the parameters' dtype, or None.

    ``xs`` must be (T, B, D) with T, B >= 1, ``h0`` (B, H), and ``mask`` None or (T, B) of 0/1.
    """
    check_params(params, params_type)
    if not isinstance(xs, np.ndarray):
        raise TypeError(f"xs must be a NumPy array, got {type(xs).__name__}")
    if xs.ndim != 3:
        raise ValueError(f"xs must be a 3-D array (T, B, D), got shape {xs.shape}")
    t, b, _ = xs.shape
    if t == 0 or b == 0:
        raise ValueError(f"xs must hold at least one step and one sequence, got shape {xs.shape}")
    check_array("xs", xs, (t, b, params.input_size), params.dtype)
    check_array("h0", h0, (b, params.hidden_size), params.dtype)
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.shape != (t, b):
        raise ValueError(f"mask must have shape (T, B) = {(t, b)}, got {mask.shape}")
    if not np.all((mask == 0) | (mask == 1)):
        raise ValueError("mask must hold only 0 (padding) and 1 (a real step)")
    # (T, B, 1) so that it broadcasts over the hidden units.
    return mask.astype(params.dtype)[:, :, None]
