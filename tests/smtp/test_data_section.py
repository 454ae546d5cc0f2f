"""The DATA section read in pieces gives what aiosmtpd's line-by-line reading gives, however the bytes arrive."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.smtp import data_section

END = b".\r\n"


def line_by_line(stream: bytes, size_limit: int) -> tuple[bytes | set[str], bytes]:
    """aiosmtpd's reading (lines split at CRLF), and what follows the dot; a refused message gives the replies
    it may get (when it is both too large and has a line too long, aiosmtpd names the one it met first, a
    distinction that may fall a line differently when the message is read in pieces)."""
    lines: list[bytes] = []
    received, problems, position = 0, set(), 0
    while True:
        end = stream.index(b"\r\n", position) + 2
        line, position = stream[position:end], end
        if line == END:
            break
        received += len(line)
        if len(line) > data_section.LINE_LENGTH_LIMIT:
            problems.add(data_section.LINE_TOO_LONG)
        if received > size_limit:
            problems.add(data_section.TOO_MUCH_DATA)
        lines.append(line[1:] if line.startswith(b".") else line)
    return (problems or b"".join(lines)), stream[position:]


def agree(read: tuple[bytes | str, bytes], expected: tuple[bytes | set[str], bytes]) -> bool:
    (message, rest), (wanted, wanted_rest) = read, expected
    return rest == wanted_rest and (message in wanted if isinstance(wanted, set) else message == wanted)


async def in_pieces(stream: bytes, cuts: list[int], size_limit: int) -> tuple[bytes | str, bytes]:
    """data_section.read over a reader like aiosmtpd's, fed `stream` cut at `cuts`; and what is left to read."""
    reader = asyncio.StreamReader(limit=data_section.LINE_LENGTH_LIMIT)

    async def feed() -> None:
        start = 0
        for cut in [*sorted(cuts), len(stream)]:
            reader.feed_data(stream[start:cut])
            start = cut
            await asyncio.sleep(0)
        reader.feed_eof()

    feeding = asyncio.create_task(feed())
    result = await data_section.read(reader, size_limit=size_limit)
    await feeding
    return result, await reader.read()


def read(stream: bytes, cuts: list[int] | None = None, size_limit: int = 30_000) -> tuple[bytes | str, bytes]:
    return asyncio.run(in_pieces(stream, cuts or [], size_limit))


def test_dots_at_line_starts_are_unstuffed_and_the_next_command_is_left_unread() -> None:
    stream = b"..first\r\nmiddle.\r\n..\r\n.last.\r\n.\r\nQUIT\r\n"
    assert read(stream) == (b".first\r\nmiddle.\r\n.\r\nlast.\r\n", b"QUIT\r\n")


def test_an_empty_message_and_one_empty_line() -> None:
    assert read(b".\r\nQUIT\r\n") == (b"", b"QUIT\r\n")
    assert read(b"\r\n.\r\n") == (b"\r\n", b"")


def test_a_dot_after_a_bare_line_feed_is_not_a_line_start() -> None:
    assert read(b"a\n.\r\nb\r\n.\r\n") == (b"a\n.\r\nb\r\n", b"")


def test_a_line_of_1000_octets_with_its_crlf_passes_and_one_more_is_refused() -> None:
    fits = b"x" * 998 + b"\r\n"
    assert read(fits * 3 + END) == (fits * 3, b"")
    too_long = b"x" * 1000 + b"\r\n"
    assert read(fits + too_long + fits + END + b"NOOP\r\n") == (data_section.LINE_TOO_LONG, b"NOOP\r\n")


def test_more_than_the_size_limit_is_refused_once_the_dot_arrives() -> None:
    line = b"y" * 98 + b"\r\n"
    assert read(line * 10 + END, size_limit=1000) == (line * 10, b"")
    assert read(line * 11 + END + b"RSET\r\n", size_limit=1000) == (data_section.TOO_MUCH_DATA, b"RSET\r\n")


@pytest.mark.parametrize("piece", [1, 2, 3, 7, 1000, 1003, 4096])
def test_the_message_may_arrive_in_any_pieces(piece: int) -> None:
    stream = (b"Subject: x\r\n\r\n" + b".dot\r\n" * 300 + b"end.\r\n" * 300 + END) + b"QUIT\r\n"
    cuts = list(range(piece, len(stream), piece))
    assert agree(read(stream, cuts), line_by_line(stream, 30_000))


_LINE = st.one_of(
    st.binary(max_size=12),
    st.sampled_from([b".", b"..", b". ", b"a.", b"\r", b"\n.", b".\r", b"x" * 999, b"x" * 1000, b"z" * 1500]),
).filter(lambda line: b"\r\n" not in line and not line.endswith(b"\r"))


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(_LINE, max_size=12).filter(lambda lines: b"." not in lines),
    cuts=st.lists(st.integers(min_value=0, max_value=6000), max_size=8),
    size_limit=st.sampled_from([10, 100, 1500, 30_000]),
)
def test_as_aiosmtpd_reads_it(lines: list[bytes], cuts: list[int], size_limit: int) -> None:
    stream = b"".join(line + b"\r\n" for line in lines) + END + b"QUIT\r\n"
    assert agree(read(stream, [cut for cut in cuts if cut < len(stream)], size_limit), line_by_line(stream, size_limit))
