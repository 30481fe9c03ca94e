"""The public signatures: what `inspect.signature`, `help()` and type checkers see.

SPEC §1 lists the constructor (positional order included) and the keyword
options of each method; these tests compare the runtime signatures with those
lists, check that a wrong keyword raises the TypeError Python would raise for
a plain signature (naming the class and method the caller used), and that a
type checker sees the same options (mypy run over a small program).
"""

from __future__ import annotations

import inspect
import pydoc
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import httpcore
from httpcore._trio.options import ClientBase, takes

CONSTRUCTOR_POSITIONAL = [
    "auth",
    "cookies",
    "verify",
    "cert",
    "timeout",
    "pool_limits",
    "max_redirects",
    "dispatch",
]
CONSTRUCTOR_KEYWORD = [
    "headers",
    "params",
    "base_url",
    "http1",
    "http2",
    "proxies",
    "trust_env",
    "event_hooks",
    "retries",
]
MESSAGE = ["params", "headers", "cookies"]
BODY = ["data", "files", "json"]
EXCHANGE = {"auth", "stream", "allow_redirects", "verify", "cert", "timeout"}

# method -> (leading positional parameters, keyword-only options)
METHODS: dict[str, tuple[list[str], set[str]]] = {
    "request": (["method", "url"], {*BODY, *MESSAGE, *EXCHANGE}),
    "stream": (["method", "url"], {*BODY, *MESSAGE, *EXCHANGE} - {"stream"}),
    "get": (["url"], {*MESSAGE, *EXCHANGE}),
    "options": (["url"], {*MESSAGE, *EXCHANGE}),
    "head": (["url"], {*MESSAGE, *EXCHANGE}),
    "post": (["url"], {*BODY, *MESSAGE, *EXCHANGE}),
    "put": (["url"], {*BODY, *MESSAGE, *EXCHANGE}),
    "patch": (["url"], {*BODY, *MESSAGE, *EXCHANGE}),
    "delete": (["url"], {*BODY, *MESSAGE, *EXCHANGE}),
    "send": (["request"], EXCHANGE),
    "build_request": (["method", "url"], {*BODY, *MESSAGE}),
}
DEFAULTS = {
    "data": None,
    "files": None,
    "json": None,
    "params": None,
    "headers": None,
    "cookies": None,
    "auth": None,
    "stream": False,
    "allow_redirects": True,
    "verify": None,
    "cert": None,
}
CLIENTS = [httpcore.TrioClient, httpcore.Client, httpcore.AsyncClient]


def _kinds(signature: inspect.Signature) -> dict[str, inspect._ParameterKind]:
    return {name: p.kind for name, p in signature.parameters.items()}


@pytest.mark.parametrize("cls", CLIENTS)
def test_constructor_signature(cls: type[Any]) -> None:
    signature = inspect.signature(cls)
    parameters = list(signature.parameters.values())
    assert [p.name for p in parameters] == CONSTRUCTOR_POSITIONAL + CONSTRUCTOR_KEYWORD
    for p in parameters:
        expected = p.KEYWORD_ONLY if p.name in CONSTRUCTOR_KEYWORD else p.POSITIONAL_OR_KEYWORD
        assert p.kind == expected, p
        assert p.annotation is not p.empty, p
    defaults = {p.name: p.default for p in parameters}
    assert defaults["verify"] is True
    assert defaults["timeout"] == httpcore.DEFAULT_TIMEOUT_CONFIG
    assert defaults["pool_limits"] == httpcore.DEFAULT_POOL_LIMITS
    assert defaults["max_redirects"] == 20
    assert defaults["retries"] == 0
    assert defaults["event_hooks"] is None
    assert defaults["trust_env"] is True


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize("method", sorted(METHODS))
def test_method_signature(cls: type[Any], method: str) -> None:
    leading, keywords = METHODS[method]
    signature = inspect.signature(getattr(cls, method))
    kinds = _kinds(signature)
    assert list(kinds)[: len(leading) + 1] == ["self", *leading]
    assert all(kinds[name] == inspect.Parameter.POSITIONAL_OR_KEYWORD for name in leading)
    options = {name for name, kind in kinds.items() if kind == inspect.Parameter.KEYWORD_ONLY}
    assert options == keywords
    assert inspect.Parameter.VAR_KEYWORD not in kinds.values()
    for name in options:
        parameter = signature.parameters[name]
        assert parameter.annotation is not parameter.empty
        if name in DEFAULTS:
            assert parameter.default == DEFAULTS[name], name
    if "timeout" in options:
        assert repr(signature.parameters["timeout"].default) == "UNSET"


# SPEC §1, in its order
SPEC_ORDER = {
    "request": [*BODY, *MESSAGE, "auth", "stream", "allow_redirects", "verify", "cert", "timeout"],
    "get": [*MESSAGE, "auth", "stream", "allow_redirects", "verify", "cert", "timeout"],
    "post": [*BODY, *MESSAGE, "auth", "stream", "allow_redirects", "verify", "cert", "timeout"],
    "send": ["stream", "allow_redirects", "auth", "verify", "cert", "timeout"],
    "build_request": [*BODY, *MESSAGE],
}


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize("method", sorted(SPEC_ORDER))
def test_keyword_order_follows_the_spec(cls: type[Any], method: str) -> None:
    parameters = inspect.signature(getattr(cls, method)).parameters.values()
    assert [p.name for p in parameters if p.kind == p.KEYWORD_ONLY] == SPEC_ORDER[method]


@pytest.mark.parametrize(
    "name", ["request", "get", "options", "head", "post", "put", "patch", "delete"]
)
def test_module_function_signature(name: str) -> None:
    signature = inspect.signature(getattr(httpcore, name))
    kinds = _kinds(signature)
    leading = ["method", "url"] if name == "request" else ["url"]
    assert list(kinds)[: len(leading)] == leading
    options = {n for n, kind in kinds.items() if kind == inspect.Parameter.KEYWORD_ONLY}
    expected = {*MESSAGE, *EXCHANGE, "trust_env"} - {"stream"}
    if name not in ("get", "options", "head"):
        expected |= set(BODY)
    assert options == expected
    assert signature.parameters["verify"].default is True


def test_async_methods_stay_coroutine_functions() -> None:
    for method in ("request", "get", "post", "send", "delete"):
        assert inspect.iscoroutinefunction(getattr(httpcore.TrioClient, method))
    assert not inspect.iscoroutinefunction(httpcore.Client.get)


def test_help_shows_the_options() -> None:
    text = pydoc.render_doc(httpcore.Client.post, renderer=pydoc.plaintext)
    for name in ("data", "files", "json", "params", "allow_redirects", "timeout"):
        assert f"{name}:" in text
    assert "**options" not in text
    text = pydoc.render_doc(httpcore.TrioClient, renderer=pydoc.plaintext)
    assert "event_hooks:" in text and "retries:" in text
    assert "TrioClient(auth:" in text.replace("\n", "")


def test_unknown_keyword_names_the_class_and_method() -> None:
    client = httpcore.Client()
    try:
        request = httpcore.Request("GET", "http://x/")
        calls: list[tuple[Any, str, str]] = [
            (lambda: httpcore.Client(foo=1), "Client.__init__", "foo"),
            (lambda: httpcore.TrioClient(foo=1), "TrioClient.__init__", "foo"),
            (lambda: client.get("http://x/", foo=1), "Client.get", "foo"),
            # SPEC §1: get/options/head take no body
            (lambda: client.head("http://x/", data=b""), "Client.head", "data"),
            (lambda: client.request("GET", "http://x/", fo=1), "Client.request", "fo"),
            (lambda: client.send(request, data=1), "Client.send", "data"),
            (
                lambda: client.build_request("GET", "http://x/", auth=1),
                "Client.build_request",
                "auth",
            ),
            (lambda: client.stream("GET", "/", stream=True).__enter__(), "Client.stream", "stream"),
            (lambda: httpcore.get("http://x/", stream=True), "get", "stream"),
            (lambda: httpcore.post("http://x/", retries=1), "post", "retries"),
            (
                lambda: httpcore.TrioClient().build_request("GET", "http://x/", timeout=1),
                "TrioClient.build_request",
                "timeout",
            ),
        ]
        for call, where, name in calls:
            with pytest.raises(TypeError) as info:
                call()
            assert str(info.value) == f"{where}() got an unexpected keyword argument {name!r}"
        with pytest.raises(TypeError, match=r"^Client.__init__\(\) takes from 1 to 9 positional"):
            httpcore.Client(*range(9))
    finally:
        client.close()


async def test_unknown_keyword_on_async_methods() -> None:
    async with httpcore.TrioClient() as client:
        for method in ("get", "options", "head", "post", "put", "patch", "delete"):
            with pytest.raises(TypeError, match=rf"^TrioClient\.{method}\(\) got .* 'nope'$"):
                await getattr(client, method)("http://x/", nope=1)
        with pytest.raises(TypeError, match=r"^TrioClient\.request\(\) got .* 'nope'$"):
            await client.request("GET", "http://x/", nope=1)
        with pytest.raises(TypeError, match=r"^TrioClient\.send\(\) got .* 'nope'$"):
            await client.send(client.build_request("GET", "http://x/"), nope=1)
        with pytest.raises(TypeError, match=r"^TrioClient\.stream\(\) got .* 'nope'$"):
            async with client.stream("GET", "http://x/", nope=1):
                pass  # pragma: no cover - never entered


def test_unknown_keyword_on_blocking_methods() -> None:
    with httpcore.Client() as client:
        for method in ("options", "post", "put", "patch", "delete"):
            with pytest.raises(TypeError, match=rf"^Client\.{method}\(\) got .* 'nope'$"):
                getattr(client, method)("http://x/", nope=1)
    for name in ("options", "head", "put", "patch", "delete", "request"):
        args = ("GET", "http://x/") if name == "request" else ("http://x/",)
        with pytest.raises(TypeError, match=rf"^{name}\(\) got .* 'nope'$"):
            getattr(httpcore, name)(*args, nope=1)


def test_a_subclass_is_named_in_errors() -> None:
    class MyClient(httpcore.Client):
        pass

    with pytest.raises(TypeError, match=r"\.MyClient.__init__\(\) got an unexpected keyword"):
        MyClient(foo=1)
    client = MyClient()
    with pytest.raises(TypeError, match=r"^MyClient.get\(\) got an unexpected keyword"):
        client.get("http://x/", foo=1)
    assert inspect.signature(MyClient) == inspect.signature(httpcore.Client)


def test_a_subclass_may_define_its_own_init() -> None:
    class Configured(httpcore.TrioClient):
        def __init__(self) -> None:
            super().__init__(retries=2)

    assert Configured().retries == 2
    assert "__init__" in Configured.__dict__


def test_the_base_is_abstract() -> None:
    with pytest.raises(TypeError, match="abstract"):
        ClientBase()  # type: ignore[abstract]


def test_every_option_needs_a_default() -> None:
    from typing import TypedDict

    class Odd(TypedDict, total=False):
        surprise: int

    with pytest.raises(AssertionError, match="Odd has options without a default"):
        takes(Odd)


def test_type_checkers_see_the_options(tmp_path: Path) -> None:
    """mypy (as IDEs do) checks each keyword's name and type from the one definition."""
    program = tmp_path / "program.py"
    program.write_text(
        textwrap.dedent(
            """
            import httpcore

            async def main(client: httpcore.TrioClient) -> None:
                await client.get("https://example.org/", params={"q": "1"}, timeout=3)
                await client.get("https://example.org/", foo=1)
                await client.post("https://example.org/", allow_redirects="no")
                with httpcore.Client(retries=2, event_hooks={"request": []}) as sync:
                    sync.head("https://example.org/", data=b"x")
                httpcore.Client(None, None, True, None, 5.0, httpcore.PoolLimits(), 3, None, None)

            async def asyncio_main() -> None:
                async with httpcore.AsyncClient(http2=False) as client:
                    await client.stream("GET", "https://example.org/", stream=True).__aenter__()
            """
        )
    )
    root = Path(httpcore.__file__).parent.parent
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(program)],
        capture_output=True,
        text=True,
        cwd=root,
        env={"PYTHONPATH": str(root), "MYPYPATH": str(root), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    lines = [
        line.split(": error: ", 1)[1] for line in result.stdout.splitlines() if ": error: " in line
    ]
    assert len(lines) == 5, result.stdout
    assert 'Unexpected keyword argument "foo" for "get" of "TrioClient"' in lines[0]
    assert '"allow_redirects"' in lines[1] and "bool" in lines[1]
    assert 'Unexpected keyword argument "data" for "head" of "Client"' in lines[2]
    assert "Too many positional arguments" in lines[3]
    assert 'Unexpected keyword argument "stream" for "stream" of "AsyncClient"' in lines[4]
