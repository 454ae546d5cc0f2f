"""X-Message-Id: 22 URL-safe characters that sort in the order the messages were accepted."""

from __future__ import annotations

import os
import re
import time

from app.mail.service import new_message_id

_SORTED_DIGITS = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


def _number(message_id: str) -> int:
    value = 0
    for char in message_id:
        value = value * 64 + _SORTED_DIGITS.index(char)
    return value


def test_ids_are_22_url_safe_characters_and_unique() -> None:
    ids = [new_message_id() for _ in range(2000)]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_an_id_carries_the_millisecond_it_was_made_in_its_high_bits() -> None:
    before = time.time_ns() // 1_000_000
    made = _number(new_message_id()) >> 84
    after = time.time_ns() // 1_000_000
    assert before + (20 << 42) <= made <= after + (20 << 42)


def test_later_ids_sort_after_earlier_ones_as_text() -> None:
    first = new_message_id()
    time.sleep(0.002)
    second = new_message_id()
    assert first < second
    assert first[0] == "J"


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send the random part of its next id, then leave at once
        os.write(write_end, new_message_id()[-14:].encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as child:
        assert child.read().decode() != new_message_id()[-14:]
