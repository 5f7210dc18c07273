"""The Pieces OS emulator over real loopback HTTP and WebSockets, on a frozen simulated clock."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any

import anyio
import httpx
import pytest
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from modelops_mcp.sandbox import Sandbox, pieces, serve_sandbox
from modelops_mcp.sandbox.pieces_data import (
    CODELLAMA_CUSTOM_ID,
    GPT_4O_ID,
    LLAMA_3_8B_ID,
    MISTRAL_7B_ID,
    PHI_3_MINI_ID,
    PiecesState,
)

pytestmark = pytest.mark.anyio

CATALOGUE = [LLAMA_3_8B_ID, PHI_3_MINI_ID, MISTRAL_7B_ID, GPT_4O_ID, CODELLAMA_CUSTOM_ID]
LOCAL = [LLAMA_3_8B_ID, PHI_3_MINI_ID, MISTRAL_7B_ID, CODELLAMA_CUSTOM_ID]
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
TEXT = "text/plain; charset=utf-8"
# Generous next to the emulator's 0.02 s tick; only reached when a frame that should come never does.
WAIT = 2.0

Frame = dict[str, Any]


class _Switch:
    """An ASGI app that hands every connection to the current test's sandbox.

    Starting and stopping uvicorn costs more than most tests here, so one server serves the whole module
    while each test still gets a fresh sandbox: fresh state and a clock at zero.
    """

    def __init__(self) -> None:
        self.target: Sandbox | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.target is not None, "no test is running"
        await self.target.app(scope, receive, send)


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def served() -> AsyncIterator[tuple[str, _Switch]]:
    switch = _Switch()
    host = Sandbox(speed=0, emulators=[])
    host.app = switch  # type: ignore[assignment]
    async with serve_sandbox(host) as url:
        yield url, switch


@pytest.fixture
def sandbox(served: tuple[str, _Switch]) -> Iterator[Sandbox]:
    fresh = Sandbox(speed=0, emulators=[pieces.SPEC])
    served[1].target = fresh
    yield fresh
    served[1].target = None


@pytest.fixture
def state(sandbox: Sandbox) -> PiecesState:
    found = sandbox.state("pieces")
    assert isinstance(found, PiecesState)
    return found


@pytest.fixture
def base_url(served: tuple[str, _Switch], sandbox: Sandbox) -> str:
    return served[0]


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url + "/pieces") as c:
        yield c


@pytest.fixture
def progress_url(base_url: str) -> Callable[[str], str]:
    return lambda model_id: base_url.replace("http://", "ws://") + f"/pieces/model/{model_id}/download/progress"


async def model(client: httpx.AsyncClient, model_id: str) -> dict[str, Any]:
    response = await client.get(f"/model/{model_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def post_model(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    response = await client.post(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def assert_text_error(response: httpx.Response, status: int, text: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == TEXT
    assert response.text == text


async def next_frame(ws: ClientConnection) -> Frame:
    with anyio.fail_after(WAIT):
        frame: Frame = json.loads(await ws.recv())
    return frame


async def until_closed(ws: ClientConnection) -> tuple[list[Frame], int | None, str]:
    """Every frame left on the socket, then the server's close code and reason."""
    frames: list[Frame] = []
    with anyio.fail_after(WAIT):
        try:
            while True:
                frames.append(json.loads(await ws.recv()))
        except ConnectionClosed as exc:
            if exc.rcvd is None:
                return frames, None, ""
            return frames, exc.rcvd.code, exc.rcvd.reason


async def advance_and_read(sandbox: Sandbox, ws: ClientConnection, seconds: float) -> Frame:
    sandbox.clock.advance(seconds)
    return await next_frame(ws)


async def wait_for(check: Callable[[], bool]) -> None:
    # The socket handler's bookkeeping runs after the client has already seen the close; the emulator
    # offers nothing to await, so this polls, bounded.
    with anyio.fail_after(WAIT):
        while True:
            if check():
                return
            await anyio.sleep(0.01)


# --- health and listing -------------------------------------------------------------------------------


async def test_health_answers_ok_in_plain_text(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/health")
    assert response.status_code == 200
    assert response.headers["content-type"] == TEXT
    assert response.text == "ok"


def assert_is_model(m: dict[str, Any]) -> None:
    """The Model the official client validates strictly: required fields and the optional ones always sent."""
    assert str(uuid.UUID(m["id"])) == m["id"]
    assert isinstance(m["version"], str)
    assert m["version"]
    assert m["created"]["value"].endswith("Z")
    assert datetime.fromisoformat(m["created"]["value"]).tzinfo is not None
    assert isinstance(m["created"]["readable"], str)
    assert isinstance(m["name"], str)
    assert m["type"] in {"UNKNOWN", "BALANCED", "SPEED", "ACCURACY"}
    assert m["usage"] == "CODE_CONVERSATION"
    for flag in ("cloud", "cpu", "custom", "downloaded", "downloading", "loaded"):
        assert isinstance(m[flag], bool), flag
    for text in ("description", "foundation", "provider"):
        assert isinstance(m[text], str), text
    tokens = m["maxTokens"]
    assert set(tokens) == {"total", "input", "output"}
    assert all(type(v) is int for v in tokens.values())
    if m["cloud"]:
        assert m["quantization"] is None
        assert "bytes" not in m
        assert "ram" not in m
    else:
        assert isinstance(m["quantization"], str)
        for size in ("bytes", "ram"):
            assert type(m[size]["value"]) is int
            assert m[size]["readable"].endswith(" GB")


async def test_models_lists_the_catalogue_in_order_as_typed_models(client: httpx.AsyncClient) -> None:
    response = await client.get("/models")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    listed = response.json()["iterable"]
    for m in listed:
        assert_is_model(m)
    assert [m["id"] for m in listed] == CATALOGUE
    summary = [(m["name"], m["cloud"], m["custom"], m["downloaded"], m["downloading"], m["loaded"]) for m in listed]
    assert summary == [
        ("Llama-3 8B Instruct", False, False, False, False, False),
        ("Phi-3 Mini 4K", False, False, True, False, False),
        ("Mistral 7B Instruct", False, False, False, False, False),
        ("GPT-4o", True, False, False, False, False),
        ("My CodeLlama fine-tune", False, True, True, False, False),
    ]
    llama = listed[0]
    assert (llama["type"], llama["provider"], llama["foundation"], llama["quantization"]) == (
        "BALANCED",
        "META",
        "LLAMA_3_8B",
        "q4f16_1",
    )
    assert llama["bytes"] == {"value": 4_900_000_000, "readable": "4.9 GB"}


@pytest.mark.parametrize("model_id", CATALOGUE)
async def test_model_snapshot_is_the_listed_model(client: httpx.AsyncClient, model_id: str) -> None:
    listed = {m["id"]: m for m in (await client.get("/models")).json()["iterable"]}
    snapshot = await model(client, model_id)
    assert_is_model(snapshot)
    assert snapshot == listed[model_id]


# --- downloads over HTTP ------------------------------------------------------------------------------


async def test_download_progress_shows_in_snapshots_as_the_clock_advances(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    started = await post_model(client, f"/model/{LLAMA_3_8B_ID}/download")
    assert (started["downloading"], started["downloaded"]) == (True, False)
    for t in (45, 89.9):
        sandbox.clock.advance(t - sandbox.clock.now())
        snapshot = await model(client, LLAMA_3_8B_ID)
        assert (snapshot["downloading"], snapshot["downloaded"]) == (True, False), t
    sandbox.clock.advance(90 - sandbox.clock.now())
    done = await model(client, LLAMA_3_8B_ID)
    assert (done["downloading"], done["downloaded"]) == (False, True)
    listed = (await client.get("/models")).json()["iterable"][0]
    assert (listed["downloading"], listed["downloaded"]) == (False, True)


async def test_download_of_a_downloading_or_downloaded_model_changes_nothing(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await post_model(client, f"/model/{LLAMA_3_8B_ID}/download")
    sandbox.clock.advance(60)
    again = await post_model(client, f"/model/{LLAMA_3_8B_ID}/download")
    assert again["downloading"] is True
    # Still the first download: it ends 90 s after the first request, not after the second.
    sandbox.clock.advance(30)
    assert (await model(client, LLAMA_3_8B_ID))["downloaded"] is True
    phi = await model(client, PHI_3_MINI_ID)
    assert await post_model(client, f"/model/{PHI_3_MINI_ID}/download") == phi


async def test_cancel_stops_a_download_and_a_new_one_starts_from_zero(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await post_model(client, f"/model/{LLAMA_3_8B_ID}/download")
    sandbox.clock.advance(60)
    canceled = await post_model(client, f"/model/{LLAMA_3_8B_ID}/download/cancel")
    assert (canceled["downloading"], canceled["downloaded"]) == (False, False)
    sandbox.clock.advance(60)
    assert (await model(client, LLAMA_3_8B_ID))["downloaded"] is False
    await post_model(client, f"/model/{LLAMA_3_8B_ID}/download")
    sandbox.clock.advance(89)
    assert (await model(client, LLAMA_3_8B_ID))["downloading"] is True
    sandbox.clock.advance(1)
    assert (await model(client, LLAMA_3_8B_ID))["downloaded"] is True


async def test_cancel_when_not_downloading_returns_the_model_unchanged(client: httpx.AsyncClient) -> None:
    for model_id in (LLAMA_3_8B_ID, PHI_3_MINI_ID):
        before = await model(client, model_id)
        assert await post_model(client, f"/model/{model_id}/download/cancel") == before


async def test_failing_download_ends_neither_downloading_nor_downloaded(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await post_model(client, f"/model/{MISTRAL_7B_ID}/download")
    sandbox.clock.advance(31.9)
    assert (await model(client, MISTRAL_7B_ID))["downloading"] is True
    sandbox.clock.advance(0.1)
    failed = await model(client, MISTRAL_7B_ID)
    assert (failed["downloading"], failed["downloaded"]) == (False, False)


# --- the progress WebSocket ---------------------------------------------------------------------------


async def test_progress_socket_streams_rising_percentages_then_completed_and_closes_normally(
    client: httpx.AsyncClient, sandbox: Sandbox, state: PiecesState, progress_url: Callable[[str], str]
) -> None:
    await post_model(client, f"/model/{LLAMA_3_8B_ID}/download")
    async with connect(progress_url(LLAMA_3_8B_ID)) as ws:
        assert await next_frame(ws) == {"status": "IN-PROGRESS", "percentage": 0}
        assert (state.sockets_opened, state.sockets_alive) == (1, 1)
        assert await advance_and_read(sandbox, ws, 1) == {"status": "IN-PROGRESS", "percentage": 1.1}
        seen = [1.1]
        for _ in range(9):
            frame = await advance_and_read(sandbox, ws, 9.8)
            assert frame["status"] == "IN-PROGRESS"
            seen.append(frame["percentage"])
        assert seen == sorted(seen)
        assert len(set(seen)) == len(seen)
        assert seen[-1] == 99.1
        sandbox.clock.advance(1)
        frames, code, _ = await until_closed(ws)
    assert frames == [{"status": "COMPLETED", "percentage": 100}]
    assert code == 1000
    await wait_for(lambda: state.sockets_alive == 0)
    assert (await model(client, LLAMA_3_8B_ID))["downloaded"] is True


async def test_progress_socket_sends_nothing_while_the_clock_stands_still(
    client: httpx.AsyncClient, sandbox: Sandbox, progress_url: Callable[[str], str]
) -> None:
    await post_model(client, f"/model/{LLAMA_3_8B_ID}/download")
    sandbox.clock.advance(45)
    async with connect(progress_url(LLAMA_3_8B_ID)) as ws:
        assert await next_frame(ws) == {"status": "IN-PROGRESS", "percentage": 50}
        with anyio.move_on_after(0.2):
            pytest.fail(f"unexpected frame {await ws.recv()!r}")


async def test_progress_socket_reports_failed_at_40_percent(
    client: httpx.AsyncClient, sandbox: Sandbox, progress_url: Callable[[str], str]
) -> None:
    await post_model(client, f"/model/{MISTRAL_7B_ID}/download")
    async with connect(progress_url(MISTRAL_7B_ID)) as ws:
        assert await next_frame(ws) == {"status": "IN-PROGRESS", "percentage": 0}
        assert await advance_and_read(sandbox, ws, 16) == {"status": "IN-PROGRESS", "percentage": 20}
        sandbox.clock.advance(16)
        frames, code, _ = await until_closed(ws)
    assert frames == [{"status": "FAILED", "percentage": 40}]
    assert code == 1000
    assert_text_error(
        await client.post(f"/model/{MISTRAL_7B_ID}/load"),
        409,
        "Model Mistral 7B Instruct is not downloaded: download it before loading it.",
    )


async def test_progress_socket_reports_canceled_after_the_cancel_route(
    client: httpx.AsyncClient, sandbox: Sandbox, progress_url: Callable[[str], str]
) -> None:
    await post_model(client, f"/model/{LLAMA_3_8B_ID}/download")
    async with connect(progress_url(LLAMA_3_8B_ID)) as ws:
        assert await next_frame(ws) == {"status": "IN-PROGRESS", "percentage": 0}
        assert await advance_and_read(sandbox, ws, 30) == {"status": "IN-PROGRESS", "percentage": 33.3}
        await post_model(client, f"/model/{LLAMA_3_8B_ID}/download/cancel")
        frames, code, _ = await until_closed(ws)
    assert frames == [{"status": "CANCELED", "percentage": 33.3}]
    assert code == 1000


@pytest.mark.parametrize(
    ("model_id", "frame"),
    [
        (PHI_3_MINI_ID, {"status": "COMPLETED", "percentage": 100}),
        (GPT_4O_ID, {"status": "UNKNOWN"}),
    ],
    ids=["downloaded", "cloud"],
)
async def test_progress_socket_of_a_downloaded_or_cloud_model_sends_one_frame_and_closes(
    progress_url: Callable[[str], str], model_id: str, frame: Frame
) -> None:
    async with connect(progress_url(model_id)) as ws:
        frames, code, _ = await until_closed(ws)
    assert frames == [frame]
    assert code == 1000


async def test_a_socket_opened_before_the_download_waits_then_says_initialized_and_follows_it(
    client: httpx.AsyncClient, sandbox: Sandbox, state: PiecesState, progress_url: Callable[[str], str]
) -> None:
    # Pieces' own clients open the socket first and never reconnect: it must stay open until the download.
    async with connect(progress_url(LLAMA_3_8B_ID)) as ws:
        sandbox.clock.advance(5)
        with anyio.move_on_after(0.2):
            pytest.fail(f"unexpected frame before any download {await ws.recv()!r}")
        assert state.sockets_alive == 1
        await post_model(client, f"/model/{LLAMA_3_8B_ID}/download")
        assert await next_frame(ws) == {"status": "INITIALIZED"}
        assert await next_frame(ws) == {"status": "IN-PROGRESS", "percentage": 0}
        assert await advance_and_read(sandbox, ws, 45) == {"status": "IN-PROGRESS", "percentage": 50}
        sandbox.clock.advance(45)
        frames, code, _ = await until_closed(ws)
    assert (frames, code) == ([{"status": "COMPLETED", "percentage": 100}], 1000)


@pytest.mark.parametrize(
    ("model_id", "end", "last"),
    [(LLAMA_3_8B_ID, "cancel", {"status": "CANCELED", "percentage": 0}), (MISTRAL_7B_ID, "fail", None)],
)
async def test_a_socket_opened_first_sees_a_download_that_ends_within_one_tick(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    progress_url: Callable[[str], str],
    model_id: str,
    end: str,
    last: Frame | None,
) -> None:
    async with connect(progress_url(model_id)) as ws:
        await anyio.sleep(0.05)  # the socket is waiting
        await post_model(client, f"/model/{model_id}/download")
        if end == "cancel":
            await post_model(client, f"/model/{model_id}/download/cancel")
        else:
            sandbox.clock.advance(3600)
        frames, code, _ = await until_closed(ws)
    assert frames[0] == {"status": "INITIALIZED"}
    assert frames[-1] == (last or {"status": "FAILED", "percentage": 40})
    assert code == 1000


async def test_progress_socket_for_an_unknown_model_closes_with_1008(
    progress_url: Callable[[str], str], state: PiecesState
) -> None:
    async with connect(progress_url(UNKNOWN_ID)) as ws:
        frames, code, reason = await until_closed(ws)
    assert (frames, code, reason) == ([], 1008, "model not found")
    assert state.sockets_opened == 1


async def test_drop_sockets_after_closes_with_1011_without_a_terminal_frame(
    client: httpx.AsyncClient, sandbox: Sandbox, state: PiecesState, progress_url: Callable[[str], str]
) -> None:
    state.drop_sockets_after = 2
    await post_model(client, f"/model/{LLAMA_3_8B_ID}/download")
    async with connect(progress_url(LLAMA_3_8B_ID)) as ws:
        assert await next_frame(ws) == {"status": "IN-PROGRESS", "percentage": 0}
        sandbox.clock.advance(9)
        frames, code, reason = await until_closed(ws)
    assert frames == [{"status": "IN-PROGRESS", "percentage": 10}]
    assert (code, reason) == (1011, "dropped by the sandbox")
    # The download itself goes on: only the socket was dropped.
    sandbox.clock.advance(81)
    assert (await model(client, LLAMA_3_8B_ID))["downloaded"] is True


async def test_drop_sockets_after_zero_drops_even_a_single_frame_socket(
    state: PiecesState, progress_url: Callable[[str], str]
) -> None:
    state.drop_sockets_after = 0
    async with connect(progress_url(PHI_3_MINI_ID)) as ws:
        frames, code, _ = await until_closed(ws)
    assert (frames, code) == ([], 1011)


async def test_progress_socket_ends_when_its_client_leaves_even_on_a_frozen_clock(
    client: httpx.AsyncClient, state: PiecesState, progress_url: Callable[[str], str]
) -> None:
    await post_model(client, f"/model/{LLAMA_3_8B_ID}/download")
    async with connect(progress_url(LLAMA_3_8B_ID)) as ws:
        await next_frame(ws)
        assert state.sockets_alive == 1
    await wait_for(lambda: state.sockets_alive == 0)
    assert state.sockets_opened == 1


async def test_progress_sockets_are_in_the_request_log_as_ws(
    sandbox: Sandbox, base_url: str, progress_url: Callable[[str], str]
) -> None:
    async with connect(progress_url(PHI_3_MINI_ID)) as ws:
        await next_frame(ws)
    with pytest.raises(InvalidStatus) as rejected:
        await connect(base_url.replace("http://", "ws://") + "/pieces/no/such/socket")
    assert rejected.value.response.status_code == 403
    entries = [(e.backend, e.method, e.path, e.status) for e in sandbox.log.entries()]
    assert entries == [
        ("pieces", "WS", f"/pieces/model/{PHI_3_MINI_ID}/download/progress", 101),
        ("pieces", "WS", "/pieces/no/such/socket", 403),
    ]
    assert sandbox.log.entries()[0].headers["upgrade"] == "websocket"


# --- load and unload ----------------------------------------------------------------------------------


async def test_load_of_a_model_not_downloaded_or_still_downloading_is_a_conflict(client: httpx.AsyncClient) -> None:
    message = "Model Llama-3 8B Instruct is not downloaded: download it before loading it."
    assert_text_error(await client.post(f"/model/{LLAMA_3_8B_ID}/load"), 409, message)
    await post_model(client, f"/model/{LLAMA_3_8B_ID}/download")
    assert_text_error(await client.post(f"/model/{LLAMA_3_8B_ID}/load"), 409, message)
    assert (await model(client, LLAMA_3_8B_ID))["loaded"] is False


async def test_load_keeps_one_local_model_in_memory_and_unload_releases_it(client: httpx.AsyncClient) -> None:
    assert (await post_model(client, f"/model/{PHI_3_MINI_ID}/load"))["loaded"] is True
    assert (await post_model(client, f"/model/{CODELLAMA_CUSTOM_ID}/load"))["loaded"] is True
    loaded = [m["id"] for m in (await client.get("/models")).json()["iterable"] if m["loaded"]]
    assert loaded == [CODELLAMA_CUSTOM_ID]
    assert (await post_model(client, f"/model/{CODELLAMA_CUSTOM_ID}/unload"))["loaded"] is False
    assert (await post_model(client, f"/model/{CODELLAMA_CUSTOM_ID}/unload"))["loaded"] is False
    assert not any(m["loaded"] for m in (await client.get("/models")).json()["iterable"])


async def test_load_of_a_freshly_downloaded_model(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await post_model(client, f"/model/{LLAMA_3_8B_ID}/download")
    sandbox.clock.advance(90)
    assert (await post_model(client, f"/model/{LLAMA_3_8B_ID}/load"))["loaded"] is True


async def test_cloud_model_download_and_load_are_refused(client: httpx.AsyncClient, state: PiecesState) -> None:
    assert_text_error(
        await client.post(f"/model/{GPT_4O_ID}/download"),
        400,
        "GPT-4o is a cloud model; cloud models are not downloaded.",
    )
    assert_text_error(
        await client.post(f"/model/{GPT_4O_ID}/load"), 400, "GPT-4o is a cloud model; only local models are loaded."
    )
    gpt = await model(client, GPT_4O_ID)
    assert (gpt["downloading"], gpt["downloaded"], gpt["loaded"]) == (False, False, False)


# --- update -------------------------------------------------------------------------------------------


async def test_update_of_a_custom_model_changes_the_fields_it_owns_only(client: httpx.AsyncClient) -> None:
    body = await model(client, CODELLAMA_CUSTOM_ID)
    body.update(
        name="CodeLlama, tuned again",
        description="Second round.",
        type="ACCURACY",
        maxTokens={"total": 8192, "input": 6144, "output": 2048},
        # Owned by the OS: ignored.
        cloud=True,
        downloaded=False,
        version="9.9.9",
    )
    response = await client.post("/model/update", json=body)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert_is_model(updated)
    assert (updated["name"], updated["description"], updated["type"]) == (
        "CodeLlama, tuned again",
        "Second round.",
        "ACCURACY",
    )
    assert updated["maxTokens"] == {"total": 8192, "input": 6144, "output": 2048}
    assert (updated["cloud"], updated["downloaded"], updated["version"]) == (False, True, "0.0.1")
    assert await model(client, CODELLAMA_CUSTOM_ID) == updated


async def test_update_with_only_an_id_changes_nothing(client: httpx.AsyncClient) -> None:
    before = await model(client, CODELLAMA_CUSTOM_ID)
    response = await client.post("/model/update", json={"id": CODELLAMA_CUSTOM_ID, "name": None})
    assert response.status_code == 200
    assert response.json() == before


@pytest.mark.parametrize(("model_id", "name"), [(PHI_3_MINI_ID, "Phi-3 Mini 4K"), (GPT_4O_ID, "GPT-4o")])
async def test_update_of_a_model_that_is_not_custom_is_forbidden(
    client: httpx.AsyncClient, model_id: str, name: str
) -> None:
    response = await client.post("/model/update", json={"id": model_id, "name": "renamed"})
    assert_text_error(response, 403, f"Only custom models can be updated (custom: true); {name} is not custom.")
    assert (await model(client, model_id))["name"] == name


@pytest.mark.parametrize("body", [b"not json", b"[]", b"{}", b'{"id": 5}', b'{"name": "x"}'])
async def test_update_needs_a_model_with_a_string_id(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post("/model/update", content=body, headers={"content-type": "application/json"})
    assert_text_error(response, 400, "The body must be a Model with an id.")


@pytest.mark.parametrize(
    "fields",
    [{"name": 5}, {"type": "FASTEST"}, {"maxTokens": {"total": "many"}}, {"maxTokens": [1]}],
    ids=["name", "type", "max-tokens-value", "max-tokens-shape"],
)
async def test_update_rejects_fields_of_the_wrong_type(client: httpx.AsyncClient, fields: dict[str, Any]) -> None:
    before = await model(client, CODELLAMA_CUSTOM_ID)
    response = await client.post("/model/update", json={"id": CODELLAMA_CUSTOM_ID, **fields})
    assert response.status_code == 400
    assert response.headers["content-type"] == TEXT
    assert next(iter(fields)) in response.text
    assert await model(client, CODELLAMA_CUSTOM_ID) == before


async def test_update_of_an_unknown_model_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.post("/model/update", json={"id": UNKNOWN_ID, "name": "x"})
    assert_text_error(response, 404, f"Model {UNKNOWN_ID} not found.")


# --- unknown ids and routes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("POST", "/download"), ("POST", "/download/cancel"), ("POST", "/load"), ("POST", "/unload")],
)
async def test_unknown_model_ids_are_not_found(client: httpx.AsyncClient, method: str, suffix: str) -> None:
    response = await client.request(method, f"/model/{UNKNOWN_ID}{suffix}")
    assert_text_error(response, 404, f"Model {UNKNOWN_ID} not found.")


async def test_unknown_route_and_wrong_method_answer_plain_text(client: httpx.AsyncClient) -> None:
    assert_text_error(await client.get("/no/such/route"), 404, "Not Found")
    wrong = await client.get(f"/model/{LLAMA_3_8B_ID}/load")
    assert_text_error(wrong, 405, "Method Not Allowed")
    assert wrong.headers["allow"] == "POST"
