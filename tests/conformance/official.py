"""The official SendGrid OpenAPI files: which operation a request hit, and what its response must look like.

Response bodies are checked with JSON Schema 2020-12 (the dialect of OpenAPI 3.1) and format checks. The
files also carry OpenAPI 3.0's `nullable: true` in places; it is read as the authors meant it (the type
or enum also admits null), which docs/deviations.md records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.conformance.recorder import Exchange

SPEC_DIR = Path(__file__).resolve().parent / "sendgrid-oai"
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True, slots=True)
class Operation:
    """One official operation, e.g. `GET /v3/api_keys/{api_key_id}` from tsg_api_keys_v3.json."""

    method: str
    path: str
    uri: str
    document: dict[str, Any]
    pattern: re.Pattern[str]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def literal_segments(self) -> int:
        return sum(1 for part in self.path.split("/") if part and not part.startswith("{"))

    def responses(self) -> dict[str, Any]:
        responses: dict[str, Any] = self.document["paths"][self.path][self.method.lower()]["responses"]
        return responses


@dataclass(frozen=True, slots=True)
class Problem:
    """A way a recorded response differs from the official spec; `pointer` locates it in the body."""

    operation: str
    status: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.operation} [{self.status}] {self.pointer or '(body)'}: {self.message}"


@cache
def operations() -> tuple[Operation, ...]:
    """Every official operation, literal paths before templated ones (`/domains/default` before `/{id}`)."""
    found = []
    for file in sorted(SPEC_DIR.glob("*.json")):
        document = _honour_nullable(json.loads(file.read_text()))
        uri = f"urn:sendgrid-oai:{file.stem}"
        for path, item in document["paths"].items():
            for method in METHODS:
                if method in item:
                    found.append(Operation(method.upper(), path, uri, document, _path_pattern(path)))
    return tuple(sorted(found, key=lambda op: -op.literal_segments))


def _path_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


def _honour_nullable(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as 3.1 says it: null joins the type (and the enum)."""
    if isinstance(node, list):
        return [_honour_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _honour_nullable(value) for key, value in node.items()}
    if out.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def find(method: str, path: str) -> Operation | None:
    """The official operation a request line hit, if any."""
    for operation in operations():
        if operation.method == method.upper() and operation.pattern.match(path):
            return operation
    return None


@cache
def _registry() -> Registry[Any]:
    registry: Registry[Any] = Registry()
    for operation in operations():
        resource = Resource.from_contents(operation.document, default_specification=DRAFT202012)
        registry = registry.with_resource(operation.uri, resource)
    return registry


def _pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _resolve(operation: Operation, node: dict[str, Any]) -> dict[str, Any]:
    """Follow a response object's `$ref` (to #/components/responses/...) within its document."""
    while "$ref" in node:
        target: Any = operation.document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def problems(exchange: Exchange) -> Iterator[Problem]:
    """How one recorded response departs from its official operation (nothing for unofficial operations)."""
    operation = find(exchange.method, exchange.path)
    if operation is None:
        return
    status = str(exchange.status)
    declared = operation.responses().get(status)
    if declared is None:
        # The files list few error statuses; an undeclared success status, though, is a contract break.
        if 200 <= exchange.status < 300:
            yield Problem(operation.label, status, "", "status not declared by the official operation")
        return
    yield from _body_problems(operation, status, _resolve(operation, declared), exchange)


def _body_problems(
    operation: Operation, status: str, declared: dict[str, Any], exchange: Exchange
) -> Iterator[Problem]:
    json_content = (declared.get("content") or {}).get("application/json")
    if json_content is None or "schema" not in json_content:
        if exchange.body.strip():
            yield Problem(operation.label, status, "", "a body where the official operation declares none")
        return
    if not exchange.content_type.startswith("application/json"):
        yield Problem(operation.label, status, "", f"content type {exchange.content_type!r}, not application/json")
        return
    try:
        instance = json.loads(exchange.body)
    except ValueError:
        yield Problem(operation.label, status, "", "body is not JSON")
        return
    schema = {"$ref": _schema_ref(operation, status)}
    validator = Draft202012Validator(schema, registry=_registry(), format_checker=FormatChecker())
    for error in validator.iter_errors(instance):
        yield Problem(operation.label, status, _error_pointer(error), error.message)


def _schema_ref(operation: Operation, status: str) -> str:
    """A URI of the JSON body schema of one declared response (inline, or under #/components/responses)."""
    location = _pointer("paths", operation.path, operation.method.lower(), "responses", status)
    if "$ref" in operation.responses()[status]:
        location = operation.responses()[status]["$ref"].removeprefix("#")
    return f"{operation.uri}#{quote(location + _pointer('content', 'application/json', 'schema'))}"


def _error_pointer(error: ValidationError) -> str:
    """The JSON pointer of the offending value; for required/additional properties, of the property."""
    parts = [str(part) for part in error.absolute_path]
    if error.validator == "required":
        # One error per missing property; only the message names which.
        parts.append(error.message.removesuffix(" is a required property").strip("'\""))
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set((error.schema.get("properties") or {}).keys())
        parts += sorted(name for name in error.instance if name not in known)[:1]
    return _pointer(*parts)
