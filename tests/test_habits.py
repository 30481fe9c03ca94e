"""The response habits of requests and httpx: is_success, is_client_error,
is_server_error and links (the parsed Link header), and text decoding of
unlabelled Latin-1 over a real server."""

from __future__ import annotations

from typing import Any

import pytest

from httpcore import URL, AsyncResponse, BaseResponse, HTTPStatusError, Request, Response
from httpcore._core.links import parse_link_header
from tests.servers import ServerThread


@pytest.mark.parametrize(
    ("status_code", "success", "client_error", "server_error", "error"),
    [
        (100, False, False, False, False),
        (199, False, False, False, False),
        (200, True, False, False, False),
        (204, True, False, False, False),
        (299, True, False, False, False),
        (302, False, False, False, False),
        (399, False, False, False, False),
        (400, False, True, False, True),
        (404, False, True, False, True),
        (499, False, True, False, True),
        (500, False, False, True, True),
        (503, False, False, True, True),
        (599, False, False, True, True),
        (600, False, False, False, True),
    ],
)
def test_status_classes(
    status_code: int, success: bool, client_error: bool, server_error: bool, error: bool
) -> None:
    for cls in (BaseResponse, Response, AsyncResponse):
        response = cls(status_code, request=Request("GET", "https://example.org/"))
        assert response.is_success is success
        assert response.is_client_error is client_error
        assert response.is_server_error is server_error
        assert response.is_error is error
        if error:
            with pytest.raises(HTTPStatusError):
                response.raise_for_status()
        else:
            assert response.raise_for_status() is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            '<https://api.example/p2>; rel="next", <https://api.example/p9>; rel=last',
            [
                {"url": "https://api.example/p2", "rel": "next"},
                {"url": "https://api.example/p9", "rel": "last"},
            ],
        ),
        # Commas and semicolons inside <...> and quoted strings, escapes, case.
        (
            '<https://x/a,b;c>; REL="next"; Title="a, b; \\"c\\"" , <https://y/>',
            [
                {"url": "https://x/a,b;c", "rel": "next", "title": 'a, b; "c"'},
                {"url": "https://y/"},
            ],
        ),
        # The first occurrence of a parameter wins; a bare parameter is empty;
        # a parameter named url cannot replace the link's URL.
        ("<u>; rel=a; rel=b; anchor; url=evil", [{"url": "u", "rel": "a", "anchor": ""}]),
        # Malformed elements are skipped.
        ("junk, <ok>; rel=x, <unterminated; rel=y", [{"url": "ok", "rel": "x"}]),
        ("", []),
        (" , ,", []),
        ('<>; rel="self"', [{"url": "", "rel": "self"}]),
        ('<a>; rel=""; type=text/html', [{"url": "a", "rel": "", "type": "text/html"}]),
    ],
)
def test_parse_link_header(header: str, expected: list[dict[str, str]]) -> None:
    assert parse_link_header(header) == expected


def test_links_keyed_by_rel_or_url() -> None:
    response = BaseResponse(
        200,
        headers=[
            ("Link", '</p2>; rel="next"'),
            ("Link", "<https://cdn.example/style.css>; type=text/css, </p1>; rel=prev"),
        ],
    )
    assert response.links == {
        "next": {"url": "/p2", "rel": "next"},
        "https://cdn.example/style.css": {
            "url": "https://cdn.example/style.css",
            "type": "text/css",
        },
        "prev": {"url": "/p1", "rel": "prev"},
    }
    assert BaseResponse(200).links == {}
    assert BaseResponse(200, headers={"link": ""}).links == {}


async def test_links_and_status_over_a_real_server(client: Any, server: ServerThread) -> None:
    """Follow a paginated API by its Link headers, as a user would."""
    url = f"{server.url}/links?page=1"
    pages = []
    while True:
        response = await client.get(url)
        assert response.is_success
        pages.append(response.json()["page"])
        assert response.links["last"] == {
            "url": "/links?page=3",
            "rel": "last",
            "title": "the, last; page",
        }
        if "next" not in response.links:
            break
        url = str(
            URL(response.links["next"]["url"], allow_relative=True).resolve_with(response.url)
        )
    assert pages == [1, 2, 3]
    missing = await client.get(f"{server.url}/status/404")
    assert missing.is_client_error and not missing.is_success and not missing.is_server_error
    failed = await client.get(f"{server.url}/status/503")
    assert failed.is_server_error and failed.is_error and not failed.is_client_error


async def test_unlabelled_latin1_over_a_real_server(client: Any, server: ServerThread) -> None:
    response = await client.get(f"{server.url}/latin1")
    assert response.headers["content-type"] == "text/plain"
    assert response.encoding == "windows-1252"
    assert response.text == "Noël à Paris, déjà vu: ça va?"
