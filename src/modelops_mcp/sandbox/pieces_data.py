"""Pieces OS emulator state: the model catalogue, downloads on the simulated clock, and the Model JSON.

Shapes follow the Pieces OS ``Model`` the official client validates strictly: every required field
(id, version, created, name, cloud, type, usage) present with its type, plus the optional fields a
client reads to decide what to download and load.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "CANCELED",
    "CODELLAMA_CUSTOM_ID",
    "COMPLETED",
    "FAILED",
    "GPT_4O_ID",
    "INITIALIZED",
    "IN_PROGRESS",
    "LLAMA_3_8B_ID",
    "MISTRAL_7B_ID",
    "MODEL_TYPES",
    "PHI_3_MINI_ID",
    "UNKNOWN",
    "Download",
    "MaxTokens",
    "PiecesModel",
    "PiecesState",
    "model_json",
]

# Fixed ids, so tests and the demo can name catalogue models.
LLAMA_3_8B_ID = "c00d09ed-b5b2-48f1-9426-b5a264a495bf"
PHI_3_MINI_ID = "9fcda227-f94a-4b56-a1e2-670893239879"
MISTRAL_7B_ID = "28b26107-fc80-428a-966e-809998e2e72f"
GPT_4O_ID = "f36ba7e7-8356-4999-a8f3-dc921d760336"
CODELLAMA_CUSTOM_ID = "0b7d5398-08e4-46ca-9be7-d6661c1bba55"

MODEL_TYPES = ("UNKNOWN", "BALANCED", "SPEED", "ACCURACY")

# ModelDownloadProgress statuses (the hyphen in IN-PROGRESS is the vendor's).
UNKNOWN = "UNKNOWN"
INITIALIZED = "INITIALIZED"
IN_PROGRESS = "IN-PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
CANCELED = "CANCELED"

_GB = 1_000_000_000
# Every catalogue model reports the same release date, so two fresh states are identical.
_CREATED = datetime(2024, 5, 20, 9, 30, tzinfo=UTC)


@dataclass
class MaxTokens:
    total: int
    input: int
    output: int


@dataclass
class Download:
    """One download attempt. Its outcome is a pure function of the simulated time, so a progress socket
    holding it still learns how it ended after the model has moved on (cancelled, restarted)."""

    started_at: float  # simulated seconds
    seconds: float  # how long a full download takes
    fails_at: float | None  # the percentage at which it fails; None: it completes
    canceled_at: float | None = None

    def progress(self, now: float) -> tuple[str, float]:
        """(status, percentage) at simulated time ``now``."""
        end = now if self.canceled_at is None else min(now, self.canceled_at)
        percent = (end - self.started_at) * 100 / self.seconds
        if self.fails_at is not None and percent >= self.fails_at:
            return FAILED, self.fails_at
        if percent >= 100:
            return COMPLETED, 100.0
        # Capped one step short of the end, so rounding never reports 100 (or the failure point) early.
        limit = self.fails_at if self.fails_at is not None else 100.0
        shown = min(round(percent, 1), round(limit - 0.1, 1))
        return (IN_PROGRESS if self.canceled_at is None else CANCELED), shown


@dataclass
class PiecesModel:
    id: str
    name: str
    description: str
    type: str  # one of MODEL_TYPES
    usage: str
    foundation: str
    provider: str
    max_tokens: MaxTokens
    cloud: bool = False
    custom: bool = False
    cpu: bool = False
    quantization: str | None = None  # None for cloud models
    size_bytes: int | None = None  # None for cloud models
    ram_bytes: int | None = None
    downloaded: bool = False
    loaded: bool = False
    download_seconds: float = 60.0
    fails_at: float | None = None
    download: Download | None = None  # the running download, if any
    # The latest download ever started (kept after it ends), so a socket waiting for one can tell it began.
    last_download: Download | None = None
    version: str = "0.0.1"
    created: datetime = _CREATED

    @property
    def downloading(self) -> bool:
        return self.download is not None

    def settle(self, now: float) -> None:
        """Fold a download that has ended by ``now`` into the model's flags."""
        if self.download is None:
            return
        status, _ = self.download.progress(now)
        if status == IN_PROGRESS:
            return
        self.downloaded = status == COMPLETED
        self.download = None

    def start_download(self, now: float) -> None:
        self.download = Download(started_at=now, seconds=self.download_seconds, fails_at=self.fails_at)
        self.last_download = self.download

    def cancel_download(self, now: float) -> None:
        if self.download is not None:
            self.download.canceled_at = now
            self.download = None


def _local(size_gb: float, **fields: Any) -> PiecesModel:
    size = int(size_gb * _GB)
    # A loaded model needs its weights plus room for the context, so RAM is a bit above the file size.
    return PiecesModel(quantization="q4f16_1", size_bytes=size, ram_bytes=int(size * 1.25), **fields)


def _catalogue() -> list[PiecesModel]:
    return [
        _local(
            4.9,
            id=LLAMA_3_8B_ID,
            name="Llama-3 8B Instruct",
            description="Meta's Llama 3 8B, instruction tuned; a balanced local model for code and chat.",
            type="BALANCED",
            usage="CODE_CONVERSATION",
            foundation="LLAMA_3_8B",
            provider="META",
            max_tokens=MaxTokens(total=8192, input=6144, output=2048),
            download_seconds=90.0,
        ),
        _local(
            2.2,
            id=PHI_3_MINI_ID,
            name="Phi-3 Mini 4K",
            description="Microsoft's small Phi-3 model with a 4K context; fast on modest hardware.",
            type="SPEED",
            usage="CODE_CONVERSATION",
            foundation="PHI_3_MINI",
            provider="MICROSOFT",
            max_tokens=MaxTokens(total=4096, input=3072, output=1024),
            cpu=True,
            downloaded=True,
            download_seconds=40.0,
        ),
        _local(
            4.1,
            id=MISTRAL_7B_ID,
            name="Mistral 7B Instruct",
            description="Mistral AI's 7B instruction model.",
            type="BALANCED",
            usage="CODE_CONVERSATION",
            foundation="MISTRAL_7B",
            provider="MISTRAL",
            max_tokens=MaxTokens(total=32768, input=28672, output=4096),
            download_seconds=80.0,
            # The emulated disk fills up partway through, so clients meet a failed download.
            fails_at=40.0,
        ),
        PiecesModel(
            id=GPT_4O_ID,
            name="GPT-4o",
            description="OpenAI's GPT-4o, served from the cloud.",
            type="ACCURACY",
            usage="CODE_CONVERSATION",
            foundation="GPT_4O",
            provider="OPEN_AI",
            max_tokens=MaxTokens(total=128000, input=124000, output=4000),
            cloud=True,
        ),
        _local(
            3.8,
            id=CODELLAMA_CUSTOM_ID,
            name="My CodeLlama fine-tune",
            description="A CodeLlama 7B fine-tuned on this workspace's code.",
            type="BALANCED",
            usage="CODE_CONVERSATION",
            foundation="CODELLAMA_7B",
            provider="META",
            max_tokens=MaxTokens(total=16384, input=12288, output=4096),
            custom=True,
            downloaded=True,
        ),
    ]


class PiecesState:
    """Everything the Pieces OS emulator knows, plus test knobs. Two fresh states are identical."""

    def __init__(self) -> None:
        self.models: list[PiecesModel] = _catalogue()
        # Test knob: a progress socket is closed abruptly (1011) once it has sent this many frames.
        self.drop_sockets_after: int | None = None
        # Progress sockets accepted so far / still open, so tests can tell a client really used the socket.
        self.sockets_opened = 0
        self.sockets_alive = 0

    def settle(self, now: float) -> None:
        for model in self.models:
            model.settle(now)

    def find(self, model_id: str, now: float) -> PiecesModel | None:
        """The model with that id as of ``now`` (downloads that ended by then already folded in)."""
        self.settle(now)
        return next((m for m in self.models if m.id == model_id), None)

    def load(self, model: PiecesModel) -> None:
        # Pieces keeps one local model in memory at a time.
        for other in self.models:
            other.loaded = other is model


def _size(value: int) -> dict[str, Any]:
    return {"value": value, "readable": f"{value / _GB:.1f} GB"}


def model_json(model: PiecesModel) -> dict[str, Any]:
    """The Pieces OS ``Model``; call ``PiecesState.settle`` first so the download flags are current."""
    created = model.created
    body: dict[str, Any] = {
        "id": model.id,
        "version": model.version,
        "created": {
            "value": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "readable": f"{created:%B} {created.day}, {created.year}",
        },
        "name": model.name,
        "description": model.description,
        "cloud": model.cloud,
        "type": model.type,
        "usage": model.usage,
        "cpu": model.cpu,
        "custom": model.custom,
        "downloaded": model.downloaded,
        "downloading": model.downloading,
        "loaded": model.loaded,
        "foundation": model.foundation,
        "provider": model.provider,
        "quantization": model.quantization,
        "maxTokens": {
            "total": model.max_tokens.total,
            "input": model.max_tokens.input,
            "output": model.max_tokens.output,
        },
    }
    if model.size_bytes is not None:
        body["bytes"] = _size(model.size_bytes)
    if model.ram_bytes is not None:
        body["ram"] = _size(model.ram_bytes)
    return body
