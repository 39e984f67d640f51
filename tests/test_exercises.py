"""The exercise checkers (gru_lib.exercises) pass the library's own step and name each mistake.

Every buggy step here is a copy of the reference step with one slip a learner makes; the checker
must fail it and say which output, and for dh_prev which of the four paths, is wrong.
"""

import numpy as np
import pytest

from gru_lib.exercises import check_step_backward, check_step_forward
from gru_lib.gru import GRUStepCache, gru_step_backward, gru_step_forward
from gru_lib.params import GRUGradients


def sig(a):
    return 1.0 / (1.0 + np.exp(-a))


# -- buggy forward passes --------------------------------------------------------------------


def make_forward(bug=None):
    """The GRU step written out, with one slip (``bug``) or none."""

    def step_forward(x, h_prev, p):
        z = sig(x @ p.W_xz + h_prev @ p.W_hz + p.b_z)
        r = sig(x @ p.W_xr + h_prev @ p.W_hr + p.b_r)
        if bug == "swapped-gates":
            z, r = r, z
        a_hh = None
        if p.reset_after and bug == "reset-before":
            h_tilde = np.tanh(x @ p.W_xh + (r * h_prev) @ p.W_hh + p.b_h + p.b_hn)
        elif p.reset_after:
            a_hh = h_prev @ p.W_hh + p.b_hn
            h_tilde = np.tanh(x @ p.W_xh + p.b_h + r * a_hh)
        elif bug == "reset-after":
            h_tilde = np.tanh(x @ p.W_xh + p.b_h + r * (h_prev @ p.W_hh))
        else:
            h_tilde = np.tanh(x @ p.W_xh + (r * h_prev) @ p.W_hh + p.b_h)
        if bug == "mirrored":
            h = (1 - z) * h_prev + z * h_tilde
        else:
            h = z * h_prev + (1 - z) * h_tilde
        if bug == "wrong-z-in-cache":
            z = np.log(z)
        cache = GRUStepCache(x, h_prev, z, r, h_tilde, a_hh, p.copy())
        if bug == "in-place":
            x *= 2.0
        if bug == "h-only":
            return h
        if bug == "transposed":
            return h.T, cache
        return h, cache

    step_forward.__name__ = f"forward_{bug}" if bug else "my_step_forward"
    return step_forward


def forward_stub(x, h_prev, params):
    raise NotImplementedError


def forward_returns_none(x, h_prev, params):
    h = x  # noqa: F841 (a stub that forgot its return)


# -- buggy backward passes -------------------------------------------------------------------


def make_backward(bug=None):
    """The GRU step's backward pass written out, with one slip (``bug``) or none."""

    def step_backward(dh, c):
        p = c.params
        dz = dh * ((c.h_tilde - c.h_prev) if bug in ("sign-da_z", "mirrored") else
                   (c.h_prev - c.h_tilde))
        dh_tilde = dh * (c.z if bug == "mirrored" else 1 - c.z)
        da_z = dz * c.z * (1 - c.z)
        da_h = dh_tilde * (1 - c.h_tilde ** 2)
        w_hh_t = p.W_hh if bug == "transpose-W_hh" else p.W_hh.T
        if p.reset_after:
            dr = da_h * c.a_hh
            da_hh = da_h * c.r
            candidate = da_hh @ w_hh_t
            d_w_hh, d_b_hn = c.h_prev.T @ da_hh, da_hh.sum(axis=0)
        else:
            d_reset_h = da_h @ w_hh_t
            dr = d_reset_h * c.h_prev
            candidate = d_reset_h if bug == "candidate-without-r" else d_reset_h * c.r
            d_w_hh, d_b_hn = (c.r * c.h_prev).T @ da_h, None
        da_r = dr if bug == "no-sigmoid-derivative-r" else dr * c.r * (1 - c.r)
        direct = {"drop-direct": 0.0, "seed-direct": -dh * (1 - c.z),
                  "mirrored": dh * (1 - c.z), "direct-first-row": dh * c.z[:1]}.get(bug, dh * c.z)
        update = {"drop-update": 0.0, "transpose-W_hz": da_z @ p.W_hz,
                  "update-odd": dz @ p.W_hz}.get(bug, da_z @ p.W_hz.T)
        reset = {"drop-reset": 0.0, "transpose-W_hr": da_r @ p.W_hr}.get(bug, da_r @ p.W_hr.T)
        if bug == "drop-candidate":
            candidate = 0.0
        dh_prev = direct + update + reset + candidate
        if bug == "wrong-for-B=1" and len(dh) == 1:
            dh_prev = 2.0 * dh_prev
        dx = da_z @ p.W_xz.T + da_h @ p.W_xh.T
        if bug != "dx-without-reset":
            dx = dx + da_r @ p.W_xr.T
        if bug == "shape-mismatch":
            dx = da_z @ p.W_xz
        grads = dict(W_xz=c.x.T @ da_z, W_xr=c.x.T @ da_r, W_xh=c.x.T @ da_h,
                     W_hz=c.h_prev.T @ da_z, W_hr=c.h_prev.T @ da_r, W_hh=d_w_hh,
                     b_z=da_z.sum(axis=0), b_r=da_r.sum(axis=0), b_h=da_h.sum(axis=0))
        if p.reset_after:
            grads["b_hn"] = d_b_hn
        if bug in ("bias-keepdims", "bias-keepdims-dict"):
            grads["b_z"] = da_z.sum(axis=0, keepdims=True)
        if bug in ("grads-as-dict", "bias-keepdims-dict"):
            return dx, dh_prev, grads
        if bug == "dh_prev-transposed":
            dh_prev = dh_prev.T
        if bug == "two-values":
            return dx, dh_prev
        if bug == "in-place":
            dh *= 0.5
        if bug == "no-b_hn":
            grads.pop("b_hn", None)
            return dx, dh_prev, grads
        return dx, dh_prev, GRUGradients(**grads, reset_after=p.reset_after)

    step_backward.__name__ = f"backward_{bug}" if bug else "my_step_backward"
    return step_backward


def backward_stub(dh, cache):
    raise NotImplementedError("write the backward pass")


def backward_returns_none(dh, cache):
    return None


# -- the library's own step, and a correct hand-written one, pass ----------------------------


@pytest.mark.parametrize("reset_after", [False, True], ids=["cho", "both-forms"])
@pytest.mark.parametrize("forward", [gru_step_forward, make_forward()], ids=["library", "hand"])
def test_a_right_forward_passes(forward, reset_after):
    report = check_step_forward(forward, reset_after=reset_after)
    assert report.passed, str(report)
    assert "passed" in str(report).splitlines()[0]
    assert report.wrong_outputs() == [] and report.findings() == []
    assert len(report.sections) == (2 if reset_after else 1)
    assert any(row.name == "cache.z" for row in report.sections[0].rows)


def test_a_forward_with_its_own_cache_is_graded_on_h():
    def my_step(x, h_prev, params):
        h, cache = gru_step_forward(x, h_prev, params)
        return h, (cache.z, cache.r)

    report = check_step_forward(my_step, reset_after=True)
    assert report.passed, str(report)
    assert [row.name for row in report.sections[0].rows] == ["h"]


@pytest.mark.parametrize("reset_after", [False, True], ids=["cho", "reset-after"])
def test_the_four_path_terms_add_up_to_the_library_dh_prev(reset_after):
    # The diagnosis fits the learner's error with these terms: they must be the library's paths.
    from gru_lib.exercise_cases import make_cases
    from gru_lib.exercise_messages import PATHS
    from gru_lib.path_diagnosis import path_terms

    for case in make_cases(reset_after):
        _, cache = gru_step_forward(case.x, case.h_prev, case.params)
        terms = path_terms(cache, case.dh)
        total = sum(terms[(path, None)] for path in PATHS)
        np.testing.assert_allclose(total, gru_step_backward(case.dh, cache)[1], atol=1e-14)
        for path in PATHS:  # a path switched off by the case's zero weights is exactly 0
            if path not in case.alive:
                assert not np.any(terms[(path, None)]), (case.label, path)


@pytest.mark.parametrize("reset_after", [False, True], ids=["cho", "both-forms"])
@pytest.mark.parametrize("backward, forward", [
    (gru_step_backward, None), (gru_step_backward, gru_step_forward),
    (make_backward(), None), (make_backward("grads-as-dict"), make_forward()),
], ids=["library", "library-with-forward", "hand", "hand-dict-grads-own-forward"])
def test_a_right_backward_passes(backward, forward, reset_after):
    report = check_step_backward(backward, forward, reset_after=reset_after)
    assert report.passed, str(report)
    names = [row.name for row in report.sections[-1].rows]
    assert names[:2] == ["dx", "dh_prev"] and "W_hh" in names
    assert ("b_hn" in names) == reset_after
    assert all(row.numerical_error < 1e-7 for s in report.sections for row in s.rows)


# -- dh_prev: each path, named ---------------------------------------------------------------

OTHERS = "reset gate and candidate paths are right"

PATH_BUGS = [
    pytest.param("drop-direct", False, {"dh_prev"},
                 ["direct path δh ⊙ z is missing", "bug of the seed notebook",
                  "update gate, " + OTHERS], id="direct-dropped"),
    pytest.param("seed-direct", False, {"dh_prev"},
                 ["direct path is −δh ⊙ (1 − z) where it should be δh ⊙ z",
                  "bug of the seed notebook"], id="seed-direct-term"),
    pytest.param("seed-direct", True, {"dh_prev"},
                 ["direct path is −δh ⊙ (1 − z)", "bug of the seed notebook"],
                 id="seed-direct-term-reset-after"),
    pytest.param("drop-update", False, {"dh_prev"},
                 ["update gate path δa_z W_hzᵀ is missing", "direct, " + OTHERS,
                  "first factor is right"], id="update-gate-dropped"),
    pytest.param("drop-reset", False, {"dh_prev"},
                 ["reset gate path δa_r W_hrᵀ is missing",
                  "direct, update gate and candidate paths are right"], id="reset-gate-dropped"),
    pytest.param("drop-candidate", False, {"dh_prev"},
                 ["candidate path (δa_h W_hhᵀ) ⊙ r is missing",
                  "direct, update gate and reset gate paths are right"], id="candidate-dropped"),
    pytest.param("drop-candidate", True, {"dh_prev"},
                 ["candidate path (δa_h ⊙ r) W_hhᵀ is missing"],
                 id="candidate-dropped-reset-after"),
    pytest.param("sign-da_z", False, {"dx", "dh_prev", "W_xz", "W_hz", "b_z"},
                 ["update gate path has the wrong sign", "W_xz, W_hz and b_z are wrong too",
                  "direct, " + OTHERS], id="sign-of-da_z"),
    pytest.param("transpose-W_hz", False, {"dh_prev"},
                 ["update gate path is δa_z W_hz (W_hz where W_hzᵀ belongs)"],
                 id="W_hz-not-transposed"),
    pytest.param("transpose-W_hr", True, {"dh_prev"},
                 ["reset gate path is δa_r W_hr (W_hr where W_hrᵀ belongs)"],
                 id="W_hr-not-transposed"),
    pytest.param("transpose-W_hh", False, {"dx", "dh_prev", "W_xr", "W_hr", "b_r"},
                 ["candidate path is (δa_h W_hh) ⊙ r (W_hh where W_hhᵀ belongs)",
                  "reset gate path is a δr built with δa_h W_hh",
                  "direct and update gate paths are right"], id="W_hh-not-transposed-cho"),
    pytest.param("transpose-W_hh", True, {"dh_prev"},
                 ["candidate path is (δa_h ⊙ r) W_hh (W_hh where W_hhᵀ belongs)",
                  "direct, update gate and reset gate paths are right"],
                 id="W_hh-not-transposed-reset-after"),
    pytest.param("candidate-without-r", False, {"dh_prev"},
                 ["candidate path is δa_h W_hhᵀ (the reset gate r is missing)"],
                 id="candidate-without-r"),
    pytest.param("no-sigmoid-derivative-r", False, {"dx", "dh_prev", "W_xr", "W_hr", "b_r"},
                 ["reset gate path is δr W_hrᵀ (the derivative r (1 − r)",
                  "W_xr, W_hr and b_r are wrong too"], id="reset-without-sigmoid-derivative"),
    pytest.param("update-odd", False, {"dh_prev"},
                 ["update gate path is wrong", "error remains when the other paths are switched "
                  "off", "direct, " + OTHERS], id="update-gate-localised"),
    pytest.param("direct-first-row", False, {"dh_prev"},
                 ["direct path is wrong", "update gate, " + OTHERS], id="direct-localised"),
    pytest.param("mirrored", False, {"dh_prev", "W_xz", "W_xr", "W_xh", "W_hz", "W_hr", "W_hh",
                                     "b_z", "b_r", "b_h", "dx"},
                 ["derivative of the mirrored update h = (1 − z) ⊙ h_{t−1} + z ⊙ h̃"],
                 id="mirrored-backward"),
]


@pytest.mark.parametrize("bug, reset_after, wrong, phrases", PATH_BUGS)
def test_a_wrong_path_of_dh_prev_is_named(bug, reset_after, wrong, phrases):
    report = check_step_backward(make_backward(bug), reset_after=reset_after)
    assert not report.passed
    assert report.problem is None
    section = report.sections[-1]  # the variant the bug is about (both fail alike)
    assert {row.name for row in section.rows if not row.passed} == wrong, str(report)
    text = " ".join(section.findings)
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in\n{report}"
    assert text.startswith("wrong: ") and "dh_prev (error " in text


def test_seed_bug_report_is_readable():
    report = check_step_backward(make_backward("seed-direct"))
    text = str(report)
    assert text.splitlines()[0] == "check_step_backward(backward_seed-direct): FAILED"
    assert "dh_prev" in text and " NO" in text
    # every line fits a notebook cell's width
    assert max(len(line) for line in text.splitlines()) <= 100, text
    assert "<pre" in report._repr_html_() and "FAILED" in report._repr_html_()


def test_a_size_dependent_mistake_is_not_blamed_on_a_path():
    report = check_step_backward(make_backward("wrong-for-B=1"))
    row = next(r for r in report.sections[0].rows if r.name == "dh_prev")
    assert not row.passed and row.failing_cases == ["B = 1, D = 3, H = 4"]
    assert "depends on the sizes" in " ".join(report.findings())
    assert "(wrong only for B = 1, D = 3, H = 4)" in str(report)


def test_a_wrong_dx_alone_is_named_without_a_path_diagnosis():
    report = check_step_backward(make_backward("dx-without-reset"))
    assert report.wrong_outputs() == ["dx"]
    assert not any("path" in f for f in report.findings())


# -- the learner's own forward pass ----------------------------------------------------------


def test_a_wrong_forward_is_reported_by_the_backward_check():
    report = check_step_backward(gru_step_backward, make_forward("mirrored"))
    assert not report.passed
    text = " ".join(report.findings())
    assert "your step_forward is wrong too" in text
    assert "told apart only when the forward pass is right" in text


def test_a_backward_consistent_with_a_wrong_forward_is_recognised():
    report = check_step_backward(make_backward("mirrored"), make_forward("mirrored"))
    assert not report.passed
    assert all(row.numerical_error < 1e-7 for row in report.sections[0].rows), str(report)
    assert "derivative of your forward pass, which is itself wrong" in " ".join(report.findings())


# -- forward slips, named --------------------------------------------------------------------


@pytest.mark.parametrize("bug, reset_after, phrase", [
    ("mirrored", False, "the update gate is mirrored"),
    ("mirrored", True, "the update gate is mirrored"),
    ("reset-after", False, "the reset gate is applied after the product with W_hh"),
    ("reset-before", True, "the reset gate is applied before the product with W_hh"),
    ("swapped-gates", False, "the two gates are swapped"),
    ("wrong-z-in-cache", False, "wrong: cache.z"),
], ids=["mirrored-update", "mirrored-update-reset-after", "reset-after-instead-of-before",
        "reset-before-instead-of-after", "swapped-gates", "wrong-cache"])
def test_a_forward_slip_is_named(bug, reset_after, phrase):
    report = check_step_forward(make_forward(bug), reset_after=reset_after)
    assert not report.passed and report.problem is None
    assert phrase in " ".join(report.findings()), str(report)
    if bug == "reset-before":  # the Cho form is still right
        assert report.sections[0].passed and not report.sections[1].passed


# -- stubs and wrong return values: a message, not a traceback -------------------------------

STUBS = [
    pytest.param(check_step_forward, forward_stub, "NOT WRITTEN YET",
                 ["raised NotImplementedError: it is still the stub", "return (h, cache)"],
                 id="forward-NotImplementedError"),
    pytest.param(check_step_forward, forward_returns_none, "NOT WRITTEN YET",
                 ["returned None", "return (h, cache)"], id="forward-returns-None"),
    pytest.param(check_step_forward, make_forward("h-only"), "COULD NOT BE CHECKED",
                 ["returned a ndarray of shape (1, 4), but it must return a pair"],
                 id="forward-returns-h-only"),
    pytest.param(check_step_forward, make_forward("transposed"), "COULD NOT BE CHECKED",
                 ["returned h of shape (4, 1), but it must be (B, H) = (1, 4)"],
                 id="forward-wrong-shape"),
    pytest.param(check_step_forward, make_forward("in-place"), "COULD NOT BE CHECKED",
                 ["changed its input x in place"], id="forward-changes-x"),
    pytest.param(check_step_backward, backward_stub, "NOT WRITTEN YET",
                 ["raised NotImplementedError", "return (dx, dh_prev, grads)"],
                 id="backward-NotImplementedError"),
    pytest.param(check_step_backward, backward_returns_none, "NOT WRITTEN YET",
                 ["returned None", "return (dx, dh_prev, grads)"], id="backward-returns-None"),
    pytest.param(check_step_backward, make_backward("two-values"), "COULD NOT BE CHECKED",
                 ["returned a tuple of 2 value(s), but it must return three values"],
                 id="backward-two-values"),
    pytest.param(check_step_backward, make_backward("dh_prev-transposed"), "COULD NOT BE CHECKED",
                 ["returned dh_prev of shape (4, 1), but it must be (B, H) = (1, 4)"],
                 id="backward-dh_prev-wrong-shape"),
    pytest.param(check_step_backward, make_backward("bias-keepdims-dict"), "COULD NOT BE CHECKED",
                 ["the gradient b_z of shape (1, 4), but it must be (H,) = (4,)", ".sum(axis=0)"],
                 id="backward-bias-keepdims"),
    pytest.param(check_step_backward, make_backward("bias-keepdims"), "COULD NOT BE CHECKED",
                 ["raised ValueError", "GRUGradients.b_z must have shape (4,)", ".sum(axis=0)"],
                 id="backward-bias-keepdims-in-GRUGradients"),
    pytest.param(check_step_backward, make_backward("shape-mismatch"), "COULD NOT BE CHECKED",
                 ["raised ValueError on the case", "at line", "dx = da_z @ p.W_xz",
                  "shapes of a product"],
                 id="backward-raises-ValueError"),
    pytest.param(check_step_backward, make_backward("in-place"), "COULD NOT BE CHECKED",
                 ["changed its input dh in place"], id="backward-changes-dh"),
]


@pytest.mark.parametrize("check, function, status, phrases", STUBS)
def test_a_stub_or_wrong_structure_gets_a_friendly_message(check, function, status, phrases):
    report = check(function)
    assert not report.passed and report.sections == []
    text = str(report)
    assert text.splitlines()[0].endswith(status)
    assert "Traceback" not in text
    for phrase in phrases:
        assert phrase in report.problem, f"{phrase!r} not in\n{text}"


def test_missing_b_hn_is_named():
    report = check_step_backward(make_backward("no-b_hn"), reset_after=True)
    assert not report.passed and "grads has no b_hn" in report.problem


def test_a_failing_own_forward_stops_the_backward_check_with_a_message():
    report = check_step_backward(gru_step_backward, forward_stub)
    assert report.status == "NOT WRITTEN YET"
    assert "step_forward could not be run" in report.problem
    assert "pass step_forward=None" in report.problem


# -- the checkers themselves -----------------------------------------------------------------


def test_reports_are_deterministic_and_display_in_notebooks():
    first = check_step_backward(make_backward("drop-reset"), reset_after=True)
    again = check_step_backward(make_backward("drop-reset"), reset_after=True)
    assert str(first) == str(again)

    class Printer:
        def __init__(self):
            self.out = []

        def text(self, value):
            self.out.append(value)

    printer = Printer()
    first._repr_pretty_(printer, False)
    assert printer.out == [str(first)]


@pytest.mark.parametrize("call, error", [
    (lambda: check_step_forward(None), TypeError),
    (lambda: check_step_backward("gru_step_backward"), TypeError),
    (lambda: check_step_backward(gru_step_backward, 3), TypeError),
    (lambda: check_step_forward(gru_step_forward, reset_after="yes"), TypeError),
    (lambda: check_step_backward(gru_step_backward, reset_after=1), TypeError),
], ids=["forward-None", "backward-a-string", "forward-not-callable", "reset_after-str",
        "reset_after-int"])
def test_bad_arguments_raise(call, error):
    with pytest.raises(error):
        call()
