"""Project: a sentiment classifier for Rotten Tomatoes snippets, with minigrad.

Write the model (``SentimentModel``), ``train`` and ``predict``; README.md has the rules. The
grader calls ``train(train_pairs, validation_pairs, max_epochs=..., time_limit_s=...)`` and
then ``predict(model, texts)`` on held-out snippets you never see. Run this file to train on
the train split and measure validation accuracy: ``python sentiment.py`` (``--quick`` for a
short run).
"""

from __future__ import annotations

import sys
import time  # noqa: F401  (train must keep to its time limit)

import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.data import Vocab, basic_english_tokenize, bucket_batches, pad_batch

Pairs = list[tuple[str, int]]  # (snippet, label): 1 = fresh (positive), 0 = rotten


class SentimentModel(nn.Module):
    """Your network: ids (B, T) and their lengths (B,) -> two class scores (B, 2).

    Create the layers in ``__init__`` and compute the scores in ``forward``: any minigrad
    layers (an embedding, a GRU or LSTM as in tutorial 5, ...). ``class_scores`` and the
    grader rely only on this signature. Id 0 is ``<pad>``: a padded position is not a word.
    """

    def __init__(self, vocab: Vocab) -> None:
        super().__init__()
        self.vocab = vocab  # kept with the model: predict encodes new texts with it
        # YOUR CODE HERE
        raise NotImplementedError()

    def forward(self, ids: mg.Tensor, lengths: np.ndarray) -> mg.Tensor:
        """ids: (B, T) int tensor, padded with 0; lengths: (B,) array of real lengths."""
        # YOUR CODE HERE
        raise NotImplementedError()


def encode(vocab: Vocab, texts: list[str]) -> list[list[int]]:
    """Token ids of each text (given); an empty text becomes one <unk>, never zero steps."""
    return [vocab.encode(basic_english_tokenize(t)) or [vocab.unk_index] for t in texts]


def class_scores(model: SentimentModel, texts: list[str], batch_size: int = 256) -> np.ndarray:
    """The model's two class scores for each text, (N, 2), in eval mode (given)."""
    ids = encode(model.vocab, texts)
    model.eval()
    out = np.zeros((len(ids), 2))
    with mg.no_grad():
        for idx in bucket_batches([len(x) for x in ids], batch_size, shuffle=False):
            batch, lengths = pad_batch([ids[i] for i in idx])
            out[idx] = model(mg.tensor(batch), lengths).numpy()
    return out


def train(train_pairs: Pairs, validation_pairs: Pairs, max_epochs: int = 8,
          time_limit_s: float = 300.0) -> SentimentModel:
    """Train a model on ``train_pairs`` and return it.

    Use at most ``max_epochs`` passes over ``train_pairs`` and stop in time: ``train`` must
    return within ``time_limit_s`` seconds. ``validation_pairs`` are for choosing what to keep
    (e.g. the weights of the epoch with the best validation accuracy).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def predict(model: SentimentModel, texts: list[str]) -> list[int]:
    """Return one label per text: 1 (fresh, positive) or 0 (rotten, negative)."""
    # YOUR CODE HERE
    raise NotImplementedError()


if __name__ == "__main__":  # train, then validation accuracy: the test split is the grader's
    from minigrad.data import load_rotten_tomatoes

    train_split, validation_split, _ = load_rotten_tomatoes()
    quick = "--quick" in sys.argv
    model = train(train_split, validation_split, max_epochs=3 if quick else 8)
    guesses = predict(model, [t for t, _ in validation_split])
    accuracy = np.mean([g == y for g, (_, y) in zip(guesses, validation_split)])
    print(f"validation accuracy: {accuracy:.1%}")
