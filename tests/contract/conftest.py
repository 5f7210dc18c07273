"""Every test in this folder is a contract test: deselected by default, run by `.ci/run` with `-m contract`."""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/contract/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.contract)
