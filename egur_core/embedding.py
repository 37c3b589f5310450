"""A local, deterministic text embedding for when the endpoint serves none.

Feature hashing of word unigrams, bigrams and character trigrams into a fixed-size, L2-normalised
vector: no model download, identical on every machine, and good enough to tell a 3-SAT formula
from an AIME problem or two object-counting puzzles apart from arithmetic ones.
"""

from __future__ import annotations

import hashlib
import math
import re

LOCAL_EMBEDDING_DIM = 256
_WORD = re.compile(r"[a-z]+|\d+|[^\sa-z\d]")


def local_embedding(text: str, dim: int = LOCAL_EMBEDDING_DIM) -> list[float]:
    vector = [0.0] * dim
    for feature, weight in _features(text.lower()):
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        bucket = int.from_bytes(digest[:4], "little") % dim
        sign = 1.0 if digest[4] & 1 else -1.0
        vector[bucket] += sign * weight
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _features(text: str):
    words = _WORD.findall(text[:20_000])
    kinds = ["<num>" if w.isdigit() else w for w in words]
    for w in kinds:
        yield "w:" + w, 1.0
    for a, b in zip(kinds, kinds[1:]):
        yield f"b:{a} {b}", 0.7
    compact = " ".join(w for w in words if w.isalpha())[:4000]
    for i in range(len(compact) - 2):
        yield "c:" + compact[i : i + 3], 0.3


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    na = math.sqrt(sum(x * x for x in a)) or 1.0
    nb = math.sqrt(sum(y * y for y in b)) or 1.0
    return dot / (na * nb)
