"""The Tune the Model emulator over real loopback HTTP, on a frozen simulated clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from modelops_mcp.sandbox import Sandbox, tunethemodel
from modelops_mcp.sandbox.tunethemodel_data import (
    FILE_READY_S,
    FIT_FAIL_AT_S,
    FIT_QUEUE_S,
    FIT_REQUEST_S,
    FIT_TRAIN_S,
    PUBLIC_CLASSIFIER_ID,
    PUBLIC_GENERATOR_ID,
    SINGLE_CLASS_ERROR,
    TtmState,
)

pytestmark = pytest.mark.anyio

KEY = "ttm-test-key"
UNKNOWN_ID = "0" * 32
JSON = "application/json"
ROWS = 32


@pytest.fixture
def sandbox() -> Sandbox:
    # Overrides conftest's: a pinned key, so a wrong key can be told from a right one.
    return Sandbox(speed=0, api_keys={"tunethemodel": KEY}, emulators=[tunethemodel.SPEC])


@pytest.fixture
def state(sandbox: Sandbox) -> TtmState:
    found = sandbox.state("tunethemodel")
    assert isinstance(found, TtmState)
    return found


@pytest.fixture
async def ttm(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client at the emulated API root (``.../tunethemodel``) sending the raw key, as the official SDK does."""
    async with httpx.AsyncClient(base_url=base_url + "/tunethemodel", headers={"Authorization": KEY}) as c:
        yield c


@pytest.fixture
async def anonymous() -> AsyncIterator[httpx.AsyncClient]:
    """A client without any auth header, for presigned upload URLs."""
    async with httpx.AsyncClient() as c:
        yield c


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == JSON
    return response.json()


def assert_detail(response: httpx.Response, status: int, detail: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSON
    assert response.json() == {"detail": detail}


def classifier_rows(count: int = ROWS, classes: int = 2) -> dict[str, Any]:
    return {"inputs": [f"text {i}" for i in range(count)], "classes": [i % classes for i in range(count)]}


def generator_rows(count: int = ROWS) -> dict[str, Any]:
    return {"inputs": [f"prompt {i}" for i in range(count)], "outputs": [f"answer {i}" for i in range(count)]}


async def new_model(ttm: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    body.setdefault("model_type", "classifier")
    model: dict[str, Any] = ok(await ttm.post("/v0/models", json=body))
    return model


async def new_file(ttm: httpx.AsyncClient, task_type: str = "classifier", name: str = "train.json") -> dict[str, Any]:
    file: dict[str, Any] = ok(await ttm.post("/v0/files", json={"name": name, "task_type": task_type}))
    return file


async def uploaded_file(
    ttm: httpx.AsyncClient, anonymous: httpx.AsyncClient, rows: dict[str, Any], task_type: str = "classifier"
) -> str:
    file = await new_file(ttm, task_type)
    assert ok(await anonymous.put(file["upload_url"], json=rows)) == {}
    return str(file["file_id"])


async def status(ttm: httpx.AsyncClient, kind: str, item_id: str) -> str:
    return str(ok(await ttm.get(f"/v0/{kind}/{item_id}/status"))["status"])


async def bound_model(
    ttm: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    sandbox: Sandbox,
    rows: dict[str, Any],
    **model: Any,
) -> dict[str, Any]:
    """A model bound to a train and a validation file of ``rows``, both FileReady."""
    task_type = model.setdefault("model_type", "classifier")
    created = await new_model(ttm, **model)
    train = await uploaded_file(ttm, anonymous, rows, task_type)
    validate = await uploaded_file(ttm, anonymous, rows, task_type)
    sandbox.clock.advance(FILE_READY_S)
    body = {"train_file": train, "validate_file": validate}
    bound: dict[str, Any] = ok(await ttm.post(f"/v0/models/{created['model_id']}/bind", json=body))
    return bound


async def ready_model(
    ttm: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: Sandbox, rows: dict[str, Any], **model: Any
) -> str:
    model_id = str((await bound_model(ttm, anonymous, sandbox, rows, **model))["model_id"])
    ok(await ttm.post(f"/v0/models/{model_id}/fit"))
    sandbox.clock.advance(FIT_TRAIN_S)
    assert await status(ttm, "models", model_id) == "Ready"
    return model_id


# --- auth and routing ------------------------------------------------------------------------------------


async def test_the_raw_key_is_accepted_and_the_env_points_a_client_here(
    ttm: httpx.AsyncClient, sandbox: Sandbox, base_url: str
) -> None:
    assert ok(await ttm.get("/v0/models")) == {"models": []}
    env = sandbox.env(base_url)
    assert env["TTM_API_URL"] == base_url + "/tunethemodel"
    assert env["TTM_API_KEY"] == KEY


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Invalid API key"),
        ({"Authorization": ""}, "Invalid API key"),
        ({"Authorization": "not-the-key"}, "Invalid API key"),
        ({"Authorization": f"Bearer {KEY}"}, "Invalid API key: send the raw key in Authorization, without Bearer"),
        ({"Authorization": f"bearer {KEY}"}, "Invalid API key: send the raw key in Authorization, without Bearer"),
    ],
)
async def test_a_missing_wrong_or_bearer_key_is_refused(
    base_url: str, state: TtmState, headers: dict[str, str], detail: str
) -> None:
    async with httpx.AsyncClient(base_url=base_url + "/tunethemodel", headers=headers) as client:
        assert_detail(await client.get("/v0/models"), 401, detail)
        assert_detail(await client.post("/v0/models", json={"model_type": "classifier"}), 401, detail)
        assert_detail(await client.get(f"/v0/models/{PUBLIC_CLASSIFIER_ID}/status"), 401, detail)
    assert state.models == {}


async def test_unknown_routes_and_methods_answer_like_fastapi(ttm: httpx.AsyncClient, base_url: str) -> None:
    assert_detail(await ttm.get("/v0/nothing"), 404, "Not Found")
    assert_detail(await ttm.get("/v1/models"), 404, "Not Found")
    assert_detail(await ttm.put("/v0/models"), 405, "Method Not Allowed")
    # Routing comes before the key check, as with a FastAPI dependency.
    async with httpx.AsyncClient(base_url=base_url + "/tunethemodel") as client:
        assert_detail(await client.get("/v0/nothing"), 404, "Not Found")


# --- models ----------------------------------------------------------------------------------------------


async def test_a_new_classifier_gets_defaults_and_both_field_spellings(ttm: httpx.AsyncClient) -> None:
    model = await new_model(ttm)
    model_id = model["model_id"]
    assert len(model_id) == 32
    assert int(model_id, 16) >= 0
    assert model == {
        "model_id": model_id,
        "model_name": model_id,
        "name": f"model-{model_id[:8]}",
        "user_name": f"model-{model_id[:8]}",
        "model_type": "classifier",
        "model_params": {"num_classes": 2, "train_iters": None},
        "base_model": "ttm-classifier-base",
        "status": "Created",
        # Simulated second 0 is the seed's example creation time: timestamps are deterministic.
        "last_updated_time": "2022-06-10 17:52:35.816190",
        "train_file": None,
        "validate_file": None,
    }
    assert ok(await ttm.get(f"/v0/models/{model_id}/status")) == model


async def test_models_are_listed_in_creation_order_with_what_was_asked(
    ttm: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    first = await new_model(ttm, name="my-shiny-classifier", model_params={"num_classes": 3, "train_iters": 5})
    sandbox.clock.advance(1.5)
    second = await new_model(ttm, model_type="generator", name="writer", pretrained_model=PUBLIC_GENERATOR_ID)
    assert (first["user_name"], first["model_params"]) == ("my-shiny-classifier", {"num_classes": 3, "train_iters": 5})
    assert second["model_params"] == {"num_classes": None, "train_iters": None}
    assert second["base_model"] == PUBLIC_GENERATOR_ID
    assert second["last_updated_time"] == "2022-06-10 17:52:37.316190"
    listed = ok(await ttm.get("/v0/models"))["models"]
    assert [m["model_id"] for m in listed] == [first["model_id"], second["model_id"]]
    assert listed == [first, second]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{", "The request body must be JSON"),
        (b"[1]", "The request body must be a JSON object"),
        (b"{}", "Field model_type is required"),
        (b'{"model_type": "regressor"}', "Field model_type must be one of classifier, generator, got 'regressor'"),
        (b'{"model_type": "classifier", "name": 5}', "Field name must be a non-empty string"),
        (b'{"model_type": "classifier", "model_params": 3}', "Field model_params must be an object"),
        (
            b'{"model_type": "classifier", "model_params": {"num_classes": 1}}',
            "Field model_params.num_classes must be between 2 and 1000, got 1",
        ),
        (
            b'{"model_type": "classifier", "model_params": {"num_classes": "3"}}',
            "Field model_params.num_classes must be an integer",
        ),
        (
            b'{"model_type": "generator", "model_params": {"num_classes": 3}}',
            "Field model_params.num_classes is only for classifier models",
        ),
        (
            b'{"model_type": "classifier", "model_params": {"train_iters": 0}}',
            "Field model_params.train_iters must be >= 1, got 0",
        ),
    ],
)
async def test_a_bad_model_body_is_a_422_naming_the_field(
    ttm: httpx.AsyncClient, state: TtmState, body: bytes, detail: str
) -> None:
    response = await ttm.post("/v0/models", content=body, headers={"content-type": JSON})
    assert_detail(response, 422, detail)
    assert state.models == {}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/status", None),
        ("DELETE", "/delete", None),
        ("POST", "/bind", {"train_file": UNKNOWN_ID, "validate_file": UNKNOWN_ID}),
        ("POST", "/fit", None),
        ("POST", "/classify", {"input": "hi"}),
        ("POST", "/generate", {"input": "hi"}),
    ],
)
async def test_an_unknown_model_is_a_404(ttm: httpx.AsyncClient, method: str, path: str, body: Any) -> None:
    response = await ttm.request(method, f"/v0/models/{UNKNOWN_ID}{path}", json=body)
    assert_detail(response, 404, f"Model {UNKNOWN_ID} not found")


async def test_deleting_a_model_answers_it_as_it_was_then_it_is_gone(ttm: httpx.AsyncClient, state: TtmState) -> None:
    model = await new_model(ttm, name="short-lived")
    assert ok(await ttm.delete(f"/v0/models/{model['model_id']}/delete")) == model
    assert state.models == {}
    assert_detail(await ttm.get(f"/v0/models/{model['model_id']}/status"), 404, f"Model {model['model_id']} not found")
    assert_detail(
        await ttm.delete(f"/v0/models/{model['model_id']}/delete"), 404, f"Model {model['model_id']} not found"
    )


async def test_public_models_are_ready_readable_usable_and_not_deletable(ttm: httpx.AsyncClient) -> None:
    public = ok(await ttm.get("/v0/public-models"))["models"]
    assert [(m["model_id"], m["model_type"], m["status"]) for m in public] == [
        (PUBLIC_CLASSIFIER_ID, "classifier", "Ready"),
        (PUBLIC_GENERATOR_ID, "generator", "Ready"),
    ]
    assert public[0]["user_name"] == "cyberbullying_tweets"
    assert public[0]["last_updated_time"] == "2022-05-07 20:58:10.878585"
    assert public[1]["last_updated_time"] == "2022-05-06 17:15:59.202724"
    # Public models are not the caller's own: GET /v0/models stays empty.
    assert ok(await ttm.get("/v0/models")) == {"models": []}
    assert ok(await ttm.get(f"/v0/models/{PUBLIC_CLASSIFIER_ID}/status")) == public[0]
    scores = ok(await ttm.post(f"/v0/models/{PUBLIC_CLASSIFIER_ID}/classify", json={"input": "hi"}))
    assert len(scores["answer"]["scores"]) == 6
    texts = ok(await ttm.post(f"/v0/models/{PUBLIC_GENERATOR_ID}/generate", json={"input": "a red wine"}))
    assert len(texts["answer"]["responses"]) == 1
    assert_detail(
        await ttm.delete(f"/v0/models/{PUBLIC_GENERATOR_ID}/delete"),
        409,
        f"Model {PUBLIC_GENERATOR_ID} is a public model and cannot be deleted",
    )


# --- files and the presigned upload ----------------------------------------------------------------------


async def test_a_new_file_gets_an_absolute_presigned_upload_url(
    ttm: httpx.AsyncClient, base_url: str, state: TtmState
) -> None:
    file = await new_file(ttm, "generator", "wine.json")
    file_id = file.pop("file_id")
    url = urlsplit(file.pop("upload_url"))
    assert file == {
        "name": "wine.json",
        "file_name": "wine.json",
        "task_type": "generator",
        "status": "FileCreated",
        "num_rows": None,
        "last_updated_time": "2022-06-10 17:52:35.816190",
    }
    assert f"{url.scheme}://{url.netloc}" == base_url
    assert url.path == f"/tunethemodel/_upload/{file_id}"
    assert parse_qs(url.query) == {"signature": [state.files[file_id].signature]}
    listed = ok(await ttm.get("/v0/files"))["files"]
    assert listed == [{**file, "file_id": file_id}]
    assert ok(await ttm.get(f"/v0/files/{file_id}/status")) == listed[0]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"task_type": "classifier"}, "Field name is required"),
        ({"name": "", "task_type": "classifier"}, "Field name must be a non-empty string"),
        ({"name": "x.json"}, "Field task_type is required"),
        (
            {"name": "x.json", "task_type": "ranker"},
            "Field task_type must be one of classifier, generator, got 'ranker'",
        ),
    ],
)
async def test_a_bad_file_body_is_a_422(ttm: httpx.AsyncClient, body: dict[str, Any], detail: str) -> None:
    assert_detail(await ttm.post("/v0/files", json=body), 422, detail)


async def test_an_unknown_file_is_a_404_and_a_deleted_one_is_gone(ttm: httpx.AsyncClient, state: TtmState) -> None:
    assert_detail(await ttm.get(f"/v0/files/{UNKNOWN_ID}/status"), 404, f"File {UNKNOWN_ID} not found")
    assert_detail(await ttm.delete(f"/v0/files/{UNKNOWN_ID}/delete"), 404, f"File {UNKNOWN_ID} not found")
    file = await new_file(ttm)
    upload_url = file.pop("upload_url")
    assert ok(await ttm.delete(f"/v0/files/{file['file_id']}/delete")) == file
    assert state.files == {}
    assert_detail(await ttm.get(f"/v0/files/{file['file_id']}/status"), 404, f"File {file['file_id']} not found")
    assert_detail(await ttm.put(upload_url, json=classifier_rows()), 404, f"File {file['file_id']} not found")


async def test_an_upload_needs_no_auth_and_the_file_is_ready_five_seconds_later(
    ttm: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: Sandbox, state: TtmState
) -> None:
    file = await new_file(ttm)
    sandbox.clock.advance(2)
    rows = classifier_rows(40)
    response = await anonymous.put(file["upload_url"], json=rows)
    assert ok(response) == {}
    assert "authorization" not in response.request.headers
    stored = state.files[file["file_id"]]
    assert (stored.inputs, stored.classes, stored.outputs) == (rows["inputs"], rows["classes"], None)
    assert state.uploads == 1
    after_put = ok(await ttm.get(f"/v0/files/{file['file_id']}/status"))
    assert (after_put["status"], after_put["num_rows"]) == ("FileLoading", 40)
    assert after_put["last_updated_time"] == "2022-06-10 17:52:37.816190"
    sandbox.clock.advance(FILE_READY_S - 0.001)
    assert await status(ttm, "files", file["file_id"]) == "FileLoading"
    sandbox.clock.advance(0.001)
    ready = ok(await ttm.get(f"/v0/files/{file['file_id']}/status"))
    assert (ready["status"], ready["last_updated_time"]) == ("FileReady", "2022-06-10 17:52:42.816190")
    # A file is uploaded once.
    assert_detail(
        await anonymous.put(file["upload_url"], json=rows),
        409,
        f"File {file['file_id']} was already uploaded (status FileReady)",
    )
    assert state.uploads == 1


async def test_an_upload_with_a_wrong_or_missing_signature_is_refused(
    ttm: httpx.AsyncClient, anonymous: httpx.AsyncClient, state: TtmState
) -> None:
    file = await new_file(ttm)
    bare = file["upload_url"].split("?")[0]
    assert_detail(await anonymous.put(bare, json=classifier_rows()), 403, "Invalid signature")
    assert_detail(await anonymous.put(bare + "?signature=00ff", json=classifier_rows()), 403, "Invalid signature")
    assert (state.uploads, await status(ttm, "files", file["file_id"])) == (0, "FileCreated")


@pytest.mark.parametrize(
    ("task_type", "rows", "detail"),
    [
        ("classifier", classifier_rows(31), "At least 32 rows are required, got 31"),
        ("generator", generator_rows(31), "At least 32 rows are required, got 31"),
        (
            "classifier",
            {**classifier_rows(), "classes": [0] * 33},
            "Fields inputs and classes must have the same length, got 32 and 33",
        ),
        (
            "generator",
            {**generator_rows(), "outputs": ["x"]},
            "Fields inputs and outputs must have the same length, got 32 and 1",
        ),
        ("classifier", {**classifier_rows(), "classes": [-1] * ROWS}, "Field classes must be a list of integers >= 0"),
        ("classifier", {**classifier_rows(), "classes": ["0"] * ROWS}, "Field classes must be a list of integers >= 0"),
        ("classifier", {"inputs": ["x"] * ROWS}, "Field classes is required for a classifier file"),
        ("generator", classifier_rows(), "Field outputs is required for a generator file"),
        ("classifier", {"classes": [0] * ROWS}, "Field inputs is required"),
        ("classifier", {"inputs": list(range(ROWS)), "classes": [0] * ROWS}, "Field inputs must be a list of strings"),
    ],
)
async def test_bad_rows_are_taken_like_any_presigned_upload_then_the_file_fails_to_load(
    ttm: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    sandbox: Sandbox,
    state: TtmState,
    task_type: str,
    rows: dict[str, Any],
    detail: str,
) -> None:
    # A presigned storage URL cannot judge rows: the service's loading does, and the official client only
    # ever learns of it from the file's (and the bound model's) status, never from the PUT's answer.
    file = await new_file(ttm, task_type)
    assert ok(await anonymous.put(file["upload_url"], json=rows)) == {}
    assert (state.uploads, await status(ttm, "files", file["file_id"])) == (1, "FileLoading")
    sandbox.clock.advance(FILE_READY_S)
    loaded = ok(await ttm.get(f"/v0/files/{file['file_id']}/status"))
    assert (loaded["status"], loaded["num_rows"], loaded["error"]) == ("FileFailed", None, detail)


async def test_a_body_that_is_not_json_fails_the_file_too(
    ttm: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    file = await new_file(ttm)
    assert ok(await anonymous.put(file["upload_url"], content=b"inputs,classes\n")) == {}
    sandbox.clock.advance(FILE_READY_S)
    loaded = ok(await ttm.get(f"/v0/files/{file['file_id']}/status"))
    assert (loaded["status"], loaded["error"]) == ("FileFailed", "The request body must be JSON")


# --- bind ------------------------------------------------------------------------------------------------


async def test_bind_checks_the_files_exist_have_rows_match_and_fit_the_classes(
    ttm: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    model = (await new_model(ttm, model_params={"num_classes": 3}))["model_id"]
    bind = f"/v0/models/{model}/bind"
    empty = (await new_file(ttm))["file_id"]
    loaded = await uploaded_file(ttm, anonymous, classifier_rows())
    assert_detail(await ttm.post(bind, json={"train_file": empty}), 422, "Field validate_file is required")
    assert_detail(
        await ttm.post(bind, json={"train_file": UNKNOWN_ID, "validate_file": empty}),
        404,
        f"File {UNKNOWN_ID} not found",
    )
    assert_detail(
        await ttm.post(bind, json={"train_file": empty, "validate_file": empty}),
        409,
        f"File {empty} has no rows yet (FileCreated): PUT them to its upload_url",
    )
    generator_file = await uploaded_file(ttm, anonymous, generator_rows(), "generator")
    four_classes = await uploaded_file(ttm, anonymous, classifier_rows(classes=4))
    failed = await uploaded_file(ttm, anonymous, {"inputs": ["x"] * ROWS})
    sandbox.clock.advance(FILE_READY_S)
    assert_detail(
        await ttm.post(bind, json={"train_file": loaded, "validate_file": generator_file}),
        409,
        f"File {generator_file} is a generator file but model {model} is a classifier",
    )
    assert_detail(
        await ttm.post(bind, json={"train_file": loaded, "validate_file": four_classes}),
        409,
        f"File {four_classes} has class 3 but model {model} has num_classes 3: classes must be 0 to 2",
    )
    assert_detail(
        await ttm.post(bind, json={"train_file": failed, "validate_file": loaded}),
        409,
        f"File {failed} failed to load: Field classes is required for a classifier file",
    )
    assert await status(ttm, "models", model) == "Created"
    bound = ok(await ttm.post(bind, json={"train_file": loaded, "validate_file": loaded}))
    assert (bound["status"], bound["train_file"], bound["validate_file"]) == ("DatasetsLoaded", loaded, loaded)


async def test_files_still_loading_bind_at_once_and_a_fit_waits_in_queue_until_they_load(
    ttm: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    # The official client's order (tune_the_model/cli.py:381-392): upload both, bind at once, require
    # DatasetsLoaded right after the bind, fit.
    model = (await new_model(ttm))["model_id"]
    train = await uploaded_file(ttm, anonymous, classifier_rows())
    sandbox.clock.advance(2)
    validate = await uploaded_file(ttm, anonymous, classifier_rows())
    assert await status(ttm, "files", validate) == "FileLoading"
    bound = ok(await ttm.post(f"/v0/models/{model}/bind", json={"train_file": train, "validate_file": validate}))
    assert bound["status"] == "DatasetsLoaded"
    assert ok(await ttm.post(f"/v0/models/{model}/fit"))["status"] == "InQueue"
    # The queue ends FIT_QUEUE_S after the last file has loaded (FILE_READY_S after its upload), not the fit.
    sandbox.clock.advance(FILE_READY_S + FIT_QUEUE_S - 0.001)
    assert await status(ttm, "models", model) == "InQueue"
    sandbox.clock.advance(0.001)
    assert await status(ttm, "models", model) == "TrainRequested"
    sandbox.clock.advance(FIT_TRAIN_S)
    assert await status(ttm, "models", model) == "Ready"


@pytest.mark.parametrize("fit", [True, False], ids=["fitted", "not-fitted"])
async def test_a_bound_file_that_fails_to_load_fails_the_model_with_the_reason(
    ttm: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: Sandbox, fit: bool
) -> None:
    model = (await new_model(ttm))["model_id"]
    train = await uploaded_file(ttm, anonymous, {**classifier_rows(), "classes": [0, 1] * 16 + [1]})
    validate = await uploaded_file(ttm, anonymous, classifier_rows())
    ok(await ttm.post(f"/v0/models/{model}/bind", json={"train_file": train, "validate_file": validate}))
    if fit:
        assert ok(await ttm.post(f"/v0/models/{model}/fit"))["status"] == "InQueue"
    sandbox.clock.advance(FILE_READY_S)
    failed = ok(await ttm.get(f"/v0/models/{model}/status"))
    reason = "Fields inputs and classes must have the same length, got 32 and 33"
    assert (failed["status"], failed["error"]) == ("FitFailed", f"File {train} failed to load: {reason}")
    assert_detail(await ttm.post(f"/v0/models/{model}/fit"), 409, f"Model {model} cannot be fitted in status FitFailed")
    # Better files start over.
    better = await uploaded_file(ttm, anonymous, classifier_rows())
    rebound = ok(await ttm.post(f"/v0/models/{model}/bind", json={"train_file": better, "validate_file": validate}))
    assert (rebound["status"], "error" in rebound) == ("DatasetsLoaded", False)
    sandbox.clock.advance(FILE_READY_S)
    assert await status(ttm, "models", model) == "DatasetsLoaded"


async def test_classes_beyond_the_model_learned_while_loading_fail_the_model(
    ttm: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    model = (await new_model(ttm))["model_id"]  # two classes
    three = await uploaded_file(ttm, anonymous, classifier_rows(classes=3))
    ok(await ttm.post(f"/v0/models/{model}/bind", json={"train_file": three, "validate_file": three}))
    assert await status(ttm, "models", model) == "DatasetsLoaded"
    sandbox.clock.advance(FILE_READY_S)
    failed = ok(await ttm.get(f"/v0/models/{model}/status"))
    assert failed["status"] == "FitFailed"
    assert failed["error"] == f"File {three} has class 2 but model {model} has num_classes 2: classes must be 0 to 1"


# --- fit and the model's answers -------------------------------------------------------------------------


async def test_the_full_classifier_flow_from_create_to_classify(
    ttm: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    model_id = (await new_model(ttm, name="tweets", model_params={"num_classes": 3}))["model_id"]
    assert_detail(
        await ttm.post(f"/v0/models/{model_id}/fit"),
        409,
        f"Model {model_id} cannot be fitted in status Created: bind a train and a validation file first",
    )
    train = await uploaded_file(ttm, anonymous, classifier_rows())
    validate = await uploaded_file(ttm, anonymous, classifier_rows(48))
    sandbox.clock.advance(FILE_READY_S)
    assert await status(ttm, "files", train) == "FileReady"
    bound = ok(await ttm.post(f"/v0/models/{model_id}/bind", json={"train_file": train, "validate_file": validate}))
    assert bound["status"] == "DatasetsLoaded"
    assert_detail(
        await ttm.post(f"/v0/models/{model_id}/classify", json={"input": "hi"}),
        409,
        f"Model {model_id} is not ready (DatasetsLoaded): fit it and wait for Ready",
    )
    # The SDK sends no body; anything sent is ignored.
    fitted = ok(await ttm.post(f"/v0/models/{model_id}/fit", content=b"not json"))
    assert (fitted["status"], fitted["last_updated_time"]) == ("InQueue", "2022-06-10 17:52:40.816190")
    assert_detail(
        await ttm.post(f"/v0/models/{model_id}/fit"), 409, f"Model {model_id} cannot be fitted in status InQueue"
    )
    timeline = [
        (FIT_QUEUE_S - 0.5, "InQueue"),
        (FIT_QUEUE_S, "TrainRequested"),
        (FIT_REQUEST_S, "Training"),
        (FIT_TRAIN_S - 0.5, "Training"),
        (FIT_TRAIN_S, "Ready"),
    ]
    elapsed = 0.0
    for at, expected in timeline:
        sandbox.clock.advance(at - elapsed)
        elapsed = at
        assert await status(ttm, "models", model_id) == expected, at
        # Every route reads the one status: the listing agrees with GET status.
        assert ok(await ttm.get("/v0/models"))["models"][0]["status"] == expected
        if expected == "Training":
            assert_detail(
                await ttm.post(f"/v0/models/{model_id}/bind", json={"train_file": train, "validate_file": validate}),
                409,
                f"Model {model_id} cannot be bound to files in status Training",
            )
    ready = ok(await ttm.get(f"/v0/models/{model_id}/status"))
    assert ready["last_updated_time"] == "2022-06-10 17:53:50.816190"  # fit at 5 s, Ready 70 s later
    assert "error" not in ready

    first = ok(await ttm.post(f"/v0/models/{model_id}/classify", json={"input": "you are great"}))
    scores = first["answer"]["scores"]
    assert len(scores) == 3
    assert all(0 <= s <= 1 and round(s, 6) == s for s in scores)
    assert sum(scores) == pytest.approx(1, abs=1e-9)
    again = ok(await ttm.post(f"/v0/models/{model_id}/classify", json={"input": "you are great"}))
    assert again == first
    other = ok(await ttm.post(f"/v0/models/{model_id}/classify", json={"input": "something else"}))
    assert other != first
    assert_detail(await ttm.post(f"/v0/models/{model_id}/classify", json={}), 422, "Field input is required")
    assert_detail(
        await ttm.post(f"/v0/models/{model_id}/generate", json={"input": "hi"}),
        409,
        f"Model {model_id} is a classifier: generate is for generators, use classify",
    )
    assert_detail(
        await ttm.post(f"/v0/models/{model_id}/bind", json={"train_file": train, "validate_file": validate}),
        409,
        f"Model {model_id} cannot be bound to files in status Ready",
    )


async def test_a_single_class_train_file_fails_the_fit_at_forty_seconds(
    ttm: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    bound = await bound_model(ttm, anonymous, sandbox, classifier_rows(classes=1))
    model_id = bound["model_id"]
    ok(await ttm.post(f"/v0/models/{model_id}/fit"))
    sandbox.clock.advance(FIT_FAIL_AT_S - 0.5)
    assert await status(ttm, "models", model_id) == "Training"
    sandbox.clock.advance(0.5)
    failed = ok(await ttm.get(f"/v0/models/{model_id}/status"))
    assert (failed["status"], failed["error"]) == ("FitFailed", SINGLE_CLASS_ERROR)
    assert failed["last_updated_time"] == "2022-06-10 17:53:20.816190"  # fit at 5 s, failed 40 s later
    sandbox.clock.advance(FIT_TRAIN_S)
    assert await status(ttm, "models", model_id) == "FitFailed"
    assert_detail(
        await ttm.post(f"/v0/models/{model_id}/classify", json={"input": "hi"}),
        409,
        f"Model {model_id} is not ready (FitFailed): fit it and wait for Ready",
    )
    assert_detail(
        await ttm.post(f"/v0/models/{model_id}/fit"), 409, f"Model {model_id} cannot be fitted in status FitFailed"
    )
    # A failed model can be bound to better files and fitted again.
    better = await uploaded_file(ttm, anonymous, classifier_rows(classes=2))
    sandbox.clock.advance(FILE_READY_S)
    rebound = ok(await ttm.post(f"/v0/models/{model_id}/bind", json={"train_file": better, "validate_file": better}))
    assert (rebound["status"], "error" in rebound) == ("DatasetsLoaded", False)
    ok(await ttm.post(f"/v0/models/{model_id}/fit"))
    sandbox.clock.advance(FIT_TRAIN_S)
    assert await status(ttm, "models", model_id) == "Ready"


async def test_a_training_model_can_be_deleted(
    ttm: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: Sandbox, state: TtmState
) -> None:
    model_id = (await bound_model(ttm, anonymous, sandbox, classifier_rows()))["model_id"]
    ok(await ttm.post(f"/v0/models/{model_id}/fit"))
    sandbox.clock.advance(FIT_REQUEST_S)
    deleted = ok(await ttm.delete(f"/v0/models/{model_id}/delete"))
    assert deleted["status"] == "Training"
    assert model_id not in state.models
    assert_detail(await ttm.get(f"/v0/models/{model_id}/status"), 404, f"Model {model_id} not found")


async def test_a_ready_generator_answers_deterministic_hypotheses(
    ttm: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    model_id = await ready_model(ttm, anonymous, sandbox, generator_rows(), model_type="generator")
    url = f"/v0/models/{model_id}/generate"
    body = {"input": "A dry red", "num_hypos": 3, "min_tokens": 2, "max_tokens": 6, "temperature": 0.7, "seed": 7}
    first = ok(await ttm.post(url, json=body))
    responses = [r["response"] for r in first["answer"]["responses"]]
    assert len(responses) == 3
    assert all(2 <= len(text.split()) <= 6 for text in responses)
    assert len(set(responses)) > 1
    assert ok(await ttm.post(url, json=body)) == first
    reseeded = ok(await ttm.post(url, json={**body, "seed": 8}))
    assert reseeded != first
    extras = {"top_k": 5, "top_p": 0.9, "prefix_tokens_only": False, "span_delimiters": ["\n"]}
    assert ok(await ttm.post(url, json={**body, **extras})) == first
    default = ok(await ttm.post(url, json={"input": "A dry red"}))["answer"]["responses"]
    assert len(default) == 1
    assert 1 <= len(default[0]["response"].split()) <= 16
    assert_detail(
        await ttm.post(f"/v0/models/{model_id}/classify", json={"input": "hi"}),
        409,
        f"Model {model_id} is a generator: classify is for classifiers, use generate",
    )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, "Field input is required"),
        ({"input": 3}, "Field input must be a string"),
        ({"input": "x", "num_hypos": 0}, "Field num_hypos must be between 1 and 10, got 0"),
        ({"input": "x", "num_hypos": 11}, "Field num_hypos must be between 1 and 10, got 11"),
        ({"input": "x", "min_tokens": 10, "max_tokens": 5}, "Field max_tokens must be >= min_tokens, got 5 < 10"),
        ({"input": "x", "temperature": 0}, "Field temperature must be > 0.0, got 0"),
        ({"input": "x", "top_p": 1.5}, "Field top_p must be > 0.0 and <= 1.0, got 1.5"),
        ({"input": "x", "seed": "s"}, "Field seed must be an integer"),
        ({"input": "x", "prefix_tokens_only": "yes"}, "Field prefix_tokens_only must be a boolean"),
        ({"input": "x", "span_delimiters": "\n"}, "Field span_delimiters must be a list of strings"),
    ],
)
async def test_a_bad_generate_body_is_a_422(ttm: httpx.AsyncClient, body: dict[str, Any], detail: str) -> None:
    assert_detail(await ttm.post(f"/v0/models/{PUBLIC_GENERATOR_ID}/generate", json=body), 422, detail)
