"""The cases the exercise checkers grade on, and running a learner's functions on them safely.

A learner's step function may still be a stub, raise, return None or arrays of the wrong
shape, or change its inputs in place: ``call_learner`` and the checks below turn each of those
into an ``Ungradable`` with a friendly message (``gru_lib.exercise_messages``) instead of a
traceback.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gru_lib import exercise_messages as text
from gru_lib.exercise_messages import PATHS
from gru_lib.params import init_gru_params
from gru_lib.path_diagnosis import QUIET_UNITS

RANDOM_SIZES = ((1, 3, 4), (3, 5, 2), (4, 2, 3))  # (B, D, H) of the graded cases
ISOLATION_SIZE = (3, 2, 4)  # (B, D, H) of the cases with recurrent weights set to 0
ZEROINGS = ((), ("W_hz", "W_hr", "W_hh"), ("W_hr", "W_hh"), ("W_hz", "W_hr"), ("W_hz", "W_hh"),
            ("W_hz",), ("W_hr",), ("W_hh",))
SEEDS = {False: 2014, True: 2017}  # one fixed seed per variant
NUMERICAL_CASES = 2  # central differences on the first graded cases (the small ones)


# -- the cases -------------------------------------------------------------------------------


@dataclass
class Case:
    x: np.ndarray
    h_prev: np.ndarray
    params: object
    dh: np.ndarray
    label: str
    alive: frozenset  # the paths of dh_prev that are on (not zero by construction)
    graded: bool  # random cases grade; the isolation cases only diagnose dh_prev

    def inputs(self):
        """Fresh copies of (x, h_prev, params), so a learner's function cannot spoil the case."""
        return self.x.copy(), self.h_prev.copy(), self.params.copy()

    def shapes(self):
        b, d = self.x.shape
        return b, d, self.h_prev.shape[1]


def random_case(rng, b, d, h, reset_after):
    params = init_gru_params(d, h, reset_after=reset_after, rng=rng)
    for value in params.arrays().values():  # every array non-zero, biases included
        value[...] = rng.uniform(-1.0, 1.0, value.shape)
    x, h_prev = rng.standard_normal((b, d)), rng.uniform(-1.0, 1.0, (b, h))
    return Case(x, h_prev, params, rng.standard_normal((b, h)), f"B = {b}, D = {d}, H = {h}",
                 frozenset(PATHS), True)


def alive_paths(zeroed, reset_after):
    off = {"W_hz": {"update gate"}, "W_hr": {"reset gate"},
           "W_hh": {"candidate"} if reset_after else {"candidate", "reset gate"}}
    return frozenset(PATHS) - set().union(*(off[name] for name in zeroed))


def make_cases(reset_after):
    """The random cases, then the isolation cases: one more random case, as it is and with
    recurrent weights set to 0, and with dh 0 on the QUIET_UNITS. The direct path δh ⊙ z
    works unit by unit, so there it sends nothing: in those columns of dh_prev only the other
    paths are on."""
    rng = np.random.default_rng(SEEDS[reset_after])
    cases = [random_case(rng, *size, reset_after) for size in RANDOM_SIZES]
    base = random_case(rng, *ISOLATION_SIZE, reset_after)
    base.dh[:, QUIET_UNITS] = 0.0
    for zeroed in ZEROINGS:
        params = base.params.copy()
        for name in zeroed:
            getattr(params, name)[...] = 0.0
        label = base.label + "".join(f", {name} = 0" for name in zeroed)
        cases.append(Case(base.x, base.h_prev, params, base.dh, label,
                           alive_paths(zeroed, reset_after), False))
    return cases


# -- running the learner's functions ---------------------------------------------------------


class Ungradable(Exception):
    """The learner's function cannot be graded; ``message`` says why and what to return."""

    def __init__(self, message, status="COULD NOT BE CHECKED"):
        super().__init__(message)
        self.message, self.status = message, status


def function_name(function):
    name = getattr(function, "__name__", type(function).__name__)
    return "your function" if name == "<lambda>" else name


def check_function(role, function):
    if not callable(function):
        raise TypeError(f"{role} must be a function, got {type(function).__name__}")


def call_learner(function, args, kind, shapes, case):
    """``function(*args)``, its inputs unchanged; a stub or a crash becomes an Ungradable."""
    name = function_name(function)
    before = [a.copy() for _, a in named_arrays(args, kind)]
    try:
        result = function(*args)
    except NotImplementedError:
        raise Ungradable(text.not_written(name, kind, shapes), "NOT WRITTEN YET") from None
    except Exception as error:  # the learner's code: any error becomes a message
        raise Ungradable(text.raised(name, error, function, case.label)) from None
    for (what, after), old in zip(named_arrays(args, kind), before, strict=True):
        if not np.array_equal(after, old):
            raise Ungradable(text.changed_input(name, what))
    if result is None:
        raise Ungradable(text.returned_none(name, kind, shapes), "NOT WRITTEN YET")
    return result


def named_arrays(args, kind):
    if kind == "forward":
        x, h_prev, params = args
        return [("x", x), ("h_prev", h_prev)] + [(f"params.{n}", a)
                                                 for n, a in params.arrays().items()]
    return [("dh", args[0])]


def learner_array(name, what, value, shape, dims):
    """``value`` as a float64 array if it is a finite real array of ``shape``."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu":
        raise Ungradable(text.not_an_array(name, what, value))
    if value.shape != shape:
        raise Ungradable(text.bad_shape(name, what, value.shape, shape, dims))
    if not np.all(np.isfinite(value)):
        raise Ungradable(text.not_finite(name, what))
    return value.astype(np.float64)


def learner_pair(result, name, kind, shapes, count):
    if not isinstance(result, tuple | list) or len(result) != count:
        raise Ungradable(text.wrong_structure(name, kind, shapes, text.describe(result)))
    return result


def run_forward(step_forward, case):
    b, _, h = case.shapes()
    shapes, name = {"shape": (b, h)}, function_name(step_forward)
    result = call_learner(step_forward, case.inputs(), "forward", shapes, case)
    out, cache = learner_pair(result, name, "forward", shapes, 2)
    return learner_array(name, "h", out, (b, h), "(B, H)"), cache


def run_backward(step_backward, case, cache):
    b, d, h = case.shapes()
    shapes, name = {"dx": (b, d), "dh": (b, h)}, function_name(step_backward)
    result = call_learner(step_backward, (case.dh.copy(), cache), "backward", shapes, case)
    dx, dh_prev, grads = learner_pair(result, name, "backward", shapes, 3)
    out = {"dx": learner_array(name, "dx", dx, (b, d), "(B, D)"),
           "dh_prev": learner_array(name, "dh_prev", dh_prev, (b, h), "(B, H)")}
    for key, value in learner_gradients(name, grads, list(case.params.arrays())).items():
        shape = case.params.arrays()[key].shape
        dims = {(d, h): "(D, H)", (h, h): "(H, H)", (h,): "(H,)"}[shape]
        out[key] = learner_array(name, f"the gradient {key}", value, shape, dims)
    return out


def learner_gradients(name, grads, names):
    """The parameter gradients by name, from a GRUGradients, any ``.arrays()``, a dict or an
    object with one attribute per name."""
    if isinstance(grads, Mapping):
        found = dict(grads)
    elif callable(getattr(grads, "arrays", None)):
        found = grads.arrays()
    else:
        found = {n: getattr(grads, n) for n in names if getattr(grads, n, None) is not None}
    missing = [n for n in names if found.get(n) is None]
    if len(missing) == len(names):
        raise Ungradable(text.wrong_structure(name, "backward", {"dx": "(B, D)", "dh": "(B, H)"},
                                               "grads as " + text.describe(grads)))
    if missing:
        raise Ungradable(text.missing_gradients(name, missing))
    return {n: found[n] for n in names}


