"""Caila emulator state: seed data, the derived-model and fit operations, and the vendor JSON shapes.

Shapes follow the schemas of ``shared/vendor/caila/mlp-rest-api.mlpgate-2024-08-15.yml`` (ModelInfoData,
FitConfigData, DatasetInfoData, JobStatusData): every required field present, int64 ids as JSON integers.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "BROKEN_FIT_SECONDS",
    "FIT_SECONDS",
    "PENDING_SECONDS",
    "Account",
    "CailaState",
    "Dataset",
    "FitConfig",
    "Job",
    "Model",
    "dataset_info",
    "fit_config_data",
    "job_status",
    "model_info",
]

# Job timeline in simulated seconds since the fit was started.
PENDING_SECONDS = 20.0  # queued: PENDING before this
FIT_SECONDS = 300.0  # a good dataset: SUCCESS from here on
BROKEN_FIT_SECONDS = 120.0  # a dataset whose name contains "broken": FAILED from here on

# Seed models report a fixed last activity (2024-08-15T00:00:00Z) so the seed is fully deterministic.
_SEED_ACTIVITY_MS = 1_723_680_000_000
_TEXT_CLS = "text-classification"
# Images in Caila belong to the platform account; the emulator needs only a plausible, stable id.
_IMAGE_ACCOUNT_ID = 1
_IMAGE_ID = 7


@dataclass(frozen=True)
class Account:
    account_id: int
    name: str
    display_name: str


@dataclass
class Model:
    account_id: int
    model_id: int
    name: str
    fittable: bool
    hosting_type: str  # EXTERNAL | INTERNAL | AUTOMATIC | HOSTING_SERVER
    state: str  # RUNNING | STARTING | INACTIVE | SLEEPING
    task_type: str
    description: str
    hidden: bool = False
    # Set on derived models: the model they were derived from.
    training_model: tuple[int, int, str] | None = None  # (accountId, modelId, modelName)
    training_dataset_id: int | None = None
    training_fit_config_id: int | None = None
    last_activity_ms: int = field(default_factory=lambda: int(time.time() * 1000))


@dataclass(frozen=True)
class FitConfig:
    account_id: int
    model_id: int
    config_id: int
    name: str
    is_default: bool
    is_manual: bool
    config: str  # a JSON-encoded string, as the real service sends it


@dataclass(frozen=True)
class Dataset:
    account_id: int
    dataset_id: int
    name: str
    description: str
    data_type: str
    access_mode: str  # private | public | restricted


@dataclass(frozen=True)
class Job:
    account_id: int
    job_id: int
    model_id: int
    dataset_id: int
    dataset_name: str
    config_id: int | None  # None when the request carried an inline config
    config: dict[str, Any] | None
    billing_token: str | None
    started_at: float  # simulated seconds (SimClock.now())

    @property
    def fails(self) -> bool:
        return "broken" in self.dataset_name.lower()


def _seed_configs(account_id: int, model_id: int, first_id: int) -> list[FitConfig]:
    return [
        FitConfig(
            account_id, model_id, first_id, "default", True, False, json.dumps({"epochs": 3, "learning_rate": 0.001})
        ),
        FitConfig(
            account_id,
            model_id,
            first_id + 1,
            "thorough",
            False,
            False,
            json.dumps({"epochs": 10, "learning_rate": 0.0005, "batch_size": 16}),
        ),
    ]


class CailaState:
    """Everything the Caila emulator knows. Deterministic: two fresh states hold identical data and counters."""

    def __init__(self) -> None:
        self.accounts: list[Account] = [
            Account(1001, "demo", "Demo Account"),
            Account(1002, "acme", "Acme Corp"),
        ]
        self.models: list[Model] = [
            Model(
                1001,
                42,
                "text-classifier",
                fittable=True,
                hosting_type="INTERNAL",
                state="RUNNING",
                task_type=_TEXT_CLS,
                description="Multilingual text classifier; fit it on your labelled texts.",
                last_activity_ms=_SEED_ACTIVITY_MS,
            ),
            Model(
                1001,
                43,
                "sentiment-api",
                fittable=False,
                hosting_type="EXTERNAL",
                state="RUNNING",
                task_type=_TEXT_CLS,
                description="Hosted sentiment scorer (positive / neutral / negative); not fittable.",
                last_activity_ms=_SEED_ACTIVITY_MS,
            ),
        ]
        self.fit_configs: list[FitConfig] = _seed_configs(1001, 42, 301)
        self.datasets: list[Dataset] = [
            Dataset(1001, 501, "support-tickets", "Support tickets labelled by topic", _TEXT_CLS, "private"),
            Dataset(1001, 502, "product-reviews", "Product reviews labelled by sentiment", _TEXT_CLS, "private"),
            Dataset(
                1001,
                503,
                "broken-labels",
                "Support tickets with a damaged label column",
                _TEXT_CLS,
                "private",
            ),
            Dataset(1002, 504, "acme-faq", "Acme's FAQ questions labelled by intent", _TEXT_CLS, "private"),
        ]
        self.jobs: dict[int, Job] = {}
        self._next_model_id = 2000
        self._next_config_id = 3001
        self._next_job_id = 9001

    # Caila addresses accounts and models by id or by name in the same path segment.
    def find_account(self, ref: str) -> Account | None:
        if _is_id(ref):
            for account in self.accounts:
                if account.account_id == int(ref):
                    return account
        return next((a for a in self.accounts if a.name == ref), None)

    def find_model(self, account: Account, ref: str) -> Model | None:
        owned = [m for m in self.models if m.account_id == account.account_id]
        if _is_id(ref):
            for model in owned:
                if model.model_id == int(ref):
                    return model
        return next((m for m in owned if m.name == ref), None)

    def configs_of(self, model: Model) -> list[FitConfig]:
        return [c for c in self.fit_configs if c.account_id == model.account_id and c.model_id == model.model_id]

    def datasets_of(self, account: Account) -> list[Dataset]:
        return [d for d in self.datasets if d.account_id == account.account_id]

    def visible_dataset(self, account: Account, dataset_id: int) -> Dataset | None:
        """A dataset the account may fit on: its own, or another account's public one."""
        for d in self.datasets:
            if d.dataset_id == dataset_id and (d.account_id == account.account_id or d.access_mode == "public"):
                return d
        return None

    def create_derived(self, account: Account, base: Model, name: str, hidden: bool) -> Model:
        model = Model(
            account.account_id,
            self._next_model_id,
            name,
            fittable=True,
            hosting_type=base.hosting_type,
            # Nothing is deployed until the first fit finishes.
            state="INACTIVE",
            task_type=base.task_type,
            description=f"Fitted from {base.name}",
            hidden=hidden,
            training_model=(base.account_id, base.model_id, base.name),
        )
        self._next_model_id += 1
        self.models.append(model)
        # The derived model inherits the base's fit configs as its own rows, so they get fresh ids.
        for config in self.configs_of(base):
            self.fit_configs.append(
                replace(config, account_id=account.account_id, model_id=model.model_id, config_id=self._next_config_id)
            )
            self._next_config_id += 1
        return model

    def start_fit(
        self,
        model: Model,
        dataset: Dataset,
        config: FitConfig | None,
        inline_config: dict[str, Any] | None,
        billing_token: str | None,
        now: float,
    ) -> Job:
        job = Job(
            account_id=model.account_id,
            job_id=self._next_job_id,
            model_id=model.model_id,
            dataset_id=dataset.dataset_id,
            dataset_name=dataset.name,
            config_id=config.config_id if config else None,
            config=inline_config,
            billing_token=billing_token,
            started_at=now,
        )
        self._next_job_id += 1
        self.jobs[job.job_id] = job
        model.training_dataset_id = dataset.dataset_id
        model.training_fit_config_id = job.config_id
        return job


def job_status(job: Job, now: float) -> dict[str, Any]:
    """JobStatusData at simulated time ``now``.

    ``error`` is always present because the official Java client reads ``done`` and then ``error``;
    ``errorMessage`` appears only on failure.
    """
    elapsed = now - job.started_at
    base: dict[str, Any] = {"accountId": job.account_id, "jobId": job.job_id, "jobType": "fit"}
    if job.fails and elapsed >= BROKEN_FIT_SECONDS:
        message = (
            f"Fit failed: dataset '{job.dataset_name}' (id {job.dataset_id}) has 37 rows with an empty or unknown "
            "value in the 'label' column (first at line 12); every row needs one of the known class labels"
        )
        return {**base, "state": "FAILED", "done": True, "error": True, "errorMessage": message}
    if not job.fails and elapsed >= FIT_SECONDS:
        return {**base, "state": "SUCCESS", "done": True, "error": False}
    state = "PENDING" if elapsed < PENDING_SECONDS else "RUNNING"
    return {**base, "state": state, "done": False, "error": False}


def fit_config_data(config: FitConfig) -> dict[str, Any]:
    return {
        "id": {"accountId": config.account_id, "modelId": config.model_id, "configId": config.config_id},
        "name": config.name,
        "isDefault": config.is_default,
        "isManual": config.is_manual,
        "config": config.config,
    }


def dataset_info(dataset: Dataset, account: Account) -> dict[str, Any]:
    return {
        "id": {"accountId": dataset.account_id, "datasetId": dataset.dataset_id},
        "name": dataset.name,
        "datasetAccountName": account.name,
        "description": dataset.description,
        "dataType": dataset.data_type,
        "accessMode": dataset.access_mode,
    }


def model_info(model: Model, account: Account) -> dict[str, Any]:
    """ModelInfoData: the 21 required fields with realistic defaults, plus the optional ones clients read."""
    info: dict[str, Any] = {
        "id": {"accountId": model.account_id, "modelId": model.model_id},
        "modelAccountName": account.name,
        "modelAccountDisplayName": account.display_name,
        "modelName": model.name,
        "imageAccountId": _IMAGE_ACCOUNT_ID,
        "imageId": _IMAGE_ID,
        "composite": False,
        "prototype": False,
        "rejectRequestsIfInactive": False,
        "taskType": model.task_type,
        "fittable": model.fittable,
        "hostingType": model.hosting_type,
        "persistentVolumes": [],
        "dataImageMounts": [],
        "timeouts": {"podStartTimeoutSec": 600, "predictTimeoutSec": 30, "fitTimeoutSec": 3600},
        "resourceLimits": {
            "cpuRequest": "500m",
            "memoryLimit": "2Gi",
            "ephemeralDiskLimit": "10Gi",
            "gpuRequested": False,
        },
        "retriesConfig": {"maxRetries": 3, "timeoutsMs": [1000, 2000, 5000]},
        "batchesConfig": {"batchSize": 1, "timeWaitMs": 0},
        "caching": {"enabled": False, "mongoUri": "", "collectionName": "", "recordsLimit": 0},
        "priorityQueue": {"enabled": False, "concurrencyLevel": 1},
        "autoScalingConfiguration": {"minInstanceCount": 1, "maxInstanceCount": 1, "active": False},
        "shortDescription": model.description,
        "languages": ["en", "ru"],
        "minInstancesCount": 1,
        "publicSettings": {
            "isPublic": False,
            "availableInJaicp": False,
            "featured": False,
            "hidden": model.hidden,
            "publicTestingAllowed": False,
        },
        "billingSettings": {"isBillingEnabled": False},
        "httpSettings": {"isHttpEnabled": False},
        "archiveSettings": {"enabled": False, "numberOfArchivedRequests": 0, "encryptionEnabled": False},
        "restrictedImageAccess": False,
        "lastActivity": model.last_activity_ms,
        "favorite": False,
        "state": model.state,
    }
    if model.training_model is not None:
        acc_id, model_id, name = model.training_model
        info.update(
            trainingModelAccountId=acc_id,
            trainingModelId=model_id,
            trainingModelName=name,
            fitTemplateModelId=model_id,
            trainingType="singleContainer",
        )
    if model.training_dataset_id is not None:
        info["trainingDatasetAccountId"] = model.account_id
        info["trainingDatasetId"] = model.training_dataset_id
    if model.training_fit_config_id is not None:
        info["trainingFitConfigId"] = model.training_fit_config_id
    return info


def _is_id(ref: str) -> bool:
    """A numeric id: ASCII digits of a size an id can have (`int()` refuses "²" and numbers over 4,300 digits,
    which the fuzzer sent; such a reference is simply a name that matches nothing, so a 404)."""
    return ref.isascii() and ref.isdigit() and len(ref) <= 19
