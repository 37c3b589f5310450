"""A local, deterministic text embedding for when the endpoint serves none.

Feature hashing of word unigrams, bigrams and character trigrams into a fixed-size, L2-normalised
vector: no model download, identical on every machine, and good enough to tell a 3-SAT formula
from an AIME problem or two object-counting puzzles apart from arithmetic ones.
"""

from __future__ import annotations

import math
import re
import zlib

LOCAL_EMBEDDING_DIM = 256
MAX_CHARS = 6000  # the opening of a problem says what kind it is; hashing 20k chars cost ~25 ms
_WORD = re.compile(r"[a-z]+|\d+|[^\sa-z\d]")


def local_embedding(text: str, dim: int = LOCAL_EMBEDDING_DIM) -> list[float]:
    vector = [0.0] * dim
    for feature, weight in _features(text[:MAX_CHARS].lower()):
        code = zlib.crc32(feature.encode())  # stable across processes, unlike hash()
        vector[code % dim] += weight if (code >> 16) & 1 else -weight
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _features(text: str):
    words = _WORD.findall(text)
    kinds = ["<num>" if w.isdigit() else w for w in words]
    for w in kinds:
        yield "w:" + w, 1.0
    for a, b in zip(kinds, kinds[1:]):
        yield f"b:{a} {b}", 0.7
    compact = " ".join(w for w in words if w.isalpha())[:1500]
    for i in range(len(compact) - 2):
        yield "c:" + compact[i : i + 3], 0.3


