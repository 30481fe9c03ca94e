from __future__ import annotations

import enum

import pytest

from httpcore._core.status_codes import StatusCode, codes

# Every permanent entry of the IANA HTTP Status Code Registry, plus 418.
IANA_CODES = {
    100: "Continue",
    101: "Switching Protocols",
    102: "Processing",
    103: "Early Hints",
    200: "OK",
    201: "Created",
    202: "Accepted",
    203: "Non-Authoritative Information",
    204: "No Content",
    205: "Reset Content",
    206: "Partial Content",
    207: "Multi-Status",
    208: "Already Reported",
    226: "IM Used",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    305: "Use Proxy",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    416: "Range Not Satisfiable",
    417: "Expectation Failed",
    418: "I'm a teapot",
    421: "Misdirected Request",
    422: "Unprocessable Content",
    423: "Locked",
    424: "Failed Dependency",
    425: "Too Early",
    426: "Upgrade Required",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates",
    507: "Insufficient Storage",
    508: "Loop Detected",
    510: "Not Extended",
    511: "Network Authentication Required",
}


def test_codes_is_an_int_enum_and_status_code_is_the_same_class() -> None:
    assert issubclass(codes, enum.IntEnum)
    assert StatusCode is codes


def test_members_are_exactly_the_registered_codes() -> None:
    assert {int(member) for member in codes} == set(IANA_CODES)


@pytest.mark.parametrize(("value", "phrase"), sorted(IANA_CODES.items()))
def test_every_code_has_its_reason_phrase(value: int, phrase: str) -> None:
    assert codes.get_reason_phrase(value) == phrase
    assert codes(value).phrase == phrase
    assert codes(value) == value


@pytest.mark.parametrize(
    ("member", "value"),
    [
        (codes.CONTINUE, 100),
        (codes.EARLY_HINTS, 103),
        (codes.OK, 200),
        (codes.NO_CONTENT, 204),
        (codes.FOUND, 302),
        (codes.PERMANENT_REDIRECT, 308),
        (codes.NOT_FOUND, 404),
        (codes.IM_A_TEAPOT, 418),
        (codes.MISDIRECTED_REQUEST, 421),
        (codes.TOO_EARLY, 425),
        (codes.UNAVAILABLE_FOR_LEGAL_REASONS, 451),
        (codes.INTERNAL_SERVER_ERROR, 500),
        (codes.NETWORK_AUTHENTICATION_REQUIRED, 511),
    ],
)
def test_named_members(member: codes, value: int) -> None:
    assert member == value
    assert codes(value) is member


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("REQUEST_ENTITY_TOO_LARGE", "CONTENT_TOO_LARGE"),
        ("REQUEST_URI_TOO_LONG", "URI_TOO_LONG"),
        ("REQUESTED_RANGE_NOT_SATISFIABLE", "RANGE_NOT_SATISFIABLE"),
        ("UNPROCESSABLE_ENTITY", "UNPROCESSABLE_CONTENT"),
    ],
)
def test_older_names_are_aliases(alias: str, canonical: str) -> None:
    assert codes[alias] is codes[canonical]
    assert codes[alias].phrase == codes[canonical].phrase != ""


@pytest.mark.parametrize("value", [0, 99, 104, 199, 299, 306, 419, 509, 599, 600, 999, -1])
def test_unknown_codes(value: int) -> None:
    assert codes.get_reason_phrase(value) == ""
    with pytest.raises(ValueError):
        codes(value)


def test_str_and_format_give_the_number() -> None:
    assert str(codes.OK) == "200"
    assert f"{codes.NOT_FOUND}" == "404"
    assert format(codes.CREATED, "d") == "201"
    assert repr(codes.OK) == "<codes.OK: 200>"
    assert codes.OK.name == "OK"


def test_members_behave_as_ints() -> None:
    assert codes.OK + 1 == 201
    assert codes.BAD_REQUEST < codes.INTERNAL_SERVER_ERROR
    assert {200: "x"}[codes.OK] == "x"
    assert hash(codes.OK) == hash(200)


@pytest.mark.parametrize(
    ("value", "informational", "success", "redirect", "error", "client", "server"),
    [
        (99, False, False, False, False, False, False),
        (100, True, False, False, False, False, False),
        (103, True, False, False, False, False, False),
        (199, True, False, False, False, False, False),
        (200, False, True, False, False, False, False),
        (299, False, True, False, False, False, False),
        (300, False, False, False, False, False, False),
        (301, False, False, True, False, False, False),
        (302, False, False, True, False, False, False),
        (303, False, False, True, False, False, False),
        (304, False, False, False, False, False, False),
        (305, False, False, False, False, False, False),
        (307, False, False, True, False, False, False),
        (308, False, False, True, False, False, False),
        (399, False, False, False, False, False, False),
        (400, False, False, False, True, True, False),
        (404, False, False, False, True, True, False),
        (499, False, False, False, True, True, False),
        (500, False, False, False, True, False, True),
        (599, False, False, False, True, False, True),
        (600, False, False, False, False, False, False),
        (codes.NOT_FOUND, False, False, False, True, True, False),
    ],
)
def test_classification_helpers(
    value: int,
    informational: bool,
    success: bool,
    redirect: bool,
    error: bool,
    client: bool,
    server: bool,
) -> None:
    assert codes.is_informational(value) is informational
    assert codes.is_success(value) is success
    assert codes.is_redirect(value) is redirect
    assert codes.is_error(value) is error
    assert codes.is_client_error(value) is client
    assert codes.is_server_error(value) is server


def test_helpers_are_not_members() -> None:
    assert "is_redirect" not in codes.__members__
    assert "get_reason_phrase" not in codes.__members__
    assert codes.OK.is_success(codes.OK) is True
