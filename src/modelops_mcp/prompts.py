"""Prompts: ready-made instructions a user can pick in their client to start a whole journey."""

from __future__ import annotations

import mcp_types as types

CAILA_FINE_TUNE = "caila_fine_tune"

_ARGUMENTS = [
    types.PromptArgument(name="account", description="account that owns the fittable service, e.g. demo"),
    types.PromptArgument(name="service", description="the fittable service to copy, e.g. text-classifier"),
    types.PromptArgument(name="dataset", description="name of the dataset to fit on"),
    types.PromptArgument(name="name", description="name for your fitted copy"),
]


class PromptNotFound(Exception):
    pass


def list_prompts(backends: set[str]) -> list[types.Prompt]:
    if "caila" not in backends:
        return []
    return [
        types.Prompt(
            name=CAILA_FINE_TUNE,
            title="Fine-tune a Caila service",
            description="Copy a fittable Caila service, fit it on one of your datasets and follow the job to the end.",
            arguments=_ARGUMENTS,
        )
    ]


def get_prompt(name: str, arguments: dict[str, str], backends: set[str]) -> types.GetPromptResult:
    if name != CAILA_FINE_TUNE or "caila" not in backends:
        raise PromptNotFound(name)
    account = arguments.get("account") or "the account I name"
    service = arguments.get("service") or "the fittable service I name"
    dataset = arguments.get("dataset") or "the dataset I choose from the list"
    copy_name = arguments.get("name") or "a short name you propose"
    text = (
        f"Fine-tune the Caila service {service!r} of account {account!r} on {dataset!r}.\n"
        f"1. Call caila_list_datasets for the account and find the dataset's id.\n"
        f"2. Call caila_create_derived_service with name {copy_name!r}; keep id.accountId and id.modelId.\n"
        "3. Call caila_list_fit_configs on the new service and pick the default config (or ask me).\n"
        "4. Call caila_fit_service with the new service's ids, the datasetId and the configId.\n"
        "5. Follow the job with caila_get_job_status until done is true; report SUCCESS, or the errorMessage."
    )
    return types.GetPromptResult(
        description=f"Fine-tune {service} on {dataset}",
        messages=[types.PromptMessage(role="user", content=types.TextContent(type="text", text=text))],
    )
