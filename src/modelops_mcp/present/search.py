"""Ranking operations for a plain-language query: BM25 over each operation's name, title, summary,
description, path and group, with the verbs agents use for the same act folded together, the words users
say for what the documents name otherwise added to the query, a backend named in the query first,
deprecated operations placed below what replaces them, and a fit's upload step brought up with it.

A hand-rolled BM25 (a few dozen lines) rather than a search library: the corpus is a hundred short
documents built on the first search, the ranking must be deterministic, and on bench/search_eval.json
bm25s and rapidfuzz over the same fields ranked worse than this (bench/search_alternatives.py). The
words themselves are in present/vocabulary.py.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from modelops_mcp.present.vocabulary import fold, query_terms, tokens, words
from modelops_mcp.spec.catalog import Operation
from modelops_mcp.spec.relations import relate, uploads

# How much a query that covers the operation's name (its words after the backend's) multiplies its score:
# "kick off training" is start_training more than start_session.
_NAME_COVERED = 0.8
# A job-starting operation near the top brings its upload step into the first three.
_UPLOAD_STEP = True
# A deprecated operation's score is scaled down, and it never ranks above what replaces it.
_DEPRECATED = 0.9
# Field weights: a word in the tool's name or title says more than one deep in the description.
_WEIGHTS = {"name": 3.0, "title": 2.5, "summary": 2.0, "group": 1.5, "path": 1.0, "description": 0.6}
_K1 = 1.2
_B = 0.5


def mentions(text: str, backends: Iterable[str], plain: Mapping[str, set[str]] | None = None) -> tuple[set[str], str]:
    """Backends the query names, spaced or not ("Tune the Model" names `tunethemodel`), and the query
    without the words that named them (they would otherwise count as "tune" and "model"). A backend in
    `plain` has a name that is an ordinary word: it is named only when followed by one of the given words."""
    said = words(text)
    wanted = {b.replace("_", ""): b for b in backends}
    plain = plain or {}
    named: set[str] = set()
    kept = [True] * len(said)
    for i in range(len(said)):
        for j in range(min(len(said), i + 4), i, -1):
            backend = wanted.get("".join(said[i:j]))
            if backend is None:
                continue
            if backend in plain:
                if j >= len(said) or fold(said[j]) not in plain[backend]:
                    continue
                j += 1
            named.add(backend)
            kept[i:j] = [False] * (j - i)
            break
    return named, " ".join(w for w, keep in zip(said, kept, strict=True) if keep)


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


# Words of a question about state (folded as documents are): such a query needs no upload step.
_READING = frozenset(tokens("get list status check"))


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
        self._by_name = {op.tool_name: op for op in self._ops}
        self._names = {op.tool_name: set(tokens(op.tool_name.removeprefix(op.backend + "_"))) for op in self._ops}
        self._backend_names = sorted({op.backend for op in self._ops})
        # A backend named by a word other backends' documents use too ("training") is only named with a
        # word that is its own ("training module"): which words are whose, the documents say.
        owners: dict[str, set[str]] = {}
        for op, doc in zip(self._ops, self._docs, strict=True):
            for token in doc:
                owners.setdefault(token, set()).add(op.backend)
        self._plain_names = {
            b: {t for t, o in owners.items() if o == {b}}
            for b in self._backend_names
            if owners.get(fold(b), {b}) != {b}
        }
        self.relations = relate(self._ops)

    def __len__(self) -> int:
        return len(self._ops)

    def _scores(self, terms: dict[str, float], allowed: Sequence[str] | None) -> dict[str, float]:
        scores: dict[str, float] = {}
        for op, doc, length in zip(self._ops, self._docs, self._lengths, strict=True):
            if allowed and op.backend not in allowed:
                continue
            score = 0.0
            for term, weight in terms.items():
                tf = doc.get(term, 0.0)
                if tf:
                    norm = tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * length / self._average))
                    score += weight * self._idf[term] * norm
            if score > 0:
                name = self._names[op.tool_name]
                score *= 1 + _NAME_COVERED * sum(1 for t in name if t in terms) / max(len(name), 1)
                if op.tool_name in self.relations.deprecated:
                    score *= _DEPRECATED
                scores[op.tool_name] = score
        return scores

    def _below_replacements(self, scores: dict[str, float]) -> None:
        """A deprecated operation that matches brings what replaces it, just above itself."""
        for name, replacements in self.relations.deprecated.items():
            present = [r for r in replacements if r in self._by_name]
            if name not in scores or not present:
                continue
            for replacement in present:
                scores[replacement] = max(scores.get(replacement, 0.0), scores[name] * 1.001)
            scores[name] = min(scores[name], *(scores[r] * 0.999 for r in present))

    def _upload_step(self, ranked: list[str], allowed: Sequence[str] | None) -> list[str]:
        """A job-starting operation near the top needs data the user has: its upload step (what feeds it,
        directly or through one step between) joins it in the first three, just after it."""
        for position, name in enumerate(ranked[:2]):
            if self._by_name[name].job is None:
                continue
            before = self.relations.needs.get(name, [])
            near = [*before, *(n for b in before for n in self.relations.needs.get(b, []))]
            for step in near:
                op = self._by_name.get(step)
                if op is None or not uploads(op) or (allowed and op.backend not in allowed):
                    continue
                if step not in ranked[:3]:
                    rest = [n for n in ranked if n != step]
                    at = max(2, position + 1)
                    return [*rest[:at], step, *rest[at:]]
                return ranked
        return ranked

    def search(self, query: str, limit: int = 8, backends: Sequence[str] | None = None) -> list[Hit]:
        named, rest = mentions(query, self._backend_names, self._plain_names)
        terms = query_terms(rest)
        scores = self._scores(terms, backends)
        self._below_replacements(scores)
        # The backends the query names come first: the user said where.
        ranked = sorted(scores, key=lambda name: (self._by_name[name].backend not in named, -scores[name], name))
        if _UPLOAD_STEP and not _READING & set(terms):  # a question about state needs no upload
            ranked = self._upload_step(ranked, backends)
        return [Hit(self._by_name[name], scores.get(name, 0.0)) for name in ranked[:limit]]
