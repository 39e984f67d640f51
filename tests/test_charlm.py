"""The character-level language model: loss, gradients, truncated BPTT, baselines, corpus."""

import numpy as np
import pytest

from gru_lib.charlm import (
    CharLanguageModel,
    bits_per_character,
    run_stream,
    sample,
    softmax_cross_entropy,
    stream_batches,
)
from gru_lib.corpus import (
    BRACKETS,
    LEXICON,
    CharVocabulary,
    NGramModel,
    bracket_pairs,
    make_corpus,
    make_gap_corpus,
    nesting_depth,
)
from gru_lib.gradcheck import check_gradients
from gru_lib.optim import Adam
from gru_lib.train import fit


def random_model(vocab_size=5, hidden_size=4, *, seed=0, kind="gru", embedding_size=None,
                 **options):
    """A model with every parameter random (a zero b_y or small read-out would check less)."""
    rng = np.random.default_rng(seed)
    model = CharLanguageModel.create(vocab_size, hidden_size, kind=kind,
                                     embedding_size=embedding_size, rng=rng, **options)
    for value in model.parameters().values():
        value[...] = rng.uniform(-0.8, 0.8, value.shape)
    return model


def chunk(rng, t=5, b=3, v=5):
    return rng.integers(0, v, (t, b)), rng.integers(0, v, (t, b))


# -- softmax cross-entropy ---------------------------------------------------------------------


def test_softmax_cross_entropy_gradient_check():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((4, 3, 6))
    targets = rng.integers(0, 6, (4, 3))
    loss, dlogits = softmax_cross_entropy(logits, targets)
    report = check_gradients(lambda: softmax_cross_entropy(logits, targets)[0],
                             {"logits": logits}, {"logits": dlogits})
    assert report.passed and report.max_relative_error < 1e-7
    # The gradient is (softmax - onehot) / N: each row sums to zero.
    np.testing.assert_allclose(dlogits.sum(axis=2), 0.0, atol=1e-15)
    # and the loss is the mean of -log p(target), computed the naive way here.
    p = np.exp(logits) / np.exp(logits).sum(axis=2, keepdims=True)
    naive = -np.log(np.take_along_axis(p, targets[..., None], axis=2)).mean()
    assert loss == pytest.approx(naive, rel=1e-12)


def test_softmax_cross_entropy_is_stable_at_large_logits():
    logits = np.array([[[1000.0, 0.0, -1000.0]], [[-5000.0, 5000.0, 0.0]]])  # (2, 1, 3)
    targets = np.array([[0], [0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        loss, dlogits = softmax_cross_entropy(logits, targets)
    # Step 0 is certain and right (loss 0); step 1 is certain and wrong (loss 10000).
    assert loss == pytest.approx(10000.0 / 2)
    assert np.all(np.isfinite(dlogits))
    np.testing.assert_allclose(dlogits[1, 0], [-0.5, 0.5, 0.0], atol=1e-15)


def test_softmax_cross_entropy_of_uniform_logits_is_log_v():
    loss, _ = softmax_cross_entropy(np.zeros((3, 2, 7)), np.zeros((3, 2), dtype=np.int64))
    assert loss == pytest.approx(np.log(7))


# -- the language model's gradient -------------------------------------------------------------


@pytest.mark.parametrize("kind, embedding_size, reset_after", [
    pytest.param("gru", None, False, id="reference-one_hot"),
    pytest.param("gru", 2, True, id="reference-embedding-reset_after"),
    pytest.param("gru_fast", None, True, id="fast-one_hot-reset_after"),
    pytest.param("gru_fast", 2, False, id="fast-embedding"),
])
def test_language_model_gradient_check(kind, embedding_size, reset_after):
    rng = np.random.default_rng(2)
    model = random_model(4, 3, kind=kind, embedding_size=embedding_size,
                         reset_after=reset_after)
    X, y = chunk(rng, t=4, b=2, v=4)
    h0 = rng.uniform(-0.5, 0.5, (2, model.hidden_size))  # a carried state, not zeros
    _, grads, _ = model.chunk_loss(X, y, h0)
    report = check_gradients(lambda: model.chunk_loss(X, y, h0)[0], model.parameters(), grads)
    assert set(report_names(report)) == set(model.parameters())
    assert report.passed and report.max_relative_error < 1e-7, str(report)


def report_names(report):
    return [row.name for row in report.rows]


def test_loss_through_fit_contract_and_carried_state_gradient():
    # loss() from a reset state is chunk_loss() from zeros: the gradient check of loss itself.
    rng = np.random.default_rng(3)
    model = random_model(4, 3, kind="gru_fast")
    X, y = chunk(rng, t=4, b=2, v=4)

    def loss():
        model.reset_state()
        return model.loss(X, y)[0]

    model.reset_state()
    _, grads = model.loss(X, y)
    assert list(grads) == list(model.parameters())
    report = check_gradients(loss, model.parameters(), grads)
    assert report.passed and report.max_relative_error < 1e-7


# -- truncated BPTT ----------------------------------------------------------------------------


def test_state_is_carried_from_chunk_to_chunk():
    rng = np.random.default_rng(4)
    model = random_model()
    (X1, y1), (X2, y2) = chunk(rng), chunk(rng)
    assert model.state is None
    model.loss(X1, y1)
    _, hs1, _ = model.forward(X1, model.zero_state(3))
    np.testing.assert_array_equal(model.state, hs1[-1])  # the last state of chunk 1
    loss2, grads2 = model.loss(X2, y2)
    # chunk 2 started from it: the same as an explicit h0 = last state of chunk 1
    expected_loss, expected_grads, _ = model.chunk_loss(X2, y2, hs1[-1])
    assert loss2 == expected_loss
    for name in grads2:
        np.testing.assert_array_equal(grads2[name], expected_grads[name])
    # and reading both chunks as one sequence gives the same states
    _, hs_both, _ = model.forward(np.concatenate([X1, X2]), model.zero_state(3))
    np.testing.assert_allclose(model.state, hs_both[-1], rtol=0, atol=1e-14)
    model.reset_state()
    assert model.state is None


def test_state_is_detached_no_gradient_reaches_the_previous_chunk():
    rng = np.random.default_rng(5)
    model = random_model(embedding_size=3)
    X1 = np.zeros((5, 2), dtype=np.int64)            # chunk 1 reads only character 0
    X2 = rng.integers(1, 5, (5, 2))                   # chunk 2 never does
    y1, y2 = rng.integers(0, 5, (5, 2)), rng.integers(0, 5, (5, 2))
    model.loss(X1, y1)
    _, grads2 = model.loss(X2, y2)
    # The embedding of character 0 is used only in chunk 1: chunk 2's gradient does not reach it.
    np.testing.assert_array_equal(grads2["embedding"][0], 0.0)
    # Full BPTT through both chunks (the loss of chunk 2 only) would reach it.
    both = np.concatenate([X1, X2])

    def loss_of_chunk2_full():
        logits, _, _ = model.forward(both, model.zero_state(2))
        return softmax_cross_entropy(logits[5:], y2)[0]

    logits, _, cache = model.forward(both, model.zero_state(2))
    _, d_tail = softmax_cross_entropy(logits[5:], y2)
    full = model.backward(np.concatenate([np.zeros_like(d_tail), d_tail]), cache)
    assert np.abs(full["embedding"][0]).max() > 1e-6
    assert np.abs(full["gru.W_hh"] - grads2["gru.W_hh"]).max() > 1e-6
    # (the full gradient is itself right: checked against central differences)
    emb = {"embedding": model.embedding}
    assert check_gradients(loss_of_chunk2_full, emb, {"embedding": full["embedding"]}).passed


def test_truncated_gradient_does_not_depend_on_chunk1_beyond_the_state():
    # Two different first chunks that happen to end in the same state give the same gradient:
    # only the state value crosses the cut, nothing of chunk 1's history.
    rng = np.random.default_rng(6)
    model = random_model()
    X2, y2 = chunk(rng)
    h = rng.uniform(-0.5, 0.5, (3, model.hidden_size))
    model.state = h.copy()
    _, g_a = model.loss(X2, y2)
    _, g_b, _ = model.chunk_loss(X2, y2, h.copy())
    for name in g_a:
        np.testing.assert_array_equal(g_a[name], g_b[name])


def test_stream_batches_are_contiguous_streams_in_order():
    ids = np.arange(1, 42)                        # 41 ids: 2 streams of 20 steps, k = 5
    chunks = list(stream_batches(ids, 2, 5, epochs=2))
    assert len(chunks) == 8                       # 4 chunks per epoch
    X, y = chunks[0]
    assert X.shape == y.shape == (5, 2)
    np.testing.assert_array_equal(X[:, 0], [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(X[:, 1], [21, 22, 23, 24, 25])
    np.testing.assert_array_equal(y, X + 1)       # the next characters
    # chunk 2 continues chunk 1 in every stream
    np.testing.assert_array_equal(chunks[1][0][0], chunks[0][0][-1] + 1)
    # the next epoch moves stream 1 to row 0: row 0's state (ended at 21) continues there
    np.testing.assert_array_equal(chunks[4][0][0], [21, 1])
    assert len(list(stream_batches(ids, 2, 5, steps=3))) == 3
    assert len(list(stream_batches(ids, 2, 5, steps=10))) == 10


def test_fit_trains_the_model_with_carried_state():
    text = make_gap_corpus(3000, 0, min_gap=1, max_gap=3)
    vocab = CharVocabulary.from_text(text)
    ids = vocab.encode(text)
    model = CharLanguageModel.create(len(vocab), 16, rng=0)
    before = bits_per_character(model, ids)
    history = fit(model, Adam(lr=0.02), stream_batches(ids, 8, 10, steps=60), record_every=20)
    assert len(history.loss) == 3                 # a record every 20 of the 60 updates
    assert model.state.shape == (8, 16)
    assert bits_per_character(model, ids) < before - 0.5


# -- evaluation, sampling, baselines -----------------------------------------------------------


def test_bits_per_character_matches_the_chunk_losses():
    rng = np.random.default_rng(7)
    model = random_model()
    ids = rng.integers(0, 5, 40)
    logits, hs, _ = model.forward(ids[:-1, None], model.zero_state(1))
    loss, _ = softmax_cross_entropy(logits, ids[1:, None])
    assert bits_per_character(model, ids) == pytest.approx(loss / np.log(2), rel=1e-12)
    # reading in chunks with the state carried is reading in one go
    logits_c, states_c = run_stream(model, ids[:-1], chunk=7)
    np.testing.assert_allclose(logits_c, logits[:, 0], rtol=0, atol=1e-13)
    np.testing.assert_allclose(states_c, hs[:, 0], rtol=0, atol=1e-13)
    assert model.state is None  # evaluation leaves the carried state alone


def test_sampling_is_deterministic_for_a_seed_and_valid():
    vocab = CharVocabulary("ab()[] ")
    model = random_model(len(vocab), 6)
    first = sample(model, vocab, 50, 1.0, 3, prime="a(")
    assert first == sample(model, vocab, 50, 1.0, 3, prime="a(")
    assert first != sample(model, vocab, 50, 1.0, 4, prime="a(")
    assert len(first) == 50 and set(first) <= set(vocab.chars)
    # a low temperature concentrates the draws on the likeliest characters
    cold = sample(model, vocab, 200, 0.05, 3)
    hot = sample(model, vocab, 200, 5.0, 3)
    assert len(set(cold)) <= len(set(hot))


def test_ngram_baselines_sum_to_one_and_beat_uniform():
    text, _ = make_corpus(6000, 1)
    vocab = CharVocabulary.from_text(text)
    ids = vocab.encode(text)
    train, test = ids[:5000], ids[5000:]
    bits = []
    for order in (1, 2, 3):
        model = NGramModel(order, len(vocab), alpha=0.5).fit(train)
        np.testing.assert_allclose(model.conditional.sum(axis=-1), 1.0, rtol=1e-12)
        assert model.conditional.shape == (len(vocab),) * order
        assert model.counts.sum() == len(train) - order + 1
        bits.append(model.bits_per_character(test, start=2))
    assert bits[0] < np.log2(len(vocab))          # the unigram beats the uniform guess
    assert bits[0] > bits[1] > bits[2]            # more context, fewer bits, on this text


def test_ngram_scores_by_hand():
    model = NGramModel(2, 2, alpha=1.0).fit(np.array([0, 1, 0, 1, 1]))
    # counts: 0->1 twice, 1->0 once, 1->1 once
    np.testing.assert_allclose(model.conditional, [[1 / 4, 3 / 4], [2 / 4, 2 / 4]])
    assert model.bits_per_character(np.array([0, 1])) == pytest.approx(-np.log2(3 / 4))


# -- the corpus --------------------------------------------------------------------------------


def test_corpus_is_deterministic_and_its_depths_are_right():
    text, depth = make_corpus(3000, 11)
    again, depth_again = make_corpus(3000, np.random.default_rng(11))
    assert text == again and np.array_equal(depth, depth_again)
    assert make_corpus(3000, 12)[0] != text
    assert len(text) == len(depth) == 3000
    # depth after each character, counted independently of nesting_depth
    running, expected = 0, []
    for ch in text:
        running += (ch in "([") - (ch in ")]")
        expected.append(running)
    np.testing.assert_array_equal(depth, expected)
    assert depth.min() == 0 and depth.max() <= 4 and depth.max() >= 2
    openers, closers = bracket_pairs(text)
    assert all(BRACKETS[text[o]] == text[c] for o, c in zip(openers, closers, strict=True))
    assert np.all(closers - openers >= 4)         # at least one word of three letters inside
    words = text.replace("(", " ").replace(")", " ").replace("[", " ").replace("]", " ").split()
    assert set(words[1:-1]) <= set(LEXICON)       # the first and last may be cut off


def test_nesting_depth_example_and_unmatched_closer():
    np.testing.assert_array_equal(nesting_depth("(a[b])c"), [1, 1, 2, 2, 1, 0, 0])
    with pytest.raises(ValueError, match="unmatched"):
        nesting_depth("(a]")
    with pytest.raises(ValueError, match="unmatched"):
        bracket_pairs("(a]")


def test_bracket_pairs_of_a_piece_of_text():
    # a piece cut from a stream: ")" closes a bracket opened before it, "[" is still open
    openers, closers = bracket_pairs("a) (b [c] d) [e")
    np.testing.assert_array_equal(openers, [6, 3])
    np.testing.assert_array_equal(closers, [8, 11])


def test_gap_corpus_gaps():
    text = make_gap_corpus(2000, 0, min_gap=5, max_gap=9)
    assert len(text) == 2000 and text == make_gap_corpus(2000, 0, min_gap=5, max_gap=9)
    openers, closers = bracket_pairs(text)
    assert set(closers - openers) == set(range(6, 11))


def test_vocabulary_round_trip():
    vocab = CharVocabulary.from_text("b a(b)")
    assert vocab.chars == " ()ab" and len(vocab) == 5
    assert vocab.decode(vocab.encode("(ab) a")) == "(ab) a"


# -- bad input ---------------------------------------------------------------------------------

MODEL = random_model()
VOCAB = CharVocabulary("abcde")
GOOD_X = np.zeros((4, 2), dtype=np.int64)


@pytest.mark.parametrize("call, error", [
    pytest.param(lambda: MODEL.chunk_loss(GOOD_X + 5, GOOD_X, np.zeros((2, 4))), ValueError,
                 id="input_id_too_large"),
    pytest.param(lambda: MODEL.chunk_loss(GOOD_X - 1, GOOD_X, np.zeros((2, 4))), ValueError,
                 id="negative_input_id"),
    pytest.param(lambda: MODEL.chunk_loss(GOOD_X, GOOD_X + 7, np.zeros((2, 4))), ValueError,
                 id="target_id_too_large"),
    pytest.param(lambda: MODEL.chunk_loss(GOOD_X.astype(float), GOOD_X, np.zeros((2, 4))),
                 TypeError, id="float_ids"),
    pytest.param(lambda: MODEL.chunk_loss(GOOD_X, GOOD_X[:3], np.zeros((2, 4))), ValueError,
                 id="targets_wrong_shape"),
    pytest.param(lambda: MODEL.chunk_loss(GOOD_X[:, :, None], GOOD_X, np.zeros((2, 4))),
                 ValueError, id="inputs_3d"),
    pytest.param(lambda: MODEL.chunk_loss(GOOD_X, GOOD_X, np.zeros((3, 4))), ValueError,
                 id="h0_wrong_batch"),
    pytest.param(lambda: MODEL.loss(GOOD_X.tolist(), GOOD_X), TypeError, id="list_inputs"),
    pytest.param(lambda: softmax_cross_entropy(np.zeros((2, 3)), np.zeros((2,), int)),
                 ValueError, id="logits_2d"),
    pytest.param(lambda: softmax_cross_entropy(np.zeros((2, 1, 3)), np.full((2, 1), 3)),
                 ValueError, id="ce_target_out_of_range"),
    pytest.param(lambda: softmax_cross_entropy(np.full((1, 1, 2), np.nan), np.zeros((1, 1), int)),
                 ValueError, id="nan_logits"),
    pytest.param(lambda: sample(MODEL, VOCAB, 5, 0.0, 0), ValueError, id="temperature_zero"),
    pytest.param(lambda: sample(MODEL, VOCAB, 5, -1.0, 0), ValueError,
                 id="temperature_negative"),
    pytest.param(lambda: sample(MODEL, VOCAB, 5, "hot", 0), TypeError, id="temperature_str"),
    pytest.param(lambda: sample(MODEL, VOCAB, 0, 1.0, 0), ValueError, id="zero_characters"),
    pytest.param(lambda: sample(MODEL, VOCAB, 5, 1.0, None), TypeError, id="no_seed"),
    pytest.param(lambda: sample(MODEL, CharVocabulary("ab"), 5, 1.0, 0), TypeError,
                 id="wrong_vocabulary"),
    pytest.param(lambda: sample(MODEL, VOCAB, 5, 1.0, 0, prime="az"), ValueError,
                 id="prime_unknown_char"),
    pytest.param(lambda: bits_per_character(MODEL, np.array([0, 9])), ValueError,
                 id="bpc_id_out_of_range"),
    pytest.param(lambda: bits_per_character(MODEL, np.array([0])), ValueError,
                 id="bpc_too_short"),
    pytest.param(lambda: list(stream_batches(np.arange(10), 2, 3)), ValueError,
                 id="batches_no_length"),
    pytest.param(lambda: list(stream_batches(np.arange(10), 4, 3, epochs=1)), ValueError,
                 id="batches_text_too_short"),
    pytest.param(lambda: list(stream_batches(np.arange(10), 2, 0, epochs=1)), ValueError,
                 id="batches_k_zero"),
    pytest.param(lambda: list(stream_batches(np.arange(10.0), 2, 2, epochs=1)), TypeError,
                 id="batches_float_ids"),
    pytest.param(lambda: NGramModel(0, 5), ValueError, id="ngram_order_zero"),
    pytest.param(lambda: NGramModel(2, 5, alpha=0.0), ValueError, id="ngram_alpha_zero"),
    pytest.param(lambda: NGramModel(2, 5).fit(np.array([0, 5])), ValueError,
                 id="ngram_id_out_of_range"),
    pytest.param(lambda: NGramModel(3, 5).bits_per_character(np.array([0, 1, 2]), start=1),
                 ValueError, id="ngram_start_too_early"),
    pytest.param(lambda: make_corpus(0, 0), ValueError, id="corpus_empty"),
    pytest.param(lambda: make_corpus(10, None), TypeError, id="corpus_no_seed"),
    pytest.param(lambda: make_gap_corpus(10, 0, min_gap=3, max_gap=2), ValueError,
                 id="gap_max_below_min"),
    pytest.param(lambda: CharVocabulary("aa"), ValueError, id="vocabulary_repeats"),
    pytest.param(lambda: VOCAB.encode("xyz"), ValueError, id="encode_unknown"),
    pytest.param(lambda: CharLanguageModel.create(0, 4), ValueError, id="vocab_size_zero"),
])
def test_bad_input_is_refused(call, error):
    with pytest.raises(error):
        call()


def test_carried_state_of_another_batch_size_is_refused():
    model = random_model()
    model.loss(GOOD_X, GOOD_X)
    with pytest.raises(ValueError, match="reset_state"):
        model.loss(np.zeros((4, 3), dtype=np.int64), np.zeros((4, 3), dtype=np.int64))
