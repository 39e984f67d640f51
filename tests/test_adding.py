"""The adding problem: data, the baseline, gradients of the regression model, training, errors.

The model is a ``LastStateModel`` (a layer and a linear head, squared error) made by
``init_adding_model``; training goes through ``fit`` (``train_adding`` returns its History).
"""

import time

import numpy as np
import pytest

from gru_lib.adding import (
    adding_batches,
    baseline_mse,
    evaluate_mse,
    init_adding_model,
    input_gradients,
    make_adding_problem,
    train_adding,
)
from gru_lib.gradcheck import check_gradients, numerical_gradient, relative_error
from gru_lib.layers import LAYER_KINDS, Layer
from gru_lib.models import LastStateModel, mse_loss
from gru_lib.optim import Adam, clip_by_global_norm
from gru_lib.params import init_rnn_params
from gru_lib.train import History

CELLS = ["gru", "gru_fast", "rnn"]


@pytest.mark.parametrize("seq_len", [2, 3, 10, 31])
def test_data_shapes_markers_and_targets(seq_len):
    n = 500
    xs, targets = make_adding_problem(n, seq_len, rng=1)
    assert xs.shape == (seq_len, n, 2) and targets.shape == (n,)
    assert xs.dtype == targets.dtype == np.float64
    values, markers = xs[..., 0], xs[..., 1]
    assert values.min() >= 0.0 and values.max() < 1.0
    assert np.isin(markers, (0.0, 1.0)).all()
    np.testing.assert_array_equal(markers.sum(axis=0), 2.0)  # exactly two markers each
    half = seq_len // 2
    np.testing.assert_array_equal(markers[:half].sum(axis=0), 1.0)  # one in the first half
    np.testing.assert_array_equal(markers[half:].sum(axis=0), 1.0)  # one in the second half
    np.testing.assert_allclose(targets, (values * markers).sum(axis=0), rtol=0, atol=1e-15)


def test_markers_cover_both_halves_uniformly():
    seq_len, n = 10, 20000
    xs, _ = make_adding_problem(n, seq_len, rng=2)
    share = xs[..., 1].mean(axis=1)  # how often each step is marked: 1 / 5 for every step
    np.testing.assert_allclose(share, 1 / 5, atol=0.015)


def test_float32_and_reproducible_from_seed():
    xs, targets = make_adding_problem(4, 6, rng=3, dtype=np.float32)
    assert xs.dtype == targets.dtype == np.float32
    xs64, targets64 = make_adding_problem(4, 6, rng=np.random.default_rng(3))
    np.testing.assert_allclose(xs, xs64, rtol=1e-7)
    np.testing.assert_allclose(targets, targets64, rtol=1e-7)
    other, _ = make_adding_problem(4, 6, rng=4)
    assert not np.array_equal(other, xs64)


def test_batches_are_fresh_and_reproducible():
    first = list(adding_batches(3, 4, 6, rng=np.random.default_rng(5)))
    again = list(adding_batches(3, 4, 6, rng=np.random.default_rng(5)))
    assert len(first) == 3
    for (xs, targets), (xs_again, targets_again) in zip(first, again, strict=True):
        assert xs.shape == (6, 4, 2) and targets.shape == (4,)
        np.testing.assert_array_equal(xs, xs_again)
        np.testing.assert_array_equal(targets, targets_again)
    assert not np.array_equal(first[0][0], first[1][0])


def test_constant_one_baseline_is_one_sixth():
    # The sum of two independent U(0, 1) has mean 1 and variance 2/12: predicting 1 gives 1/6.
    _, targets = make_adding_problem(100_000, 10, rng=5)
    assert targets.mean() == pytest.approx(1.0, abs=5e-3)
    assert baseline_mse(targets) == pytest.approx(1 / 6, abs=3e-3)


def test_mse_loss_and_gradient():
    loss, grad = mse_loss(np.array([1.0, 2.0, 4.0]), np.array([1.0, 0.0, 1.0]))
    assert loss == pytest.approx((0 + 4 + 9) / 3)
    np.testing.assert_allclose(grad, 2 * np.array([0.0, 2.0, 3.0]) / 3)


def random_model(cell, hidden_size, seed):
    """A model with every parameter random (the head is not zero, so the cell gets gradient)."""
    rng = np.random.default_rng(seed)
    model = init_adding_model(cell, hidden_size, rng=rng)
    for value in model.parameters().values():
        value[...] = rng.uniform(-0.7, 0.7, value.shape)
    return model


@pytest.mark.parametrize("cell", CELLS)
def test_the_model_is_a_last_state_regressor(cell):
    model = init_adding_model(cell, 5, rng=0)
    assert isinstance(model, LastStateModel)
    assert model.layer.kind is LAYER_KINDS[cell]
    assert model.loss_name == "mse" and not model.tokens and model.embedding is None
    assert (model.layer.input_size, model.layer.hidden_size) == (2, 5)
    prefix = LAYER_KINDS[cell].prefix
    expected = [prefix + name for name in model.layer.params.arrays()] + ["head_w", "head_b"]
    assert list(model.parameters()) == expected
    assert model.num_parameters() == model.layer.params.num_parameters() + 5 + 1


@pytest.mark.parametrize("cell", CELLS)
def test_gradient_check_of_the_regression_loss(cell):
    model = random_model(cell, hidden_size=4, seed=6)
    xs, targets = make_adding_problem(3, 5, rng=7)
    _, grads = model.loss(xs, targets)
    params = model.parameters()
    assert set(grads) == set(params)
    assert all(grads[name].shape == a.shape for name, a in params.items())

    def loss():  # the forward pass only: model.loss's value, without its backward pass
        return mse_loss(model.outputs(xs), targets)[0]

    assert loss() == model.loss(xs, targets)[0]

    report = check_gradients(loss, params, grads)
    assert report.passed, str(report)
    assert report.max_relative_error < 1e-7


@pytest.mark.parametrize("cell", CELLS)
def test_input_gradients_match_central_differences(cell):
    model = random_model(cell, hidden_size=4, seed=10)
    xs, _ = make_adding_problem(3, 6, rng=11)
    analytic = input_gradients(model, xs)
    assert analytic.shape == xs.shape
    # Each prediction depends only on its own sequence, so d(sum of predictions)/d xs is it.
    numerical = numerical_gradient(lambda: model.outputs(xs).sum(), xs)
    assert relative_error(analytic, numerical) < 1e-7


@pytest.mark.parametrize("cell", CELLS)
def test_fresh_model_predicts_zero(cell):
    model = init_adding_model(cell, 8, rng=8)
    xs, targets = make_adding_problem(20, 7, rng=9)
    predictions, _ = model.forward(xs)
    np.testing.assert_array_equal(predictions, 0.0)  # the head starts at zero
    assert evaluate_mse(model, xs, targets) == pytest.approx(np.mean(targets ** 2))


def test_layer_options_reach_the_initialiser():
    gru_model = init_adding_model("gru", 4, rng=0, update_bias=2.0, reset_after=True)
    np.testing.assert_array_equal(gru_model.layer.params.b_z, 2.0)
    assert gru_model.layer.params.reset_after
    rnn_model = init_adding_model("rnn", 4, rng=0, recurrent_init="identity")
    np.testing.assert_array_equal(rnn_model.layer.params.W_hh, np.eye(4))
    assert init_adding_model("gru", 3, dtype=np.float32).layer.dtype == np.float32


def test_training_is_deterministic_and_seed_dependent():
    kwargs = dict(hidden_size=6, updates=6, batch_size=8, eval_every=2, n_eval=20)
    first = train_adding("gru", 5, seed=1, **kwargs)
    again = train_adding("gru", 5, seed=1, **kwargs)
    other = train_adding("gru", 5, seed=2, **kwargs)
    assert isinstance(first, History)
    assert first.updates == [2, 4, 6]
    assert len(first.loss) == len(first.eval_mse) == 3
    assert first.loss == again.loss and first.eval_mse == again.eval_mse
    for name, value in first.info["model"].parameters().items():
        np.testing.assert_array_equal(again.info["model"].parameters()[name], value)
    assert other.eval_mse != first.eval_mse
    assert first.info["cell"] == "gru" and first.info["seq_len"] == 5


def test_the_loss_is_the_mean_training_mse_since_the_previous_record():
    kwargs = dict(hidden_size=4, updates=4, batch_size=5, eval_every=2, n_eval=10, seed=4)
    history = train_adding("rnn", 6, **kwargs)
    # Replay the same run by hand: the same initialisation and batches as train_adding's.
    model = init_adding_model("rnn", 4, rng=np.random.default_rng([4, 0]))
    optimizer, losses = Adam(lr=1e-2), []
    for xs, targets in adding_batches(4, 5, 6, rng=np.random.default_rng([4, 1])):
        loss, grads = model.loss(xs, targets)
        optimizer.step(model.parameters(), clip_by_global_norm(grads, 1.0)[0])
        losses.append(loss)
    np.testing.assert_allclose(history.loss, [np.mean(losses[:2]), np.mean(losses[2:])],
                               rtol=1e-12)
    for name, value in model.parameters().items():
        np.testing.assert_array_equal(history.info["model"].parameters()[name], value)


def test_all_cells_share_the_held_out_set():
    kwargs = dict(hidden_size=4, updates=3, batch_size=4, eval_every=3, n_eval=50, seed=3)
    baselines = {cell: train_adding(cell, 6, **kwargs).info["baseline"] for cell in CELLS}
    assert len(set(baselines.values())) == 1, baselines


def test_reference_and_fast_paths_train_alike():
    kwargs = dict(hidden_size=5, updates=6, batch_size=8, eval_every=3, n_eval=30, seed=6)
    reference, fast = train_adding("gru", 7, **kwargs), train_adding("gru_fast", 7, **kwargs)
    np.testing.assert_allclose(fast.loss, reference.loss, rtol=1e-12)
    np.testing.assert_allclose(fast.eval_mse, reference.eval_mse, rtol=1e-12)


def test_last_evaluation_is_after_the_last_step():
    history = train_adding("rnn", 4, hidden_size=4, updates=7, batch_size=4, eval_every=3,
                           n_eval=10)
    assert history.updates == [3, 6, 7]
    assert len(history.eval_mse) == history.records == 3


def test_short_gru_run_beats_the_baseline():
    # The fast path: what a reader trains with (test_reference_and_fast_paths_train_alike and
    # test_model_contract show that the reference path trains to the same numbers).
    start = time.process_time()
    history = train_adding("gru_fast", 10, hidden_size=16, updates=250, batch_size=64, lr=1e-2,
                           eval_every=250, n_eval=500, seed=0)
    elapsed = time.process_time() - start
    assert history.eval_mse[-1] < 0.1 * history.info["baseline"], history.eval_mse
    assert elapsed < 5.0


@pytest.mark.parametrize("kwargs, error", [
    pytest.param(dict(n=0, seq_len=5), ValueError, id="n=0"),
    pytest.param(dict(n=2.0, seq_len=5), TypeError, id="n=2.0"),
    pytest.param(dict(n=True, seq_len=5), TypeError, id="n=True"),
    pytest.param(dict(n=3, seq_len=1), ValueError, id="seq_len=1"),
    pytest.param(dict(n=3, seq_len=5.0), TypeError, id="seq_len=5.0"),
    pytest.param(dict(n=3, seq_len=5, dtype=np.int64), TypeError, id="dtype=int64"),
])
def test_bad_data_arguments(kwargs, error):
    with pytest.raises(error):
        make_adding_problem(rng=0, **kwargs)


def test_data_needs_a_seed():
    with pytest.raises(TypeError, match="rng"):
        make_adding_problem(3, 5, rng=None)


def test_bad_model_arguments():
    with pytest.raises(ValueError, match="kind must be one of"):
        init_adding_model("lstm", 4)
    gru_model = init_adding_model("gru", 4)
    with pytest.raises(TypeError, match="needs RNNParams"):
        Layer(LAYER_KINDS["rnn"], gru_model.layer.params)
    with pytest.raises(TypeError, match="layer must be a Layer"):
        LastStateModel(gru_model.layer.params, gru_model.head_w, gru_model.head_b, loss="mse")
    with pytest.raises(ValueError, match=r"head_w must have shape \(4,\)"):
        LastStateModel(gru_model.layer, np.zeros(5), gru_model.head_b, loss="mse")
    with pytest.raises(ValueError, match="loss must be one of"):
        LastStateModel(gru_model.layer, gru_model.head_w, gru_model.head_b, loss="mae")
    # The layer reads two features per step: other inputs are refused by shape.
    rnn3 = LastStateModel(Layer.of(init_rnn_params(3, 4)), np.zeros(4), np.zeros(1), loss="mse")
    with pytest.raises(ValueError, match=r"xs must have shape \(5, 2, 3\)"):
        rnn3.forward(make_adding_problem(2, 5, rng=0)[0])
    with pytest.raises(ValueError, match=r"xs must have shape \(5, 3, 2\)"):
        gru_model.forward(np.zeros((5, 3, 1)))
    with pytest.raises(ValueError, match=r"\(T, B, D\)"):
        gru_model.forward(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="shape"):
        mse_loss(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match=r"targets must have shape \(3,\)"):
        gru_model.loss(make_adding_problem(3, 5, rng=0)[0], np.zeros(4))


@pytest.mark.parametrize("kwargs", [
    pytest.param(dict(cell="lstm"), id="cell=lstm"),
    pytest.param(dict(seq_len=1), id="seq_len=1"),
    pytest.param(dict(updates=0), id="updates=0"),
    pytest.param(dict(batch_size=0), id="batch_size=0"),
    pytest.param(dict(eval_every=0), id="eval_every=0"),
    pytest.param(dict(n_eval=0), id="n_eval=0"),
    pytest.param(dict(clip_norm=0.0), id="clip_norm=0"),
    pytest.param(dict(lr=-1.0), id="lr=-1"),
])
def test_bad_training_arguments(kwargs):
    args = dict(cell="gru", seq_len=5, hidden_size=4, updates=2, batch_size=4, n_eval=4)
    args.update(kwargs)
    with pytest.raises(ValueError):
        train_adding(args.pop("cell"), args.pop("seq_len"), **args)
