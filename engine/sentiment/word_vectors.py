"""Word vectors learned from unlabeled text on the spot: PPMI of word co-occurrences, reduced
with a randomized SVD (numpy only).

Trainable embeddings overfit a few thousand labeled sentences; vectors from the co-occurrence
statistics of more text (the training texts plus, for the movie data, the 1,500 full reviews:
about a million words) carry what words mean without looking at any label, and are kept frozen.
Words outside the ``max_words`` most frequent get zero vectors (the lexicon valence and the
n-gram branch still see them).
"""
from collections import Counter
from typing import Iterable, List

import numpy as np

MAX_WORDS = 8000       # a dense 8,000 x 8,000 co-occurrence matrix (256 MB) is the cost bound


def cooccurrence(token_lists: Iterable[List[str]], index: dict, window: int) -> np.ndarray:
    """Dense symmetric co-occurrence counts among the words in ``index``, weighted 1/distance."""
    n = len(index)
    counts = np.zeros((n, n), dtype=np.float32)
    for tokens in token_lists:
        ids = np.array([index.get(t, -1) for t in tokens], dtype=np.int64)
        for d in range(1, window + 1):
            a, b = ids[:-d], ids[d:]
            keep = (a >= 0) & (b >= 0)
            if keep.any():
                np.add.at(counts, (a[keep], b[keep]), 1.0 / d)
                np.add.at(counts, (b[keep], a[keep]), 1.0 / d)
    return counts


def ppmi(counts: np.ndarray, smoothing: float = 0.75) -> np.ndarray:
    """Positive pointwise mutual information, with context-distribution smoothing."""
    total = counts.sum()
    rows = counts.sum(axis=1, keepdims=True)
    context = counts.sum(axis=0) ** smoothing
    context = context / context.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(counts * (1.0 / total) / ((rows / total) * context[None, :]))
    pmi[~np.isfinite(pmi)] = 0.0
    return np.maximum(pmi, 0.0, out=pmi)


def randomized_svd(matrix: np.ndarray, dim: int, seed: int, power_iterations: int = 3):
    """Top ``dim`` left singular vectors and values of ``matrix`` (Halko et al.)."""
    rng = np.random.RandomState(seed)
    sketch = matrix @ rng.standard_normal((matrix.shape[1], dim + 10)).astype(matrix.dtype)
    q, _ = np.linalg.qr(sketch)
    for _ in range(power_iterations):
        q, _ = np.linalg.qr(matrix.T @ q)
        q, _ = np.linalg.qr(matrix @ q)
    u, s, _ = np.linalg.svd(q.T @ matrix, full_matrices=False)
    return (q @ u)[:, :dim], s[:dim]


def vector_words(token_lists: List[List[str]], max_words: int = MAX_WORDS) -> List[str]:
    """The words that get a vector: the ``max_words`` most frequent (ties in order seen)."""
    freq = Counter(t for tokens in token_lists for t in tokens)
    return [w for w, _ in freq.most_common(max_words)]


def ppmi_svd_vectors(token_lists: List[List[str]], idx_to_token: List[str], dim: int,
                     max_words: int = MAX_WORDS, window: int = 4, seed: int = 0) -> np.ndarray:
    """(len(idx_to_token), dim) float32 vectors, unit length, zero for words not covered.

    A vocabulary of fewer words than ``dim`` has fewer singular vectors than that: its vectors
    fill their first components and the rest stay zero."""
    index = {w: i for i, w in enumerate(vector_words(token_lists, max_words))}
    out = np.zeros((len(idx_to_token), dim), dtype=np.float32)
    if not index:
        return out
    u, s = randomized_svd(ppmi(cooccurrence(token_lists, index, window)), dim, seed)
    vectors = u * np.sqrt(s)[None, :]
    if vectors.shape[1] < dim:       # fewer words than dimensions (a small file): the rest are 0
        vectors = np.pad(vectors, ((0, 0), (0, dim - vectors.shape[1])))
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-8)
    width = vectors.shape[1]                  # min(dim, words)
    for i, token in enumerate(idx_to_token):
        j = index.get(token)
        if j is not None:
            out[i, :width] = vectors[j]
    return out
