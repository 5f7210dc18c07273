"""DataRobot emulator: custom model tests, feature impact and conversions, each timed on the simulated clock.

A test's outcome is fixed when it is submitted: a version with a ``custom.py`` (any directory) passes every
check; one without fails the error check with CUSTOM_PY_MISSING; a model whose language is not the execution
environment's (a Python model on the R drop-in) fails the service check, as its model server cannot start.
Which checks run follows the request's ``configuration`` (a check set to "skip" is reported as skipped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .datarobot_data import (
    CONVERSION_S,
    CUSTOM_PY_MISSING,
    FEATURE_IMPACT_S,
    STATUS_INIT_S,
    TEST_RUN_S,
    Job,
    iso,
)

__all__ = ["CHECKS", "DEFAULT_CONFIG", "FEATURES", "Conversion", "FeatureImpact", "ModelTest", "language_mismatch"]

CHECKS = ("errorCheck", "nullValueImputation", "longRunningService", "sideEffects")
# The seed's defaults for CustomModelTests.configuration.
DEFAULT_CONFIG = {
    "errorCheck": "fail",
    "longRunningService": "fail",
    "nullValueImputation": "warn",
    "sideEffects": "warn",
}
# Feature impact is the same for every model: (feature name, unnormalised impact), most important first.
FEATURES = (
    ("tenure_months", 0.412),
    ("monthly_charges", 0.305),
    ("contract_type", 0.221),
    ("total_charges", 0.134),
    ("support_calls", 0.087),
    ("region", 0.019),
)
_PASSED = {
    "errorCheck": "The model made predictions on the test dataset.",
    "nullValueImputation": "The model handles missing values.",
    "longRunningService": "The model image started and served predictions.",
    "sideEffects": "Batch and row-wise predictions match.",
}

# The languages a drop-in environment runs, and the file that makes a model one of them (DRUM's entry points).
_LANGUAGES = ("python", "r", "java", "julia")
_ENTRY_POINTS = {"custom.py": "python", "custom.r": "r", "custom.jl": "julia"}


def language_mismatch(model_language: str, file_names: list[str], env_language: str, env_name: str) -> str | None:
    """Why the model cannot run in the environment, when both have a known language and they differ.

    The model's language is the one it declares, else the one its entry-point file is written in; an
    environment of language "other" runs anything.
    """
    language = model_language.strip().lower()
    if not language:
        language = next((_ENTRY_POINTS[n.lower()] for n in file_names if n.lower() in _ENTRY_POINTS), "")
    wanted = env_language.strip().lower()
    if language not in _LANGUAGES or wanted not in _LANGUAGES or language == wanted:
        return None
    return (
        f"The model is written in {language} but the execution environment {env_name!r} runs {wanted}: "
        "the model server could not start. Test it on an environment of its language."
    )


@dataclass
class ModelTest:
    id: str
    model_id: str
    model_name: str
    version_id: str
    version_label: str
    env_id: str
    env_name: str
    env_version_id: str
    env_version_label: str
    image_id: str
    dataset_id: str
    dataset_version_id: str
    started: float
    job: Job
    passes: bool
    config: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CONFIG))
    settings: dict[str, Any] = field(default_factory=dict)  # maximumMemory, replicas, ... echoed back
    cancelled_at: float | None = None
    failure: str = CUSTOM_PY_MISSING  # why a failing test fails (shown on its failing check and in its log)
    failed_check: str | None = None  # the check that fails; None: the error check (see _failing_check)

    def running(self, now: float) -> bool:
        return self.cancelled_at is None and now < self.started + TEST_RUN_S

    def overall(self, now: float) -> str:
        if self.cancelled_at is not None:
            return "canceled"
        if now < self.started + TEST_RUN_S:
            return "in_progress"
        return "succeeded" if self.passes else "failed"

    def completed_at(self, now: float) -> float | None:
        if self.cancelled_at is not None:
            return self.cancelled_at
        return self.started + TEST_RUN_S if not self.running(now) else None

    def _failing_check(self) -> str:
        if self.failed_check is not None:
            return self.failed_check
        # The missing custom.py surfaces in the error check, or in the service check when that one is skipped
        # (longRunningService cannot be skipped: its only configuration value is "fail").
        return "errorCheck" if self.config.get("errorCheck") != "skip" else "longRunningService"

    def checks(self, now: float) -> dict[str, dict[str, str]]:
        overall = self.overall(now)
        out: dict[str, dict[str, str]] = {}
        for name in CHECKS:
            skipped = self.config.get(name) == "skip"
            if skipped:
                status, message = ("not_tested" if overall == "in_progress" else "skipped"), "Skipped by configuration."
            elif overall == "in_progress":
                status, message = "in_progress", ""
            elif overall == "canceled":
                status, message = "canceled", "Testing was cancelled."
            elif self.passes:
                status, message = "succeeded", _PASSED[name]
            elif name == self._failing_check():
                status, message = "failed", self.failure
            else:
                status, message = "skipped", "Not run: an earlier check failed."
            out[name] = {"status": status, "message": message}
        return out

    def log_lines(self, now: float) -> list[str]:
        """The test's log up to ``now``: one line per stage reached, stamped with its simulated time."""
        stages = [(0.0, "Testing request accepted; the model image is queued.")]
        stages.append((STATUS_INIT_S, f"Building the model image {self.image_id} for version {self.version_label}."))
        stages.append((STATUS_INIT_S + 3, f"Starting the model server on {self.env_name}."))
        for offset, name in zip((8.0, 14.0, 20.0, 26.0), CHECKS, strict=True):
            stages.append((offset, f"Running check {name}."))
        end = self.completed_at(now)
        lines = [f"{iso(self.started + t)} {text}" for t, text in stages if self.started + t <= (end or now)]
        if self.cancelled_at is not None:
            lines.append(f"{iso(self.cancelled_at)} Testing was cancelled.")
        elif end is not None and self.passes:
            lines.append(f"{iso(end)} All checks passed.")
        elif end is not None:
            lines.append(f"{iso(end)} ERROR: {self.failure}")
            lines.append(f"{iso(end)} Testing failed.")
        return lines


@dataclass
class FeatureImpact:
    """The latest feature impact request of one model version."""

    version_id: str
    started: float
    row_count: int | None
    job: Job

    def done(self, now: float) -> bool:
        return now >= self.started + FEATURE_IMPACT_S

    def to_json(self) -> dict[str, Any]:
        top = FEATURES[0][1]
        impacts = [
            {
                "featureName": name,
                "impactUnnormalized": value,
                "impactNormalized": round(value / top, 6),
                "redundantWith": None,
                "parentFeatureName": None,
            }
            for name, value in FEATURES
        ]
        return {
            "count": len(impacts),
            "featureImpacts": impacts,
            "next": None,
            "previous": None,
            "ranRedundancyDetection": False,
            "rowCount": self.row_count,
            "shapBased": False,
        }


@dataclass
class Conversion:
    """A conversion of a Java model version's files to a JAR."""

    id: str
    version_id: str
    main_item_id: str
    started: float
    job: Job
    stopped_at: float | None = None

    def running(self, now: float) -> bool:
        return self.stopped_at is None and now < self.started + CONVERSION_S

    def to_json(self, now: float) -> dict[str, Any]:
        finished = self.stopped_at is None and not self.running(now)
        if self.stopped_at is not None:
            log = "The conversion was stopped."
        elif finished:
            log = "Converted the model to model.jar."
        else:
            log = "Converting."
        return {
            "id": self.id,
            "customModelVersionId": self.version_id,
            "created": iso(self.started),
            "mainProgramItemId": self.main_item_id,
            "conversionInProgress": self.running(now),
            "conversionSucceeded": finished if not self.running(now) else None,
            "logMessage": log,
            "shouldStop": self.stopped_at is not None,
        }
