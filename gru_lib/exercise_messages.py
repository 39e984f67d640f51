"""What the exercise checkers of ``gru_lib.exercises`` tell the learner, in words.

``gru_lib.exercises`` and ``gru_lib.path_diagnosis`` decide what is right and what is wrong; this
module only says it: which output is wrong, which of the four paths of dh_prev, which
convention, and what a stub should return.
"""

import os
import traceback

PATHS = ("direct", "update gate", "reset gate", "candidate")

# What each path of dh_prev contributes, as the book writes it, by variant (reset_after).
PATH_TERMS = {
    False: {"direct": "δh ⊙ z", "update gate": "δa_z W_hzᵀ", "reset gate": "δa_r W_hrᵀ",
            "candidate": "(δa_h W_hhᵀ) ⊙ r"},
    True: {"direct": "δh ⊙ z", "update gate": "δa_z W_hzᵀ", "reset gate": "δa_r W_hrᵀ",
           "candidate": "(δa_h ⊙ r) W_hhᵀ"},
}

# What a learner writes instead of a path, by the name of the alternative form (see
# ``exercises._path_terms``), in words.
FORMS = {
    ("update gate", "transposed"): "δa_z W_hz (W_hz where W_hzᵀ belongs)",
    ("update gate", "no sigmoid'"): "δz W_hzᵀ (the derivative z (1 − z) of the sigmoid is missing)",
    ("reset gate", "transposed"): "δa_r W_hr (W_hr where W_hrᵀ belongs)",
    ("reset gate", "no sigmoid'"): "δr W_hrᵀ (the derivative r (1 − r) of the sigmoid is missing)",
    ("reset gate", "no tanh'"): "a δr built from δh̃ instead of δa_h (the derivative 1 − h̃² of "
                                "tanh is missing)",
    ("reset gate", "W_hh transposed"): "a δr built with δa_h W_hh (W_hh where W_hhᵀ belongs)",
    ("candidate", "transposed"): ("(δa_h W_hh) ⊙ r (W_hh where W_hhᵀ belongs)",
                                  "(δa_h ⊙ r) W_hh (W_hh where W_hhᵀ belongs)"),
    ("candidate", "no r"): "δa_h W_hhᵀ (the reset gate r is missing)",
    ("candidate", "no tanh'"): ("(δh̃ W_hhᵀ) ⊙ r (the derivative 1 − h̃² of tanh is missing)",
                                "(δh̃ ⊙ r) W_hhᵀ (the derivative 1 − h̃² of tanh is missing)"),
}


def form(path, name, reset_after):
    """A form of ``FORMS`` in words; a pair holds the Cho form's and the reset-after form's."""
    words = FORMS[(path, name)]
    return words[reset_after] if isinstance(words, tuple) else words

# The parameters whose gradients share a path's first factor (δa_z, δa_r or δa_h).
SHARED = {"update gate": ("W_xz", "W_hz", "b_z"), "reset gate": ("W_xr", "W_hr", "b_r"),
          "candidate": ("W_xh", "W_hh", "b_h", "b_hn")}
FIRST_FACTOR = {"update gate": "δa_z (δz = δh ⊙ (h_{t−1} − h̃), then ⊙ z (1 − z))",
                "reset gate": "δa_r (δr, then ⊙ r (1 − r))",
                "candidate": "δa_h (δh̃ = δh ⊙ (1 − z), then ⊙ (1 − h̃²))"}

SEED_BUG = ("this is the bug of the seed notebook: its direct term dropped the identity path "
            "h_{t−1} → h_t, so dh_prev comes out short by exactly δh (chapter 4 rebuilds it). "
            "The direct term of h = z ⊙ h_{t−1} + (1 − z) ⊙ h̃ is δh ⊙ z")


def variant_name(reset_after):
    return "reset-after form (reset_after=True)" if reset_after else "Cho form (reset_after=False)"


def join(words):
    """'a', 'a and b', 'a, b and c'."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def plural(items):
    return "s" if len(items) > 1 else ""


def sizes(cases):
    return ", ".join(f"({b}, {d}, {h})" for b, d, h in cases)


# -- a function that could not be graded -----------------------------------------------------

RETURNS = {
    "forward": ("return (h, cache): h the new hidden state, a (B, H) array ({shape} here), and "
                "cache what your step_backward needs (gru_lib's step returns a "
                "GRUStepCache(x, h_prev, z, r, h_tilde, a_hh, params))"),
    "backward": ("return (dx, dh_prev, grads): dx a (B, D) array ({dx} here), dh_prev a (B, H) "
                 "array ({dh} here) and grads a GRUGradients(W_xz=..., W_xr=..., W_xh=..., "
                 "W_hz=..., W_hr=..., W_hh=..., b_z=..., b_r=..., b_h=..., "
                 "reset_after=p.reset_after, b_hn=...) with b_hn None in the Cho form"),
}


def what_to_return(kind, shapes):
    return RETURNS[kind].format(**shapes)


def not_written(name, kind, shapes):
    return (f"{name} raised NotImplementedError: it is still the stub, nothing to check yet.\n"
            f"Replace the `raise NotImplementedError` with your code and "
            f"{what_to_return(kind, shapes)}.")


def returned_none(name, kind, shapes):
    return (f"{name} returned None: it has no `return` statement yet (or it returns nothing).\n"
            f"It must {what_to_return(kind, shapes)}.")


def wrong_structure(name, kind, shapes, got):
    count = {"forward": "a pair", "backward": "three values"}[kind]
    return f"{name} returned {got}, but it must return {count}: {what_to_return(kind, shapes)}."


def describe(value):
    """A short description of a returned value: its type and, for arrays, shape."""
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)} value(s)"
    shape = getattr(value, "shape", None)
    return f"a {type(value).__name__}" + (f" of shape {shape}" if shape is not None else "")


def _where(error, function):
    """The frame of the learner's code an exception came from: in the function's own file if
    there is one, else the last one outside installed packages and gru_lib."""
    frames = traceback.extract_tb(error.__traceback__)[1:]  # [0] is the checker's call
    code = getattr(function, "__code__", None)
    own = [f for f in frames if code is not None and f.filename == code.co_filename]
    outside = [f for f in frames if "site-packages" not in f.filename
               and not f.filename.startswith(os.path.dirname(__file__))]
    return (own or outside or [None])[-1]


def raised(name, error, function, case):
    """An exception of the learner's function, with the line of their code it came from."""
    lines = [f"{name} raised {type(error).__name__} on the case {case}:", f"    {error}"]
    frame = _where(error, function)
    if frame is not None:
        lines += [f"at line {frame.lineno} of {frame.name}" + (":" if frame.line else ""),
                  f"    {frame.line}" if frame.line else ""]
    message = str(error)
    if isinstance(error, ValueError) and ("matmul" in message or "aligned" in message
                                          or "broadcast" in message):
        lines.append("The shapes of a product do not fit: a matrix that should be transposed (or "
                     "one that should not), or a product in the wrong order (row vectors: x @ W, "
                     "h @ W, δa @ Wᵀ).")
    if "must have shape" in message and "GRUGradients" in message:
        lines.append("Every gradient has the shape of its parameter: (D, H) for W_xz, W_xr, "
                     "W_xh; (H, H) for W_hz, W_hr, W_hh; (H,) for a bias, which sums over the "
                     "batch: .sum(axis=0), without keepdims.")
    return "\n".join(line for line in lines if line)


def bad_shape(name, what, got, expected, dims):
    """A returned array of the wrong shape (``dims`` its shape in letters), with a hint."""
    hint = ""
    if len(expected) == 1 and len(got) == 2 and got[-1] == expected[0]:
        hint = " A bias gradient sums over the batch: .sum(axis=0), without keepdims."
    elif len(expected) == 2 and got == expected[::-1] and what.startswith("the gradient"):
        hint = (" That is the transpose: a weight gradient is (its input)ᵀ @ δa, e.g. "
                "x.T @ da_z, not da_z.T @ x.")
    elif len(expected) == 2 and got == expected[::-1]:
        hint = " That is the transpose: in this book vectors are rows, x @ W and h @ W."
    return f"{name} returned {what} of shape {got}, but it must be {dims} = {expected}.{hint}"


def not_an_array(name, what, value):
    return f"{name} returned {what} as {describe(value)}, but it must be a NumPy array."


def not_finite(name, what):
    return f"{name} returned {what} with NaN or infinity in it."


def changed_input(name, what):
    return (f"{name} changed its input {what} in place (e.g. with `*=` or `+=` on it). A step "
            f"must leave its inputs as they were: the loop over time uses them again. Write "
            f"`a = a * b` (a new array) instead of `a *= b`.")


def forward_failed(problem):
    return ("Your step_forward could not be run, so step_backward was not checked:\n"
            + problem + "\nCheck step_forward first with check_step_forward, or pass "
            "step_forward=None to check step_backward with gru_lib's forward pass.")


def missing_gradients(name, missing):
    return (f"{name}'s grads has no {join(missing)}. Return every gradient: "
            f"{what_to_return('backward', {'dx': '(B, D)', 'dh': '(B, H)'})}.")


# -- findings --------------------------------------------------------------------------------


def zeros(name):
    return (f"{name} is all zeros: is it still a placeholder such as np.zeros_like(...)?")


GATES = {
    "mirrored": "the update gate is mirrored: you computed h = (1 − z) ⊙ h_{t−1} + z ⊙ h̃, but "
                "in this book z keeps the old state: h = z ⊙ h_{t−1} + (1 − z) ⊙ h̃",
    "swapped": "the two gates are swapped: the update gate z uses W_xz, W_hz, b_z and the reset "
               "gate r uses W_xr, W_hr, b_r",
}
CANDIDATES = {
    (False, "after"): "the reset gate is applied after the product with W_hh (r ⊙ (h_{t−1} "
                      "W_hh), the reset-after form), but these are Cho-form parameters "
                      "(reset_after=False): reset first, h̃ = tanh(x W_xh + (r ⊙ h_{t−1}) W_hh "
                      "+ b_h)",
    (False, "none"): "the reset gate is missing from the candidate: h̃ = tanh(x W_xh + "
                     "(r ⊙ h_{t−1}) W_hh + b_h)",
    (True, "before"): "the reset gate is applied before the product with W_hh (the Cho form), "
                      "but these parameters have reset_after=True: h̃ = tanh(x W_xh + b_h + "
                      "r ⊙ (h_{t−1} W_hh + b_hn))",
    (True, "before, no b_hn"): "the reset gate is applied before the product with W_hh (the Cho "
                               "form) and b_hn is left out, but these parameters have "
                               "reset_after=True: h̃ = tanh(x W_xh + b_h + r ⊙ (h_{t−1} W_hh "
                               "+ b_hn))",
    (True, "b_hn outside"): "b_hn is added outside the reset gate: it belongs inside, "
                            "r ⊙ (h_{t−1} W_hh + b_hn)",
    (True, "no b_hn"): "b_hn is missing: h̃ = tanh(x W_xh + b_h + r ⊙ (h_{t−1} W_hh + b_hn))",
    (True, "none"): "the reset gate is missing from the candidate: h̃ = tanh(x W_xh + b_h + "
                    "r ⊙ (h_{t−1} W_hh + b_hn))",
}


def forward_mistake(gate, candidate, reset_after):
    parts = ([GATES[gate]] if gate != "right" else [])
    parts += [CANDIDATES[(reset_after, candidate)]] if candidate != "right" else []
    return "h: " + "; and ".join(parts) + "."


def forward_cache_hint(wrong):
    return (f"h is wrong, and so is the cache's {join(wrong)}: start looking there.")


def forward_unmatched():
    return ("h: none of the usual slips (a mirrored update gate, swapped gates, the reset gate in "
            "the wrong place) explains the error; compare your lines with the equations one by "
            "one.")


def backward_of_own_forward(name):
    return (f"{name} agrees with central differences of your step_forward, so it is the "
            f"derivative of your forward pass, which is itself wrong: fix step_forward "
            f"(check_step_forward) and the backward pass may be right already.")


def own_forward_wrong(error):
    return (f"your step_forward is wrong too (its h or its cache, error {error:.1e}): the cache "
            f"feeds step_backward, so check step_forward first with check_step_forward.")


def mirrored_backward():
    return ("every output is the derivative of the mirrored update h = (1 − z) ⊙ h_{t−1} + z ⊙ h̃ "
            "(the seed notebook's convention), but in this book z keeps the old state: "
            "h = z ⊙ h_{t−1} + (1 − z) ⊙ h̃. So δz = δh ⊙ (h_{t−1} − h̃), δh̃ = δh ⊙ (1 − z) and "
            "the direct path is δh ⊙ z.")


def path_diagnosis_needs_forward():
    return ("dh_prev: the four paths are told apart only when the forward pass is right; "
            "fix step_forward first, or pass step_forward=None.")


DIRECT = {  # (a, b) of a direct term a δh ⊙ z + b δh -> what it is, in words
    (0.0, 0.0): "the direct path δh ⊙ z is missing; " + SEED_BUG,
    (1.0, -1.0): "the direct path is −δh ⊙ (1 − z) where it should be δh ⊙ z; " + SEED_BUG,
    (-1.0, 1.0): "the direct path is δh ⊙ (1 − z), the direct term of the mirrored convention "
                 "(where 1 − z keeps the state); here it is δh ⊙ z",
    (0.0, 1.0): "the direct path is δh, without the factor z; it is δh ⊙ z",
    (-1.0, 0.0): "the direct path has the wrong sign: −δh ⊙ z instead of δh ⊙ z",
    (2.0, 0.0): "the direct path δh ⊙ z is added twice",
}


def direct_verdict(a, b):
    """One sentence on a direct term ``a δh ⊙ z + b δh``; None if it is right (a = 1, b = 0)."""
    if (a, b) == (1.0, 0.0):
        return None
    if (a, b) in DIRECT:
        return f"dh_prev: {DIRECT[(a, b)]}."
    if b == 0:
        return f"dh_prev: the direct path is {a:.3g} times what it should be, δh ⊙ z."
    return f"dh_prev: the direct path is {a:.3g} δh ⊙ z {b:+.3g} δh; it should be δh ⊙ z."


def path_verdict(path, multiplier, forms, reset_after):
    """One sentence on the update gate, reset gate or candidate path from the linear fit
    ``multiplier * right term + sum of forms`` (``forms``: name -> coefficient, the non-zero
    ones); None if the path is right."""
    term = PATH_TERMS[reset_after][path]
    if not forms:
        if multiplier == 1:
            return None
        if multiplier == 0:
            return f"dh_prev: the {path} path {term} is missing."
        if multiplier == -1:
            return f"dh_prev: the {path} path has the wrong sign: −{term} instead of {term}."
        if multiplier == 2:
            return f"dh_prev: the {path} path {term} is added twice."
        return f"dh_prev: the {path} path is {multiplier:.3g} times what it should be, {term}."
    if multiplier == 0 and len(forms) == 1:
        (name, coefficient), = forms.items()
        words = form(path, name, reset_after)
        if coefficient == 1:
            return f"dh_prev: the {path} path is {words}; it should be {term}."
        if coefficient == -1:
            return f"dh_prev: the {path} path is minus {words}; it should be {term}."
    return f"dh_prev: the {path} path is wrong; it should be {term}."


def shared_hint(path, wrong_outputs):
    """Whether the path's first factor is to blame, judged by the gradients that share it."""
    if path not in SHARED:
        return ""
    shared = [name for name in SHARED[path] if name in wrong_outputs]
    if shared:
        return (f" {join(shared)} {'is' if len(shared) == 1 else 'are'} wrong too, and "
                f"share {FIRST_FACTOR[path]} with this path: look there first.")
    return (f" Its first factor is right ({join(SHARED[path][:3])} are right), so the mistake is "
            f"in this path's own term.")


def right_paths(paths):
    if not paths:
        return None
    if len(paths) == 1:
        return f"dh_prev: the {paths[0]} path is right."
    return f"dh_prev: the {join(paths)} paths are right."


def localised(path, reset_after):
    return (f"dh_prev: the {path} path is wrong (it should be {PATH_TERMS[reset_after][path]}): "
            f"the error remains when the other paths are switched off by setting recurrent "
            f"weights to 0.")


def unresolved(paths, confirmed, reset_after):
    """The suspect paths that could not be checked on their own (None if there are none)."""
    if not paths:
        return None
    if not confirmed:
        return f"dh_prev: the error is in the {join(paths)} paths, which could not be told apart."
    why = (" (in the Cho form the reset gate path also starts from δa_h W_hhᵀ)"
           if not reset_after and "reset gate" in paths and "candidate" in confirmed else "")
    return (f"dh_prev: the {join(paths)} path{plural(paths)} could not be checked apart from "
            f"the wrong {join(confirmed)} path{plural(confirmed)}{why}.")


def size_dependent(cases):
    return (f"dh_prev is wrong, but right on every case built to isolate its paths: the mistake "
            f"depends on the sizes rather than on one path (wrong for {'; '.join(cases)}). Look "
            f"for a sum over the wrong axis, or a broadcast that only works for some B.")


def no_path():
    return ("dh_prev is wrong, and no one path explains it: it is wrong even on a case where only "
            "paths that are right elsewhere are on (is something added to dh_prev that belongs "
            "to none of the four paths?).")
