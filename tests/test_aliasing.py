"""Editing arrays in place after a forward pass never changes the gradients of its backward.

A forward pass's cache holds its own copies of what it read (inputs, initial state, mask,
parameters), and an output it returns is not the cache's storage (or, on the fast path, is a
read-only view of it). So ``hs *= 0.5``, ``xs += 1``, ``h0 += 1``, ``params.W_hh += 1`` (what an
optimiser step does) or editing the mask, after the forward pass and before the backward pass,
give exactly the gradients of an untouched run: for the GRU step and sequence functions on both
paths, the RNN, the head and ``LastStateModel``. A backward pass changes none of its inputs
either, and can be run twice on one cache.
"""

import copy

import numpy as np
import pytest
from helpers import LAYER_CASES, random_mask, random_problem

from gru_lib import fast, gru, rnn
from gru_lib.adding import init_adding_model, make_adding_problem
from gru_lib.data import TRAIN_DATA, Vocabulary
from gru_lib.head import head_backward, head_forward
from gru_lib.model import SentimentModel


def flatten(result):
    """Copies of every array of a backward pass's result (arrays, containers, dicts)."""
    out = {}

    def add(prefix, value):
        if isinstance(value, np.ndarray):
            out[prefix] = value.copy()
        elif isinstance(value, dict):
            for name, v in value.items():
                add(f"{prefix}.{name}", v)
        elif isinstance(value, tuple | list):
            for i, v in enumerate(value):
                add(f"{prefix}[{i}]", v)
        else:  # a parameter container
            add(prefix, value.arrays())

    add("", result)
    return out


def assert_same_gradients(got, expected):
    got, expected = flatten(got), flatten(expected)
    assert list(got) == list(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(got[name], value, err_msg=name)


def edit_params(params, which):
    """``params.W_hh += 1`` or every array += 1, in place (an optimiser step does this)."""
    names = ["W_hh"] if which == "W_hh" else list(params.arrays())
    for name in names:
        params.arrays()[name][...] += 1.0


# -- sequence functions: the GRU on both paths and the RNN -------------------------------------

SEQUENCE_LAYERS = [
    pytest.param("gru", False, id="gru-reset_before"),
    pytest.param("gru", True, id="gru-reset_after"),
    pytest.param("gru_fast", False, id="gru_fast-reset_before"),
    pytest.param("gru_fast", True, id="gru_fast-reset_after"),
    pytest.param("rnn", None, id="rnn"),
]
SEQUENCE_EDITS = ["hs *= 0.5", "xs += 1", "h0 += 1", "params.W_hh += 1", "every param += 1",
                  "mask edited", "all of them"]


def sequence_problem(kind, reset_after, masked):
    case = LAYER_CASES[kind]
    options = {} if reset_after is None else {"reset_after": reset_after}
    params, xs, h0 = random_problem(5, 3, 2, 4, init=case.init, seed=21, **options)
    mask = random_mask(5, 3, seed=22) if masked else None
    dhs = np.random.default_rng(23).standard_normal((5, 3, 4))
    return case, params, xs, h0, mask, dhs


def apply_sequence_edit(edit, kind, hs, xs, h0, params, mask):
    everything = edit == "all of them"
    if edit == "hs *= 0.5" or everything:
        if kind == "gru_fast":  # read-only: the edit is refused (test_fast_hs_is_read_only)
            with pytest.raises(ValueError, match="read-only"):
                hs *= 0.5
        else:
            hs *= 0.5
    if edit == "xs += 1" or everything:
        xs += 1.0
    if edit == "h0 += 1" or everything:
        h0 += 1.0
    if edit == "params.W_hh += 1":
        edit_params(params, "W_hh")
    if edit == "every param += 1" or everything:
        edit_params(params, "all")
    if edit == "mask edited" or everything:
        mask[...] = 1.0 - mask


@pytest.mark.parametrize("edit", SEQUENCE_EDITS)
@pytest.mark.parametrize("kind, reset_after", SEQUENCE_LAYERS)
def test_editing_after_a_sequence_forward_pass(kind, reset_after, edit):
    case, params, xs, h0, mask, dhs = sequence_problem(kind, reset_after, masked=True)
    _, clean_cache = case.forward(xs, h0, params, mask)
    expected = case.backward(dhs, clean_cache)
    hs, cache = case.forward(xs, h0, params, mask)
    apply_sequence_edit(edit, kind, hs, xs, h0, params, mask)
    assert_same_gradients(case.backward(dhs, cache), expected)
    # The first cache is untouched as well.
    assert_same_gradients(case.backward(dhs, clean_cache), expected)


@pytest.mark.parametrize("kind, reset_after", SEQUENCE_LAYERS)
def test_a_sequence_backward_pass_changes_nothing_and_can_be_repeated(kind, reset_after):
    case, params, xs, h0, mask, dhs = sequence_problem(kind, reset_after, masked=True)
    before = copy.deepcopy((params, xs, h0, mask, dhs))
    hs, cache = case.forward(xs, h0, params, mask)
    hs_before = hs.copy()
    first = case.backward(dhs, cache)
    assert_same_gradients((params, xs, h0, mask, dhs), before)
    np.testing.assert_array_equal(hs, hs_before)
    # The returned gradients are new arrays: editing them changes neither the parameters nor a
    # second backward pass on the same cache.
    dxs, dh0, grads = first
    expected = copy.deepcopy(first)
    for g in (dxs, dh0, *grads.arrays().values()):
        for a in (xs, h0, dhs, *params.arrays().values()):
            assert not np.shares_memory(g, a)
        g += 1.0
    assert_same_gradients(case.backward(dhs, cache), expected)


@pytest.mark.parametrize("kind, reset_after", SEQUENCE_LAYERS[:2] + SEQUENCE_LAYERS[4:])
def test_reference_caches_hold_copies(kind, reset_after):
    case, params, xs, h0, mask, _ = sequence_problem(kind, reset_after, masked=True)
    hs, cache = case.forward(xs, h0, params, mask)
    assert hs.flags.writeable and not np.shares_memory(hs, cache.hs)
    assert not np.shares_memory(cache.mask, mask)
    for step in cache.steps:
        assert not np.shares_memory(step.x, xs) and not np.shares_memory(step.h_prev, h0)
        assert step.params is not params
        for name, value in params.arrays().items():
            assert not np.shares_memory(step.params.arrays()[name], value), name


@pytest.mark.parametrize("reset_after", [False, True], ids=["reset_before", "reset_after"])
def test_fast_hs_is_read_only(reset_after):
    params, xs, h0 = random_problem(4, 2, 3, 5, reset_after=reset_after, seed=24)
    hs, cache = fast.gru_forward(xs, h0, params)
    expected = hs.copy()
    assert not hs.flags.writeable
    for edit in (lambda: hs.__imul__(0.5), lambda: hs.__setitem__((0, 0, 0), 1.0),
                 lambda: np.add(hs, 1.0, out=hs)):
        with pytest.raises(ValueError, match="read-only"):
            edit()
    np.testing.assert_array_equal(hs, expected)
    np.testing.assert_array_equal(cache.hs, expected)
    # It is a view of the cache's storage (no copy), and the cache holds its own copies of
    # everything it read.
    assert np.shares_memory(hs, cache.states)
    assert not np.shares_memory(cache.xs, xs) and not np.shares_memory(cache.h0, h0)
    assert cache.params is not params
    for name, value in params.arrays().items():
        assert not np.shares_memory(cache.params.arrays()[name], value), name
    copied = hs.copy()  # what the module docstring says to do to edit it
    copied *= 0.5
    np.testing.assert_array_equal(cache.hs, expected)


# -- step functions: the GRU and the RNN --------------------------------------------------------

STEP_LAYERS = [
    pytest.param(gru.gru_step_forward, gru.gru_step_backward, "gru", False,
                 id="gru-reset_before"),
    pytest.param(gru.gru_step_forward, gru.gru_step_backward, "gru", True, id="gru-reset_after"),
    pytest.param(rnn.rnn_step_forward, rnn.rnn_step_backward, "rnn", None, id="rnn"),
]
STEP_EDITS = ["h *= 0.5", "x += 1", "h_prev += 1", "params.W_hh += 1", "every param += 1",
              "all of them"]


@pytest.mark.parametrize("edit", STEP_EDITS)
@pytest.mark.parametrize("step_forward, step_backward, kind, reset_after", STEP_LAYERS)
def test_editing_after_a_step_forward_pass(step_forward, step_backward, kind, reset_after,
                                           edit):
    options = {} if reset_after is None else {"reset_after": reset_after}
    params, xs, h_prev = random_problem(1, 3, 2, 4, init=LAYER_CASES[kind].init, seed=25,
                                        **options)
    x = xs[0].copy()
    dh = np.random.default_rng(26).standard_normal((3, 4))
    _, clean_cache = step_forward(x, h_prev, params)
    expected = step_backward(dh, clean_cache)
    h, cache = step_forward(x, h_prev, params)
    everything = edit == "all of them"
    if edit == "h *= 0.5" or everything:
        h *= 0.5
    if edit == "x += 1" or everything:
        x += 1.0
    if edit == "h_prev += 1" or everything:
        h_prev += 1.0
    if edit == "params.W_hh += 1":
        edit_params(params, "W_hh")
    if edit == "every param += 1" or everything:
        edit_params(params, "all")
    dh_before = dh.copy()
    assert_same_gradients(step_backward(dh, cache), expected)
    np.testing.assert_array_equal(dh, dh_before)  # the backward pass leaves dh alone
    assert_same_gradients(step_backward(dh, clean_cache), expected)


# -- the head --------------------------------------------------------------------------------

HEAD_EDITS = ["hs *= 0.5", "w += 1", "b += 1", "y *= 0.5", "all of them"]


@pytest.mark.parametrize("edit", HEAD_EDITS)
def test_editing_after_the_head_forward_pass(edit):
    rng = np.random.default_rng(27)
    hs, w, b = rng.standard_normal((4, 3, 5)), rng.standard_normal(5), np.array([0.3])
    dy = rng.standard_normal(3)
    _, clean_cache = head_forward(hs, w, b)
    expected = head_backward(dy, clean_cache)
    y, cache = head_forward(hs, w, b)
    everything = edit == "all of them"
    if edit == "hs *= 0.5" or everything:
        hs *= 0.5
    if edit == "w += 1" or everything:
        w += 1.0
    if edit == "b += 1" or everything:
        b += 1.0
    if edit == "y *= 0.5" or everything:
        y *= 0.5
    dy_before = dy.copy()
    assert_same_gradients(head_backward(dy, cache), expected)
    np.testing.assert_array_equal(dy, dy_before)
    assert_same_gradients(head_backward(dy, clean_cache), expected)


# -- the model ---------------------------------------------------------------------------------


def randomise(model, seed):
    """Every parameter random (a zero head would send no gradient into the layer)."""
    rng = np.random.default_rng(seed)
    for value in model.parameters().values():
        value[...] = rng.uniform(-0.7, 0.7, value.shape)
    return model


MODEL_EDITS = ["inputs += 1", "mask edited", "params.W_hh += 1", "every parameter += 1",
               "outputs *= 0.5", "all of them"]


def edit_model_run(edit, inputs, mask, model, outputs, prefix):
    everything = edit == "all of them"
    if edit == "inputs += 1" or everything:
        inputs += 1  # for token ids: other words
    if edit == "mask edited" or everything:
        mask[...] = 0.0
    if edit == "params.W_hh += 1":
        model.parameters()[prefix + "W_hh"][...] += 1.0
    if edit == "every parameter += 1" or everything:
        for value in model.parameters().values():
            value += 1.0
    if edit == "outputs *= 0.5" or everything:
        outputs *= 0.5


@pytest.mark.parametrize("edit", MODEL_EDITS)
@pytest.mark.parametrize("kind", ["gru", "gru_fast", "rnn"])
def test_editing_after_a_model_forward_pass(kind, edit):
    model = randomise(init_adding_model(kind, 4, rng=28), seed=29)
    xs, targets = make_adding_problem(3, 5, rng=30)
    mask = random_mask(5, 3, seed=31)
    dout = np.random.default_rng(32).standard_normal(3)
    _, clean_cache = model.forward((xs, mask))
    expected = model.backward_with_inputs(dout, clean_cache)
    outputs, cache = model.forward((xs, mask))
    edit_model_run(edit, xs, mask, model, outputs, model.layer.kind.prefix)
    assert_same_gradients(model.backward_with_inputs(dout, cache), expected)
    assert_same_gradients(model.backward_with_inputs(dout, clean_cache), expected)


@pytest.mark.parametrize("edit", MODEL_EDITS)
@pytest.mark.parametrize("fast_path", [False, True], ids=["reference", "fast"])
def test_editing_after_a_sentiment_model_forward_pass(fast_path, edit):
    vocab = Vocabulary.from_sentences(TRAIN_DATA)
    model = randomise(SentimentModel.create(vocab, hidden_size=4, embedding_size=3,
                                            fast_path=fast_path, rng=33), seed=34)
    ids, mask = vocab.encode(["i am not bad", "good", "this was very sad earlier"])
    dout = np.random.default_rng(35).standard_normal(3)
    _, clean_cache = model.forward(ids, mask)
    expected = model.backward(dout, clean_cache)
    assert "embedding" in expected
    outputs, cache = model.forward(ids, mask)
    edit_model_run(edit, ids, mask, model, outputs, "gru.")
    assert_same_gradients(model.backward(dout, cache), expected)
    assert_same_gradients(model.backward(dout, clean_cache), expected)
