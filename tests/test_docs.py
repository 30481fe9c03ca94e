"""The documentation's code: every Python block compiles, and the quickstart's
trio and blocking examples run against a local server."""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import trio

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
QUICKSTART = [
    pytest.param(code, id=f"{tab}:{line}")
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


def _run_tests_in(namespace: dict[str, object]) -> list[str]:
    """Run the test functions a page defines, as pytest-trio would."""
    ran = []
    for name, fn in list(namespace.items()):
        if not (name.startswith("test_") and callable(fn)):
            continue
        if "client" in inspect.signature(fn).parameters:
            # The page's `client` fixture, resolved by hand.
            fixture = namespace["client"]
            assert callable(fixture)

            async def with_fixture(fn: Any = fn, fixture: Any = fixture) -> None:
                generator = fixture.__wrapped__() if hasattr(fixture, "__wrapped__") else fixture()
                client = await generator.__anext__()
                try:
                    await fn(client)
                finally:
                    await generator.aclose()

            trio.run(with_fixture)
        elif inspect.iscoroutinefunction(fn):
            trio.run(fn)
        else:
            fn()
        ran.append(name)
    return ran


def test_testing_page_examples() -> None:
    """docs/testing.md: its blocks, run in order, define tests that pass."""
    namespace: dict[str, object] = {}
    for _, _, code in python_blocks(DOCS / "testing.md"):
        exec(compile(code, "testing.md", "exec"), namespace)
    assert _run_tests_in(namespace) == [
        "test_get_user",
        "test_blocking_client",
        "test_sends_json",
        "test_app",
        "test_with_fixture",
    ]


def test_auth_page_flow_example() -> None:
    """docs/auth.md: the custom flow and the test of it."""
    namespace: dict[str, object] = {"httpcore": httpcore}
    blocks = [code for _, _, code in python_blocks(DOCS / "auth.md")]
    flow_blocks = [code for code in blocks if "RefreshingTokenAuth" in code]
    assert len(flow_blocks) == 2
    for code in flow_blocks:
        exec(compile(code, "auth.md", "exec"), namespace)  # asserts inside
    namespace["TOKEN"] = "t0k3n"
    (function_block,) = [code for code in blocks if "def token_auth" in code]
    exec(compile(function_block.replace("httpcore.Client(", "dict("), "auth.md", "exec"), namespace)
    request = httpcore.Request("GET", "https://api.example.org/")
    assert namespace["token_auth"](request).headers["authorization"] == "Bearer t0k3n"  # type: ignore[operator]


def test_hooks_page_examples(server: ServerThread) -> None:
    """docs/hooks.md: the logging hooks print what the page says; the raising hook raises."""
    logging, raising, _retries = [code for _, _, code in python_blocks(DOCS / "hooks.md")]
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(logging.replace(PLACEHOLDER, server.url), "hooks.md", "exec"), {})
    expected = [line[2:] for line in logging.splitlines() if line.startswith("# ")]
    assert output.getvalue().splitlines() == [e.replace(PLACEHOLDER, server.url) for e in expected]
    with pytest.raises(httpcore.HTTPStatusError, match="404"):
        exec(compile(raising.replace(PLACEHOLDER, server.url), "hooks.md", "exec"), {})
