"""Page cursors: round trips, and anything else refused as bad input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queries.cursors import MAX_OFFSET, decode, encode
from queries.errors import BadInput


@given(st.text(), st.integers(min_value=0, max_value=MAX_OFFSET))
def test_round_trip(label: str, offset: int) -> None:
    assert decode(encode(label, offset)) == offset


def test_no_cursor_starts_at_the_beginning() -> None:
    assert decode(None) == 0


@given(st.text())
def test_any_text_decodes_or_is_bad_input(text: str) -> None:
    try:
        offset = decode(text)
    except BadInput:
        return
    assert 0 <= offset <= MAX_OFFSET


@pytest.mark.parametrize("cursor", ["", "x", "YWJj", encode("a", -1), encode("a", MAX_OFFSET + 1), "é"])
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(BadInput):
        decode(cursor)
