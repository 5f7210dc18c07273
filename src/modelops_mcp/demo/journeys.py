"""The demo's journeys, one per backend: what an agent does, step by step, through the MCP tools."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
from mcp import Client

from modelops_mcp.demo.steps import DemoFailed, Printer, call, follow_job
from modelops_mcp.jobs.curves import curve_lines
from modelops_mcp.jobs.history import PROGRESS

# A journey returns one line saying what it proved, for the demo's closing summary.
Journey = Callable[[Client, Printer, "DemoOptions"], Awaitable[str]]


class DemoOptions:
    def __init__(self, dataset: str, data_dir: Path, model_dir: Path) -> None:
        self.dataset = dataset  # the Caila dataset to fit on (broken-labels fails)
        self.data_dir = data_dir  # where the example datasets live
        self.model_dir = model_dir  # the example DataRobot custom model (a folder)


def demo_data_dir(name: str = "data") -> Path:
    """An examples/ folder: packaged in a wheel as demo_<name>, or examples/<name> in a source checkout."""
    packaged = Path(__file__).parent.with_name(f"demo_{name}")
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[3] / "examples" / name


async def caila(client: Client, printer: Printer, options: DemoOptions) -> str:
    datasets = await call(client, printer, "caila_list_datasets", {"account": "demo"})
    printer.line(", ".join(f"{d['name']} (id {d['id']['datasetId']})" for d in datasets))
    dataset = next((d for d in datasets if d["name"] == options.dataset), None)
    if dataset is None:
        raise DemoFailed(f"no dataset named {options.dataset!r} in the sandbox")

    name = f"my-classifier-{int(time.time())}"
    service = await call(
        client, printer, "caila_create_derived_service", {"account": "demo", "model": "text-classifier", "name": name}
    )
    account, model = str(service["id"]["accountId"]), str(service["id"]["modelId"])
    printer.line(f"created {service['modelName']!r}: account {account}, model {model}")

    configs = await call(client, printer, "caila_list_fit_configs", {"account": account, "model": model})
    config = next((c for c in configs if c.get("isDefault")), configs[0])
    for c in configs:
        printer.line(f"{c['name']}{' (default)' if c.get('isDefault') else ''}: {c['config']}")

    fit = {
        "account": account,
        "model": model,
        "datasetId": dataset["id"]["datasetId"],
        "configId": config["id"]["configId"],
    }
    job = await call(client, printer, "caila_fit_service", fit)
    printer.line(f"Caila job {job['jobId']} started ({job['state']}); followed as {job['job']['uri']}")
    final = await follow_job(client, printer, job["job"])
    if final["status"] != "completed":
        raise DemoFailed(f"the fit {final['status']}: {final.get('message') or 'no message'}")
    printer.line(f"fitted: service {name!r} is ready to use")
    return (
        f"derived {name!r} from text-classifier and fitted it on {options.dataset}: "
        f"job followed to {final['state']} through jobs_wait"
    )


async def training(client: Client, printer: Printer, options: DemoOptions) -> str:
    health = await call(client, printer, "training_check_health", {})
    printer.line(f"Training Module {health.get('version', '')} is {health.get('status')}")
    session = await call(client, printer, "training_start_session", {})
    printer.line(f"session {session['key']} started; the server fills the key in from here on")
    config = {"model": "bert-base-cased", "epochs": 3, "eval_metrics": ["accuracy", "f1"], "seed": 42}
    await call(client, printer, "training_update_config", config)
    files = {"train_file": "sentiment-train.csv", "test_file": "sentiment-test.csv"}
    uploaded = (await call(client, printer, "training_upload_dataset", files))["dataset"]
    printer.line(
        f"streamed from {options.data_dir} (an --allow-dir directory): "
        f"{uploaded['train_rows']} training and {uploaded['test_rows']} validation rows"
    )

    for tool in ("training_preprocess", "training_start_training"):
        started = await call(client, printer, tool, {})
        final = await follow_job(client, printer, started["job"], show_messages=True)
        if final["status"] != "completed":
            raise DemoFailed(f"{tool}: the job {final['status']}: {final.get('message') or 'no message'}")
    history = final.get("history") or {}
    curves = curve_lines({**history, "series": {k: v for k, v in history.get("series", {}).items() if k != PROGRESS}})
    if curves:
        printer.line("training curve, from the job's history:")
        for line in curves:
            printer.line(f"  {line}")

    for tool in ("training_download_model", "training_download_results"):
        saved = await call(client, printer, tool, {})
        printer.line(f"saved {saved['size']} bytes to {saved['path']} (sha256 {saved['sha256'][:16]}…)")
    results = await anyio.Path(saved["path"]).read_text(encoding="utf-8")
    for row in results.splitlines():
        printer.line(f"  {row}")
    epochs = max(0, len(results.splitlines()) - 1)  # a header, then one row per epoch
    return (
        f"session, config, a {uploaded['train_rows']}-row upload, preprocessing and {epochs} epochs of training "
        "followed as jobs; model and results downloaded"
    )


async def pieces(client: Client, printer: Printer, options: DemoOptions) -> str:
    models = (await call(client, printer, "pieces_list_models", {}))["iterable"]
    for m in models:
        flags = ["cloud" if m["cloud"] else "local"]
        flags += [flag for flag in ("downloaded", "loaded", "custom") if m.get(flag)]
        printer.line(f"{m['name']:<24} {', '.join(flags)}")
    wanted = next((m for m in models if not m["cloud"] and not m.get("downloaded")), None)
    if wanted is None:
        raise DemoFailed("every local model is already downloaded")
    started = await call(client, printer, "pieces_download_model", {"model": wanted["id"]})
    printer.line(f"downloading {wanted['name']}; progress arrives over Pieces OS's WebSocket")
    final = await follow_job(client, printer, started["job"])
    if final["status"] != "completed":
        raise DemoFailed(f"the download {final['status']}: {final.get('message') or 'no message'}")
    loaded = await call(client, printer, "pieces_load_model", {"model": wanted["id"]})
    printer.line(f"{loaded['name']} is {'loaded and ready' if loaded.get('loaded') else 'not loaded'}")
    if not loaded.get("loaded"):
        raise DemoFailed(f"{loaded['name']} did not load")
    return f"downloaded {wanted['name']} with progress pushed over the WebSocket, then loaded it"


async def tunethemodel(client: Client, printer: Printer, options: DemoOptions) -> str:
    created = {"model_type": "classifier", "name": "ticket-sentiment", "model_params": {"num_classes": 2}}
    model = await call(client, printer, "tunethemodel_create_model", created)
    model_id = model.get("model_id") or model["model_name"]  # the service has used both spellings
    printer.line(f"created classifier {model_id} ({model['status']})")
    files: dict[str, str] = {}
    for role, name in (("train_file", "sentiment-train.csv"), ("validate_file", "sentiment-validate.csv")):
        upload = {"name": name, "task_type": "classifier", "path": name}
        uploaded = await call(client, printer, "tunethemodel_upload_dataset", upload)
        files[role] = uploaded["file_id"]
        labels = ", ".join(f"{n}={i}" for i, n in enumerate(uploaded.get("class_names") or []))
        printer.line(f"{uploaded['uploaded_rows']} rows of {name} sent to the presigned URL ({labels})")
    # Bound at once, as the official client does: the service loads the files meanwhile and the fit below
    # waits InQueue until they are loaded.
    bound = await call(client, printer, "tunethemodel_bind_datasets", {"model_id": model_id, **files})
    printer.line(f"datasets bound: {bound['status']}")
    started = await call(client, printer, "tunethemodel_fit_model", {"model_id": model_id})
    final = await follow_job(client, printer, started["job"])
    if final["status"] != "completed":
        raise DemoFailed(f"the fit {final['status']}: {final.get('message') or 'no message'}")
    texts = ("The export is broken again", "Support fixed it in an hour")
    for text in texts:
        answer = (await call(client, printer, "tunethemodel_classify", {"model_id": model_id, "input": text}))["answer"]
        # `classes` names each score (the server kept the CSV's labels from the upload); class numbers otherwise.
        named = answer.get("classes") or {str(number): score for number, score in enumerate(answer["scores"])}
        printer.line(f"{text!r}: " + ", ".join(f"{name} {score:.2f}" for name, score in named.items()))
    return (
        f"classifier {model_id} created, two CSVs sent to presigned URLs, bound, fitted to "
        f"{final['state']}, {len(texts)} texts classified"
    )


# The sandbox's seeded "Python 3.11 Drop-In" environment (a real account has its own), and the example file the
# journey uploads as the test's dataset.
DATAROBOT_ENVIRONMENT = "Python 3.11 Drop-In"
DATAROBOT_TEST_DATA = "sentiment-test.csv"


async def datarobot(client: Client, printer: Printer, options: DemoOptions) -> str:
    environments = (await call(client, printer, "datarobot_list_execution_environments", {"limit": 10}))["data"]
    environment = next((e for e in environments if e["name"] == DATAROBOT_ENVIRONMENT), None)
    if environment is None:
        raise DemoFailed(f"no execution environment named {DATAROBOT_ENVIRONMENT!r}")
    created = {
        "name": "ticket-sentiment",
        "customModelType": "inference",
        "targetType": "Binary",
        "targetName": "label",
        "positiveClassLabel": "positive",
        "negativeClassLabel": "negative",
        "language": "python",
    }
    model = await call(client, printer, "datarobot_create_custom_model", created)
    version_args = {
        "customModelId": model["id"],
        "isMajorUpdate": "true",
        "baseEnvironmentId": environment["id"],
        "files": [str(options.model_dir)],
    }
    version = await call(client, printer, "datarobot_create_custom_model_version", version_args)
    files = ", ".join(item["filePath"] for item in version["items"])
    printer.line(f"version {version['label']} with {files} (each file part sent with its filePath)")
    ids = {"customModelId": model["id"], "customModelVersionId": version["id"]}
    build = await call(client, printer, "datarobot_start_dependency_build", ids)
    built = await follow_job(client, printer, build["job"])
    if built["status"] != "completed":
        raise DemoFailed(f"the dependency build {built['status']}: {built.get('message') or 'no message'}")
    dataset = await _datarobot_dataset(client, printer, options)
    started = await call(client, printer, "datarobot_create_custom_model_test", {**ids, "datasetId": dataset})
    printer.line(f"202 Accepted, status job {started['statusId']}: followed until its 303 names the finished test")
    final = await follow_job(client, printer, started["job"])
    test = final.get("result") or {}
    for check, outcome in (test.get("testingStatus") or {}).items():
        printer.line(
            f"  {check:<20} {outcome.get('status')}{': ' + outcome['message'] if outcome.get('message') else ''}"
        )
    if final["status"] != "completed":
        raise DemoFailed(f"the test {final['status']}: {final.get('message') or 'no message'}")
    printer.line(f"custom model {model['id']} passed its test ({test.get('overallStatus')})")
    return (
        f"custom model {model['id']}: a version from {options.model_dir.name}/, its dependency build, "
        f"an AI Catalog dataset and a test followed through 202 → status → 303 ({test.get('overallStatus')})"
    )


async def _datarobot_dataset(client: Client, printer: Printer, options: DemoOptions) -> str:
    """A dataset of the AI Catalog to test on, uploaded from the example data and followed until ingested."""
    path = options.data_dir / DATAROBOT_TEST_DATA
    uploaded = await call(client, printer, "datarobot_upload_dataset", {"file": str(path)})
    ingested = await follow_job(client, printer, uploaded["job"])
    if ingested["status"] != "completed":
        raise DemoFailed(f"the dataset upload {ingested['status']}: {ingested.get('message') or 'no message'}")
    rows = (ingested.get("result") or {}).get("rowCount")
    printer.line(f"dataset {uploaded['catalogId']} ({path.name}, {rows} rows) is ready to test on")
    return str(uploaded["catalogId"])


JOURNEYS: dict[str, Journey] = {
    "caila": caila,
    "training": training,
    "pieces": pieces,
    "tunethemodel": tunethemodel,
    "datarobot": datarobot,
}
