"""Ranking operations for a plain-language query: BM25 over each operation's name, title, summary,
description, path and group, with the verbs agents use for the same act folded together.

A hand-rolled BM25 (a few dozen lines) rather than a search library: the corpus is a few hundred short
documents built once at start, and the ranking must be deterministic and dependency-free.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from modelops_mcp.tools.catalog import Operation

# Words with no signal in an operation's description or a query about one.
_STOP = frozenset(
    {
        "a",
        "an",
        "the",
        "of",
        "to",
        "for",
        "and",
        "or",
        "in",
        "on",
        "with",
        "by",
        "from",
        "its",
        "it",
        "is",
        "be",
        "this",
        "that",
        "as",
        "at",
        "all",
        "any",
        "into",
        "me",
        "my",
        "i",
        "you",
        "your",
        "we",
        "our",
        "can",
        "how",
        "do",
        "does",
        "which",
        "what",
        "please",
        "using",
        "use",
        "via",
    }
)
# The same act, worded the way a person or an API may word it, folded onto one token.
_SYNONYMS = {
    "retrieve": "get",
    "fetch": "get",
    "read": "get",
    "show": "get",
    "describe": "get",
    "view": "get",
    "enumerate": "list",
    "remove": "delete",
    "erase": "delete",
    "destroy": "delete",
    "add": "create",
    "new": "create",
    "make": "create",
    "register": "create",
    "launch": "start",
    "run": "start",
    "begin": "start",
    "trigger": "start",
    "kick": "start",
    "abort": "cancel",
    "halt": "cancel",
    "stop": "cancel",
    "terminate": "cancel",
    "modify": "update",
    "change": "update",
    "edit": "update",
    "patch": "update",
    "set": "update",
    "train": "fit",
    "training": "fit",
    "finetune": "fit",
    "tune": "fit",
    "predict": "classify",
    "prediction": "classify",
    "permission": "access",
    "permissions": "access",
    "share": "access",
    "sharing": "access",
}
# Field weights: a word in the tool's name or title says more than one deep in the description.
_WEIGHTS = {"name": 3.0, "title": 2.5, "summary": 2.0, "group": 1.5, "path": 1.0, "description": 0.6}
_K1 = 1.2
_B = 0.5
_WORD = re.compile(r"[A-Za-z][a-z]*|[A-Z]+(?![a-z])|\d+")


def _stem(word: str) -> str:
    """A light suffix strip, enough to meet "models" with "model" and "tests" with "test"."""
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            if suffix == "es" and not word.endswith(("ches", "shes", "xes", "zes", "sses")):
                continue
            return word[: -len(suffix)] + keep
    return word


def tokens(text: str) -> list[str]:
    words = (w.lower() for w in _WORD.findall(text.replace("_", " ")))
    folded = (_SYNONYMS.get(w, w) for w in words if w not in _STOP)
    return [_SYNONYMS.get(_stem(w), _stem(w)) for w in folded]


@dataclass(frozen=True)
class Hit:
    operation: Operation
    score: float


def _fields(op: Operation) -> dict[str, str]:
    summary, _, rest = op.description.partition("\n")
    return {
        "name": op.tool_name,
        "title": op.title,
        "summary": summary,
        "group": f"{op.backend} {op.group or ''}",
        "path": f"{op.method} {op.path}",
        "description": rest,
    }


class OperationIndex:
    def __init__(self, operations: Iterable[Operation]) -> None:
        self._ops: list[Operation] = list(operations)
        self._docs: list[dict[str, float]] = []
        for op in self._ops:
            weighted: dict[str, float] = {}
            for field, text in _fields(op).items():
                for token in tokens(text):
                    weighted[token] = weighted.get(token, 0.0) + _WEIGHTS[field]
            self._docs.append(weighted)
        self._lengths = [sum(doc.values()) for doc in self._docs]
        self._average = (sum(self._lengths) / len(self._lengths)) if self._lengths else 1.0
        frequency: Counter[str] = Counter()
        for doc in self._docs:
            frequency.update(doc.keys())
        count = len(self._docs)
        self._idf = {t: math.log(1 + (count - n + 0.5) / (n + 0.5)) for t, n in frequency.items()}

    def __len__(self) -> int:
        return len(self._ops)

    def search(self, query: str, limit: int = 8, backends: Sequence[str] | None = None) -> list[Hit]:
        terms = set(tokens(query))
        hits: list[Hit] = []
        for op, doc, length in zip(self._ops, self._docs, self._lengths, strict=True):
            if backends and op.backend not in backends:
                continue
            score = 0.0
            for term in terms:
                tf = doc.get(term, 0.0)
                if tf:
                    norm = tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * length / self._average))
                    score += self._idf[term] * norm
            if score > 0:
                hits.append(Hit(op, score))
        hits.sort(key=lambda hit: (-hit.score, hit.operation.tool_name))
        return hits[:limit]
