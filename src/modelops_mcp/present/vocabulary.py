"""The words of operations and of queries about them: which carry no signal, which name the same act,
which words users say for what the documents name otherwise, and how a word is cut to its stem. Search
(present/search.py) ranks with these; they are data, kept apart from the ranking.
"""

from __future__ import annotations

import functools
import re

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
        "have",
        "has",
        "had",
        "are",
        "was",
        "were",
        "been",
        "did",
        "will",
        "would",
        "should",
        "could",
        "so",
        "now",
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
    "tuning": "fit",
    "tune": "fit",
    "predict": "classify",
    "prediction": "classify",
    "retrain": "fit",
    "configure": "config",
    "configuration": "config",
    "setting": "config",
    "converts": "convert",
    "conversion": "convert",
    "llm": "model",
    "importance": "impact",
    "explain": "explanation",
    "duplicate": "copy",
    "clone": "copy",
    "permission": "access",
    "permissions": "access",
    "share": "access",
    "sharing": "access",
}
# Words users say for what the documents name otherwise: each adds the documents' words to the query, at
# _EXPANDED weight (the user's own word keeps its full weight).
_USER_WORDS = {
    "epoch": "config",
    "learning": "config",
    "rate": "config",
    "batch": "config",
    "hyperparameter": "config",
    "parameter": "config",
    "ram": "memory",
    "memory": "load",
    "fail": "log",
    "failed": "log",
    "error": "log",
    "why": "log",
    "which": "list",
    "available": "list",
    "have": "list",
    "what": "get",
    "is": "status",
    "has": "status",
    "build": "create",
    "far": "status",
    "along": "status",
    "finished": "status",
    "done": "status",
    "yet": "status",
    "progress": "status",
    "colleague": "access",
    "who": "access",
    "grant": "access",
    "docker": "environment",
    "container": "environment",
    "requirement": "dependency",
    "install": "start dependency build",
    "package": "dependency",
    "jar": "convert",
    "convert": "create",
    "compute": "start",
    "calculate": "start",
    "share": "update",
    "java": "convert",
    "export": "download",
    "zip": "download",
    "review": "classify text",
    "sentence": "classify text",
    "inference": "classify",
    "write": "generate",
    "attach": "bind",
    "link": "bind",
    "git": "repository",
    "github": "repository",
    "repo": "repository",
    "up": "health",
    "alive": "health",
    "running": "health",
    "pretrained": "import",
    "huggingface": "import pretrained",
    "rename": "update name",
    "quota": "limit",
    "csv": "dataset file",
    "example": "dataset",
    "label": "dataset",
}
_EXPANDED = 0.6
_WORD = re.compile(r"[A-Za-z][a-z]*|[A-Z]+(?![a-z])|\d+")


@functools.cache
def stem(word: str) -> str:
    """A light suffix strip, enough to meet "models" with "model", "tests" with "test" and "unloading" with
    "unload"."""
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            base = word[: -len(suffix)]
            if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "ls":
                return base[:-1]  # running -> run
            return base + "e" if base.endswith(("at", "iz", "uc", "ur", "iv")) else base  # created -> create
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            if suffix == "es" and not word.endswith(("ches", "shes", "xes", "zes", "sses")):
                continue
            return word[: -len(suffix)] + keep
    return word


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text.replace("_", " "))]


def fold(word: str) -> str:
    word = _SYNONYMS.get(word, word)
    cut = stem(word)
    return _SYNONYMS.get(cut, cut)


def tokens(text: str) -> list[str]:
    return [fold(w) for w in words(text) if w not in _STOP]


def query_terms(text: str) -> dict[str, float]:
    """The query's tokens at weight 1, and the documents' words for the users' words at _EXPANDED."""
    terms: dict[str, float] = {}
    for word in words(text):
        for extra in _USER_WORDS.get(word, _USER_WORDS.get(stem(word), "")).split():
            for token in tokens(extra):
                # Several of the user's words for one thing add up, to the weight of the word itself.
                terms[token] = min(terms.get(token, 0.0) + _EXPANDED, 1.0)
        if word not in _STOP:
            terms[fold(word)] = 1.0
    return terms
