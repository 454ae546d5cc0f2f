"""How template values print, test and compare, and the helpers SendGrid's dynamic templates offer.

SendGrid renders with a Go port of Handlebars: `{{double}}` escapes `& ' < > "` as `&amp; &apos; &lt; &gt;
&quot;` (subjects show `&apos;` in public reports), numbers print without a trailing `.0`, arrays print
their items back to back, and empty arrays and objects are false. Besides Handlebars' own `if`, `unless`,
`each`, `with` and `lookup`, SendGrid adds `equals`, `notEquals`, `greaterThan`, `lessThan`, `and`, `or`,
`length`, `insert` and `formatDate`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

_ESCAPES: Final = str.maketrans({"&": "&amp;", "'": "&apos;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


class SafeString(str):
    """Helper output that `{{double}}` prints as it is."""


def escape(text: str) -> str:
    return text if isinstance(text, SafeString) else text.translate(_ESCAPES)


def to_str(value: Any) -> str:
    """A value as `{{{triple}}}` prints it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, list | tuple):
        return "".join(to_str(item) for item in value)
    if isinstance(value, dict):
        return _go_value(value)
    return str(value)


def _number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def _go_value(value: Any) -> str:
    """Go's `%v` of a decoded JSON value, which is how an object prints in SendGrid's renderer."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{key}:{_go_value(value[key])}" for key in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_value(item) for item in value) + "]"
    return "<nil>" if value is None else to_str(value)


def is_true(value: Any) -> bool:
    """Truthiness as the renderer sees it: empty strings, zero, empty arrays and objects are false."""
    if isinstance(value, list | tuple | dict | str):
        return len(value) > 0
    return bool(value)


def as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


@dataclass
class Options:
    """What a helper gets besides its arguments: its block (`fn`), `{{else}}` part (`inverse`) and context."""

    context: Any
    hash: Mapping[str, Any] = field(default_factory=dict)
    fn: Callable[..., str] = lambda context=None, data=None: ""
    inverse: Callable[..., str] = lambda context=None, data=None: ""
    is_block: bool = False


Helper = Callable[[list[Any], Options], Any]


def _conditional(test: Callable[[list[Any]], bool]) -> Helper:
    def helper(args: list[Any], options: Options) -> Any:
        chosen = test(args)
        if not options.is_block:
            return chosen
        return options.fn(options.context) if chosen else options.inverse(options.context)

    return helper


def _arg(args: list[Any], index: int) -> Any:
    return args[index] if index < len(args) else None


def _if(args: list[Any], options: Options) -> Any:
    value = _arg(args, 0)
    chosen = is_true(value) or (options.hash.get("includeZero") is True and value == 0 and value is not False)
    return options.fn(options.context) if chosen else options.inverse(options.context)


def _unless(args: list[Any], options: Options) -> Any:
    return options.inverse(options.context) if is_true(_arg(args, 0)) else options.fn(options.context)


def _with(args: list[Any], options: Options) -> Any:
    value = _arg(args, 0)
    return options.fn(value) if is_true(value) else options.inverse(options.context)


def _each(args: list[Any], options: Options) -> Any:
    value = _arg(args, 0)
    if not is_true(value):
        return options.inverse(options.context)
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list | tuple):
        items = list(enumerate(value))
    else:
        return ""
    last = len(items) - 1
    return "".join(
        options.fn(item, {"key": key, "index": index, "first": index == 0, "last": index == last})
        for index, (key, item) in enumerate(items)
    )


def _lookup(args: list[Any], options: Options) -> Any:
    container, key = _arg(args, 0), _arg(args, 1)
    if isinstance(container, dict):
        return container.get(to_str(key))
    if isinstance(container, list) and as_number(key) is not None:
        index = int(as_number(key) or 0)
        return container[index] if 0 <= index < len(container) else None
    return None


def equal(left: Any, right: Any) -> bool:
    """Numbers compare as numbers, anything else by how it prints (so `1` equals `"1"`)."""
    if _is_number(left) and _is_number(right):
        return float(left) == float(right)
    return to_str(left) == to_str(right)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare(relation: Callable[[float, float], bool]) -> Callable[[list[Any]], bool]:
    def test(args: list[Any]) -> bool:
        left, right = as_number(_arg(args, 0)), as_number(_arg(args, 1))
        return left is not None and right is not None and relation(left, right)

    return test


def _length(args: list[Any], options: Options) -> int:
    value = _arg(args, 0)
    return len(value) if isinstance(value, list | tuple | dict | str) else 0


def _insert(args: list[Any], options: Options) -> str:
    """`{{insert name "default=Customer"}}`: the value, or the default when it is empty."""
    value = _arg(args, 0)
    if is_true(value):
        return to_str(value)
    default = options.hash.get("default")
    for arg in args[1:]:
        if isinstance(arg, str) and arg.startswith("default="):
            default = arg[len("default=") :]
    return to_str(default)


HELPERS: Final[dict[str, Helper]] = {
    "if": _if,
    "unless": _unless,
    "with": _with,
    "each": _each,
    "lookup": _lookup,
    "equals": _conditional(lambda args: equal(_arg(args, 0), _arg(args, 1))),
    "notEquals": _conditional(lambda args: not equal(_arg(args, 0), _arg(args, 1))),
    "greaterThan": _conditional(_compare(lambda a, b: a > b)),
    "lessThan": _conditional(_compare(lambda a, b: a < b)),
    "and": _conditional(lambda args: bool(args) and all(is_true(a) for a in args)),
    "or": _conditional(lambda args: any(is_true(a) for a in args)),
    "length": _length,
    "insert": _insert,
}


# --- formatDate -----------------------------------------------------------------------------------------

_MONTHS: Final = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS: Final = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_FORMAT_TOKEN = re.compile(r"\[([^\]]*)\]|YYYY|YY|MMMM|MMM|MM|M|DD|D|dddd|ddd|HH|H|hh|h|mm|m|ss|s|A|a|ZZ|Z")
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)
# Epoch numbers above this are milliseconds (10^11 seconds is the year 5138).
_MILLISECONDS_FROM: Final = 100_000_000_000


def _format_date(args: list[Any], options: Options) -> str:
    """`{{formatDate when "MMMM DD, YYYY h:mm A" "-0800"}}`: epoch or ISO 8601 in, moment-style tokens out."""
    when, pattern, offset = _arg(args, 0), _arg(args, 1), _arg(args, 2)
    moment = parse_moment(when)
    if moment is None:
        return to_str(when)
    zone = _zone(to_str(offset)) if offset is not None else UTC
    try:
        shifted = moment.astimezone(zone)
    except OverflowError:  # the first or last day of the calendar, moved past its edge
        return to_str(when)
    return format_moment(shifted, to_str(pattern) if pattern is not None else "YYYY-MM-DD")


def parse_moment(value: Any) -> datetime | None:
    number = as_number(value)
    if number is not None:
        seconds = number / 1000 if abs(number) >= _MILLISECONDS_FROM else number
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    match = _ISO.fullmatch(to_str(value).strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
        )  # fmt: skip
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC if zone is None or zone.upper() == "Z" else _zone(zone))


def _zone(text: str) -> timezone:
    match = _OFFSET.fullmatch(text.strip())
    if match is None:
        return UTC
    sign, hours, minutes = match.groups()
    if int(hours) > 23 or int(minutes) > 59:
        return UTC
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return timezone(-delta if sign == "-" else delta)


def format_moment(moment: datetime, pattern: str) -> str:
    return _FORMAT_TOKEN.sub(lambda match: _token(moment, match), pattern)


def _token(moment: datetime, match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return match.group(1)
    token = match.group(0)
    hour12 = moment.hour % 12 or 12
    offset = moment.utcoffset() or timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    values = {
        "YYYY": f"{moment.year:04d}",
        "YY": f"{moment.year % 100:02d}",
        "MMMM": _MONTHS[moment.month - 1],
        "MMM": _MONTHS[moment.month - 1][:3],
        "MM": f"{moment.month:02d}",
        "M": str(moment.month),
        "DD": f"{moment.day:02d}",
        "D": str(moment.day),
        "dddd": _DAYS[moment.weekday()],
        "ddd": _DAYS[moment.weekday()][:3],
        "HH": f"{moment.hour:02d}",
        "H": str(moment.hour),
        "hh": f"{hour12:02d}",
        "h": str(hour12),
        "mm": f"{moment.minute:02d}",
        "m": str(moment.minute),
        "ss": f"{moment.second:02d}",
        "s": str(moment.second),
        "A": "AM" if moment.hour < 12 else "PM",
        "a": "am" if moment.hour < 12 else "pm",
        "ZZ": f"{sign}{minutes // 60:02d}{minutes % 60:02d}",
        "Z": f"{sign}{minutes // 60:02d}:{minutes % 60:02d}",
    }
    return values[token]


HELPERS["formatDate"] = _format_date
