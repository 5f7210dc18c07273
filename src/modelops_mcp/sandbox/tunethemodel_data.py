"""Tune the Model emulator state: models and dataset files and their lifecycles on the simulated clock.

Nothing here runs in the background. A model's or file's status is a pure function of when it was bound,
fitted or uploaded and of the simulated time it is read at (``TtmModel.phase`` / ``TtmFile.phase``), so
every route reads the same status and a frozen clock plus ``SimClock.advance`` moves a fit exactly as far
as a test wants.

Files load in the background on the service: the upload URL takes any body, as a presigned storage URL
does, and the rows are judged when loading ends (``FileReady`` or ``FileFailed`` with an ``error``). A model
can be bound to files that are still loading, because the official client (``tune-the-model`` 0.1.33,
``cli.py`` 381-389) uploads both files, binds at once and expects ``DatasetsLoaded`` straight away; a fit
asked for meanwhile waits ``InQueue`` until the files are loaded, and a file that fails fails the model.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "CLASSIFIER",
    "CREATED",
    "DATASETS_LOADED",
    "DEFAULT_BASE_MODELS",
    "EPOCH",
    "FILE_CREATED",
    "FILE_FAILED",
    "FILE_IN_QUEUE",
    "FILE_LOADED",
    "FILE_LOADING",
    "FILE_READY",
    "FILE_READY_S",
    "FILE_STATUSES",
    "FIT_FAILED",
    "FIT_FAIL_AT_S",
    "FIT_QUEUE_S",
    "FIT_REQUEST_S",
    "FIT_TRAIN_S",
    "GENERATOR",
    "IN_QUEUE",
    "MODEL_STATUSES",
    "MODEL_TYPES",
    "PUBLIC_CLASSIFIER_ID",
    "PUBLIC_GENERATOR_ID",
    "READY",
    "READY_TO_FIT",
    "SINGLE_CLASS_ERROR",
    "TRAINING",
    "TRAIN_REQUESTED",
    "TtmError",
    "TtmFile",
    "TtmModel",
    "TtmState",
]

MODEL_TYPES = ("classifier", "generator")
CLASSIFIER, GENERATOR = MODEL_TYPES

# Statuses go out capitalised, as the service sends them (clients compare case-insensitively).
CREATED = "Created"
DATASETS_LOADED = "DatasetsLoaded"
READY_TO_FIT = "ReadyToFit"
IN_QUEUE = "InQueue"
TRAIN_REQUESTED = "TrainRequested"
TRAINING = "Training"
READY = "Ready"
FIT_FAILED = "FitFailed"
MODEL_STATUSES = (CREATED, DATASETS_LOADED, READY_TO_FIT, IN_QUEUE, TRAIN_REQUESTED, TRAINING, READY, FIT_FAILED)
FILE_CREATED = "FileCreated"
FILE_IN_QUEUE = "FileInQueue"
FILE_LOADING = "FileLoading"
FILE_LOADED = "FileLoaded"
FILE_READY = "FileReady"
FILE_FAILED = "FileFailed"
FILE_STATUSES = (FILE_CREATED, FILE_IN_QUEUE, FILE_LOADING, FILE_LOADED, FILE_READY, FILE_FAILED)

# The fit timeline, in simulated seconds after the fit request: InQueue until FIT_QUEUE_S, TrainRequested
# until FIT_REQUEST_S, Training until FIT_TRAIN_S, then Ready; a failing fit turns FitFailed at FIT_FAIL_AT_S.
FIT_QUEUE_S = 5.0
FIT_REQUEST_S = 10.0
FIT_FAIL_AT_S = 40.0
FIT_TRAIN_S = 70.0
# An uploaded file reads FileLoading for this long, then FileReady.
FILE_READY_S = 5.0

SINGLE_CLASS_ERROR = "Training failed: the train file has a single class"
DEFAULT_BASE_MODELS = {CLASSIFIER: "ttm-classifier-base", GENERATOR: "ttm-generator-base"}

# Simulated second 0 reads as the moment the seed's example model was created, so every timestamp is a
# pure function of the simulated clock and two runs of a test see the same values.
EPOCH = datetime(2022, 6, 10, 17, 52, 35, 816190)

# The two public models of the seed's listing, under the seed's ids, so tests and the demo can name them.
PUBLIC_CLASSIFIER_ID = "9323f9dbc976ea5dc6c8272eb90742f9"
PUBLIC_GENERATOR_ID = "f9cab2f96d9e65a125264702489cad7a"


def _offset(moment: datetime) -> float:
    return (moment - EPOCH).total_seconds()


class TtmError(Exception):
    """A refused request; the emulator answers it as FastAPI's ``{"detail": ...}`` with ``status_code``."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


@dataclass
class TtmFile:
    """A dataset file: created empty, filled by one PUT to its presigned upload URL."""

    id: str
    name: str
    task_type: str  # one of MODEL_TYPES
    signature: str  # the upload URL's secret: the only check on the unauthenticated PUT
    created_at: float  # simulated seconds
    uploaded_at: float | None = None
    inputs: list[str] = field(default_factory=list)
    classes: list[int] | None = None  # classifier files
    outputs: list[str] | None = None  # generator files
    # Why the uploaded body cannot be loaded; decided at the upload, shown once loading ends (FileFailed).
    error: str | None = None

    @property
    def num_rows(self) -> int | None:
        return None if self.uploaded_at is None or self.error is not None else len(self.inputs)

    @property
    def loaded_at(self) -> float | None:
        """When loading ends (FileReady or FileFailed); None until the rows are uploaded."""
        return None if self.uploaded_at is None else self.uploaded_at + FILE_READY_S

    def phase(self, now: float) -> tuple[str, float]:
        """(status, when it began) at simulated time ``now``."""
        if self.uploaded_at is None:
            return FILE_CREATED, self.created_at
        ready_at = self.uploaded_at + FILE_READY_S
        if now < ready_at:
            return FILE_LOADING, self.uploaded_at
        return (FILE_FAILED if self.error is not None else FILE_READY), ready_at

    def status(self, now: float) -> str:
        return self.phase(now)[0]


@dataclass
class TtmModel:
    id: str
    name: str
    model_type: str  # one of MODEL_TYPES
    num_classes: int | None  # classifiers only
    train_iters: int | None
    base_model: str
    # The status the last request left (Created, DatasetsLoaded, ...) and when; a fit's timeline overrides it.
    set_status: str
    set_at: float
    train_file: str | None = None
    validate_file: str | None = None
    # Fixed at bind from the two files: when both are loaded, and the first reason (and time) one fails.
    datasets_at: float = 0.0
    datasets_error: str | None = None
    datasets_error_at: float = 0.0
    fit_at: float | None = None
    fails: bool = False  # decided when the fit starts (the single-class rule), so later deletes cannot change it
    public: bool = False

    def phase(self, now: float) -> tuple[str, float]:
        """(status, when it began) at simulated time ``now``: the one place a model's status is computed."""
        if self.datasets_error is not None and now >= self.datasets_error_at:
            return FIT_FAILED, self.datasets_error_at  # a bound file failed to load: fitted or not, no fit can run
        if self.fit_at is None:
            return self.set_status, self.set_at
        # A fit asked for while the files load waits in the queue until they are loaded.
        start = max(self.fit_at, self.datasets_at)
        elapsed = now - start
        steps = [(FIT_QUEUE_S, TRAIN_REQUESTED), (FIT_REQUEST_S, TRAINING), (FIT_TRAIN_S, READY)]
        if self.fails:
            steps = [*steps[:2], (FIT_FAIL_AT_S, FIT_FAILED)]
        status, since = IN_QUEUE, self.fit_at
        for offset, reached in steps:
            if elapsed >= offset:
                status, since = reached, start + offset
        return status, since

    def status(self, now: float) -> str:
        return self.phase(now)[0]

    def error(self, now: float) -> str | None:
        """Why the model is FitFailed at ``now`` (None when it is not)."""
        if self.status(now) != FIT_FAILED:
            return None
        if self.datasets_error is not None and now >= self.datasets_error_at:
            return self.datasets_error
        return SINGLE_CLASS_ERROR


def _public_models() -> dict[str, TtmModel]:
    classifier = TtmModel(
        id=PUBLIC_CLASSIFIER_ID,
        name="cyberbullying_tweets",
        model_type=CLASSIFIER,
        num_classes=6,  # the dataset's six labels: religion, age, ethnicity, gender, other, not cyberbullying
        train_iters=None,
        base_model=DEFAULT_BASE_MODELS[CLASSIFIER],
        set_status=READY,
        set_at=_offset(datetime(2022, 5, 7, 20, 58, 10, 878585)),
        public=True,
    )
    generator = TtmModel(
        id=PUBLIC_GENERATOR_ID,
        name="winemag-data",
        model_type=GENERATOR,
        num_classes=None,
        train_iters=None,
        base_model=DEFAULT_BASE_MODELS[GENERATOR],
        set_status=READY,
        set_at=_offset(datetime(2022, 5, 6, 17, 15, 59, 202724)),
        public=True,
    )
    return {m.id: m for m in (classifier, generator)}


# A fit is in progress in these statuses: the model cannot be re-bound until it has finished or failed.
_BUSY = frozenset({IN_QUEUE, TRAIN_REQUESTED, TRAINING, READY})


class TtmState:
    """Everything the emulated service knows; ``models`` and ``files`` are in creation order."""

    def __init__(self) -> None:
        self.models: dict[str, TtmModel] = {}
        self.files: dict[str, TtmFile] = {}
        self.public_models: dict[str, TtmModel] = _public_models()
        self.uploads = 0  # accepted upload PUTs, so tests can tell a client really uploaded its rows

    # --- lookups --------------------------------------------------------------------------------------

    def find_model(self, model_id: str) -> TtmModel:
        """A user model or a public one (those can be read and queried too)."""
        model = self.models.get(model_id) or self.public_models.get(model_id)
        if model is None:
            raise TtmError(404, f"Model {model_id} not found")
        return model

    def find_file(self, file_id: str) -> TtmFile:
        found = self.files.get(file_id)
        if found is None:
            raise TtmError(404, f"File {file_id} not found")
        return found

    # --- models ---------------------------------------------------------------------------------------

    def create_model(
        self,
        now: float,
        model_type: str,
        name: str | None,
        num_classes: int | None,
        train_iters: int | None,
        pretrained_model: str | None,
    ) -> TtmModel:
        model_id = uuid.uuid4().hex
        if model_type == CLASSIFIER and num_classes is None:
            num_classes = 2
        model = TtmModel(
            id=model_id,
            name=name if name is not None else f"model-{model_id[:8]}",
            model_type=model_type,
            num_classes=num_classes,
            train_iters=train_iters,
            base_model=pretrained_model or DEFAULT_BASE_MODELS[model_type],
            set_status=CREATED,
            set_at=now,
        )
        self.models[model_id] = model
        return model

    def delete_model(self, model_id: str) -> TtmModel:
        model = self.find_model(model_id)
        if model.public:
            raise TtmError(409, f"Model {model_id} is a public model and cannot be deleted")
        return self.models.pop(model_id)

    def bind(self, model: TtmModel, train_file: str, validate_file: str, now: float) -> None:
        """Bind two files, loaded or still loading (the official client binds right after its uploads).

        What is known now is refused now (409): a file never uploaded, one that failed to load, the wrong
        task type, classes beyond the model's; what loading will reveal fails the model when it does."""
        status = model.status(now)
        if status in _BUSY:
            raise TtmError(409, f"Model {model.id} cannot be bound to files in status {status}")
        files = [self.find_file(train_file), self.find_file(validate_file)]
        problems: list[tuple[float, str]] = []
        loaded: list[float] = []
        for file in files:
            file_status = file.status(now)
            if file.loaded_at is None:
                raise TtmError(409, f"File {file.id} has no rows yet ({file_status}): PUT them to its upload_url")
            loaded.append(file.loaded_at)
            if file.task_type != model.model_type:
                raise TtmError(
                    409, f"File {file.id} is a {file.task_type} file but model {model.id} is a {model.model_type}"
                )
            problem = _load_problem(file, model)
            if problem is None:
                continue
            if file_status != FILE_LOADING:  # loaded already: the service knows, and says so now
                raise TtmError(409, problem)
            problems.append((file.loaded_at, problem))
        model.train_file, model.validate_file = train_file, validate_file
        model.datasets_at = max(loaded)
        model.datasets_error, model.datasets_error_at = None, 0.0
        if problems:
            model.datasets_error_at, model.datasets_error = min(problems)
        # Re-binding starts over, so a failed model can be given better files and fitted again.
        model.set_status, model.set_at, model.fit_at, model.fails = DATASETS_LOADED, now, None, False

    def fit(self, model: TtmModel, now: float) -> None:
        status = model.status(now)
        if status not in (DATASETS_LOADED, READY_TO_FIT):
            hint = ": bind a train and a validation file first" if status == CREATED else ""
            raise TtmError(409, f"Model {model.id} cannot be fitted in status {status}{hint}")
        train_id = model.train_file
        train = self.files.get(train_id) if train_id is not None else None
        if train is None:
            raise TtmError(409, f"Model {model.id} cannot be fitted: its train file {train_id} was deleted")
        # The deterministic failure rule: a classifier cannot learn from a train file of a single class.
        single_class = model.model_type == CLASSIFIER and len(set(train.classes or [])) == 1
        model.fails = single_class and model.datasets_error is None
        model.fit_at = now

    # --- files ----------------------------------------------------------------------------------------

    def create_file(self, now: float, name: str, task_type: str) -> TtmFile:
        file = TtmFile(
            id=uuid.uuid4().hex, name=name, task_type=task_type, signature=secrets.token_hex(16), created_at=now
        )
        self.files[file.id] = file
        return file

    def delete_file(self, file_id: str) -> TtmFile:
        self.find_file(file_id)
        return self.files.pop(file_id)

    def upload(
        self,
        file: TtmFile,
        now: float,
        inputs: list[str],
        classes: list[int] | None,
        outputs: list[str] | None,
        error: str | None = None,
    ) -> None:
        """Take the rows of one PUT; ``error`` (rows that cannot be loaded) shows as FileFailed once loading ends."""
        status = file.status(now)
        if status != FILE_CREATED:
            raise TtmError(409, f"File {file.id} was already uploaded (status {status})")
        file.inputs, file.classes, file.outputs, file.error = inputs, classes, outputs, error
        file.uploaded_at = now
        self.uploads += 1


def _load_problem(file: TtmFile, model: TtmModel) -> str | None:
    """Why ``model`` cannot use ``file`` once it is loaded: its own loading error, or classes out of range."""
    if file.error is not None:
        return f"File {file.id} failed to load: {file.error}"
    if model.num_classes is not None and file.classes:
        top = max(file.classes)
        if top >= model.num_classes:
            return (
                f"File {file.id} has class {top} but model {model.id} has num_classes {model.num_classes}: "
                f"classes must be 0 to {model.num_classes - 1}"
            )
    return None
