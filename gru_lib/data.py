"""The sentiment data set: 58 training and 20 test sentences, a vocabulary, and batching.

The sentences and labels are those of the notebook this project grew from: short phrases whose
sentiment flips with "not", "not at all" and "very", so that word order matters. True means
positive.
"""

import numpy as np

TRAIN_DATA = {
    "good": True,
    "bad": False,
    "happy": True,
    "sad": False,
    "not good": False,
    "not bad": True,
    "not happy": False,
    "not sad": True,
    "very good": True,
    "very bad": False,
    "very happy": True,
    "very sad": False,
    "i am happy": True,
    "this is good": True,
    "i am bad": False,
    "this is bad": False,
    "i am sad": False,
    "this is sad": False,
    "i am not happy": False,
    "this is not good": False,
    "i am not bad": True,
    "this is not sad": True,
    "i am very happy": True,
    "this is very good": True,
    "i am very bad": False,
    "this is very sad": False,
    "this is very happy": True,
    "i am good not bad": True,
    "this is good not bad": True,
    "i am bad not good": False,
    "i am good and happy": True,
    "this is not good and not happy": False,
    "i am not at all good": False,
    "i am not at all bad": True,
    "i am not at all happy": False,
    "this is not at all sad": True,
    "this is not at all happy": False,
    "i am good right now": True,
    "i am bad right now": False,
    "this is bad right now": False,
    "i am sad right now": False,
    "i was good earlier": True,
    "i was happy earlier": True,
    "i was bad earlier": False,
    "i was sad earlier": False,
    "i am very bad right now": False,
    "this is very good right now": True,
    "this is very sad right now": False,
    "this was bad earlier": False,
    "this was very good earlier": True,
    "this was very bad earlier": False,
    "this was very happy earlier": True,
    "this was very sad earlier": False,
    "i was good and not bad earlier": True,
    "i was not good and not happy earlier": False,
    "i am not at all bad or sad right now": True,
    "i am not at all good or happy right now": False,
    "this was not happy and not good earlier": False,
}

TEST_DATA = {
    "this is happy": True,
    "i am good": True,
    "this is not happy": False,
    "i am not good": False,
    "this is not bad": True,
    "i am not sad": True,
    "i am very good": True,
    "this is very bad": False,
    "i am very sad": False,
    "this is bad not good": False,
    "this is good and happy": True,
    "i am not good and not happy": False,
    "i am not at all sad": True,
    "this is not at all good": False,
    "this is not at all bad": True,
    "this is good right now": True,
    "this is sad right now": False,
    "this is very bad right now": False,
    "this was good earlier": True,
    "i was not happy and not good earlier": False,
}
PAD = "<pad>"


def tokenize(sentence):
    """Split a sentence into lower-case words, ignoring punctuation around them.

    Raises TypeError for a non-string and ValueError for a sentence with no words.
    """
    if not isinstance(sentence, str):
        raise TypeError(f"a sentence must be a str, got {type(sentence).__name__}: {sentence!r}")
    words = [w.strip(".,!?;:\"'()") for w in sentence.lower().split()]
    words = [w for w in words if w]
    if not words:
        raise ValueError(f"the sentence {sentence!r} is empty: it has no words")
    return words


def _check_word(i, word):
    """Raise unless ``word`` (item ``i`` of a word list) is a word ``tokenize`` can produce."""
    if not isinstance(word, str):
        raise TypeError(f"word {i} must be a str, got {type(word).__name__}: {word!r}")
    if not word:
        raise ValueError(f"word {i} is the empty string")
    try:
        tokens = tokenize(word)
    except ValueError:  # only punctuation or spaces: no word at all
        tokens = []
    if tokens != [word]:
        hint = f" (a sentence would give {tokens})" if tokens else ""
        raise ValueError(f"word {i}, {word!r}, is not a word as tokenize writes it (lower case, "
                         f"no spaces, no punctuation around it), so no sentence could use "
                         f"it{hint}")


def _check_sentences_iterable(function, sentences):
    """A bare str is one sentence, not many: iterating it would give its letters."""
    if isinstance(sentences, str | bytes):
        raise TypeError(f"{function} expects a list of sentences (str), got a single "
                        f"{type(sentences).__name__}: {sentences!r}")


class Vocabulary:
    """A word <-> index mapping. Index 0 is reserved for padding; words follow in first-seen order.

    ``Vocabulary.from_sentences(TRAIN_DATA)`` builds it from training sentences only, so that a
    word the model never saw is reported rather than silently given an untrained vector.
    """

    def __init__(self, words):
        """``words``: an ordered iterable of distinct words, each exactly as ``tokenize`` writes
        it (lower case, no spaces, no punctuation around it), so that a sentence can reach it.

        Raises TypeError for a bare str (its letters are not words), a set (no fixed order, so
        the indices would change from run to run) or a word that is not a str; ValueError for
        an empty word, one ``tokenize`` would never produce, ``PAD``, or a repeated word.
        """
        if isinstance(words, str | bytes):
            raise TypeError(f"words must be a list of words, not a single {type(words).__name__} "
                            f"(its letters would become the words): {words!r}")
        if isinstance(words, set | frozenset):
            raise TypeError("words must be in a fixed order (a list, a tuple or a dict's keys), "
                            "not a set: word indices would change from run to run")
        try:
            words = list(words)
        except TypeError as err:
            raise TypeError(f"words must be an iterable of str, got {type(words).__name__}"
                            ) from err
        for i, word in enumerate(words):
            _check_word(i, word)
        if PAD in words:
            raise ValueError(f"{PAD!r} is reserved for padding and cannot be a word")
        if len(set(words)) != len(words):
            repeated = sorted({w for w in words if words.count(w) > 1})
            raise ValueError(f"the vocabulary has repeated words: {', '.join(repeated)}")
        self.words = [PAD] + words
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def from_sentences(cls, sentences):
        """All distinct words of the sentences (an iterable of str, or a dict's keys)."""
        _check_sentences_iterable("from_sentences", sentences)
        seen = {}
        for sentence in sentences:
            for word in tokenize(sentence):
                seen.setdefault(word, None)
        return cls(seen)

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index and word != PAD

    def unknown_words(self, sentences):
        """The words of ``sentences`` that are not in the vocabulary, sorted, without repeats."""
        _check_sentences_iterable("unknown_words", sentences)
        return sorted({w for s in sentences for w in tokenize(s) if w not in self})

    def encode(self, sentences):
        """Encode sentences as a padded, time-major index array and a mask.

        Args:
            sentences: a list (or tuple) of N strings.

        Returns:
            ``(ids, mask)``: ``ids`` (T, N) int64 word indices, with T the longest sentence's
            length and 0 for padding after a shorter sentence's end; ``mask`` (T, N) float64,
            1 at real words and 0 at padding.

        Raises:
            TypeError for a non-list or a non-string item; ValueError for no sentences, an empty
            sentence, or unknown words (all of them are listed).
        """
        if isinstance(sentences, str) or not isinstance(sentences, list | tuple):
            raise TypeError("encode expects a list of sentences (str); "
                            f"got {type(sentences).__name__}")
        if len(sentences) == 0:
            raise ValueError("encode needs at least one sentence")
        tokens = [tokenize(s) for s in sentences]
        unknown = sorted({w for words in tokens for w in words if w not in self})
        if unknown:
            raise ValueError(f"unknown word(s) not in the vocabulary: {', '.join(unknown)}. "
                             f"Known words: {', '.join(self.words[1:])}")
        steps = max(len(t) for t in tokens)
        ids = np.zeros((steps, len(tokens)), dtype=np.int64)
        mask = np.zeros((steps, len(tokens)), dtype=np.float64)
        for b, words in enumerate(tokens):
            ids[:len(words), b] = [self.index[w] for w in words]
            mask[:len(words), b] = 1.0
        return ids, mask


def split_labelled(data):
    """Turn a dict sentence -> bool into ``(sentences, labels)``: a list, a (N,) float64 array.

    Raises TypeError for a non-dict, a sentence that is not a str or a label that is not a
    bool, and ValueError for an empty dict.
    """
    if not isinstance(data, dict):
        raise TypeError("labelled data must be a non-empty dict mapping sentence -> bool, got "
                        f"{type(data).__name__}")
    if not data:
        raise ValueError("labelled data must be a non-empty dict mapping sentence -> bool")
    for sentence, label in data.items():
        if not isinstance(sentence, str):
            raise TypeError(f"a sentence must be a str, got {type(sentence).__name__}: "
                            f"{sentence!r}")
        if not isinstance(label, bool | np.bool_):
            raise TypeError(f"the label of {sentence!r} must be a bool, got {label!r}")
    return list(data), np.array([float(v) for v in data.values()])
