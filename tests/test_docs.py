"""The documentation's code: every Python block compiles, and the quickstart's
trio and blocking examples run against a local server."""

from __future__ import annotations

import ast
import contextlib
import io
import re
import textwrap
from pathlib import Path

import pytest

import httpcore
from tests.servers import ServerThread

DOCS = Path(__file__).resolve().parent.parent / "docs"
PLACEHOLDER = "https://www.example.org"

# A fenced block, optionally under a `=== "tab"` header (then indented by 4).
_BLOCK = re.compile(
    r'^(?:=== "(?P<tab>[^"]+)"\n\n)?(?P<indent> *)```python\n(?P<code>.*?)^(?P=indent)```$',
    re.MULTILINE | re.DOTALL,
)


def python_blocks(path: Path) -> list[tuple[str | None, int, str]]:
    """(tab name or None, line number, dedented code) of each Python block."""
    text = path.read_text()
    return [
        (m["tab"], text.count("\n", 0, m.start("code")) + 1, textwrap.dedent(m["code"]))
        for m in _BLOCK.finditer(text)
    ]


ALL_BLOCKS = [
    pytest.param(code, id=f"{path.name}:{line}")
    for path in sorted(DOCS.glob("**/*.md"))
    for _, line, code in python_blocks(path)
]
_NO_ASYNCIO = pytest.mark.skipif(
    not hasattr(httpcore, "AsyncClient"),
    reason="httpcore.AsyncClient is not in this version yet (the asyncio bridge lands separately)",
)
QUICKSTART = [
    pytest.param(code, id=f"{tab}:{line}", marks=[_NO_ASYNCIO] if tab == "asyncio" else [])
    for tab, line, code in python_blocks(DOCS / "quickstart.md")
]


def test_blocks_found() -> None:
    tabs = [tab for tab, _, _ in python_blocks(DOCS / "quickstart.md")]
    assert tabs.count("trio") == tabs.count("blocking") == tabs.count("asyncio") >= 5
    assert len(ALL_BLOCKS) >= 15


@pytest.mark.parametrize("code", ALL_BLOCKS)
def test_docs_python_blocks_compile(code: str) -> None:
    ast.parse(code)


@pytest.mark.parametrize("code", QUICKSTART)
def test_quickstart_examples_run(code: str, server: ServerThread) -> None:
    assert PLACEHOLDER in code
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code.replace(PLACEHOLDER, server.url), "quickstart.md", "exec"), {})
    printed = output.getvalue()
    assert printed
    # The comments beside print() calls say what they print: hold them to it.
    for expected in re.findall(r"print\(.*\)[ \t]+# (.+)", code):
        assert expected.strip() in printed, (expected, printed)
