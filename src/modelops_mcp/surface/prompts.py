"""Prompts: ready-made instructions a user can pick in their client to start a whole journey, one per backend.

Each journey names its steps by the backends' operationIds; the tool names in the text come from the catalog,
so a prompt never names a tool the server does not have. A journey is offered only when every operation it
names is exposed; in search mode the text says to run them through ops_call. Jobs are followed with
jobs_wait, as every job-starting tool's result says.
"""

from __future__ import annotations

from dataclasses import dataclass

import mcp_types as types

from modelops_mcp.spec.catalog import Catalog, Operation

CAILA_FINE_TUNE = "caila_fine_tune"
# The tool every journey follows its jobs with (job_tools.py); a step naming it is not a catalog operation.
WAIT = "jobs_wait"


@dataclass(frozen=True, slots=True)
class Argument:
    name: str
    description: str
    fallback: str  # what the text says when the user leaves the argument out


@dataclass(frozen=True, slots=True)
class Journey:
    name: str
    backend: str
    title: str
    description: str
    goal: str  # the first line; `{argument}` placeholders take the arguments (quoted)
    arguments: tuple[Argument, ...]
    # (operationId or WAIT, what to do with it): `{tool}` is that step's tool name, `{argument}` as in goal.
    steps: tuple[tuple[str, str], ...]
    end: str


_FOLLOW = "Call `{tool}` with the job id from the handle until the job ends (on timed_out, call it again)"

JOURNEYS: tuple[Journey, ...] = (
    Journey(
        name=CAILA_FINE_TUNE,
        backend="caila",
        title="Fine-tune a Caila service",
        description="Copy a fittable Caila service, fit it on one of your datasets and follow the job to the end.",
        goal="Fine-tune the Caila service {service} of account {account} on {dataset}.",
        arguments=(
            Argument("account", "account that owns the fittable service, e.g. demo", "the account I name"),
            Argument("service", "the fittable service to copy, e.g. text-classifier", "the fittable service I name"),
            Argument("dataset", "name of the dataset to fit on", "the dataset I choose from the list"),
            Argument("name", "name for your fitted copy", "a short name you propose"),
        ),
        steps=(
            ("getDatasets", "Call `{tool}` for the account and find the dataset's id."),
            ("createDerivedModel", "Call `{tool}` with name {name}; keep id.accountId and id.modelId."),
            ("getFitConfigs", "Call `{tool}` on the new service and pick the default config (or ask me)."),
            ("fit", "Call `{tool}` with the new service's ids, the datasetId and the configId; it returns a job."),
            (WAIT, _FOLLOW + "."),
        ),
        end="Report the final state (SUCCESS), or the job's error message.",
    ),
    Journey(
        name="training_train_and_download",
        backend="training",
        title="Train on the Training Module and download the model",
        description="Start a session, configure, upload a dataset, preprocess and train as jobs, then download "
        "the model and its results.",
        goal="Train a model on the Training Module with {train_file} (validation: {test_file}).",
        arguments=(
            Argument("train_file", "local CSV of training rows", "the training file I name"),
            Argument("test_file", "local CSV of validation rows", "the validation file I name"),
            Argument("settings", "training settings, e.g. model bert-base-cased, 3 epochs", "the defaults"),
        ),
        steps=(
            ("healthcheck", "Call `{tool}` to check the Training Module is up."),
            ("startSession", "Call `{tool}`; the server remembers the session key for the calls below."),
            ("updateTrainingConfig", "Call `{tool}` with {settings}."),
            ("uploadDataset", "Call `{tool}` with train_file and test_file."),
            ("preprocess", "Call `{tool}`; it returns a job."),
            (WAIT, _FOLLOW + "; it must complete before training."),
            ("startTraining", "Call `{tool}`; it returns a job."),
            (WAIT, _FOLLOW + "."),
            ("downloadModel", "Call `{tool}`; it saves the model to a local file."),
            ("downloadResults", "Call `{tool}`; it saves the per-epoch results to a local file."),
        ),
        end="Report the saved paths and the last epoch's metrics.",
    ),
    Journey(
        name="tunethemodel_fine_tune",
        backend="tunethemodel",
        title="Fine-tune a classifier on Tune the Model",
        description="Create a classifier, upload a train and a validation dataset, bind them, fit as a job, "
        "then classify a text.",
        goal="Fine-tune a Tune the Model classifier named {name} on {train_file} (validation: {validate_file}).",
        arguments=(
            Argument("name", "name for the classifier", "a short name you propose"),
            Argument("train_file", "local CSV or JSONL with a text and a label column", "the training file I name"),
            Argument("validate_file", "local CSV or JSONL for validation", "the validation file I name"),
            Argument("text", "a text to classify once the model is ready", "a sample text you make up"),
        ),
        steps=(
            ("createModel", "Call `{tool}` with model_type classifier, the name and num_classes; keep model_id."),
            (
                "createFile",
                "Call `{tool}` twice (task_type classifier): once with the training file, once with the "
                "validation file; keep both file_id values and the class_names.",
            ),
            ("bindDatasets", "Call `{tool}` with model_id, train_file and validate_file (the file ids)."),
            ("fitModel", "Call `{tool}` with model_id; it returns a job."),
            (WAIT, _FOLLOW + "."),
            ("classify", "Call `{tool}` with model_id and input {text}; its classes map each class name to a score."),
        ),
        end="Report the model's status and the classification.",
    ),
    Journey(
        name="datarobot_test_custom_model",
        backend="datarobot",
        title="Test a DataRobot custom model",
        description="Create a custom model and a version from a local folder, build its dependencies, upload a "
        "dataset and run the custom model test, each followed as a job.",
        goal="Create and test a DataRobot custom model named {name} from the folder {model_dir}, on {dataset}.",
        arguments=(
            Argument("name", "name for the custom model", "a short name you propose"),
            Argument("model_dir", "local folder with the model's code (custom.py, requirements.txt)", "my folder"),
            Argument("dataset", "local CSV to test on", "the CSV I name"),
        ),
        steps=(
            ("listExecutionEnvironments", "Call `{tool}` and pick a Python drop-in environment (or ask me)."),
            (
                "createCustomModel",
                "Call `{tool}` with the name, customModelType inference, the target type and name; keep id.",
            ),
            (
                "createCustomModelVersion",
                "Call `{tool}` with customModelId, baseEnvironmentId and files (the folder); keep the version id.",
            ),
            ("startDependencyBuild", "Call `{tool}` with both ids; it returns a job."),
            (WAIT, _FOLLOW + "; the build must complete before the test."),
            ("createDatasetFromFile", "Call `{tool}` with the CSV; it returns a job."),
            (WAIT, _FOLLOW + "; keep the dataset id (catalogId)."),
            ("createCustomModelTest", "Call `{tool}` with both ids and datasetId; it returns a job."),
            (WAIT, _FOLLOW + "."),
        ),
        end="Report the test's overallStatus and each check's status and message.",
    ),
    Journey(
        name="pieces_download_and_load",
        backend="pieces",
        title="Download and load a Pieces OS model",
        description="Find a local model, download it with progress followed as a job, then load it.",
        goal="Download the Pieces OS model {model} to this machine and load it.",
        arguments=(Argument("model", "the model's name, e.g. Llama 3 8B", "a local model you pick from the list"),),
        steps=(
            (
                "modelsSnapshot",
                "Call `{tool}` and find the model's id (a uuid) by its name; not a cloud model.",
            ),
            ("modelSpecificModelDownload", "Call `{tool}` with the model id; it returns a job."),
            (WAIT, _FOLLOW + "; its progress is the download's percentage."),
            ("modelSpecificModelLoad", "Call `{tool}` with the model id."),
        ),
        end="Report whether the model is loaded.",
    ),
)


class PromptNotFound(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Prompts:
    """The journeys whose every operation this server exposes, with their tool names from the catalog."""

    catalog: Catalog
    exposed: dict[str, Operation]
    search_mode: bool = False

    def _tools(self, journey: Journey) -> list[str] | None:
        """Each step's tool name, or None when one is missing from the catalog or not exposed."""
        names = []
        for operation_id, _ in journey.steps:
            if operation_id == WAIT:
                names.append(WAIT)
                continue
            op = self.catalog.find(journey.backend, operation_id)
            if op is None or op.tool_name not in self.exposed:
                return None
            names.append(op.tool_name)
        return names

    def offered(self) -> list[Journey]:
        return [journey for journey in JOURNEYS if self._tools(journey) is not None]

    def list(self) -> list[types.Prompt]:
        return [
            types.Prompt(
                name=journey.name,
                title=journey.title,
                description=journey.description,
                arguments=[types.PromptArgument(name=a.name, description=a.description) for a in journey.arguments],
            )
            for journey in self.offered()
        ]

    def get(self, name: str, arguments: dict[str, str]) -> types.GetPromptResult:
        journey = next((j for j in JOURNEYS if j.name == name), None)
        tools = None if journey is None else self._tools(journey)
        if journey is None or tools is None:
            raise PromptNotFound(name)
        values = {a.name: repr(arguments[a.name]) if arguments.get(a.name) else a.fallback for a in journey.arguments}
        lines = [journey.goal.format(**values)]
        if self.search_mode:
            lines.append("Run each backend tool below with ops_call (ops_describe shows its arguments).")
        for number, ((_, text), tool) in enumerate(zip(journey.steps, tools, strict=True), 1):
            lines.append(f"{number}. " + text.format(tool=tool, **values))
        lines.append(journey.end)
        return types.GetPromptResult(
            description=journey.title,
            messages=[types.PromptMessage(role="user", content=types.TextContent(type="text", text="\n".join(lines)))],
        )
