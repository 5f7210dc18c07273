"""A `modelops-mcp serve` subprocess over stdio, spoken to in raw JSON-RPC lines (no SDK client in between)."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.support import server_env

ANSWER_S = 30.0  # a bound on every wait for an answer, generous for a loaded CI machine
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": "init",
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


class RawStdio:
    """`modelops-mcp serve` over stdio, driven line by line; a thread reads its stdout into a queue."""

    def __init__(self, state_dir: Path, *args: str, env: Mapping[str, str] | None = None) -> None:
        self.stderr = state_dir.parent / "stdio-server.log"
        state_dir.parent.mkdir(parents=True, exist_ok=True)
        with self.stderr.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "modelops_mcp", "serve", *args],
                env=server_env(env or {}, state_dir),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
            )
        self.lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data if data.endswith(b"\n") else data + b"\n")
        self.proc.stdin.flush()

    def send_json(self, message: Any) -> None:
        self.send(json.dumps(message).encode())

    def receive(self, timeout: float = ANSWER_S) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no answer within {timeout}s; stderr: {self.stderr.read_text()[-2000:]}") from None
        answer: dict[str, Any] = json.loads(line)
        return answer

    def nothing_within(self, seconds: float) -> bool:
        try:
            extra = self.lines.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected answer: {extra[:300]!r}")

    def ping(self, request_id: str) -> None:
        """The server still serves: a ping is answered with its own id."""
        self.send_json({"jsonrpc": "2.0", "id": request_id, "method": "ping"})
        assert self.receive() == {"jsonrpc": "2.0", "id": request_id, "result": {}}

    def initialize(self) -> None:
        self.send_json(INITIALIZE)
        assert self.receive()["id"] == "init"
        self.send_json(INITIALIZED)

    def close(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()  # end of input: the server shuts down on its own
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise
