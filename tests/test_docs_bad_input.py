"""The examples of docs/bad-input.md run as written: the messages on that page are the ones users get."""

import doctest
from pathlib import Path

PAGE = Path(__file__).resolve().parents[1] / "docs" / "bad-input.md"


def test_bad_input_page_examples():
    result = doctest.testfile(str(PAGE), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted >= 25, result
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples on {PAGE.name} do not match; see above"
