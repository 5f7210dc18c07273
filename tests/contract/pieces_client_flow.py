"""The official Pieces OS client (pieces_os_client 5.0.1) against our sandbox: snapshot, download, load, unload.

Run with the client's own python (`.ci/.clients/pieces-os-client/bin/python`) by
tests/contract/test_pieces_client.py, with PIECES_OS_URL pointing at the sandbox. The REST calls go through
the client's generated `ModelsApi`/`ModelApi` (its documented way: docs/ModelApi.md), which validate every
`Model` strictly. The download-progress socket goes through the client's own WebSocket helper,
`pieces_os_client.wrapper.websockets.BaseWebsocket` (websocket-client's `WebSocketApp.run_forever()`, which
never reconnects: base_websocket.py:84-91), opened BEFORE the download starts, as Pieces' own plugins do.
Each frame is parsed with the client's `ModelDownloadProgress`. Prints one JSON object: the steps and what
the client saw; the pytest asserts the values.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pieces_os_client
from pieces_os_client.api.model_api import ModelApi
from pieces_os_client.api.models_api import ModelsApi
from pieces_os_client.api_client import ApiClient
from pieces_os_client.configuration import Configuration
from pieces_os_client.models.model_download_progress import ModelDownloadProgress
from pieces_os_client.wrapper.websockets.base_websocket import BaseWebsocket

BASE = os.environ["PIECES_OS_URL"].rstrip("/")
TERMINAL = {"COMPLETED", "FAILED", "CANCELED", "UNKNOWN", "RESET"}
WAIT_S = 60.0


class ProgressSocket:
    """One model's download-progress socket through the client's BaseWebsocket, recording every frame."""

    def __init__(self, model_id: str) -> None:
        self.frames: list[dict[str, Any]] = []
        self.closed: tuple[Any, Any] | None = None
        self.errors: list[str] = []
        self.ended = threading.Event()
        url = BASE.replace("http", "ws", 1) + f"/model/{model_id}/download/progress"
        # BaseWebsocket is a singleton per class (base_websocket.py:13-19): one class per socket.
        cls = type("DownloadProgressWS", (BaseWebsocket,), {"url": url, "on_message": _on_message})
        # start() reads only the client's `port` (base_websocket.py:98); the socket URL is the class's own.
        stand_in = SimpleNamespace(port=str(urlsplit(BASE).port))
        self.ws = cls(stand_in, self._frame, on_error=self._error, on_close=self._close)

    def _frame(self, message: str) -> None:
        progress = ModelDownloadProgress.from_json(message)
        assert progress is not None
        frame = {
            "status": progress.status.value if progress.status is not None else None,
            "percentage": progress.percentage,
        }
        self.frames.append(frame)
        if frame["status"] in TERMINAL:
            self.ended.set()
            self.ws.ws.close()  # like the vendor's clients: any end status closes the socket

    def _error(self, _ws: Any, error: Exception) -> None:
        self.errors.append(f"{type(error).__name__}: {error}")

    def _close(self, _ws: Any, code: Any, reason: Any) -> None:
        self.closed = (code, reason)
        self.ended.set()

    def open(self) -> None:
        self.ws.start()
        deadline = time.monotonic() + 10
        while not self.ws.running and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self.ws.running:
            raise RuntimeError(f"the progress socket did not open: {self.errors}")

    def wait(self) -> dict[str, Any]:
        """Until the socket ends (or WAIT_S): the frames, the close, and whether it is still open."""
        self.ended.wait(WAIT_S)
        still_open = not self.ended.is_set()
        self.ws.ws.close()
        self.ws.thread.join(5)
        return {"frames": self.frames, "closed": list(self.closed or []), "timed_out": still_open}


def _on_message(self: BaseWebsocket, _ws: Any, message: str) -> None:
    self.on_message_callback(message)


def model_view(model: Any) -> dict[str, Any]:
    return {
        "id": model.id,
        "name": model.name,
        "cloud": model.cloud,
        "downloaded": model.downloaded,
        "downloading": model.downloading,
        "loaded": model.loaded,
    }


def main() -> None:
    download_id, failing_id = sys.argv[1], sys.argv[2]
    api_client = ApiClient(Configuration(host=BASE))
    models_api, model_api = ModelsApi(api_client), ModelApi(api_client)
    steps: list[dict[str, Any]] = []

    def step(name: str, action: Callable[[], dict[str, Any]]) -> None:
        try:
            steps.append({"step": name, "ok": True, **action()})
        except Exception as exc:
            steps.append({"step": name, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
            traceback.print_exc()
            raise

    def snapshot() -> dict[str, Any]:
        return {"models": [model_view(m) for m in models_api.models_snapshot().iterable]}

    def download(model_id: str) -> Callable[[], dict[str, Any]]:
        def run() -> dict[str, Any]:
            socket = ProgressSocket(model_id)
            socket.open()  # first the socket, then the download: Pieces' own order
            started = model_api.model_specific_model_download(model_id)
            seen = socket.wait()
            after = model_api.models_specific_model_snapshot(model_id)
            return {"started": model_view(started), **seen, "after": model_view(after)}

        return run

    def load() -> dict[str, Any]:
        return {"model": model_view(model_api.model_specific_model_load(download_id))}

    def unload() -> dict[str, Any]:
        return {"model": model_view(model_api.model_specific_model_unload(download_id))}

    try:
        for name, action in [
            ("snapshot", snapshot),
            ("download", download(download_id)),
            ("load", load),
            ("unload", unload),
            ("failing_download", download(failing_id)),
        ]:
            step(name, action)
    except Exception:
        pass  # recorded in its step; the later steps depend on it
    print(json.dumps({"client": "pieces_os_client", "version": pieces_os_client.__version__, "steps": steps}))


if __name__ == "__main__":
    main()
