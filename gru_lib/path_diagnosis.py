"""Which of the four paths of a learner's dh_prev is wrong: the diagnosis behind
``gru_lib.exercises.check_step_backward``.

The error of the learner's dh_prev (against gru_lib's, over all graded cases) is first fitted by
least squares to each path's correct term and to the forms learners write instead (a transposed
weight, a missing derivative, the seed notebook's direct term). An exact fit names each path's
mistake. Otherwise the error is localised with cases whose recurrent weights are partly zero,
where only some paths are on: a path is right if dh_prev is right somewhere that path is on.
"""

import numpy as np

from gru_lib import exercise_messages as text
from gru_lib.activations import sigmoid_grad_from_output, tanh_grad_from_output
from gru_lib.exercise_messages import PATHS
from gru_lib.gradcheck import relative_error

TOLERANCE = 1e-7  # the largest relative error that passes (correct float64 code gives ~1e-15)
FIT_TOLERANCE = 1e-6  # the largest relative residual of an exact fit of dh_prev's error
QUIET_UNITS = [1, 3]  # the hidden units where the isolation cases' dh is 0


def path_terms(c, dh):
    """The four paths of dh_prev as gru_step_backward computes them, keyed (path, None), and the
    forms learners write instead, keyed (path, form); from gru_lib's cache ``c``."""
    p = c.params
    dz = dh * (c.h_prev - c.h_tilde)
    da_z = dz * sigmoid_grad_from_output(c.z)
    dh_tilde = dh * (1 - c.z)
    da_h = dh_tilde * tanh_grad_from_output(c.h_tilde)

    def reset_and_candidate(da_h, w_hh_t):
        """(da_r, δr, the candidate path, the candidate path without r) for this δa_h."""
        if p.reset_after:
            dr, candidate, without_r = da_h * c.a_hh, (da_h * c.r) @ w_hh_t, da_h @ w_hh_t
        else:
            d_reset_h = da_h @ w_hh_t
            dr, candidate, without_r = d_reset_h * c.h_prev, d_reset_h * c.r, d_reset_h
        return dr * sigmoid_grad_from_output(c.r), dr, candidate, without_r

    da_r, dr, candidate, without_r = reset_and_candidate(da_h, p.W_hh.T)
    terms = {
        ("direct", None): dh * c.z, ("direct", "seed"): -dh * (1 - c.z),
        ("update gate", None): da_z @ p.W_hz.T, ("update gate", "transposed"): da_z @ p.W_hz,
        ("update gate", "no sigmoid'"): dz @ p.W_hz.T,
        ("reset gate", None): da_r @ p.W_hr.T, ("reset gate", "transposed"): da_r @ p.W_hr,
        ("reset gate", "no sigmoid'"): dr @ p.W_hr.T,
        ("reset gate", "no tanh'"): reset_and_candidate(dh_tilde, p.W_hh.T)[0] @ p.W_hr.T,
        ("candidate", None): candidate, ("candidate", "no r"): without_r,
        ("candidate", "transposed"): reset_and_candidate(da_h, p.W_hh)[2],
        ("candidate", "no tanh'"): reset_and_candidate(dh_tilde, p.W_hh.T)[2],
    }
    if not p.reset_after:  # only the Cho form's δr goes through W_hhᵀ
        terms[("reset gate", "W_hh transposed")] = reset_and_candidate(da_h, p.W_hh)[0] @ p.W_hr.T
    return terms


def _rounded(value):
    return float(round(value)) if abs(value - round(value)) < FIT_TOLERANCE else float(value)


def diagnose_dh_prev(records, reset_after, wrong_outputs):
    """Findings on dh_prev's four paths: an exact fit of the error, else a localisation."""
    terms = [path_terms(r.reference_cache, r.case.dh) for r in records]
    keys = list(terms[0])
    basis = np.stack([np.concatenate([t[k].ravel() for t in terms]) for k in keys], axis=1)
    error = np.concatenate([(r.mine["dh_prev"] - r.reference["dh_prev"]).ravel()
                            for r in records])
    coefficients, *_ = np.linalg.lstsq(basis, error, rcond=None)
    residual = np.linalg.norm(basis @ coefficients - error) / np.linalg.norm(error)
    if residual < FIT_TOLERANCE:
        fit = {k: _rounded(c) for k, c in zip(keys, coefficients, strict=True)}
        findings, right = [], []
        for path in PATHS:
            forms = {form: c for (p, form), c in fit.items() if p == path and form and c != 0}
            if path == "direct":  # m δh ⊙ z + s (−δh ⊙ (1 − z)) = (m + s) δh ⊙ z − s δh
                m, s = 1 + fit[("direct", None)], forms.get("seed", 0.0)
                verdict = text.direct_verdict(m + s, -s + 0.0)
            else:
                verdict = text.path_verdict(path, 1 + fit[(path, None)], forms, reset_after)
            if verdict is None:
                right.append(path)
            else:
                findings.append(verdict + text.shared_hint(path, wrong_outputs))
        return findings + [text.right_paths(right)]
    return _localise(records, reset_after, wrong_outputs)


def _observations(records):
    """(paths on, dh_prev right?) for every isolation case: over all of dh_prev, and over the
    quiet units alone, where the direct path is off."""
    out = []
    for r in records:
        if not r.case.graded:
            mine, reference = r.mine["dh_prev"], r.reference["dh_prev"]
            out.append((r.case.alive, relative_error(mine, reference) < TOLERANCE))
            out.append((r.case.alive - {"direct"},
                        relative_error(mine[:, QUIET_UNITS], reference[:, QUIET_UNITS])
                        < TOLERANCE))
    return out


def _localise(records, reset_after, wrong_outputs):
    """Findings from where dh_prev is right: a path is right if dh_prev is right somewhere the
    path is on; wrong if dh_prev is wrong somewhere it is the only path not known to be right."""
    observations = _observations(records)
    cleared = set().union(*(alive for alive, ok in observations if ok))
    failing = [alive for alive, ok in observations if not ok]
    if not failing:
        return [text.size_dependent([r.case.label for r in records if r.case.graded and
                                     relative_error(r.mine["dh_prev"], r.reference["dh_prev"])
                                     >= TOLERANCE])]
    if any(alive <= cleared for alive in failing):
        return [text.no_path()]
    suspects = set(PATHS) - cleared
    confirmed = [p for p in PATHS if any(alive & suspects == {p} for alive in failing)]
    unresolved = [p for p in PATHS if p in suspects and p not in confirmed]
    findings = [text.localised(p, reset_after) + text.shared_hint(p, wrong_outputs)
                for p in confirmed]
    findings.append(text.unresolved(unresolved, confirmed, reset_after))
    return findings + [text.right_paths([p for p in PATHS if p in cleared])]


