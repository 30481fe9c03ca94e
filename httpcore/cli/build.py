"""From parsed arguments to what the client needs: request parts and client settings.

Everything a user can get wrong (a bad header, bad JSON, an unreadable file,
a bad URL) is found here, before any connection is opened, and raised as a
`UsageError` that names the argument.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from http.cookiejar import LoadError, MozillaCookieJar
from typing import IO, Any, BinaryIO

from .._core.auth import Auth, BasicAuth, DigestAuth
from .._core.config import TimeoutConfig
from .._core.content import CHUNK_SIZE, RequestBody
from .._core.cookies import Cookies
from .._core.exceptions import InvalidURL
from .._core.urls import URL
from .args import normalize_url
from .errors import UsageError

FORM = "application/x-www-form-urlencoded"
# Separators of `ITEM` arguments; at one position the longer one wins.
_ITEM_SEPARATORS = (":=", "==", "=", ":", "@")


@dataclass
class Plan:
    """One command's request and client settings, checked and ready to send."""

    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    removed_headers: list[str] = field(default_factory=list)
    params: list[tuple[str, str]] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)
    auth: Auth | None = None
    cookies: Cookies | None = None
    client: dict[str, Any] = field(default_factory=dict)
    timeout: TimeoutConfig = field(default_factory=TimeoutConfig)
    follow: bool = True
    proxy: str | None = None


class FileBody(RequestBody):
    """A request body read from an open file in chunks as it is sent, never whole.

    Regular files have a known length (sent as ``Content-Length``) and can be
    sent again (a 307 redirect, a digest auth retry) by seeking back.
    """

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._start_offset = file.tell()
        self.content_length = os.fstat(file.fileno()).st_size - self._start_offset

    def _chunks(self) -> Iterator[bytes]:
        self._file.seek(self._start_offset)
        while chunk := self._file.read(CHUNK_SIZE):
            yield chunk


def split_item(item: str) -> tuple[str, str, str] | None:
    """``name<sep>value`` at the first separator, or None when `item` has none."""
    best: tuple[int, str] | None = None
    for separator in _ITEM_SEPARATORS:
        index = item.find(separator)
        if index > 0 and (best is None or index < best[0]):
            best = (index, separator)
    if best is None:
        return None
    index, separator = best
    return item[:index], separator, item[index + len(separator) :]


def read_argument(value: str, what: str, stdin: IO[bytes]) -> bytes:
    """`value` itself, or the bytes of the file ``@path`` / of stdin (``@-``)."""
    if not value.startswith("@"):
        return value.encode("utf-8")
    if value == "@-":
        return stdin.read()
    try:
        with open(value[1:], "rb") as file:
            return file.read()
    except OSError as exc:
        raise UsageError(f"cannot read {value[1:]} for {what}: {exc.strerror}") from None


def open_file(path: str, what: str, files: ExitStack) -> BinaryIO:
    try:
        return files.enter_context(open(path, "rb"))
    except OSError as exc:
        raise UsageError(f"cannot read {path} for {what}: {exc.strerror}") from None


def parse_json(text: bytes | str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problem = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    except UnicodeDecodeError:
        problem = "not UTF-8"
    raise UsageError(f"invalid JSON in {what}: {problem}")


def build_plan(
    args: argparse.Namespace,
    method: str | None,
    url: str,
    items: list[str],
    files: ExitStack,
    stdin: IO[bytes],
    ask_password: Callable[[str], str] = getpass.getpass,
) -> Plan:
    """Check every argument and return the plan; raises `UsageError`."""
    if method is not None and args.method is not None:
        raise UsageError(f"the method is given twice ({method} and -X {args.method})")
    try:
        parsed_url = URL(url)
    except InvalidURL as exc:
        raise UsageError(f"invalid URL {url!r}: {exc}") from None
    if parsed_url.scheme not in ("http", "https"):
        raise UsageError(f"cannot request {url}: only http:// and https:// URLs are supported")
    plan = Plan(method="", url=url)
    _headers(plan, args)
    _items(plan, args, items, files)
    _body(plan, args, files, stdin)
    chosen = method or args.method
    if chosen is None:
        chosen = "HEAD" if args.head else ("POST" if plan.body else "GET")
    plan.method = chosen.upper()
    plan.auth = _auth(args, parsed_url, ask_password)
    plan.cookies = _cookies(args.cookie)
    plan.timeout = _timeout(args)
    plan.follow = args.follow
    plan.client = _client_settings(args, plan)
    return plan


def _headers(plan: Plan, args: argparse.Namespace) -> None:
    for header in args.header:
        name, sep, value = header.partition(":")
        name = name.strip()
        if name.endswith(";") and not sep:  # curl's `Name;`: the header, empty
            plan.headers.append((name[:-1], ""))
            continue
        if not sep or not name:
            raise UsageError(f"bad header {header!r}: expected 'Name: value'")
        if value.strip():
            plan.headers.append((name, value.strip()))
        else:
            plan.removed_headers.append(name)
    if args.user_agent is not None:
        plan.headers.append(("User-Agent", args.user_agent))
    for param in args.param:
        name, sep, value = param.partition("=")
        if not sep:
            raise UsageError(f"bad parameter {param!r}: expected 'name=value'")
        plan.params.append((name, value))


def _has_header(plan: Plan, name: str) -> bool:
    return any(given.lower() == name for given, _ in plan.headers)


def _items(plan: Plan, args: argparse.Namespace, items: list[str], files: ExitStack) -> None:
    fields: dict[str, Any] = {}
    uploads: list[tuple[str, Any]] = []
    raw_json = False
    for item in items:
        parts = split_item(item)
        if parts is None:
            raise UsageError(
                f"bad item {item!r}: expected Name:value, name==value, name=value,"
                " name:=json or name@file"
            )
        name, separator, value = parts
        if separator == ":":
            if value.strip():
                plan.headers.append((name, value.strip()))
            else:
                plan.removed_headers.append(name)
        elif separator == "==":
            plan.params.append((name, value))
        elif separator == "=":
            fields[name] = value
        elif separator == ":=":
            fields[name] = parse_json(value, f"item {item!r}")
            raw_json = True
        else:
            uploads.append((name, (os.path.basename(value), open_file(value, item, files))))
    if uploads:
        if raw_json:
            raise UsageError("name:=json items cannot go in a multipart upload (name@file)")
        plan.body = {"data": fields, "files": uploads}
    elif fields:
        plan.body = {"json": fields}
        if not _has_header(plan, "accept"):
            plan.headers.append(("Accept", "application/json, */*;q=0.5"))


def _body(plan: Plan, args: argparse.Namespace, files: ExitStack, stdin: IO[bytes]) -> None:
    given = [
        option
        for option, value in (
            ("-d", args.data),
            ("--json", args.json),
            ("-F", args.form),
            ("data items", plan.body),
        )
        if value
    ]
    if len(given) > 1:
        raise UsageError(f"give the body only one way: {' and '.join(given)} were both given")
    if args.data:
        _data(plan, args.data, files, stdin)
    elif args.json is not None:
        text = read_argument(args.json, "--json", stdin)
        parse_json(text, "--json")
        plan.body = {"data": text}
        if not _has_header(plan, "content-type"):
            plan.headers.append(("Content-Type", "application/json"))
        if not _has_header(plan, "accept"):
            plan.headers.append(("Accept", "application/json"))
    elif args.form:
        _form(plan, args.form, files)


def _data(plan: Plan, values: list[str], files: ExitStack, stdin: IO[bytes]) -> None:
    body: Any
    path = values[0][1:]
    if len(values) == 1 and values[0].startswith("@") and path != "-" and os.path.isfile(path):
        body = FileBody(open_file(path, "-d", files))  # streamed from disk
    else:
        body = b"&".join(read_argument(value, "-d", stdin) for value in values)
    plan.body = {"data": body}
    if not _has_header(plan, "content-type"):
        plan.headers.append(("Content-Type", FORM))


def _form(plan: Plan, values: list[str], files: ExitStack) -> None:
    fields: dict[str, list[str]] = {}
    uploads: list[tuple[str, Any]] = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise UsageError(f"bad -F {value!r}: expected 'name=value' or 'name=@file'")
        if not rest.startswith("@"):
            fields.setdefault(name, []).append(rest)
            continue
        path, *options = rest[1:].split(";")
        filename, content_type = os.path.basename(path), None
        for option in options:
            key, _, option_value = option.partition("=")
            if key.strip() == "type":
                content_type = option_value
            elif key.strip() == "filename":
                filename = option_value
            else:
                raise UsageError(f"bad -F {value!r}: unknown option {option!r}")
        uploads.append((name, (filename, open_file(path, "-F", files), content_type)))
    plan.body = {"data": fields, "files": uploads}


def _auth(args: argparse.Namespace, url: URL, ask_password: Callable[[str], str]) -> Auth | None:
    if args.auth is None:
        return None
    user, sep, password = args.auth.partition(":")
    if not sep:
        try:
            password = ask_password(f"Password for {user}@{url.host}: ")
        except EOFError:
            raise UsageError("no password given for --auth") from None
    if args.auth_type == "digest":
        return DigestAuth(user, password)
    return BasicAuth(user, password)


def _cookies(value: str | None) -> Cookies | None:
    """``-b 'a=1; b=2'`` (cookies for every host) or ``-b FILE`` (a Netscape cookie file)."""
    if value is None:
        return None
    cookies = Cookies()
    if "=" in value:
        for pair in value.split(";"):
            name, _, cookie_value = pair.strip().partition("=")
            if name:
                cookies.set(name, cookie_value)
        return cookies
    loaded = MozillaCookieJar()
    try:
        loaded.load(value, ignore_discard=True)
    except (OSError, LoadError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"cannot read cookies from {value}: {reason}") from None
    for cookie in loaded:
        cookies.jar.set_cookie(cookie)
    return cookies


def save_cookies(cookies: Cookies, path: str) -> None:
    """Write every cookie (session ones too) to `path` in the Netscape format curl uses."""
    jar = MozillaCookieJar()
    for cookie in cookies.jar:
        jar.set_cookie(cookie)
    try:
        jar.save(path, ignore_discard=True, ignore_expires=True)
    except OSError as exc:
        raise UsageError(f"cannot write cookies to {path}: {exc.strerror}") from None


def _timeout(args: argparse.Namespace) -> TimeoutConfig:
    phases = {
        f"{phase}_timeout": getattr(args, f"{phase}_timeout")
        for phase in ("connect", "read", "write")
        if getattr(args, f"{phase}_timeout") is not ...
    }
    return TimeoutConfig(args.timeout, **phases)


def _readable(path: str, option: str) -> str:
    if not os.access(path, os.R_OK):
        raise UsageError(f"cannot read {path} for {option}: no such file or not readable")
    return path


def _client_settings(args: argparse.Namespace, plan: Plan) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "timeout": plan.timeout,
        "max_redirects": args.max_redirects,
        "http1": not args.http2,
        "http2": not args.http1,
    }
    if args.no_verify:
        settings["verify"] = False
    elif args.cacert is not None:
        settings["verify"] = _readable(args.cacert, "--cacert")
    if args.key is not None and args.cert is None:
        raise UsageError("--key needs --cert")
    if args.cert is not None:
        cert = _readable(args.cert, "--cert")
        settings["cert"] = cert if args.key is None else (cert, _readable(args.key, "--key"))
    if args.proxy is not None:
        settings["proxies"] = normalize_url(args.proxy)
        plan.proxy = masked(settings["proxies"])
    return settings


def masked(url: str) -> str:
    """`url` with the password of its user part replaced by ``***``, for messages."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, hostport = rest.partition("@")
    if not at or ":" not in userinfo or "/" in userinfo:
        return url
    return f"{scheme}{sep}{userinfo.partition(':')[0]}:***@{hostport}"
