"""DataRobot emulator state: execution environments, custom models, versions and the jobs that act on them.

Every job (test, dependency build, environment build, feature impact, conversion, async assignment) stores only
when it started; its status is a pure function of the simulated time, computed when somebody looks. So a frozen
clock freezes every job, and ``clock.advance`` moves them all without any background task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "ASSIGN_S",
    "BUILD_S",
    "BUILD_SUBMITTED_S",
    "CONVERSION_S",
    "CUSTOM_PY_MISSING",
    "ENV_BUILD_S",
    "FAILING_REPOSITORY",
    "FAILING_REQUIREMENT",
    "FEATURE_IMPACT_S",
    "MAX_UPLOAD_BYTES",
    "OWNER_USERNAME",
    "OWNER_USER_ID",
    "STATUS_INIT_S",
    "TEST_RUN_S",
    "CustomModel",
    "DependencyBuild",
    "EnvVersion",
    "Environment",
    "Item",
    "Job",
    "ModelVersion",
    "Share",
    "iso",
]

# --- timings, in simulated seconds -----------------------------------------------------------------
STATUS_INIT_S = 2.0  # a status job (and a test) reads INITIALIZED this long, then RUNNING
TEST_RUN_S = 30.0  # a custom model test is done this long after submission
BUILD_SUBMITTED_S = 2.0  # dependency and environment builds read "submitted" this long, then "processing"
BUILD_S = 20.0  # a dependency build ends this long after it started
ENV_BUILD_S = 30.0  # an execution environment version build ends this long after the upload
FEATURE_IMPACT_S = 10.0
CONVERSION_S = 10.0
# fromRepository, withTrainingData, trainingData and prediction explanations initialisation
ASSIGN_S = 5.0

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # a version's file parts together; more answers 413
# A requirements.txt line starting with this makes the dependency build fail, so tests can reach "failed".
FAILING_REQUIREMENT = "nonexistent-package"
# A repositoryId starting with this cannot be read: its fromRepository job ends in ERROR and makes no version.
FAILING_REPOSITORY = "nonexistent-"
CUSTOM_PY_MISSING = "custom.py was not found in the model's files: the model cannot make predictions"

OWNER_USERNAME = "sandbox.user@example.com"
OWNER_USER_ID = "5e8f3b1c9a2d4e6f7a000001"

# Simulated second 0 is this instant, so timestamps are the same in every run.
_EPOCH = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def iso(seconds: float) -> str:
    """The ISO-8601 UTC timestamp of a simulated time, in DataRobot's style (microseconds, ``Z``)."""
    return (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Share:
    """One access-control entry of a custom model or an execution environment."""

    username: str
    user_id: str
    role: str
    can_share: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"username": self.username, "userId": self.user_id, "role": self.role, "canShare": self.can_share}


def owner_share() -> Share:
    return Share(OWNER_USERNAME, OWNER_USER_ID, "OWNER")


@dataclass
class Job:
    """One entry of ``/status/{id}/``: what the client polls after a 202, until a 303 sends it on."""

    id: str
    started: float
    seconds: float
    location: str  # route path (under the mount) of the resource the finished job points at
    description: str
    aborted_at: float | None = None
    error: str | None = None

    def status(self, now: float) -> str:
        if self.aborted_at is not None:
            return "ABORTED"
        if now >= self.started + self.seconds:
            return "ERROR" if self.error else "COMPLETED"
        return "RUNNING" if now >= self.started + STATUS_INIT_S else "INITIALIZED"

    def message(self, now: float) -> str:
        status = self.status(now)
        if status == "ERROR":
            return self.error or ""
        return {"ABORTED": "The job was cancelled.", "COMPLETED": "The job has finished."}.get(status, "")


# --- execution environments ------------------------------------------------------------------------


@dataclass
class EnvVersion:
    id: str
    environment_id: str
    label: str
    description: str
    created: float
    image_id: str
    context: bytes | None = None  # the uploaded docker context, kept so download/ returns the same bytes
    context_name: str | None = None
    image: bytes | None = None  # a pre-built image tar, if one was uploaded instead
    image_name: str | None = None
    image_uri: str | None = None

    @property
    def fails(self) -> bool:
        # An empty docker context has no Dockerfile, so the build fails (the deterministic failure for tests).
        return self.context is not None and len(self.context) == 0 and self.image is None and self.image_uri is None

    def build_status(self, now: float) -> str:
        elapsed = now - self.created
        if elapsed < BUILD_SUBMITTED_S:
            return "submitted"
        if elapsed < ENV_BUILD_S:
            return "processing"
        return "failed" if self.fails else "success"

    def build_log(self, now: float) -> tuple[str, str]:
        """(log, error) of the build so far."""
        status = self.build_status(now)
        if status == "submitted":
            return "", ""
        lines = ["Step 1/4 : FROM datarobot/python3-dropin-env-base", "Step 2/4 : COPY . /opt/code"]
        if status == "processing":
            return "\n".join(lines) + "\n", ""
        if self.fails:
            error = "The docker context is empty: no Dockerfile was found at the top level of the archive."
            return "\n".join(lines[:1]) + "\n", error
        lines += ["Step 3/4 : RUN pip install -r /opt/code/requirements.txt", "Step 4/4 : ENTRYPOINT start_server.sh"]
        lines.append(f"Successfully built {self.image_id[:12]}")
        return "\n".join(lines) + "\n", ""


@dataclass
class Environment:
    id: str
    name: str
    description: str
    programming_language: str
    use_cases: list[str]
    is_public: bool
    created: float
    versions: list[EnvVersion] = field(default_factory=list)  # creation order
    shares: list[Share] = field(default_factory=lambda: [owner_share()])
    deleted: bool = False


# --- custom models ---------------------------------------------------------------------------------


@dataclass
class Item:
    """One file of a custom model version; the bytes stay in memory so downloads and tests can read them."""

    id: str
    file_name: str
    file_path: str
    file_source: str  # "local" for uploads, "github"/"s3" for repository files
    created: float
    data: bytes
    workspace_id: str
    repository: dict[str, Any] = field(default_factory=dict)  # ref, commitSha, repository* fields

    def copy(self, new_id: str, workspace_id: str) -> Item:
        return Item(
            new_id,
            self.file_name,
            self.file_path,
            self.file_source,
            self.created,
            self.data,
            workspace_id,
            dict(self.repository),
        )


@dataclass
class DependencyBuild:
    started: float
    requirements: list[str]  # the non-comment lines of the version's requirements.txt
    cancelled_at: float | None = None

    @property
    def fails(self) -> bool:
        return any(line.startswith(FAILING_REQUIREMENT) for line in self.requirements)

    def status(self, now: float) -> str:
        if self.cancelled_at is not None:
            return "failed"  # the seed has no "cancelled" state: a cancelled build reads failed
        elapsed = now - self.started
        if elapsed < BUILD_SUBMITTED_S:
            return "submitted"
        if elapsed < BUILD_S:
            return "processing"
        return "failed" if self.fails else "success"

    def terminal(self, now: float) -> bool:
        return self.status(now) in ("failed", "success")

    def ended(self, now: float) -> float | None:
        if self.cancelled_at is not None:
            return self.cancelled_at
        return self.started + BUILD_S if self.terminal(now) else None

    def log(self, now: float) -> str:
        lines = ["Building the dependency image on top of the base environment."]
        for requirement in self.requirements:
            lines.append(f"Collecting {requirement}")
            if requirement.startswith(FAILING_REQUIREMENT):
                lines.append(f"ERROR: Could not find a version that satisfies the requirement {requirement}")
                break
        if self.cancelled_at is not None:
            lines.append("The build was cancelled.")
        elif self.status(now) == "failed":
            lines.append("ERROR: No matching distribution found; the dependency build failed.")
        elif self.status(now) == "success":
            names = " ".join(r.split("=")[0].split("<")[0].split(">")[0].strip() for r in self.requirements)
            lines.append(f"Successfully installed {names}".rstrip())
        return "\n".join(lines) + "\n"


@dataclass
class ModelVersion:
    id: str
    model_id: str
    major: int
    minor: int
    created: float
    items: list[Item]
    base_env_id: str | None
    base_env_version_id: str | None
    description: str | None = None
    # Optional response fields given at creation (maximumMemory, replicas, networkEgressPolicy, ...).
    settings: dict[str, Any] = field(default_factory=dict)
    training_data: dict[str, Any] | None = None
    holdout_data: dict[str, Any] | None = None
    training_assigned_at: float | None = None  # the training data assignment finishes ASSIGN_S after this
    ready_at: float = float("-inf")  # versions made by a repository job stay invisible until the job ends
    build: DependencyBuild | None = None

    @property
    def label(self) -> str:
        return f"v{self.major}.{self.minor}"

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)

    def requirements(self) -> list[str]:
        """Non-empty, non-comment lines of a top-level requirements.txt (none without one)."""
        item = next((i for i in self.items if i.file_path == "requirements.txt"), None)
        if item is None:
            return []
        lines = (line.strip() for line in item.data.decode("utf-8", "replace").splitlines())
        return [line for line in lines if line and not line.startswith("#")]

    def has_custom_py(self) -> bool:
        return any(i.file_name == "custom.py" for i in self.items)


@dataclass
class CustomModel:
    id: str
    name: str
    custom_model_type: str
    target_type: str
    created: float
    updated: float
    workspace_id: str
    description: str = ""
    language: str = ""
    # Optional response fields the client set (calibratePredictions, classLabels, targetName, ...).
    fields: dict[str, Any] = field(default_factory=dict)
    template: dict[str, Any] = field(default_factory=lambda: {"modelType": "invalid", "templateId": ""})
    versions: list[ModelVersion] = field(default_factory=list)  # creation order
    shares: list[Share] = field(default_factory=lambda: [owner_share()])
    training_data: dict[str, Any] | None = None
    training_assigned_at: float | None = None

    def visible_versions(self, now: float) -> list[ModelVersion]:
        return [v for v in self.versions if v.ready_at <= now]

    def latest(self, now: float) -> ModelVersion | None:
        visible = self.visible_versions(now)
        return visible[-1] if visible else None

    def version(self, version_id: str, now: float) -> ModelVersion | None:
        return next((v for v in self.visible_versions(now) if v.id == version_id), None)
