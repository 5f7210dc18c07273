"""Drives the DataRobot emulator with the official `datarobot` client (3.20.0); run with that client's own python.

    python datarobot_client.py ENDPOINT TOKEN MODEL_FOLDER DATASET_CSV

Prints one JSON object: {"client": version, "steps": [{"step", "ok", ...facts}], "error": text or null}.
Steps run in order and stop at the first that raises (later ones depend on it); the test asserts each step.
This file runs outside our virtualenv: it imports only the standard library and `datarobot`.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

import datarobot as dr
from datarobot.errors import ClientError
from datarobot.utils.pagination import unpaginate

steps: list[dict[str, Any]] = []


def step(title: str, ok: bool, **facts: Any) -> None:
    steps.append({"step": title, "ok": bool(ok), **facts})


def status_of(call: Any) -> int | None:
    """The HTTP status of the ClientError a call raises; None if it does not raise one."""
    try:
        call()
    except ClientError as error:
        return int(error.status_code)
    return None


def run(endpoint: str, token: str, folder: str, csv_path: str) -> None:
    # Client() checks GET version/ on connect and refuses a server whose major version is not 2.
    client = dr.Client(endpoint=endpoint, token=token)
    version = client.get("version/").json()
    step("version", str(version.get("versionString", "")).startswith("2."), versionString=version.get("versionString"))

    envs = dr.ExecutionEnvironment.list()
    by_language = {e.programming_language: e for e in envs}
    python_env, r_env = by_language.get("python"), by_language.get("r")
    step(
        "execution_environments",
        python_env is not None and r_env is not None and python_env.latest_version is not None,
        names=sorted(e.name for e in envs),
    )
    assert python_env is not None
    assert r_env is not None

    # A new environment has no version yet: its latestVersion reaches the client as None.
    made = dr.ExecutionEnvironment.create(name="contract env", programming_language="python")
    fetched = dr.ExecutionEnvironment.get(made.id)
    listed_envs = [e.id for e in dr.ExecutionEnvironment.list()]
    made.delete()
    step(
        "execution_environment_without_versions",
        fetched.id == made.id and fetched.latest_version is None and made.id in listed_envs,
        latest_version=fetched.latest_version,
    )

    names = [f"contract-model-{i}" for i in range(3)]
    created = [
        dr.CustomInferenceModel.create(
            name=name,
            target_type=dr.TARGET_TYPE.BINARY,
            target_name="label",
            positive_class_label="positive",
            negative_class_label="negative",
            language="python",
        )
        for name in names
    ]
    step(
        "create_custom_models",
        [m.name for m in created] == names and all(m.latest_version is None for m in created),
        ids=[m.id for m in created],
        latest_versions=[m.latest_version for m in created],
    )

    got = dr.CustomInferenceModel.get(created[0].id)
    step(
        "get_custom_model",
        got.id == created[0].id and got.name == names[0] and got.training_data_assignment_in_progress is False,
        language=got.language,
        trainingDataAssignmentInProgress=got.training_data_assignment_in_progress,
    )

    listed = dr.CustomInferenceModel.list()
    listed_ids = [m.id for m in listed]
    step("list_custom_models", all(m.id in listed_ids for m in created), count=len(listed))

    # The client's own pagination over pages of two: it follows each absolute `next` URL until null.
    pages: list[str] = []
    real_get = client.get

    def counting_get(url: str, *args: Any, **kwargs: Any) -> Any:
        pages.append(url)
        return real_get(url, *args, **kwargs)

    client.get = counting_get  # type: ignore[method-assign]
    try:
        paged = list(unpaginate("customModels/", {"limit": 2, "custom_model_type": "inference"}, client))
    finally:
        client.get = real_get  # type: ignore[method-assign]
    paged_ids = [m["id"] for m in paged]
    step(
        "unpaginate_custom_models",
        len(pages) > 1 and paged_ids == listed_ids and len(set(paged_ids)) == len(paged_ids),
        pages=len(pages),
        items=len(paged_ids),
    )

    model = created[0]
    version = dr.CustomModelVersion.create_clean(model.id, base_environment_id=python_env.id, folder_path=folder)
    files = sorted(item.file_path for item in version.items)
    step(
        "version_from_folder",
        "custom.py" in files and version.custom_model_id == model.id,
        files=files,
        label=version.label,
    )
    step("model_has_latest_version", dr.CustomInferenceModel.get(model.id).latest_version.id == version.id)

    dataset = dr.Dataset.create_from_file(file_path=csv_path)
    step(
        "dataset_from_file",
        dataset.processing_state == "COMPLETED" and bool(dataset.id) and (dataset.row_count or 0) > 0,
        id=dataset.id,
        name=dataset.name,
        rows=dataset.row_count,
        processing_state=dataset.processing_state,
    )
    step(
        "dataset_get_and_list",
        dr.Dataset.get(dataset.id).name == dataset.name and dataset.id in [d.id for d in dr.Dataset.list()],
    )

    test = dr.CustomModelTest.create(model.id, version.id, dataset_id=dataset.id, max_wait=120)
    step(
        "custom_model_test",
        test.overall_status == "succeeded" and test.dataset_id == dataset.id,
        overall_status=test.overall_status,
        checks={k: v["status"] for k, v in test.detailed_status.items()},
    )

    missing = status_of(lambda: dr.CustomModelTest.create(model.id, version.id, dataset_id="0" * 24, max_wait=120))
    step("test_refuses_a_missing_dataset", missing == 404, status=missing)

    # The same Python model on the R environment: the test runs and fails, with the reason on its check.
    on_r = dr.CustomModelVersion.create_clean(created[1].id, base_environment_id=r_env.id, folder_path=folder)
    failed = dr.CustomModelTest.create(created[1].id, on_r.id, dataset_id=dataset.id, max_wait=120)
    messages = [v["message"] for v in failed.detailed_status.values() if v["status"] == "failed"]
    step(
        "test_fails_on_the_wrong_language",
        failed.overall_status == "failed" and any("python" in m and r_env.name in m for m in messages),
        overall_status=failed.overall_status,
        messages=messages,
    )

    dr.Dataset.delete(dataset.id)
    gone = status_of(lambda: dr.Dataset.get(dataset.id))
    step("delete_dataset", gone == 404, status_after=gone)

    for m in created:
        m.delete()
    after = [status_of(lambda m=m: dr.CustomInferenceModel.get(m.id)) for m in created]
    remaining = {m.id for m in dr.CustomInferenceModel.list()}
    step(
        "delete_custom_models",
        after == [404] * len(created) and not remaining & {m.id for m in created},
        statuses_after=after,
    )


def main() -> int:
    endpoint, token, folder, csv_path = sys.argv[1:5]
    error = None
    try:
        run(endpoint, token, folder, csv_path)
    except Exception:
        error = traceback.format_exc()
    print(json.dumps({"client": dr.__version__, "steps": steps, "error": error}, default=str))
    return 0 if error is None and all(s["ok"] for s in steps) else 1


if __name__ == "__main__":
    sys.exit(main())
