"""openapi.yaml is exactly the schema the app serves."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml
from fastapi import FastAPI

pytestmark = pytest.mark.anyio

OPENAPI_FILE = Path(__file__).resolve().parents[2] / "openapi.yaml"


def _operations(schema: dict[str, object]) -> set[tuple[str, str, str]]:
    paths = schema["paths"]
    assert isinstance(paths, dict)
    return {
        (path, method, str(status))
        for path, item in paths.items()
        for method, operation in item.items()
        for status in operation["responses"]
    }


async def test_served_schema_equals_openapi_yaml(app: FastAPI, client: httpx.AsyncClient) -> None:
    committed = yaml.safe_load(OPENAPI_FILE.read_text())
    served = (await client.get("/_mirror/openapi.json")).json()
    assert _operations(served) == _operations(committed), "run `sgmirror openapi > openapi.yaml`"
    assert served == committed, "run `sgmirror openapi > openapi.yaml`"


def test_no_operation_declares_fastapis_422(app: FastAPI) -> None:
    assert not any(status == "422" for _, _, status in _operations(app.openapi()))
