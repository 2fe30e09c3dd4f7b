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
        ### BEGIN SOLUTION
        # the mean of the snippet's word vectors -> Linear: fastText's model. It ignores word
        # order, which costs little on snippets this short, and trains in seconds
        self.embed = nn.Embedding(len(vocab), 64, padding_idx=0)  # <pad> stays 0
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(64, 2)
        ### END SOLUTION

    def forward(self, ids: mg.Tensor, lengths: np.ndarray) -> mg.Tensor:
        """ids: (B, T) int tensor, padded with 0; lengths: (B,) array of real lengths."""
        ### BEGIN SOLUTION
        n = mg.tensor(np.asarray(lengths, dtype=np.float32)[:, None])
        return self.out(self.drop(self.embed(ids).sum(1) / n))  # the <pad> rows add 0
        ### END SOLUTION


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
    ### BEGIN SOLUTION
    start = time.perf_counter()
    mg.manual_seed(0)
    vocab = Vocab((basic_english_tokenize(t) for t, _ in train_pairs), min_freq=2)
    ids = encode(vocab, [t for t, _ in train_pairs])
    labels = np.array([y for _, y in train_pairs])
    model = SentimentModel(vocab)
    opt = mg.optim.Adam(model.parameters(), lr=5e-3)

    def out_of_time() -> bool:  # keep a fifth of the budget for validation
        return time.perf_counter() - start > 0.8 * time_limit_s

    best = (-1.0, model.state_dict())
    for epoch in range(max_epochs):
        model.train()
        for idx in bucket_batches([len(x) for x in ids], 64, shuffle=True, seed=epoch):
            if out_of_time():
                break
            batch, lengths = pad_batch([ids[i] for i in idx])
            loss = nn.functional.cross_entropy(model(mg.tensor(batch), lengths),
                                               mg.tensor(labels[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        guesses = class_scores(model, [t for t, _ in validation_pairs]).argmax(1)
        accuracy = float(np.mean(guesses == np.array([y for _, y in validation_pairs])))
        if accuracy > best[0]:
            best = (accuracy, model.state_dict())
        if out_of_time():
            break
    model.load_state_dict(best[1])
    return model
    ### END SOLUTION


def predict(model: SentimentModel, texts: list[str]) -> list[int]:
    """Return one label per text: 1 (fresh, positive) or 0 (rotten, negative)."""
    ### BEGIN SOLUTION
    return [int(c) for c in class_scores(model, texts).argmax(1)]
    ### END SOLUTION


if __name__ == "__main__":  # train, then validation accuracy: the test split is the grader's
    from minigrad.data import load_rotten_tomatoes

    train_split, validation_split, _ = load_rotten_tomatoes()
    quick = "--quick" in sys.argv
    model = train(train_split, validation_split, max_epochs=3 if quick else 8)
    guesses = predict(model, [t for t, _ in validation_split])
    accuracy = np.mean([g == y for g, (_, y) in zip(guesses, validation_split)])
    print(f"validation accuracy: {accuracy:.1%}")
