"""DataRobot emulator: custom model tests, feature impact, conversions and the ``/status/{id}/`` jobs.

Each of these answers 202 with ``Location: <absolute /status/{id}/>``; the status route reads 200 with
INITIALIZED or RUNNING while the job runs and 303 See Other to the finished resource once it is done.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from . import datarobot_bodies as bodies
from .datarobot_checks import DEFAULT_CONFIG, Conversion, FeatureImpact, ModelTest, language_mismatch
from .datarobot_data import CONVERSION_S, FEATURE_IMPACT_S, TEST_RUN_S, ModelVersion, iso
from .datarobot_http import ApiError, Base, absolute, bool_param, invalid, json_body, not_found, paginate
from .datarobot_views import test_json

__all__ = ["TestingHandlers"]

_SETTINGS = ("maximumMemory", "desiredMemory", "replicas", "requiresHa", "networkEgressPolicy", "resourceBundleId")


class TestingHandlers(Base):
    def routes(self) -> list[Route]:
        tests = "/customModelTests/"
        version = "/customModels/{customModelId}/versions/{customModelVersionId}/"
        image = "/customInferenceImages/{imageId}/featureImpact/"
        return [
            Route("/status/{statusId}/", self.status, methods=["GET"]),
            Route(tests, self.list_tests, methods=["GET"]),
            Route(tests, self.start, methods=["POST"]),
            Route(tests + "{customModelTestId}/", self.get, methods=["GET"]),
            Route(tests + "{customModelTestId}/", self.cancel, methods=["DELETE"]),
            Route(tests + "{customModelTestId}/log/", self.log, methods=["GET"]),
            Route(tests + "{customModelTestId}/tail/", self.tail, methods=["GET"]),
            Route(version + "featureImpact/", self.impact, methods=["GET"]),
            Route(version + "featureImpact/", self.impact_start, methods=["POST"]),
            Route(image, self.image_impact, methods=["GET"]),
            Route(image, self.image_impact_start, methods=["POST"]),
            Route(version + "conversions/", self.conversions, methods=["GET"]),
            Route(version + "conversions/", self.convert, methods=["POST"]),
            Route(version + "conversions/{conversionId}/", self.conversion, methods=["GET"]),
            Route(version + "conversions/{conversionId}/", self.stop_conversion, methods=["DELETE"]),
        ]

    async def status(self, request: Request) -> Response:
        job = self.state.jobs.get(request.path_params["statusId"])
        if job is None:
            raise not_found("Status", request.path_params["statusId"])
        self.state.status_polls += 1
        now = self.clock.now()
        status = job.status(now)
        body = {
            "statusId": job.id,
            "status": status,
            "message": job.message(now),
            "code": 0,
            "created": iso(job.started),
            "description": job.description,
        }
        if status == "COMPLETED":
            return JSONResponse(body, 303, headers={"Location": absolute(request, job.location)})
        return JSONResponse(body)

    # --- tests ---------------------------------------------------------------------------------------

    def _test(self, request: Request) -> ModelTest:
        test_id = request.path_params["customModelTestId"]
        test = self.state.tests.get(test_id)
        if test is None:
            raise not_found("Custom model test", test_id)
        return test

    async def start(self, request: Request) -> Response:
        body = await json_body(request, bodies.MODEL_TEST_CREATE)
        now = self.clock.now()
        model = self.find_model(body["customModelId"])
        version = self.find_version(model, body["customModelVersionId"], now)
        if any(t.model_id == model.id and t.running(now) for t in self.state.tests.values()):
            raise ApiError(422, f"Testing is already in progress for custom model {model.id}")
        if not body.get("datasetId") and model.target_type != "Unstructured":
            why = "required for regular (non-unstructured) custom models"
            raise invalid(f"A datasetId is {why}.", datasetId=why)
        dataset_version_id = self._dataset_version(body, now)
        env_id = body.get("environmentId") or version.base_env_id
        env = self.state.environments.get(env_id or "")
        if env is None:
            raise invalid(f"Custom model version {version.id} has no base environment to test it in.")
        env_version_id = body.get("environmentVersionId") or version.base_env_version_id
        env_version = next(
            (v for v in env.versions if v.id == env_version_id), env.versions[-1] if env.versions else None
        )
        mismatch = language_mismatch(
            model.language, [i.file_name for i in version.items], env.programming_language, env.name
        )
        test_id = self.state.new_id()
        job = self.state.add_job(now, TEST_RUN_S, f"/customModelTests/{test_id}/", "Custom model testing")
        test = ModelTest(
            test_id,
            model.id,
            model.name,
            version.id,
            version.label,
            env.id,
            env.name,
            env_version.id if env_version else "",
            env_version.label if env_version else "",
            self.state.new_id(),
            body.get("datasetId", ""),
            dataset_version_id,
            now,
            job,
            version.has_custom_py() and mismatch is None,
            {**DEFAULT_CONFIG, **body.get("configuration", {})},
            {k: body[k] for k in _SETTINGS if body.get(k) is not None},
        )
        if mismatch is not None and version.has_custom_py():
            # The image builds, but the model server cannot load the model: the service check fails.
            test.failure, test.failed_check = mismatch, "longRunningService"
        self.state.tests[test.id] = test
        return self.accepted(request, job)

    def _dataset_version(self, body: dict[str, Any], now: float) -> str:
        """The version of the test's dataset: 404 when the dataset does not exist, 422 while it is not ingested.

        The seed documents both answers of POST /customModelTests/: 404 "Custom model or dataset not found" and
        422 when the "dataset used for testing is not snapshotted".
        """
        dataset_id = body.get("datasetId")
        if not dataset_id:
            return str(body.get("datasetVersionId") or self.state.new_id())  # an unstructured model's test
        dataset = self.state.live_dataset(dataset_id)
        if dataset is None:
            raise ApiError(404, f"Dataset {dataset_id} not found: upload one with POST /datasets/fromFile/")
        state = dataset.state(now)
        if state != "COMPLETED":
            raise ApiError(422, f"Dataset {dataset_id} is not snapshotted: its processingState is {state}")
        wanted = body.get("datasetVersionId")
        if wanted and wanted != dataset.version_id:
            raise ApiError(404, f"Dataset version {wanted} of dataset {dataset_id} not found")
        return dataset.version_id

    async def list_tests(self, request: Request) -> Response:
        model_id = request.query_params.get("customModelId")
        if not model_id:
            raise invalid("The query parameter customModelId is required.", customModelId="This field is required.")
        now = self.clock.now()
        tests = [t for t in self.state.tests.values() if t.model_id == model_id]
        # Newest first: the official client takes data[0] as the test it just started.
        tests = sorted(reversed(tests), key=lambda t: -t.started)
        return JSONResponse(paginate(request, tests, lambda t: test_json(t, now)))

    async def get(self, request: Request) -> Response:
        return JSONResponse(test_json(self._test(request), self.clock.now()))

    async def cancel(self, request: Request) -> Response:
        test = self._test(request)
        now = self.clock.now()
        if not test.running(now):
            raise ApiError(409, "Testing attempt has already reached a terminal state")
        test.cancelled_at = now
        test.job.aborted_at = now
        return Response(status_code=204)

    async def log(self, request: Request) -> Response:
        test = self._test(request)
        text = "\n".join(test.log_lines(self.clock.now())) + "\n"
        headers = {"Content-Disposition": f"attachment; filename=testing-{test.id}.log"}
        return PlainTextResponse(text, headers=headers)

    async def tail(self, request: Request) -> Response:
        test = self._test(request)
        raw = request.query_params.get("lines", "100")
        if not raw.isdigit() or not 1 <= int(raw) <= 1000:
            raise ApiError(400, "The number of lines must be an integer from 1 to 1000")
        lines = test.log_lines(self.clock.now())[-int(raw) :]
        return JSONResponse({"log": "\n".join(lines)})

    # --- feature impact ------------------------------------------------------------------------------

    def _impact_start(self, request: Request, version: ModelVersion, location: str, rows: int | None) -> Response:
        now = self.clock.now()
        if not any(t.version_id == version.id and t.overall(now) == "succeeded" for t in self.state.tests.values()):
            why = f"custom model version {version.id} needs a passed test first"
            raise invalid(f"Feature impact cannot be computed: {why}.", customModelVersionId=why)
        current = self.state.feature_impacts.get(version.id)
        if current is not None and not current.done(now):
            # The seed's answer to a second request while one runs: 404 carrying the running job's id.
            raise ApiError(404, "Feature impact has already been submitted", jobId=current.job.id)
        job = self.state.add_job(now, FEATURE_IMPACT_S, location, "Feature impact")
        self.state.feature_impacts[version.id] = FeatureImpact(version.id, now, rows, job)
        return self.accepted(request, job)

    def _impact(self, version_id: str) -> Response:
        impact = self.state.feature_impacts.get(version_id)
        if impact is None:
            raise ApiError(404, "Feature impact not computed")
        if not impact.done(self.clock.now()):
            raise ApiError(404, "Feature impact not computed yet: its job is still running")
        return JSONResponse(impact.to_json())

    async def impact_start(self, request: Request) -> Response:
        model = self.model(request)
        version = self.version(request, model, self.clock.now())
        body = await json_body(request, bodies.FEATURE_IMPACT_CREATE)
        location = f"/customModels/{model.id}/versions/{version.id}/featureImpact/"
        return self._impact_start(request, version, location, body.get("rowCount"))

    async def impact(self, request: Request) -> Response:
        model = self.model(request)
        return self._impact(self.version(request, model, self.clock.now()).id)

    def _image(self, request: Request) -> ModelVersion:
        """The model version a custom model image (made by a test) was built from."""
        image_id = request.path_params["imageId"]
        test = self.state.test_for_image(image_id)
        version = self.state.versions.get(test.version_id) if test else None
        if version is None:
            raise not_found("Custom model image", image_id)
        return version

    async def image_impact_start(self, request: Request) -> Response:
        version = self._image(request)
        body = await json_body(request, bodies.FEATURE_IMPACT_CREATE)
        location = f"/customInferenceImages/{request.path_params['imageId']}/featureImpact/"
        return self._impact_start(request, version, location, body.get("rowCount"))

    async def image_impact(self, request: Request) -> Response:
        return self._impact(self._image(request).id)

    # --- conversions ---------------------------------------------------------------------------------

    def _conversion(self, request: Request) -> tuple[ModelVersion, Conversion]:
        version = self.version(request, self.model(request), self.clock.now())
        conversion = self.state.conversions.get(request.path_params["conversionId"])
        if conversion is None or conversion.version_id != version.id:
            raise not_found("Custom model conversion", request.path_params["conversionId"])
        return version, conversion

    async def convert(self, request: Request) -> Response:
        model = self.model(request)
        now = self.clock.now()
        version = self.version(request, model, now)
        body = await json_body(request, bodies.CONVERSION_CREATE)
        if version.item(body["mainProgramItemId"]) is None:
            why = f"no item {body['mainProgramItemId']} in version {version.id}"
            raise invalid(f"mainProgramItemId names {why}.", mainProgramItemId=why)
        conversion_id = self.state.new_id()
        location = f"/customModels/{model.id}/versions/{version.id}/conversions/{conversion_id}/"
        job = self.state.add_job(now, CONVERSION_S, location, "Custom model conversion")
        self.state.conversions[conversion_id] = Conversion(
            conversion_id, version.id, body["mainProgramItemId"], now, job
        )
        return self.accepted(request, job, {"conversionId": conversion_id, "statusId": job.id})

    async def conversions(self, request: Request) -> Response:
        now = self.clock.now()
        version = self.version(request, self.model(request), now)
        found = [c for c in self.state.conversions.values() if c.version_id == version.id]
        if bool_param(request, "isLatest"):
            found = found[-1:]
        return JSONResponse(paginate(request, found, lambda c: c.to_json(now)))

    async def conversion(self, request: Request) -> Response:
        return JSONResponse(self._conversion(request)[1].to_json(self.clock.now()))

    async def stop_conversion(self, request: Request) -> Response:
        _, conversion = self._conversion(request)
        now = self.clock.now()
        if not conversion.running(now):
            raise ApiError(422, "The given conversion is not active")
        conversion.stopped_at = now
        conversion.job.aborted_at = now
        return Response(status_code=204)
