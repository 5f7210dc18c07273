"""DataRobot emulator: the state object, its deterministic ids, and what exists at start.

At start there are two built execution environments (Python and R drop-ins) and, so that every operation can
be exercised without setting anything up, one demo custom model whose version holds ``custom.py`` and a
``requirements.txt``, with a finished dependency build, a passed test and computed feature impact, and the
dataset that test ran on.
"""

from __future__ import annotations

from .datarobot_catalog import INGEST_S, Dataset
from .datarobot_checks import DEFAULT_CONFIG, Conversion, FeatureImpact, ModelTest
from .datarobot_data import (
    BUILD_S,
    ENV_BUILD_S,
    FEATURE_IMPACT_S,
    TEST_RUN_S,
    CustomModel,
    DependencyBuild,
    Environment,
    EnvVersion,
    Item,
    Job,
    ModelVersion,
)

__all__ = [
    "DEMO_DATASET_ID",
    "DEMO_DATASET_VERSION_ID",
    "DEMO_IMAGE_ID",
    "DEMO_ITEM_ID",
    "DEMO_MODEL_ID",
    "DEMO_TEST_ID",
    "DEMO_VERSION_ID",
    "PYTHON_ENV_ID",
    "PYTHON_ENV_VERSION_ID",
    "R_ENV_ID",
    "R_ENV_VERSION_ID",
    "DataRobotState",
]

# Fixed ids of what exists at start (24 lowercase hex digits, like the service's ObjectIds).
PYTHON_ENV_ID = "5e8f3b1c9a2d4e6f7a100001"
PYTHON_ENV_VERSION_ID = "5e8f3b1c9a2d4e6f7a100002"
R_ENV_ID = "5e8f3b1c9a2d4e6f7a100003"
R_ENV_VERSION_ID = "5e8f3b1c9a2d4e6f7a100004"
DEMO_MODEL_ID = "5e8f3b1c9a2d4e6f7a200001"
DEMO_VERSION_ID = "5e8f3b1c9a2d4e6f7a200002"
DEMO_ITEM_ID = "5e8f3b1c9a2d4e6f7a200003"  # custom.py of the demo version
DEMO_TEST_ID = "5e8f3b1c9a2d4e6f7a200005"
DEMO_IMAGE_ID = "5e8f3b1c9a2d4e6f7a200006"
DEMO_DATASET_ID = "5e8f3b1c9a2d4e6f7a200007"
DEMO_DATASET_VERSION_ID = "5e8f3b1c9a2d4e6f7a200009"

# Ids made at run time: a fixed stem plus a counter, so two runs hand out the same ids in the same order.
_ID_STEM = "6650a1c0d47a3b29e1"
_DAY = 86400.0

_DEMO_CUSTOM_PY = b'''"""Churn classifier: DRUM hooks for a scikit-learn pipeline."""
import pickle
from pathlib import Path

import pandas as pd


def load_model(code_dir: str):
    return pickle.loads((Path(code_dir) / "model.pkl").read_bytes())


def score(data: pd.DataFrame, model, **kwargs) -> pd.DataFrame:
    probabilities = model.predict_proba(data)
    return pd.DataFrame(probabilities, columns=["no", "yes"])
'''
_DEMO_CSV = b"tenure_months,monthly_charges,contract_type,churn\n3,70.5,month-to-month,yes\n48,25.0,two-year,no\n"
_DEMO_REQUIREMENTS = b"# the demo model's dependencies\npandas>=1.5,<3\nscikit-learn==1.4.2\n"


class DataRobotState:
    """Everything the DataRobot emulator knows, plus what tests inspect. Two fresh states are identical."""

    def __init__(self) -> None:
        self._counter = 0
        self.environments: dict[str, Environment] = {}
        self.models: dict[str, CustomModel] = {}
        self.versions: dict[str, ModelVersion] = {}  # every model's versions, by id
        self.tests: dict[str, ModelTest] = {}
        self.jobs: dict[str, Job] = {}  # what /status/{id}/ answers about
        self.feature_impacts: dict[str, FeatureImpact] = {}  # the latest request per model version id
        self.conversions: dict[str, Conversion] = {}
        self.datasets: dict[str, Dataset] = {}  # the AI Catalog, deleted ones kept (soft delete)
        # (file name, filePath, size) of every uploaded model file part, in order, so tests can check that
        # each file part arrived with its filePath.
        self.uploads: list[tuple[str, str, int]] = []
        self.status_polls = 0  # GET /status/{id}/ requests answered
        self.auth_schemes_seen: set[str] = set()  # "Bearer" / "Token"
        self._seed()

    def new_id(self) -> str:
        self._counter += 1
        return f"{_ID_STEM}{self._counter:06x}"

    def add_job(self, started: float, seconds: float, location: str, description: str) -> Job:
        job = Job(self.new_id(), started, seconds, location, description)
        self.jobs[job.id] = job
        return job

    def live_environment(self, env_id: str) -> Environment | None:
        env = self.environments.get(env_id)
        return env if env is not None and not env.deleted else None

    def live_dataset(self, dataset_id: str) -> Dataset | None:
        dataset = self.datasets.get(dataset_id)
        return dataset if dataset is not None and not dataset.deleted else None

    def add_version(self, model: CustomModel, version: ModelVersion) -> None:
        model.versions.append(version)
        self.versions[version.id] = version

    def remove_model(self, model: CustomModel) -> None:
        del self.models[model.id]
        for version in model.versions:
            self.versions.pop(version.id, None)
            self.feature_impacts.pop(version.id, None)
        for test_id in [t.id for t in self.tests.values() if t.model_id == model.id]:
            del self.tests[test_id]
        for conv_id in [c.id for c in self.conversions.values() if c.version_id not in self.versions]:
            del self.conversions[conv_id]

    def test_for_image(self, image_id: str) -> ModelTest | None:
        return next((t for t in self.tests.values() if t.image_id == image_id), None)

    # --- what exists at start ------------------------------------------------------------------------

    def _seed(self) -> None:
        python = Environment(
            PYTHON_ENV_ID,
            "Python 3.11 Drop-In",
            "Python 3.11 with scikit-learn, pandas and DRUM.",
            "python",
            ["customModel"],
            True,
            -90 * _DAY,
        )
        python.versions.append(
            EnvVersion(
                PYTHON_ENV_VERSION_ID,
                PYTHON_ENV_ID,
                "v1",
                "Python 3.11 base image",
                -90 * _DAY + 60,
                "5e8f3b1c9a2d4e6f7a1000a1",
                context=b"FROM python:3.11-slim\n",
                context_name="python311.tar.gz",
            )
        )
        r_env = Environment(
            R_ENV_ID, "R 4.3 Drop-In", "R 4.3 with caret and DRUM.", "r", ["customModel"], True, -80 * _DAY
        )
        r_env.versions.append(
            EnvVersion(
                R_ENV_VERSION_ID,
                R_ENV_ID,
                "v1",
                "R 4.3 base image",
                -80 * _DAY + 60,
                "5e8f3b1c9a2d4e6f7a1000a2",
                context=b"FROM rocker/r-ver:4.3\n",
                context_name="r43.tar.gz",
            )
        )
        assert all(v.created + ENV_BUILD_S < 0 for v in (*python.versions, *r_env.versions))
        self.environments = {python.id: python, r_env.id: r_env}
        self._seed_demo_dataset()
        self._seed_demo_model(python)

    def _seed_demo_dataset(self) -> None:
        created = -8 * _DAY
        job = Job("5e8f3b1c9a2d4e6f7a20000b", created, INGEST_S, f"/datasets/{DEMO_DATASET_ID}/", "Dataset upload")
        self.jobs[job.id] = job
        dataset = Dataset(DEMO_DATASET_ID, DEMO_DATASET_VERSION_ID, "churn-sample.csv", created, _DEMO_CSV, job)
        dataset.categories = ["TRAINING"]
        self.datasets[dataset.id] = dataset

    def _seed_demo_model(self, env: Environment) -> None:
        created = -7 * _DAY
        model = CustomModel(
            DEMO_MODEL_ID,
            "Churn classifier (demo)",
            "inference",
            "Binary",
            created,
            created,
            "5e8f3b1c9a2d4e6f7a2000a1",
            description="Predicts customer churn; seeded by the sandbox.",
            language="python",
            fields={
                "positiveClassLabel": "yes",
                "negativeClassLabel": "no",
                "predictionThreshold": 0.5,
                "targetName": "churn",
            },
        )
        items = [
            Item(DEMO_ITEM_ID, "custom.py", "custom.py", "local", created, _DEMO_CUSTOM_PY, model.workspace_id),
            Item(
                "5e8f3b1c9a2d4e6f7a200004",
                "requirements.txt",
                "requirements.txt",
                "local",
                created,
                _DEMO_REQUIREMENTS,
                model.workspace_id,
            ),
        ]
        env_version = env.versions[-1]
        version = ModelVersion(
            DEMO_VERSION_ID, model.id, 1, 0, created, items, env.id, env_version.id, description="First version"
        )
        version.build = DependencyBuild(created + 60, version.requirements())
        assert version.build.started + BUILD_S < 0
        self.models[model.id] = model
        self.add_version(model, version)
        started = created + 120
        job = Job("5e8f3b1c9a2d4e6f7a200008", started, TEST_RUN_S, f"/customModelTests/{DEMO_TEST_ID}/", "test")
        self.jobs[job.id] = job
        self.tests[DEMO_TEST_ID] = ModelTest(
            DEMO_TEST_ID,
            model.id,
            model.name,
            version.id,
            version.label,
            env.id,
            env.name,
            env_version.id,
            env_version.label,
            DEMO_IMAGE_ID,
            DEMO_DATASET_ID,
            DEMO_DATASET_VERSION_ID,
            started,
            job,
            True,
            dict(DEFAULT_CONFIG),
        )
        fi_started = started + TEST_RUN_S + 60
        fi_location = f"/customModels/{model.id}/versions/{version.id}/featureImpact/"
        fi_job = Job("5e8f3b1c9a2d4e6f7a20000a", fi_started, FEATURE_IMPACT_S, fi_location, "featureImpact")
        self.jobs[fi_job.id] = fi_job
        self.feature_impacts[version.id] = FeatureImpact(version.id, fi_started, None, fi_job)
