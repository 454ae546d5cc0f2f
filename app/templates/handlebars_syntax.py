"""Handlebars templates → a small syntax tree, with Handlebars' whitespace rules applied.

The subset SendGrid's dynamic templates use: `{{path}}`, `{{{raw}}}` / `{{& raw}}`, blocks `{{#name ...}}`
with `{{else}}` / `{{else name ...}}` chains and `{{^}}`, inverted sections `{{^path}}`, comments, `~`
whitespace control, `\\{{` escapes, string/number/boolean/null literals, `key=value` hash arguments and
`(sub expressions)`. Standalone block, else and comment tags take their line with them, as in Handlebars.
Partials and decorators are refused (SendGrid has no partials).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeAlias


class HandlebarsError(ValueError):
    """The template cannot be parsed or rendered."""


@dataclass(frozen=True, slots=True)
class Path:
    """`a.b`, `this`, `../a`, `@index`, `@root.a`: `depth` counts `../`, `data` marks `@`."""

    parts: tuple[str, ...]
    depth: int = 0
    data: bool = False
    scoped: bool = False  # written with `this` or `./`: never a helper name

    @property
    def helper_name(self) -> str | None:
        simple = not (self.depth or self.data or self.scoped) and len(self.parts) == 1
        return self.parts[0] if simple else None


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Call:
    """A name (path or literal) with its positional and hash arguments."""

    target: Expr
    params: tuple[Expr, ...] = ()
    hash: tuple[tuple[str, Expr], ...] = ()


Expr: TypeAlias = "Path | Literal | Call"


@dataclass(slots=True)
class Text:
    value: str


@dataclass(frozen=True, slots=True)
class Mustache:
    call: Call
    escaped: bool


@dataclass(slots=True)
class Block:
    call: Call
    program: list[Node] = field(default_factory=list)
    inverse: list[Node] | None = None
    inverted: bool = False  # `{{^name}}`: render `program` when the value is falsy


Node: TypeAlias = "Text | Mustache | Block"


@dataclass(slots=True)
class _Tag:
    """One `{{...}}` as scanned: its kind (`#`, `^`, `/`, `else`, `!`, `{`, `&`, ``), body and `~` flags."""

    kind: str
    body: str
    strip_left: bool
    strip_right: bool
    standalone: bool = False


_OPEN = re.compile(r"(\\*)\{\{")
_STANDALONE_KINDS = frozenset({"#", "^", "/", "else", "!"})
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<open>\() | (?P<close>\))
      | (?P<hash>[^\s=()"'|]+)=
      | (?P<word>(?:\[[^\]]*\]|[^\s()"'|\[])+)
    )""",
    re.VERBOSE,
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_SEGMENT = re.compile(r"\[([^\]]*)\]|([^./\[\]]+)")


@lru_cache(maxsize=256)
def parse(source: str) -> tuple[Node, ...]:
    """The template's nodes (cached: the same version renders for every recipient)."""
    items = _scan(source)
    _mark_standalone(items)
    _strip_whitespace(items)
    nodes, closing = _build(iter(items))
    if closing is not None:
        raise HandlebarsError(f"{closing.body} doesn't match anything")
    return tuple(nodes)


# --- scanning -------------------------------------------------------------------------------------------


def _scan(source: str) -> list[Text | _Tag]:
    items: list[Text | _Tag] = []
    text: list[str] = []
    position = 0
    while (found := _OPEN.search(source, position)) is not None:
        slashes = len(found.group(1))
        text.append(source[position : found.start()] + "\\" * (slashes // 2))
        if slashes % 2:  # `\{{` is a literal `{{`
            text.append("{{")
            position = found.end()
            continue
        tag, position = _read_tag(source, found.end())
        items.append(Text("".join(text)))
        text = []
        items.append(tag)
    text.append(source[position:])
    items.append(Text("".join(text)))
    return items


def _read_tag(source: str, start: int) -> tuple[_Tag, int]:
    if source.startswith("{", start):
        end = source.find("}}}", start)
        if end < 0:
            raise HandlebarsError("unclosed {{{")
        body, after = source[start + 1 : end], end + 3
        kind = "{"
    elif source.startswith(("!--", "~!--"), start):
        end = source.find("--", source.find("!--", start) + 3)
        close = source.find("}}", end + 2) if end >= 0 else -1
        if close < 0 or source[end + 2 : close].strip("~"):
            raise HandlebarsError("unclosed comment")
        body, after, kind = source[start:close], close + 2, "!"
    else:
        end = source.find("}}", start)
        if end < 0:
            raise HandlebarsError("unclosed {{")
        body, after, kind = source[start:end], end + 2, ""
    return _classify(kind, body), after


def _classify(kind: str, raw: str) -> _Tag:
    strip_left, strip_right = raw.startswith("~"), raw.endswith("~")
    body = raw[1 if strip_left else 0 : len(raw) - 1 if strip_right and len(raw) > 1 else len(raw)]
    if kind == "{":
        return _Tag("{", body.strip(), strip_left, strip_right)
    stripped = body.lstrip()
    if stripped[:1] in ("#", "^", "/", "!", "&", ">"):
        kind, rest = stripped[0], stripped[1:]
        if kind == ">":
            raise HandlebarsError("partials are not supported")
        if kind == "^" and not rest.strip():
            return _Tag("else", "", strip_left, strip_right)
        return _Tag(kind, rest.strip(), strip_left, strip_right)
    if stripped == "else" or stripped.startswith(("else ", "else\t", "else\n")):
        return _Tag("else", stripped[4:].strip(), strip_left, strip_right)
    return _Tag("", stripped.strip(), strip_left, strip_right)


# --- whitespace -----------------------------------------------------------------------------------------


def _mark_standalone(items: list[Text | _Tag]) -> None:
    """A block, else or comment tag alone on its line (judged on the original text) is standalone."""
    last = len(items) - 1
    for index, item in enumerate(items):
        if not isinstance(item, _Tag) or item.kind not in _STANDALONE_KINDS:
            continue
        before, after = items[index - 1], items[index + 1]
        assert isinstance(before, Text)
        assert isinstance(after, Text)
        item.standalone = _line_ends(before.value, first=index == 1) and _line_starts(
            after.value, last=index + 1 == last
        )


def _line_ends(text: str, *, first: bool) -> bool:
    """Only blanks since the last line break (or since the start of the template)."""
    tail = text[len(text.rstrip()) :]
    return "\n" in tail or (first and not text.strip())


def _line_starts(text: str, *, last: bool) -> bool:
    head = text[: len(text) - len(text.lstrip())]
    return "\n" in head or (last and not text.strip())


def _strip_whitespace(items: list[Text | _Tag]) -> None:
    for index, item in enumerate(items):
        if not isinstance(item, _Tag):
            continue
        before, after = items[index - 1], items[index + 1]
        assert isinstance(before, Text)
        assert isinstance(after, Text)
        if item.strip_left:
            before.value = before.value.rstrip()
        elif item.standalone:
            before.value = before.value.rstrip(" \t")
        if item.strip_right:
            after.value = after.value.lstrip()
        elif item.standalone:
            after.value = re.sub(r"^[ \t]*\r?\n?", "", after.value, count=1)


# --- tree -----------------------------------------------------------------------------------------------


def _build(items: Iterator[Text | _Tag]) -> tuple[list[Node], _Tag | None]:
    """Nodes up to the tag that ends the enclosing block (an else or a close), returned with them."""
    nodes: list[Node] = []
    for item in items:
        if isinstance(item, Text):
            if item.value:
                nodes.append(Text(item.value))
        elif item.kind in ("/", "else"):
            return nodes, item
        elif item.kind == "!":
            continue
        elif item.kind in ("#", "^"):
            nodes.append(_block(items, item))
        else:
            escaped = item.kind == ""
            nodes.append(Mustache(parse_call(item.body), escaped))
    return nodes, None


def _block(items: Iterator[Text | _Tag], opened: _Tag, closing_name: str | None = None) -> Block:
    call = parse_call(opened.body)
    name = closing_name or _name(call)
    block = Block(call, inverted=opened.kind == "^")
    block.program, ending = _build(items)
    if ending is not None and ending.kind == "else":
        if ending.body:  # `{{else if x}}`: the rest of the chain is a block inside the inverse
            block.inverse = [_block(items, _Tag("#", ending.body, False, False), name)]
            return block
        block.inverse, ending = _build(items)
    if ending is None or ending.kind != "/":
        raise HandlebarsError(f"{name} doesn't have a closing tag")
    if name != ending.body.strip():
        raise HandlebarsError(f"{name} doesn't match {ending.body.strip()}")
    return block


def _name(call: Call) -> str:
    target = call.target
    return ".".join(target.parts) if isinstance(target, Path) else str(getattr(target, "value", ""))


# --- expressions ----------------------------------------------------------------------------------------


def parse_call(body: str) -> Call:
    tokens = _tokens(body)
    call, rest = _call(tokens, 0, closing=False)
    if rest != len(tokens):
        raise HandlebarsError(f"unexpected ')' in {{{{{body}}}}}")
    return call


def _tokens(body: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while body[position:].strip():
        match = _TOKEN.match(body, position)
        if match is None or match.lastgroup is None:
            raise HandlebarsError(f"cannot parse {{{{{body}}}}}")
        tokens.append((match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    if not tokens:
        raise HandlebarsError("empty expression")
    return tokens


def _call(tokens: list[tuple[str, str]], index: int, *, closing: bool) -> tuple[Call, int]:
    target, index = _operand(tokens, index)
    params: list[Expr] = []
    hash_args: list[tuple[str, Expr]] = []
    while index < len(tokens) and tokens[index][0] != "close":
        kind, text = tokens[index]
        if kind == "hash":
            value, index = _operand(tokens, index + 1)
            hash_args.append((text, value))
        elif hash_args:
            raise HandlebarsError("positional arguments must come before hash arguments")
        else:
            param, index = _operand(tokens, index)
            params.append(param)
    if closing:
        if index >= len(tokens):
            raise HandlebarsError("unclosed (")
        index += 1
    return Call(target, tuple(params), tuple(hash_args)), index


def _operand(tokens: list[tuple[str, str]], index: int) -> tuple[Expr, int]:
    if index >= len(tokens):
        raise HandlebarsError("missing value")
    kind, text = tokens[index]
    if kind == "open":
        return _call(tokens, index + 1, closing=True)
    if kind == "string":
        return Literal(re.sub(r"\\(.)", r"\1", text[1:-1])), index + 1
    if kind == "word":
        return _word(text), index + 1
    raise HandlebarsError(f"unexpected {text!r}")


def _word(text: str) -> Expr:
    constants: dict[str, Literal] = {
        "true": Literal(True),
        "false": Literal(False),
        "null": Literal(None),
        "undefined": Literal(None),
    }
    if text in constants:
        return constants[text]
    if _NUMBER.fullmatch(text):
        return Literal(float(text) if "." in text else int(text))
    return parse_path(text)


def parse_path(text: str) -> Path:
    data = text.startswith("@")
    rest = text[1:] if data else text
    depth = 0
    while rest == ".." or rest.startswith("../"):
        depth, rest = depth + 1, rest[3:]
    scoped = False
    for prefix in ("this.", "this/", "./"):
        if rest.startswith(prefix):
            scoped, rest = True, rest[len(prefix) :]
    if rest in ("this", "."):
        scoped, rest = True, ""
    parts = tuple(m.group(1) if m.group(1) is not None else m.group(2) for m in _SEGMENT.finditer(rest))
    return Path(parts, depth, data, scoped)
