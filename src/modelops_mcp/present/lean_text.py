"""Description text as a tool list shows it: what a model acts on, without the API reference's apparatus.

The documents carry their vendors' prose (DataRobot's is rst turned into one-line strings): directives and
roles, ``literals``, links, code samples of the server a custom model must run, references to REST routes
and to the vendor's own controller classes. A model calls tools, not routes, and writes no such server, so
the listed text keeps the sentences and loses the apparatus:

- markup goes, its words stay: a link keeps its text, a ``literal`` becomes a `code span`, a heading line
  and an rst directive go;
- a code sample ends its paragraph: from the sentence that shows one (or names a script such as
  `start_server.sh`, or an environment variable such as `$URL_PREFIX`), the rest of that paragraph is
  about writing the code, not calling the tool;
- a route reference (`GET /api/v2/customModels/{customModelId}/`) becomes the tool that serves it; a
  sentence about a route no tool serves, or about the vendor's own classes, goes.

The Operation keeps the original text, which the search index reads and ops_describe and the
modelops://schemas resource show in full.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# Route references: a method and a path, or a bare path under the documents' usual API roots.
_METHOD_ROUTE = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE)\s+(/[\w{}./-]*)")
_BARE_ROUTE = re.compile(r"(?<![\w.}])/api/v\d+/[\w{}./-]*")
_PATH_PARAM = re.compile(r"\{[^{}/]*\}")

_CODE_DIRECTIVE = re.compile(r"\.\.\s*code(?:-block)?::\s*[A-Za-z]*")
# Signs that a sentence is about code a user writes or the vendor runs, not a call: a script or an
# environment variable by name, a shell command, the vendor's own classes.
_CODE_SIGNS = re.compile(r"\b[\w-]+\.(?:sh|py|ps1|bat)\b|\$[A-Z][A-Z0-9_]+\b|\bchmod\b")
_VENDOR_CLASS = re.compile(r"\b[A-Z][a-z]\w*(?:Controller|Handler|Manager|Impl)\b")
_CODE = "\x00"  # where a code sample was: the sentence holding it ends the paragraph

_MARKUP: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"`([^`<>]+?)\s*<[^>`]+>`__?"), r"\1"),  # rst link: `text <url>`_
    (re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^()]*\))*\)"), r"\1"),  # markdown link: [text](url)
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # markdown reference link: [text][ref]
    (re.compile(r":[\w:-]+:`([^`]+)`"), r"`\1`"),  # rst role: :class:`Name`
    (re.compile(r"``([^`]+)``"), r"`\1`"),  # rst literal
    (re.compile(r"\*\*([^*]+)\*\*"), r"\1"),  # bold
    (re.compile(r"\[([A-Za-z][\w ]*)\](?![(\[])"), r"\1"),  # a bracketed word left from a link: [DataRobot]
    (re.compile(r"^\s*#{1,6}\s+.*$", re.MULTILINE), ""),  # markdown heading
    (re.compile(r"^.*\n[=~^\-]{3,}\s*$", re.MULTILINE), ""),  # rst heading and its underline
    (re.compile(r"^\s*\.\.\s+[\w-]+::.*$", re.MULTILINE), ""),  # any other rst directive on its own line
)
# "DataRobot.Only applies": sentences the rst conversion glued together.
_GLUED = re.compile(r"(?<=[a-z)])\.(?=[A-Z][a-z])")
# A sentence ends at a stop, or after a route that ends a run-on line ("…/featureImpact/ This route …").
_SENTENCE_END = re.compile(
    r"(?:(?<=[.!?])(?<!e\.g\.)(?<!i\.e\.)(?<!etc\.)(?<!vs\.)\s+(?=[A-Z(\"'`$\x00]|[a-z]+_[a-z_]+)|(?<=/)\s+(?=[A-Z][a-z]))"
)


@dataclass(frozen=True, slots=True)
class Routes:
    """Which tool serves a route: method and path, the path's parameters unnamed, with and without the
    server URL's own path (`/api/v2`), since the prose writes routes either way."""

    tools: Mapping[tuple[str, str], str]

    @staticmethod
    def key(method: str, path: str) -> tuple[str, str]:
        return method.upper(), _PATH_PARAM.sub("{}", path).rstrip("/")

    def tool(self, method: str | None, path: str) -> str | None:
        """A path named without a method ("the /api/v2/remoteRepositories/ endpoint") is read as its GET."""
        return self.tools.get(self.key(method or "GET", path))


def build_routes(operations: list[tuple[str, str, str, str]]) -> Routes:
    """`operations`: (method, path, the server URL's path, tool name) of every listed operation."""
    tools: dict[tuple[str, str], str] = {}
    for method, path, base, tool in operations:
        tools[Routes.key(method, path)] = tool
        tools[Routes.key(method, base.rstrip("/") + path)] = tool
    return Routes(tools)


def _remove_code_samples(text: str) -> str:
    """Each `.. code:: Python {...}` becomes one marker: the directive and the bracketed sample after it."""
    out: list[str] = []
    at = 0
    for match in _CODE_DIRECTIVE.finditer(text):
        if match.start() < at:
            continue
        out.append(text[at : match.start()])
        end = match.end()
        while end < len(text) and text[end] in " \t\n":
            end += 1
        if end < len(text) and text[end] in "{[":
            end = _close(text, end)
        else:  # an indented block: the lines after the directive that start with whitespace
            block = re.match(r"(?:\n?[ \t]+[^\n]*)*", text[end:])
            end += block.end() if block else 0
        out.append(_CODE)
        at = end
    out.append(text[at:])
    return "".join(out)


def _close(text: str, start: int) -> int:
    """The index after the bracket that closes the one at `start` (or the text's end)."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] in "{[(":
            depth += 1
        elif text[i] in "}])":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


def _sentences(paragraph: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(paragraph) if s.strip()]


def lean_text(
    text: str, routes: Routes, keep: Callable[[str, bool], bool] = lambda _s, _f: True, cut_note: str = ""
) -> str:
    """The listed form of a description. `keep(sentence, first)` may drop more sentences (a deprecated
    field's, one restating a default); `first` is whether nothing was kept before it. `cut_note` ends a
    text that lost a code passage (where to read it in full): a few tools, so a few bytes."""
    text = _remove_code_samples(text)
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    text = _GLUED.sub(". ", text)
    paragraphs: list[str] = []
    cut = False
    for paragraph in re.split(r"\n\s*\n", text):
        kept: list[str] = []
        for sentence in _sentences(" ".join(paragraph.split())):
            if _CODE in sentence or _CODE_SIGNS.search(sentence):
                cut = True
                break  # the rest of the paragraph is about the code, not the call
            if _VENDOR_CLASS.search(sentence):
                continue
            routed = _with_tools(sentence, routes)
            if routed is not None and keep(routed, not (kept or paragraphs)):
                kept.append(routed)
        if kept:
            paragraphs.append(" ".join(kept))
    if cut and cut_note and paragraphs:
        paragraphs[-1] += f" {cut_note}"
    return "\n\n".join(paragraphs)


def _with_tools(sentence: str, routes: Routes) -> str | None:
    """Routes named as the tools that serve them; None when the sentence is about a route no tool serves."""
    unserved = False

    def by_method(match: re.Match[str]) -> str:
        nonlocal unserved
        tool = routes.tool(match.group(1), match.group(2))
        unserved = unserved or tool is None
        return tool or match.group(0)

    def bare(match: re.Match[str]) -> str:
        nonlocal unserved
        tool = routes.tool(None, match.group(0))
        unserved = unserved or tool is None
        return tool or match.group(0)

    routed = _BARE_ROUTE.sub(bare, _METHOD_ROUTE.sub(by_method, sentence))
    if unserved:
        return None
    if routed == sentence:
        return sentence.strip()
    # "tool_a and tool_a" once both spellings of a route name one tool; "POST … PATCH …" lists alternatives.
    routed = re.sub(r"\b(\w+_\w+) (?:and|or) \1\b", r"\1", routed)
    served = set(routes.tools.values())

    def alternatives(match: re.Match[str]) -> str:
        both = match.group(1) in served and match.group(2) in served
        return f"{match.group(1)} or " if both else match.group(0)

    routed = re.sub(r"\b(\w+_\w+) (?=(\w+_\w+)\b)", alternatives, routed).strip()
    return routed if routed[-1:] in ".!?:)" else routed + "."
