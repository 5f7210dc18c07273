"""Asking the user before a destructive call: MCP elicitation (form mode), when the client offers it.

A destructive tool (a DELETE, a cancel or stop, jobs_cancel, or a call that wipes state through an argument
such as `force_restart`) is confirmed BEFORE anything is sent. On the handshake-era wire (<= 2025-11-25)
the question is an `elicitation/create` request sent mid-call; on 2026-07-28 a server may not send requests
mid-call, so the call answers with an `InputRequiredResult` carrying the question and the client retries it
with the answer (SEP-2322), which the SDK's Client does by itself. A client without elicitation is not
asked: the tools' destructiveHint is there for it to act on. `--no-confirm` turns the questions off.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from modelops_mcp.core.errors import ToolError, error_result
from modelops_mcp.jobs import Job
from modelops_mcp.spec.catalog import Operation

log = logging.getLogger(__name__)

# The key of the question in InputRequiredResult.input_requests (and of the answer in input_responses).
QUESTION_KEY = "confirm"
_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "confirm": {
            "type": "boolean",
            "title": "Go ahead",
            "description": "Yes to run this destructive call; no to leave everything as it is.",
            "default": False,
        }
    },
    "required": ["confirm"],
}

_ID_SUFFIXES = ("Id", "Ids", "_id", "_ids")
# What the call handler returns instead of running: the refusal, or (2026-07-28) the question itself.
Interruption = types.CallToolResult | dict[str, Any]


def client_can_confirm(ctx: ServerRequestContext[Any]) -> bool:
    """Form-mode elicitation declared (an empty `elicitation: {}` means form, for older clients)."""
    capabilities = ctx.session.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def operation_question(op: Operation, arguments: dict[str, Any]) -> str:
    """A short message naming the tool, what it sends and the ids it targets."""
    # The ids the call acts on: path parameters, id-named body fields, and the arguments that make it destructive.
    named = [
        f.arg for f in op.fields if f.location == "path" or f.arg.endswith(_ID_SUFFIXES) or f.arg in op.confirm_when
    ]
    targets = [f"{name}={json.dumps(arguments[name])[:200]}" for name in named if name in arguments]
    target = f" for {', '.join(targets)}" if targets else ""
    return f"Confirm {op.tool_name} ({op.title}): sends {op.method} {op.path}{target}. This may not be undone."


def cancel_question(job: Job) -> str:
    return (
        f"Confirm jobs_cancel: cancel job {job.id} ({job.backend} {job.operation}, {job.status})? The backend's "
        "cancel operation is called when it has one."
    )


def _state(tool: str, arguments: dict[str, Any]) -> str:
    """Binds an answer to the very call it was asked about: a retry with other arguments is asked again."""
    canonical = json.dumps([tool, arguments], sort_keys=True, separators=(",", ":"), default=str)
    return "confirm:" + hashlib.sha256(canonical.encode()).hexdigest()


class Confirmation:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    async def ask(
        self,
        ctx: ServerRequestContext[Any],
        params: types.CallToolRequestParams,
        tool: str,
        arguments: dict[str, Any],
        question: str,
        backend: str | None = None,
    ) -> Interruption | None:
        """None to go ahead; else what the tool call answers instead (nothing has been sent)."""
        if not self.enabled or not client_can_confirm(ctx):
            return None
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            state = _state(tool, arguments)
            answer = (params.input_responses or {}).get(QUESTION_KEY)
            if answer is None or params.request_state != state:
                request = types.ElicitRequest(
                    params=types.ElicitRequestFormParams(message=question, requested_schema=_SCHEMA)
                )
                pending = types.InputRequiredResult(input_requests={QUESTION_KEY: request}, request_state=state)
                return pending.model_dump(by_alias=True, mode="json", exclude_none=True)
            reply = answer.model_dump(mode="json") if hasattr(answer, "model_dump") else dict(answer)
        else:
            try:
                result = await ctx.session.elicit_form(question, _SCHEMA, related_request_id=ctx.request_id)
            except MCPError as exc:
                # A client that declared elicitation but failed to ask: no answer is no consent.
                log.info("%s: the confirmation request failed: %s", tool, exc)
                result = types.ElicitResult(action="cancel")
            reply = result.model_dump(mode="json")
        content = reply.get("content") or {}
        if reply.get("action") == "accept" and content.get("confirm") is True:
            return None
        log.info("%s: not confirmed (%s)", tool, reply.get("action"))
        return error_result(
            ToolError(
                kind="validation",
                code="not_confirmed",
                message=f"the user did not confirm {tool} ({reply.get('action')}); nothing was sent",
                backend=backend,
                operation=tool,
            )
        )
