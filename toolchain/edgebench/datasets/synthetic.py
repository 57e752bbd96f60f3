"""A small generated sentiment corpus: offline text data for CI, tests and the demo.

Short "reviews" are assembled from sentiment words, intensifiers, negations and filler; the
label is the sign of the summed clause polarities (a negated clause flips). It is learnable by a
small CNN or LSTM in one or two epochs, yet needs word order for negations, so it is not a
bag-of-words giveaway. Deterministic for a given seed (numpy's PCG64).
"""
from __future__ import annotations

import numpy as np

POSITIVE = ("great", "wonderful", "excellent", "moving", "brilliant", "charming", "delightful", "superb",
            "funny", "beautiful", "gripping", "clever", "touching", "solid", "fresh")
NEGATIVE = ("terrible", "boring", "awful", "dull", "poor", "weak", "clumsy", "tedious", "bad", "annoying",
            "predictable", "messy", "flat", "silly", "forgettable")
NOUNS = ("film", "movie", "plot", "acting", "story", "cast", "script", "ending", "music", "direction",
         "dialogue", "pacing", "soundtrack", "camera work", "lead")
INTENSIFIERS = ("very", "really", "quite", "so", "truly", "rather", "incredibly")
FILLER = ("i watched it last night", "my friends came along", "it runs two hours", "the cinema was full",
          "i saw the trailer first", "it is based on a novel", "we went on a sunday")
TEMPLATES = ("the {noun} was {intens} {adj}", "the {noun} was {adj}", "i found the {noun} {adj}",
             "what a {adj} {noun}", "the {noun} is {intens} {adj}")
NEGATED = ("the {noun} was not {adj}", "i did not find the {noun} {adj}", "the {noun} was never {adj}")
CLASS_NAMES = ("negative", "positive")


def generate(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """`n` reviews and labels (0 negative, 1 positive), balanced to within one."""
    rng = np.random.default_rng(seed)
    texts: list[str] = []
    labels = np.empty(n, dtype=np.int64)
    for i in range(n):
        want = i % 2
        while True:
            text, score = _review(rng)
            if score != 0 and int(score > 0) == want:
                break
        texts.append(text)
        labels[i] = want
    order = rng.permutation(n)
    return [texts[i] for i in order], labels[order]


def _review(rng: np.random.Generator) -> tuple[str, int]:
    clauses, score = [], 0
    for _ in range(int(rng.integers(1, 4))):
        polarity = 1 if rng.random() < 0.5 else -1
        negated = rng.random() < 0.25
        adj = rng.choice(POSITIVE if polarity > 0 else NEGATIVE)
        template = rng.choice(NEGATED if negated else TEMPLATES)
        clauses.append(str(template).format(noun=rng.choice(NOUNS), adj=adj, intens=rng.choice(INTENSIFIERS)))
        score += -polarity if negated else polarity
    if rng.random() < 0.5:
        clauses.insert(int(rng.integers(0, len(clauses) + 1)), str(rng.choice(FILLER)))
    return ", and ".join(clauses) + ".", score
