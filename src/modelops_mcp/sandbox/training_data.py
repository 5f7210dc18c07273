"""Training Module emulator state: the single session, its state machine, and the status dictionaries.

The server holds at most one session. Timed phases (preprocessing, training epochs, a model import) are
not driven by a background task: every read settles the state against the simulated clock first, so a
frozen clock plus ``SimClock.advance`` moves a session exactly as far as a test wants.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .training_datasets import Dataset, load_dataset_file
from .training_results import DIVERGENCE_EPOCH, EpochResult, diverges, epoch_metrics, history, metric_names
from .training_results import model_archive as build_model_archive
from .training_results import results_csv as build_results_csv

__all__ = [
    "DEFAULT_CONFIG",
    "EPOCH_SECONDS",
    "HUB_MODELS",
    "IMPORT_SECONDS",
    "MODEL_TYPES",
    "NO_SESSION",
    "PREPROCESS_SECONDS",
    "SETUP_LIKE",
    "ImportJob",
    "TrainingError",
    "TrainingState",
]

PREPROCESS_SECONDS = 10.0
EPOCH_SECONDS = 30.0
IMPORT_SECONDS = 20.0

NO_SESSION = "No active session: start one with GET /start_session."
# States in which the session may still be configured, given a dataset, preprocessed, or given a model.
SETUP_LIKE = frozenset({"setup", "imported"})
MODEL_TYPES = ("bert", "gpt2", "llama", "sparse-bert", "t5")
# What the emulated model hub holds: name -> (parameter count, tokenizer vocabulary size).
HUB_MODELS: dict[str, tuple[int, int]] = {
    "bert-base-uncased": (109_482_240, 30_522),
    "bert-base-cased": (108_310_272, 28_996),
    "distilbert-base-uncased": (66_362_880, 30_522),
    "gpt2": (124_439_808, 50_257),
    "t5-small": (60_506_624, 32_128),
    "numenta/sparse-bert": (109_482_240, 30_522),
    "meta-llama/Llama-3.2-1B": (1_235_814_400, 128_256),
}
DEFAULT_CONFIG: dict[str, Any] = {
    "model": "bert-base-cased",
    "task_type": "text-classification",
    "batch_size": 8,
    "epochs": 3,
    "eval_metrics": ["accuracy"],
    "epochs_per_test_run": 1,
    "learning_rate": 5e-05,
    "seed": 42,
    "init_eval": False,
    "cache_dir": "/tmp/nupic-cache",
    "overwrite_cache": False,
}


class TrainingError(Exception):
    """A request the session refuses; the emulator answers it as FastAPI's ``{"detail": ...}``."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


@dataclass(frozen=True)
class ImportJob:
    model_type: str
    model_name: str

    @property
    def found(self) -> bool:
        return self.model_name in HUB_MODELS


class TrainingState:
    """The one session of the emulated Training Module. ``now`` reads simulated seconds (``SimClock.now``)."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self.wipe()

    def wipe(self) -> None:
        """End the session and forget everything, as a restart of the real server would."""
        self.key: str | None = None
        self.config: dict[str, Any] = copy.deepcopy(DEFAULT_CONFIG)
        self.dataset: Dataset | None = None
        self.preprocessed = False  # set once preprocessing finished; stays set through training
        self.last_import: ImportJob | None = None
        self.imported: ImportJob | None = None  # the last import that succeeded
        self._status = "no_session"
        self._since = 0.0  # when the current timed phase (preprocessing, training, importing) began
        self._final_epoch = 0  # completed epochs once training stopped, failed or finished
        self._before_import = "setup"  # where a failed import returns to

    # --- the clock ------------------------------------------------------------------------------------

    def _elapsed(self) -> float:
        return self._now() - self._since

    @property
    def epochs(self) -> int:
        """Epochs the configured run lasts."""
        return int(self.config["epochs"])

    def _running_epochs(self) -> int:
        return min(self.epochs, int(self._elapsed() // EPOCH_SECONDS))

    def _settle(self) -> None:
        """Apply whichever timed transition has come due since the last read."""
        if self._status == "preprocessing" and self._elapsed() >= PREPROCESS_SECONDS:
            self._status = "preprocessed"
            self.preprocessed = True
        elif self._status == "training":
            done = self._running_epochs()
            if diverges(self.config["learning_rate"]) and done >= DIVERGENCE_EPOCH:
                self._status, self._final_epoch = "failed", DIVERGENCE_EPOCH
            elif done >= self.epochs:
                self._status, self._final_epoch = "trained", done
        elif self._status == "importing" and self._elapsed() >= IMPORT_SECONDS:
            job = self.last_import
            assert job is not None
            if job.found:
                self._status, self.imported = "imported", job
                self.config["model"] = job.model_name
            else:
                self._status = self._before_import

    @property
    def status(self) -> str:
        self._settle()
        return self._status

    @property
    def epoch(self) -> int:
        """Completed epochs of the current (or last) training run."""
        status = self.status
        if status == "training":
            return self._running_epochs()
        return self._final_epoch if status in {"trained", "stopped", "failed"} else 0

    def history(self) -> list[EpochResult]:
        """Loss and metrics of every completed epoch of the current (or last) run."""
        return history(self.config, self.epoch)

    # --- operations -----------------------------------------------------------------------------------

    def require_session(self) -> None:
        if self.key is None:
            raise TrainingError(400, NO_SESSION)

    def check_key(self, key: str) -> None:
        self.require_session()
        if key != self.key:
            raise TrainingError(401, "Invalid session key.")

    def _require_setup(self, refusal: str) -> None:
        if self.status not in SETUP_LIKE:
            raise TrainingError(400, f"{refusal} in the setup state (current state: {self.status}).")

    def start_session(self, force_restart: int) -> str:
        if self.key is not None and force_restart == 0:
            raise TrainingError(
                409, "There is already an active session. Pass force_restart=1 to wipe it and start a new one."
            )
        self.wipe()
        self.key = uuid.uuid4().hex
        self._status = "setup"
        return self.key

    def configure(self, updates: dict[str, Any]) -> None:
        self._require_setup("Configuration is only possible")
        self.config.update(updates)

    def upload(self, train: tuple[str, bytes], test: tuple[str, bytes]) -> Dataset:
        """Replace the dataset with the two uploaded files (name, bytes); ``DatasetError`` if one is unusable."""
        self._require_setup("Datasets can only be uploaded")
        self.dataset = Dataset(load_dataset_file(*train), load_dataset_file(*test))
        return self.dataset

    def start_preprocessing(self) -> None:
        if self.status not in SETUP_LIKE:
            reason = "the session is not in the setup state"
        elif self.dataset is None:
            reason = "upload a dataset first"
        else:
            self._status, self._since = "preprocessing", self._now()
            return
        raise TrainingError(400, f"Preprocessing is not possible: {reason} (current state: {self.status}).")

    def start_training(self) -> int:
        """Start (or restart from epoch 0) a run; returns its number of epochs."""
        status = self.status
        if status == "training":
            reason = "training is already running"
        elif status == "trained":
            reason = "the model is already trained; start a new session to train again"
        elif status not in {"preprocessed", "stopped", "failed"}:
            reason = "preprocess the dataset first"
        else:
            self._status, self._since = "training", self._now()
            return self.epochs
        raise TrainingError(400, f"Training is not possible: {reason} (current state: {status}).")

    def stop_training(self, wipe: bool) -> tuple[int, int]:
        """Stop the run; returns (completed epochs, epochs). ``wipe`` then ends the session altogether."""
        if self.status != "training":
            raise TrainingError(400, f"There is no training session to stop (current state: {self.status}).")
        done, epochs = self._running_epochs(), self.epochs
        self._status, self._final_epoch = "stopped", done
        if wipe:
            self.wipe()
        return done, epochs

    def start_import(self, model_type: str, model_name: str) -> None:
        self._require_setup("Importing is only possible")
        if model_type not in MODEL_TYPES:
            raise TrainingError(400, f"Unsupported model type '{model_type}': use one of {', '.join(MODEL_TYPES)}.")
        self._before_import = self._status
        self.last_import = ImportJob(model_type, model_name)
        self._status, self._since = "importing", self._now()

    def _require_trained(self) -> None:
        if self.status != "trained":
            raise TrainingError(400, f"Model not trained yet (current state: {self.status}).")

    def model_archive(self) -> bytes:
        """The bytes ``GET /download_model/{key}`` serves."""
        self._require_trained()
        return build_model_archive(self.config, self.history())

    def results_csv(self) -> bytes:
        """The bytes ``GET /download_results/{key}`` serves."""
        self._require_trained()
        return build_results_csv(self.config, self.history())

    # --- status dictionaries --------------------------------------------------------------------------

    def _preprocess_message(self) -> str:
        assert self.dataset is not None
        if self._status == "preprocessing":
            fraction = self._elapsed() / PREPROCESS_SECONDS
            rows = self.dataset.train.rows
            return f"Preprocessing: {int(fraction * 100)}% ({int(fraction * rows)} of {rows} rows)."
        return f"Preprocessing done: {self.dataset.train.rows} train rows, {self.dataset.test.rows} test rows."

    def message(self) -> str:
        """One line on where the session stands, as the status endpoints report it."""
        status, epochs = self.status, self.epochs
        if status == "no_session":
            return "No active session."
        if status in SETUP_LIKE:
            where = "Setup" if status == "setup" else f"Imported {self.config['model']}"
            return f"{where}: waiting for a dataset." if self.dataset is None else f"{where}: dataset uploaded."
        if status in {"preprocessing", "preprocessed"}:
            return self._preprocess_message()
        if status == "importing":
            return self._import_message()
        if status == "training":
            return f"Training: epoch {self.epoch} of {epochs} done."
        if status == "stopped":
            return f"Training stopped after epoch {self.epoch} of {epochs}."
        if status == "failed":
            return f"Training diverged at epoch {DIVERGENCE_EPOCH} (loss is NaN): lower the learning rate."
        return f"Training done: {epochs} epochs."

    def training_status(self) -> dict[str, Any]:
        status, epoch = self.status, self.epoch
        epochs = self.epochs if self.key is not None else 0
        progress = epoch / epochs if status in {"training", "trained", "stopped", "failed"} else 0.0
        return {"status": status, "message": self.message(), "epoch": epoch, "epochs": epochs, "progress": progress}

    def monitor(self) -> dict[str, Any]:
        """The last training info: the latest epoch's loss and the latest eval metrics."""
        results = self.history()
        evaluated = [r.metrics for r in results if r.metrics]
        metrics = evaluated[-1] if evaluated else {}
        if not metrics and self.config["init_eval"] and self.status in {"training", "stopped"}:
            # init_eval evaluates the untrained model before the first epoch.
            metrics = epoch_metrics(self.config["seed"], self.config["learning_rate"], metric_names(self.config), 0)
        return {
            "status": self.status,
            "epoch": self.epoch,
            "epochs": self.epochs,
            "loss": results[-1].loss if results else None,
            "metrics": metrics,
            "message": self.message(),
        }

    def preprocess_status(self) -> dict[str, Any]:
        status = self.status
        if status == "no_session":
            return {"status": status, "done": False, "progress": 0.0, "message": "No active session."}
        if status == "preprocessing":
            progress = self._elapsed() / PREPROCESS_SECONDS
            return {"status": status, "done": False, "progress": progress, "message": self._preprocess_message()}
        if self.preprocessed:
            return {"status": status, "done": True, "progress": 1.0, "message": self._preprocess_message()}
        return {"status": status, "done": False, "progress": 0.0, "message": "Preprocessing has not started."}

    def _import_message(self) -> str:
        job = self.last_import
        if self._status == "no_session":
            return "No active session."
        if job is None:
            return "No model import has started."
        if self._status == "importing":
            return f"Importing {job.model_name} ({job.model_type}): {int(self._import_progress() * 100)}%."
        if job.found:
            return f"Imported {job.model_name} ({job.model_type})."
        return f"Import failed: {job.model_name} was not found on the model hub."

    def _import_progress(self) -> float:
        if self._status == "importing":
            return self._elapsed() / IMPORT_SECONDS
        return 0.0 if self.last_import is None else 1.0

    def import_status(self) -> dict[str, Any]:
        status, job = self.status, self.last_import
        done = job is not None and status != "importing"
        return {
            "status": status,
            "done": done,
            "failed": done and job is not None and not job.found,
            "progress": self._import_progress(),
            "model_type": job.model_type if job else None,
            "model_name": job.model_name if job else None,
            "message": self._import_message(),
        }

    def imported_model(self, on_disk: bool, tokenizer: bool) -> dict[str, Any]:
        job = self.imported
        if job is None:
            raise TrainingError(400, f"No imported model yet (current state: {self.status}).")
        parameters, vocab_size = HUB_MODELS[job.model_name]
        return {
            "model_type": job.model_type,
            "model_name": job.model_name,
            "parameters": parameters,
            "on_disk": on_disk,
            "path": f"{self.config['cache_dir'].rstrip('/')}/{job.model_name}" if on_disk else None,
            "tokenizer": {"name": job.model_name, "vocab_size": vocab_size} if tokenizer else None,
        }
