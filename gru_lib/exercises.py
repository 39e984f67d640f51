"""Checkers for the GRU step a learner writes: ``check_step_forward`` and ``check_step_backward``.

    from gru_lib.exercises import check_step_backward, check_step_forward

    check_step_forward(my_step_forward)                       # the Cho form
    check_step_backward(my_step_backward, reset_after=True)   # both forms, gru_lib's forward
    check_step_backward(my_step_backward, my_step_forward)    # with the learner's own forward

The learner's functions have the signatures of gru_lib's reference steps:
``step_forward(x, h_prev, params) -> (h, cache)`` and ``step_backward(dh, cache) -> (dx, dh_prev,
grads)``. A checker runs them on fixed random cases (batch sizes 1, 3 and 4, D != H, seeded, so
every run is the same), compares every output with gru_lib's and, for the backward pass, with
central differences of the forward pass in use, and returns an ``ExerciseReport`` (see
``gru_lib.exercise_messages``, which holds all the words) naming what is wrong.

How dh_prev is diagnosed. It is the sum of four paths: direct, update gate, reset gate,
candidate. From gru_lib's cache, ``_path_terms`` computes each path's right contribution and the
forms learners write by mistake instead (a transposed matrix, a missing derivative, the seed
notebook's direct term). The learner's error, stacked over all cases, is fitted by least squares
as a combination of these terms; an exact fit says path by path what was written (missing, wrong
sign, transposed, ...). When no combination fits, cases built with recurrent weights set to 0
localise the error: W_hz = 0 switches the update gate path off, W_hr = 0 the reset gate path,
W_hh = 0 the candidate path (and in the Cho form the reset gate path too, whose δr starts from
δa_h W_hhᵀ). The direct path δh ⊙ z cannot be switched off (0 < z < 1), but with all three
matrices at 0 it is the only one left. A path is right if dh_prev is right on a case where the
path is on; it is wrong if dh_prev is wrong on a case where it is the only path not proven right.
"""

import functools
from dataclasses import dataclass

import numpy as np

from gru_lib import exercise_messages as text
from gru_lib.activations import sigmoid, tanh
from gru_lib.checks import check_bool
from gru_lib.exercise_cases import (
    NUMERICAL_CASES,
    RANDOM_SIZES,
    ZEROINGS,
    Case,
    Ungradable,
    check_function,
    function_name,
    make_cases,
    run_backward,
    run_forward,
)
from gru_lib.exercise_reports import ExerciseReport, Row, Section
from gru_lib.gradcheck import numerical_gradient, relative_error
from gru_lib.gru import GRUStepCache, gru_step_backward, gru_step_forward
from gru_lib.path_diagnosis import TOLERANCE, diagnose_dh_prev

# -- grading ---------------------------------------------------------------------------------


def _row(name, errors, labels, numerical=()):
    bad = [label for e, label in zip(errors, labels, strict=True) if not e < TOLERANCE]
    passed = not bad and all(e < TOLERANCE for e in numerical)
    return Row(name, max(errors), max(numerical) if numerical else None, passed,
               bad if 0 < len(bad) < len(errors) else [])


def _summary(rows):
    wrong = [f"{row.name} (error {row.reference_error:.1e})" for row in rows if not row.passed]
    return f"wrong: {text.join(wrong)}." if wrong else None


def _all_zeros(outputs, key):
    return all(not np.any(mine[key]) for mine in outputs)


CACHE_FIELDS = ("x", "h_prev", "z", "r", "h_tilde")


def _cache_errors(cache, reference):
    """Relative error of each field of a learner's GRUStepCache (1.0 where one is missing)."""
    fields = CACHE_FIELDS + (("a_hh",) if reference.params.reset_after else ())
    errors = {}
    for name in fields:
        value = getattr(cache, name, None)
        ok = isinstance(value, np.ndarray) and value.shape == getattr(reference, name).shape
        errors[name] = relative_error(value, getattr(reference, name)) if ok else 1.0
    params = getattr(cache, "params", None)
    params_ok = isinstance(params, type(reference.params)) and all(
        np.array_equal(params.arrays().get(n), a) for n, a in reference.params.arrays().items())
    errors["params"] = 0.0 if params_ok else 1.0
    return errors


def _forward_alternatives(case):
    """h of the usual slips: (gate mistake, candidate mistake) -> h, the right one left out."""
    x, h, p = case.x, case.h_prev, case.params
    a_z = x @ p.W_xz + h @ p.W_hz + p.b_z
    a_r = x @ p.W_xr + h @ p.W_hr + p.b_r
    gates = {"right": (sigmoid(a_z), sigmoid(a_r)), "mirrored": (1 - sigmoid(a_z), sigmoid(a_r)),
             "swapped": (sigmoid(a_r), sigmoid(a_z))}
    base, h_w = x @ p.W_xh + p.b_h, h @ p.W_hh
    out = {}
    for gate, (z, r) in gates.items():
        if p.reset_after:
            candidates = {"right": base + r * (h_w + p.b_hn),
                          "before": base + (r * h) @ p.W_hh + p.b_hn,
                          "before, no b_hn": base + (r * h) @ p.W_hh,
                          "b_hn outside": base + r * h_w + p.b_hn, "no b_hn": base + r * h_w,
                          "none": base + h_w + p.b_hn}
        else:
            candidates = {"right": base + (r * h) @ p.W_hh, "after": base + r * h_w,
                          "none": base + h_w}
        for candidate, a_h in candidates.items():
            if (gate, candidate) != ("right", "right"):
                out[(gate, candidate)] = z * h + (1 - z) * tanh(a_h)
    return out


def _forward_section(step_forward, reset_after):
    cases = [case for case in make_cases(reset_after) if case.graded]
    labels = [case.label for case in cases]
    results = [run_forward(step_forward, case) for case in cases]
    references = [gru_step_forward(case.x, case.h_prev, case.params) for case in cases]
    rows = [_row("h", [relative_error(h, ref) for (h, _), (ref, _) in zip(results, references,
                                                                          strict=True)], labels)]
    if all(isinstance(cache, GRUStepCache) for _, cache in results):
        errors = [_cache_errors(cache, ref) for (_, cache), (_, ref) in zip(results, references,
                                                                          strict=True)]
        rows += [_row(f"cache.{name}", [e[name] for e in errors], labels) for name in errors[0]]
    findings = [_summary(rows)]
    if not rows[0].passed:
        if all(not np.any(h) for h, _ in results):
            findings.append(text.zeros("h"))
        alternatives = [_forward_alternatives(case) for case in cases]
        slips = [key for key in alternatives[0]
                 if all(relative_error(h, other[key]) < TOLERANCE
                        for other, (h, _) in zip(alternatives, results, strict=True))]
        wrong_cache = [row.name for row in rows[1:] if not row.passed]
        if slips:
            findings.append(text.forward_mistake(*slips[0], reset_after))
        elif wrong_cache:
            findings.append(text.forward_cache_hint(wrong_cache))
        else:
            findings.append(text.forward_unmatched())
    return Section(text.variant_name(reset_after), rows, [f for f in findings if f])


def _numerical(forward, case):
    """Central differences of L = sum(h * dh) for the forward pass in use, by output name; None
    if that forward pass fails on a perturbed input."""
    x, h_prev, params = case.inputs()

    def loss():
        return float(np.sum(np.asarray(forward(x, h_prev, params)[0], dtype=np.float64) * case.dh))

    try:
        grads = {"dx": numerical_gradient(loss, x), "dh_prev": numerical_gradient(loss, h_prev)}
        grads.update({n: numerical_gradient(loss, a) for n, a in params.arrays().items()})
    except Exception:  # the learner's forward pass, perturbed: its failure only skips the check
        return None
    return grads


@functools.cache
def _reference_numerical(reset_after):
    """``_numerical`` of gru_lib's forward pass on the first graded cases: the same on every
    call (the cases are seeded), so computed once."""
    cases = [case for case in make_cases(reset_after) if case.graded][:NUMERICAL_CASES]
    return tuple(_numerical(gru_step_forward, case) for case in cases)


@dataclass
class _Record:
    case: Case
    mine: dict
    reference: dict
    reference_cache: GRUStepCache
    forward_error: float  # the learner's forward pass against gru_lib's (0 for gru_lib's own)


def _backward_records(step_backward, step_forward, reset_after):
    records = []
    for case in make_cases(reset_after):
        ref_h, ref_cache = gru_step_forward(case.x, case.h_prev, case.params)
        dx, dh_prev, grads = gru_step_backward(case.dh, ref_cache)
        reference = {"dx": dx, "dh_prev": dh_prev, **grads.arrays()}
        if step_forward is None:
            cache, forward_error = gru_step_forward(*case.inputs())[1], 0.0
        else:
            try:
                h, cache = run_forward(step_forward, case)
            except Ungradable as failure:
                raise Ungradable(text.forward_failed(failure.message), failure.status) from None
            forward_error = relative_error(h, ref_h)
            if isinstance(cache, GRUStepCache):
                forward_error = max(forward_error, *_cache_errors(cache, ref_cache).values())
        mine = run_backward(step_backward, case, cache)
        records.append(_Record(case, mine, reference, ref_cache, forward_error))
    return records


def _backward_section(step_backward, step_forward, reset_after):
    records = _backward_records(step_backward, step_forward, reset_after)
    graded = [r for r in records if r.case.graded]
    if step_forward is None:
        numerical = _reference_numerical(reset_after)
    else:
        numerical = [_numerical(step_forward, r.case) for r in graded[:NUMERICAL_CASES]]
    numerical = [(n, r) for n, r in zip(numerical, graded, strict=False) if n is not None]
    rows = [_row(key, [relative_error(r.mine[key], r.reference[key]) for r in graded],
                 [r.case.label for r in graded],
                 [relative_error(r.mine[key], n[key]) for n, r in numerical])
            for key in graded[0].reference]
    wrong = [row.name for row in rows if not row.passed]
    findings = [_summary(rows)]
    forward_right = all(r.forward_error < TOLERANCE for r in records)
    if not forward_right:
        findings.append(text.own_forward_wrong(max(r.forward_error for r in records)))
        if numerical and all(row.numerical_error < TOLERANCE for row in rows):
            findings.append(text.backward_of_own_forward(function_name(step_backward)))
    findings += [text.zeros(key) for key in wrong if _all_zeros([r.mine for r in graded], key)]
    if wrong and forward_right and all(
            all(relative_error(r.mine[k], m[k]) < TOLERANCE for k in m)
            for r, m in zip(graded, map(_mirrored_backward, graded), strict=True)):
        findings.append(text.mirrored_backward())
    elif "dh_prev" in wrong:
        findings += (diagnose_dh_prev(records, reset_after, wrong) if forward_right
                     else [text.path_diagnosis_needs_forward()])
    return Section(text.variant_name(reset_after), rows, [f for f in findings if f])


def _mirrored_backward(record):
    """gru_lib's gradients of the mirrored update h = (1 − u) ⊙ h_{t−1} + u ⊙ h̃ with u the
    cache's z: those of the standard GRU with the update gate's parameters negated (then
    1 − σ(a) = σ(−a) is the gate), the gradients of those parameters negated back."""
    case, flipped = record.case, record.case.params.copy()
    for name in ("W_xz", "W_hz", "b_z"):
        getattr(flipped, name)[...] *= -1.0
    dx, dh_prev, grads = gru_step_backward(case.dh, gru_step_forward(case.x, case.h_prev,
                                                                     flipped)[1])
    out = {"dx": dx, "dh_prev": dh_prev, **grads.arrays()}
    return {k: -v if k in ("W_xz", "W_hz", "b_z") else v for k, v in out.items()}


# -- the checkers ----------------------------------------------------------------------------


def _setting(variants, forward):
    forms = text.join(text.variant_name(v).split(" (")[0] for v in variants)
    line = (f"{forms}; {len(RANDOM_SIZES)} random cases (B, D, H) = "
            f"{text.sizes(RANDOM_SIZES)} in float64")
    if forward is not None:
        line = (f"with {forward}; {line}, and {len(ZEROINGS)} cases built to isolate the paths "
                f"of dh_prev (some recurrent weights set to 0)")
    return line


def check_step_forward(step_forward, *, reset_after=False):
    """Check a learner's ``step_forward(x, h_prev, params) -> (h, cache)`` against gru_lib's.

    ``reset_after=False`` checks the Cho form; True checks both forms (the function must follow
    ``params.reset_after``). Compares h and, if the cache is a ``GRUStepCache``, every field of
    it; names a mirrored update gate, swapped gates or a reset gate in the wrong place. Returns
    an ``ExerciseReport``: ``.passed``, and its text when printed or shown by a notebook.
    """
    check_function("step_forward", step_forward)
    variants = (False, True) if check_bool("reset_after", reset_after) else (False,)
    report = ExerciseReport("check_step_forward", function_name(step_forward),
                            _setting(variants, None), [])
    try:
        report.sections = [_forward_section(step_forward, v) for v in variants]
    except Ungradable as failure:
        report.problem, report.status = failure.message, failure.status
    return report


def check_step_backward(step_backward, step_forward=None, *, reset_after=False):
    """Check a learner's ``step_backward(dh, cache) -> (dx, dh_prev, grads)``.

    ``step_forward`` makes the caches (the learner's own, with the same signature as
    ``gru_step_forward``); None means gru_lib's, so the backward pass can be checked alone.
    ``reset_after`` as in ``check_step_forward``. Every output (dx, dh_prev and each parameter
    gradient) is compared with gru_lib's and with central differences of the forward pass in use;
    for a wrong dh_prev the report says which of the four paths (direct, update gate, reset gate,
    candidate) is wrong, and how. Returns an ``ExerciseReport``.
    """
    check_function("step_backward", step_backward)
    if step_forward is not None:
        check_function("step_forward", step_forward)
    variants = (False, True) if check_bool("reset_after", reset_after) else (False,)
    forward = ("gru_lib's gru_step_forward" if step_forward is None
               else f"your {function_name(step_forward)}")
    report = ExerciseReport("check_step_backward", function_name(step_backward),
                            _setting(variants, forward), [])
    try:
        report.sections = [_backward_section(step_backward, step_forward, v) for v in variants]
    except Ungradable as failure:
        report.problem, report.status = failure.message, failure.status
    return report


__all__ = ["ExerciseReport", "check_step_backward", "check_step_forward"]
