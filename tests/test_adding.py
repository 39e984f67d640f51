"""The adding problem: data, the baseline, gradients of the regression model, training, errors."""

import time

import numpy as np
import pytest

from gru_lib.adding import (
    AddingModel,
    adding_forward,
    adding_loss_and_gradients,
    baseline_mse,
    evaluate_mse,
    init_adding_model,
    input_gradients,
    make_adding_problem,
    mse_loss,
    train_adding,
)
from gru_lib.gradcheck import check_gradients, numerical_gradient, relative_error
from gru_lib.rnn import init_rnn_params


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


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_gradient_check_of_the_regression_loss(cell):
    model = random_model(cell, hidden_size=4, seed=6)
    xs, targets = make_adding_problem(3, 5, rng=7)
    _, grads = adding_loss_and_gradients(model, xs, targets)
    params = model.parameters()
    assert set(grads) == set(params)
    assert all(grads[name].shape == a.shape for name, a in params.items())

    def loss():
        return adding_loss_and_gradients(model, xs, targets)[0]

    report = check_gradients(loss, params, grads)
    assert report.passed, str(report)
    assert report.max_relative_error < 1e-7


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_input_gradients_match_central_differences(cell):
    model = random_model(cell, hidden_size=4, seed=10)
    xs, _ = make_adding_problem(3, 6, rng=11)
    analytic = input_gradients(model, xs)
    assert analytic.shape == xs.shape
    # Each prediction depends only on its own sequence, so d(sum of predictions)/d xs is it.
    numerical = numerical_gradient(lambda: adding_forward(model, xs)[0].sum(), xs)
    assert relative_error(analytic, numerical) < 1e-7


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_fresh_model_predicts_zero(cell):
    model = init_adding_model(cell, 8, rng=8)
    xs, targets = make_adding_problem(20, 7, rng=9)
    predictions, _ = adding_forward(model, xs)
    np.testing.assert_array_equal(predictions, 0.0)  # the head starts at zero
    assert evaluate_mse(model, xs, targets) == pytest.approx(np.mean(targets ** 2))


def test_training_is_deterministic_and_seed_dependent():
    kwargs = dict(hidden_size=6, steps=6, batch_size=8, eval_every=2, n_eval=20)
    first = train_adding("gru", 5, seed=1, **kwargs)
    again = train_adding("gru", 5, seed=1, **kwargs)
    other = train_adding("gru", 5, seed=2, **kwargs)
    assert first.step == [2, 4, 6]
    assert len(first.train_mse) == len(first.eval_mse) == 3
    assert first.train_mse == again.train_mse and first.eval_mse == again.eval_mse
    for name, value in first.model.parameters().items():
        np.testing.assert_array_equal(again.model.parameters()[name], value)
    assert other.eval_mse != first.eval_mse


def test_both_cells_share_the_held_out_set():
    kwargs = dict(hidden_size=4, steps=3, batch_size=4, eval_every=3, n_eval=50, seed=3)
    assert train_adding("gru", 6, **kwargs).baseline == train_adding("rnn", 6, **kwargs).baseline


def test_last_evaluation_is_after_the_last_step():
    history = train_adding("rnn", 4, hidden_size=4, steps=7, batch_size=4, eval_every=3,
                           n_eval=10)
    assert history.step == [3, 6, 7]


def test_short_gru_run_beats_the_baseline():
    start = time.process_time()
    history = train_adding("gru", 10, hidden_size=16, steps=250, batch_size=64, lr=1e-2,
                           eval_every=250, n_eval=500, seed=0)
    elapsed = time.process_time() - start
    assert history.eval_mse[-1] < 0.1 * history.baseline, history.eval_mse
    assert elapsed < 5.0


@pytest.mark.parametrize("kwargs, error", [
    (dict(n=0, seq_len=5), ValueError),
    (dict(n=2.0, seq_len=5), ValueError),
    (dict(n=True, seq_len=5), ValueError),
    (dict(n=3, seq_len=1), ValueError),
    (dict(n=3, seq_len=5, dtype=np.int64), TypeError),
])
def test_bad_data_arguments(kwargs, error):
    with pytest.raises(error):
        make_adding_problem(rng=0, **kwargs)


def test_bad_model_arguments():
    with pytest.raises(ValueError, match="cell must be one of"):
        init_adding_model("lstm", 4)
    gru_model = init_adding_model("gru", 4)
    with pytest.raises(TypeError, match="needs RNNParams"):
        AddingModel("rnn", gru_model.params, gru_model.head_w, gru_model.head_b)
    with pytest.raises(ValueError, match="2 input features"):
        AddingModel("rnn", init_rnn_params(3, 4), np.zeros(4), np.zeros(1))
    with pytest.raises(ValueError, match="head_w"):
        AddingModel("gru", gru_model.params, np.zeros(5), gru_model.head_b)
    with pytest.raises(ValueError, match=r"\(T, N, 2\)"):
        adding_forward(gru_model, np.zeros((5, 3, 1)))
    with pytest.raises(ValueError, match="shape"):
        mse_loss(np.zeros(3), np.zeros(4))


@pytest.mark.parametrize("kwargs", [
    dict(cell="lstm"), dict(seq_len=1), dict(steps=0), dict(batch_size=0), dict(eval_every=0),
    dict(n_eval=0), dict(clip_norm=0.0), dict(lr=-1.0),
])
def test_bad_training_arguments(kwargs):
    args = dict(cell="gru", seq_len=5, hidden_size=4, steps=2, batch_size=4, n_eval=4)
    args.update(kwargs)
    with pytest.raises(ValueError):
        train_adding(args.pop("cell"), args.pop("seq_len"), **args)
