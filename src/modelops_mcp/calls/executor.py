"""Executing a tool call: validate → fill the session → open files → send → shape or save the result. Never raises."""

from __future__ import annotations

import csv
import functools
import logging
from collections.abc import Collection, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

import anyio
import httpx
import mcp_types as types

from modelops_mcp.calls.class_labels import ClassLabels
from modelops_mcp.calls.next_step import NextSteps
from modelops_mcp.calls.payloads import PAYLOADS, Payload, PayloadError
from modelops_mcp.calls.reply import Reply, evaluate, fill_arguments
from modelops_mcp.calls.request import SetMember, build_request
from modelops_mcp.calls.response import error_from_response, parse_answer, success_result
from modelops_mcp.calls.sessions import SessionKeyStore
from modelops_mcp.calls.validation import ArgumentValidator, compile_schema
from modelops_mcp.core.errors import ToolError, ToolFailure, error_result
from modelops_mcp.core.redact import Redactor
from modelops_mcp.http.backends import BackendClient, retry_after_seconds
from modelops_mcp.http.downloads import save_response
from modelops_mcp.http.uploads import LocalFiles, RootsProvider
from modelops_mcp.settings.config import Limits
from modelops_mcp.spec.catalog import Catalog, Operation
from modelops_mcp.spec.labels import ClassNameStore
from modelops_mcp.spec.openapi import resolve_pointer
from modelops_mcp.spec.routes import route_url, same_origin

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

log = logging.getLogger(__name__)
# An answer larger than this is parsed, redacted, checked and turned into text in a worker thread (and a row
# at a time, see json_pieces): 5 MB took 2.4 s of the event loop, which every other session waited out.
OFF_LOOP_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Workspace:
    """Where files come from and go to, and what the server remembers between calls."""

    files: LocalFiles
    sessions: SessionKeyStore
    downloads: Path
    class_names: ClassNameStore | None = None  # for backends that answer classes by number (spec/labels.py)


def _refused(op: Operation, code: str, message: str) -> ToolFailure:
    """A call refused before anything reached the backend."""
    return ToolFailure(
        ToolError(
            kind="validation",
            code=code,
            message=f"{message}; nothing was sent",
            backend=op.backend,
            operation=op.tool_name,
        )
    )


class AfterCall(Protocol):
    """What follows a successful call, inside its error handling (the layer above starts a job here): the
    result as the agent gets it. A `ToolFailure` it raises becomes the call's error result."""

    async def __call__(
        self, op: Operation, arguments: dict[str, Any], reply: Reply, result: types.CallToolResult
    ) -> types.CallToolResult: ...


class Calls:
    """What job adapters may do with a backend: call an operation, and route a URL it answered with."""

    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    async def __call__(self, op: Operation, arguments: dict[str, Any]) -> Reply:
        return await self._executor.invoke(op, arguments)

    async def route(self, backend: str, url: str) -> tuple[Operation, dict[str, Any]]:
        return await self._executor.route(backend, url)


class Executor:
    def __init__(
        self,
        catalog: Catalog,
        clients: dict[str, BackendClient],
        limits: Limits,
        redactor: Redactor,
        workspace: Workspace,
        output_schemas: Mapping[str, dict[str, Any]] | None = None,
        callable_tools: Collection[str] | None = None,
    ) -> None:
        """`output_schemas`: what each tool's answers must match, by tool name: the schemas the tool list
        shows (a lean one is also far cheaper to check on every call); the documents' own by default.
        `callable_tools`: the tools an error may name as the next step (the exposed ones; None: all)."""
        self.catalog = catalog
        self._clients = clients
        self._limits = limits
        self._redactor = redactor
        self._workspace = workspace
        every = catalog.every_operation()  # internal operations are validated like tools
        self._inputs = {op.tool_name: ArgumentValidator(op.input_schema) for op in every}
        shown = output_schemas or {}
        # Compiled on each tool's first call (`_output_check`): a start compiles none of them.
        self._output_schemas = {
            op.tool_name: shown.get(op.tool_name, op.output_schema) for op in every if op.output_schema is not None
        }
        self._outputs: dict[str, Draft202012Validator] = {}
        # What an error names as the next step: only tools a client can call.
        self.next_steps = NextSteps(catalog, callable_tools)
        self._labels = ClassLabels(workspace.class_names, self.known_base_url)

    async def call(
        self,
        name: str,
        arguments: dict[str, Any] | None,
        roots: RootsProvider | None = None,
        after: AfterCall | None = None,
    ) -> types.CallToolResult:
        """One tool call; `roots` lists the client's roots, for calls that upload local files; `after` gets the
        backend's answer of a plain (not download, not upload) call that succeeded."""
        op = self.catalog.operations[name]
        try:
            return await self._call(op, arguments or {}, roots, after)
        except ToolFailure as failure:
            # Masked as a whole, whichever part echoes a secret: a backend's message, or our own violations
            # naming a key the agent pasted as an argument.
            explained = self.next_steps.explain(op, arguments or {}, failure.error)
            error = ToolError.model_validate(self._redactor.value(explained.model_dump()))
            log.info("%s failed: %s", name, error.one_line())
            return error_result(error)
        except Exception as exc:  # the server must keep serving whatever one call meets
            log.exception("%s: unexpected failure", name)
            error = ToolError(
                kind="backend",
                message=self._redactor.text(f"unexpected failure: {type(exc).__name__}: {exc}")[:500],
                backend=op.backend,
                operation=op.tool_name,
            )
            return error_result(error)

    def refusal(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult | None:
        """The validation error a call would get, checked before the user is asked to confirm it."""
        op = self.catalog.operations[name]
        try:
            self._inputs[name].check(arguments, name, op.backend)
        except ToolFailure as failure:
            return error_result(self.next_steps.explain(op, arguments, failure.error))
        return None

    async def invoke(self, op: Operation, arguments: dict[str, Any]) -> Reply:
        """One operation for the server's own use (job status checks): the parsed answer, or `ToolFailure`."""
        arguments = self._prepare(op, arguments)
        # Not spilled to a file: a status check repeats, and nobody would open what it saved.
        response = await self._send(op, arguments, None, spill=False)
        return Reply(response.status_code, await self._answer(op, response), response.headers)

    async def _answer(self, op: Operation, response: httpx.Response) -> Any:
        """The parsed, redacted answer: a large one off the event loop."""
        if len(response.content) <= OFF_LOOP_BYTES:
            return self._redactor.value(parse_answer(op, response, self._redactor))
        parse = functools.partial(parse_answer, op, response, self._redactor, in_pieces=True)
        return await anyio.to_thread.run_sync(lambda: self._redactor.value(parse()))

    def _output_check(self, name: str) -> Draft202012Validator | None:
        """The validator of what `name` answers, compiled on its first call; None for a tool without one."""
        validator = self._outputs.get(name)
        if validator is None and name in self._output_schemas:
            validator = self._outputs[name] = compile_schema(self._output_schemas[name])
        return validator

    async def base_url(self, backend: str) -> str:
        return await self._clients[backend].base_url(backend)

    def known_base_url(self, backend: str) -> str | None:
        """The endpoint `backend`'s calls went to, once known (a job remembers it), without probing."""
        return self._clients[backend].known_base_url

    async def route(self, backend: str, url: str) -> tuple[Operation, dict[str, Any]]:
        """The documented operation a URL from `backend`'s answers names; `ToolFailure` for any other URL."""
        return route_url(self.catalog.backends[backend].operations, await self.base_url(backend), url, backend=backend)

    async def _next_page(self, op: Operation, arguments: dict[str, Any]) -> dict[str, Any]:
        """A paginated call given a `next` URL: its arguments are the URL's, if it is this very list."""
        spec = op.pagination
        if spec is None or spec.argument not in arguments:
            return arguments
        # The arguments as given are checked first: a next page must not carry an unknown or ill-typed member
        # (nor a `next_page` that is not a string) past validation just because the URL's replace them.
        self._inputs[op.tool_name].check(arguments, op.tool_name, op.backend)
        target, from_url = await self.route(op.backend, str(arguments[spec.argument]))
        if target is not op:
            raise _refused(op, "foreign_url", f"`{spec.argument}` is a URL of {target.tool_name}, not {op.tool_name}")
        return from_url

    def _with_page_defaults(self, op: Operation, arguments: dict[str, Any]) -> dict[str, Any]:
        """The backend documents offset and limit as required: send the defaults the tool's schema shows."""
        spec = op.pagination
        if spec is None:
            return arguments
        filled = dict(arguments)
        for f in op.fields:
            if f.location == "query" and f.wire in (spec.offset, spec.limit) and f.arg not in filled:
                filled[f.arg] = 0 if f.wire == spec.offset else spec.default_limit
        return filled

    def _prepare(self, op: Operation, arguments: dict[str, Any]) -> dict[str, Any]:
        """Checked arguments, with the remembered session key filled in where the agent left it out."""
        self._inputs[op.tool_name].check(arguments, op.tool_name, op.backend)
        arguments = self._with_page_defaults(op, arguments)
        if op.session_arg is None or op.session_arg in arguments:
            return arguments
        key = self._workspace.sessions.get(op.backend)
        if key is None:
            spec = self.catalog.backends[op.backend]
            start = self.catalog.find(op.backend, spec.session.start) if spec.session else None
            starter = start.tool_name if start else "its start call"
            raise _refused(
                op, "no_session", f"no {spec.title} session: start one with {starter} first, or pass `{op.session_arg}`"
            )
        return {**arguments, op.session_arg: key}

    async def _send(
        self,
        op: Operation,
        arguments: dict[str, Any],
        roots: RootsProvider | None,
        *,
        stream: bool = False,
        spill: bool = True,
    ) -> httpx.Response:
        client = self._clients[op.backend]
        paths = {f.arg: arguments[f.arg] for f in op.fields if f.file and f.arg in arguments}
        async with AsyncExitStack() as stack:
            files: dict[str, tuple[Path, IO[bytes]]] = {}
            if paths:
                resolved = await self._workspace.files.resolve(paths, roots, backend=op.backend, operation=op.tool_name)
                for arg, path in resolved.items():
                    files[arg] = (path, await self._open(stack, path))
            file_sets: dict[str, list[SetMember]] = {}
            for f in op.fields:
                if f.file_set and f.arg in arguments and op.file_set is not None:
                    members = await self._workspace.files.expand(
                        list(arguments[f.arg]),
                        roots,
                        op.file_set.max_files,
                        argument=f.arg,
                        backend=op.backend,
                        operation=op.tool_name,
                    )
                    file_sets[f.arg] = [(rel, path, await self._open(stack, path)) for rel, path in members]
            try:
                request = build_request(op, arguments, await client.base_url(op.tool_name), files, file_sets)
            except httpx.InvalidURL as exc:
                # Schema-valid values can still make no sound URL: over httpx's 64 KiB cap, or a "." / ".."
                # path segment that would send the call to another route.
                raise _refused(op, "invalid_url", f"the arguments make an invalid request URL ({exc})") from None
            if op.authenticated:
                client.authorize(request, op.tool_name)
            spill_to = self._workspace.downloads / op.backend if spill else None
            response = await client.send(
                request, idempotent=op.idempotent, operation=op.tool_name, stream=stream, spill_to=spill_to
            )
        if response.status_code in op.redirects:
            await response.aread()
            return response  # a documented redirect is an answer (a finished job's Location), read by the caller
        if not response.is_success:
            await response.aread()  # an error body is small and is what tells the agent what went wrong
            raise ToolFailure(error_from_response(op, response, self._redactor, retry_after_seconds(response)))
        return response

    @staticmethod
    async def _open(stack: AsyncExitStack, path: Path) -> IO[bytes]:
        handle = await anyio.to_thread.run_sync(path.open, "rb")
        stack.callback(handle.close)
        return handle

    async def _call(
        self, op: Operation, arguments: dict[str, Any], roots: RootsProvider | None, after: AfterCall | None
    ) -> types.CallToolResult:
        arguments = self._prepare(op, await self._next_page(op, arguments))
        if op.download:
            return await self._download(op, arguments)
        if op.upload is not None:
            return await self._presigned_upload(op, arguments, roots)
        response = await self._send(op, arguments, roots)
        reply = self._labels.labelled(
            op, arguments, Reply(response.status_code, await self._answer(op, response), response.headers)
        )
        shape = functools.partial(
            success_result, op, reply.status, reply.body, self._output_check(op.tool_name), self._limits.text_chars
        )
        large = len(response.content) > OFF_LOOP_BYTES
        result = await anyio.to_thread.run_sync(functools.partial(shape, in_pieces=True)) if large else shape()
        self._remember_session(op, reply)
        return result if after is None else await after(op, arguments, reply, result)

    async def _download(self, op: Operation, arguments: dict[str, Any]) -> types.CallToolResult:
        response = await self._send(op, arguments, None, stream=True)
        try:
            saved = await save_response(response, self._workspace.downloads / op.backend, op.tool_name)
        finally:
            await response.aclose()
        text = f"Saved {saved.size} bytes to {saved.path} (sha256 {saved.sha256}); the file was not read into context."
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text), saved.link()],
            structured_content=saved.structured(),
        )

    async def _payload(self, op: Operation, arguments: dict[str, Any], roots: RootsProvider | None) -> Payload:
        """Built (and its file read) before anything is sent, so a bad dataset costs no request."""
        assert op.upload is not None
        path = None
        if "path" in arguments:
            resolved = await self._workspace.files.resolve(
                {"path": arguments["path"]}, roots, backend=op.backend, operation=op.tool_name
            )
            path = resolved["path"]
        try:
            return await anyio.to_thread.run_sync(PAYLOADS[op.upload.payload], arguments, path)
        except (PayloadError, OSError, UnicodeDecodeError, csv.Error) as exc:
            raise _refused(op, "invalid_dataset", str(exc)) from None

    async def _presigned_upload(
        self, op: Operation, arguments: dict[str, Any], roots: RootsProvider | None
    ) -> types.CallToolResult:
        """Create the record, send the payload to the URL its answer gives, read the record back."""
        assert op.upload is not None
        payload = await self._payload(op, arguments, roots)
        response = await self._send(op, arguments, roots)
        body = parse_answer(op, response, self._redactor)
        url = resolve_pointer(body, op.upload.url[len("$response.body#") :])
        client = self._clients[op.backend]
        base = httpx.URL(await client.base_url(op.tool_name))
        target = httpx.URL(url) if isinstance(url, str) and url else None
        # A presigned URL is followed only to https (object storage) or to the configured endpoint's own origin:
        # scheme, host AND port, since another port on the same host is another service.
        if target is None or not (target.scheme == "https" or same_origin(target, base)):
            shown = "no upload URL" if target is None else f"an upload URL on {target.scheme}://{target.host}"
            ids = [str(v) for k, v in body.items() if k.endswith("id")] if isinstance(body, dict) else []
            record_id = ids[0] if ids else "?"
            raise ToolFailure(
                ToolError(
                    kind="backend",
                    code="upload_url_refused",
                    # Not the body: a presigned URL's signature is a credential of its own.
                    message=f"the record {record_id} was created but the backend gave {shown}, which is neither "
                    "https nor the configured endpoint; nothing was uploaded",
                    backend=op.backend,
                    operation=op.tool_name,
                )
            )
        # No credential: the URL carries its own signature, and the key must not travel to object storage.
        put = httpx.Request(op.upload.method, target, json=payload.body)
        uploaded = await client.send(put, idempotent=op.upload.method == "PUT", operation=op.tool_name)
        if not uploaded.is_success:
            raise ToolFailure(error_from_response(op, uploaded, self._redactor, retry_after_seconds(uploaded)))
        record = body
        then = self.catalog.find(op.backend, op.upload.then.operation) if op.upload.then else None
        if then is not None and op.upload.then is not None:
            # `{file_id}` templates are filled from the first answer, as a job's status call is from its ids.
            fields = body if isinstance(body, dict) else {}
            record = (await self.invoke(then, fill_arguments(then, op.upload.then, fields))).body
        names = payload.summary.get("class_names")
        if names and op.labels is not None:
            self._labels.remember(
                op, op.labels.record, evaluate(op.labels.id, op, arguments, Reply(200, body, response.headers)), names
            )
        summary = {"uploaded_rows": payload.summary.get("rows"), "class_names": names}
        structured = {**(record if isinstance(record, dict) else {"result": record}), **summary}
        validator = self._output_check(op.tool_name)
        return success_result(op, 200, self._redactor.value(structured), validator, self._limits.text_chars)

    def _remember_session(self, op: Operation, reply: Reply) -> None:
        spec = self.catalog.backends[op.backend].session
        if spec is None or op.operation_id != spec.start:
            return
        if spec.value.startswith("$response.header."):
            key: Any = reply.headers.get(spec.value[len("$response.header.") :])
        else:
            key = resolve_pointer(reply.body, spec.value[len("$response.body#") :])
        if isinstance(key, str) and key:
            self._workspace.sessions.remember(op.backend, key)
        else:
            log.warning("%s answered without a session key at %s", op.tool_name, spec.value)
