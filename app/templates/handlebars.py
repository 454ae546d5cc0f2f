"""Render a dynamic template's subject, HTML or text with `dynamic_template_data`: `render(source, data)`.

Pure and deterministic. Parsing lives in `handlebars_syntax` (cached per source), value rules and helpers
in `handlebars_helpers`. Like SendGrid's renderer (a Go port of Handlebars 3), every block body runs with
its context pushed, so `../` inside `{{#if}}` names the context the `if` sits in; a missing value prints
nothing; a helper that does not exist, an unclosed block or a partial raise `HandlebarsError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from app.templates.handlebars_helpers import HELPERS, Options, SafeString, escape, is_true, to_str
from app.templates.handlebars_syntax import (
    Block,
    Call,
    Expr,
    HandlebarsError,
    Literal,
    Mustache,
    Node,
    Path,
    Text,
    parse,
)

__all__ = ["HandlebarsError", "check", "render"]

Stack = tuple[Any, ...]
Data = Mapping[str, Any]

_SAME: Final = object()
# Deeply nested templates or data are refused rather than overflowing the interpreter's stack.
_MAX_DEPTH: Final = 64


def render(source: str, data: Mapping[str, Any]) -> str:
    """The template rendered against `data` (the personalization's `dynamic_template_data`)."""
    root = dict(data)
    return _program(parse(source), (root,), {"root": root})


def check(source: str) -> None:
    """Raise HandlebarsError when `source` does not parse."""
    parse(source)


def _program(nodes: tuple[Node, ...] | list[Node], stack: Stack, data: Data) -> str:
    if len(stack) > _MAX_DEPTH:
        raise HandlebarsError("the template nests too deeply")
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, Text):
            parts.append(node.value)
        elif isinstance(node, Mustache):
            parts.append(_mustache(node, stack, data))
        else:
            parts.append(_block(node, stack, data))
    return "".join(parts)


def _mustache(node: Mustache, stack: Stack, data: Data) -> str:
    value = _invoke(node.call, stack, data, None)
    text = value if isinstance(value, SafeString) else to_str(value)
    return escape(text) if node.escaped else text


def _block(node: Block, stack: Stack, data: Data) -> str:
    def fn(context: Any = _SAME, frame: Data | None = None) -> str:
        return _program(node.program, _push(stack, context), _frame(data, frame))

    def inverse(context: Any = _SAME, frame: Data | None = None) -> str:
        return _program(node.inverse or (), _push(stack, context), _frame(data, frame))

    if _helper_of(node.call) is None:
        return _section(_invoke(node.call, stack, data, None), stack[-1], fn, inverse, node.inverted)
    if node.inverted:
        fn, inverse = inverse, fn
    return to_str(_invoke(node.call, stack, data, Options(stack[-1], fn=fn, inverse=inverse, is_block=True)))


def _section(value: Any, context: Any, fn: Any, inverse: Any, inverted: bool) -> str:
    """A block named after a value: iterate a list, enter an object, test anything else."""
    if inverted:
        return str(inverse(context)) if is_true(value) else str(fn(context))
    if not is_true(value):
        return str(inverse(context))
    if isinstance(value, list):
        last = len(value) - 1
        return "".join(
            fn(item, {"index": i, "key": i, "first": i == 0, "last": i == last}) for i, item in enumerate(value)
        )
    return str(fn(context if value is True else value))


def _push(stack: Stack, context: Any) -> Stack:
    return stack + ((stack[-1] if context is _SAME else context),)


def _frame(data: Data, frame: Data | None) -> Data:
    return data if not frame else {**data, **frame, "_parent": data}


def _helper_of(call: Call) -> Any:
    name = call.target.helper_name if isinstance(call.target, Path) else None
    return HELPERS.get(name) if name is not None else None


def _invoke(call: Call, stack: Stack, data: Data, block: Options | None) -> Any:
    """A helper's result, or the value the call names."""
    helper = _helper_of(call)
    if helper is None:
        if call.params or call.hash:
            raise HandlebarsError(f"missing helper: {_describe(call.target)}")
        return _value(call.target, stack, data)
    args = [_value(param, stack, data) for param in call.params]
    hash_args = {key: _value(value, stack, data) for key, value in call.hash}
    options = block or Options(stack[-1])
    options.hash = hash_args
    return helper(args, options)


def _value(expr: Expr, stack: Stack, data: Data) -> Any:
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, Call):
        return _invoke(expr, stack, data, None)
    if expr.data:
        frame = data
        for _ in range(expr.depth):
            frame = frame.get("_parent", frame)
        return _walk(frame.get(expr.parts[0]) if expr.parts else None, expr.parts[1:])
    if expr.depth >= len(stack):
        return None
    return _walk(stack[-1 - expr.depth], expr.parts)


def _walk(value: Any, parts: tuple[str, ...]) -> Any:
    for part in parts:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit():
            index = int(part)
            value = value[index] if index < len(value) else None
        else:
            return None
    return value


def _describe(expr: Expr) -> str:
    if isinstance(expr, Path):
        return "@" * expr.data + "../" * expr.depth + ".".join(expr.parts)
    return repr(getattr(expr, "value", expr))
