"""The `httpcore` command, run in-process (`main(argv)`) against real local servers.

Terminal behaviour (tty, signals, memory) is in test_cli_process.py; output
formatting on a terminal is in test_cli_output.py.
"""

from __future__ import annotations

import io
import json
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme

from httpcore.cli import main
from tests.proxy_servers import ProxyServer
from tests.servers import ServerThread


@dataclass
class Result:
    status: int
    out: bytes
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Run = Callable[..., Result]


@pytest.fixture
def cli(capsysbinary: pytest.CaptureFixture[bytes]) -> Run:
    def run(*argv: str, stdin: bytes = b"", password: str | None = None) -> Result:
        def ask(prompt: str) -> str:
            assert prompt.startswith("Password for ")
            if password is None:
                raise EOFError
            return password

        status = main(list(argv), stdin=io.BytesIO(stdin), ask_password=ask)
        captured = capsysbinary.readouterr()
        return Result(status, captured.out, captured.err.decode())

    return run


def one_line(result: Result) -> str:
    """The error line: exactly one, prefixed, and never a traceback."""
    assert result.err.count("\n") == 1, result.err
    assert result.err.startswith("httpcore: "), result.err
    assert "Traceback" not in result.err
    return result.err.strip()


def header(data: Any, name: str) -> list[str]:
    return [value for key, value in data["headers"] if key == name]


# -- requests ------------------------------------------------------------------------


def test_get_writes_the_body_as_is(server: ServerThread, cli: Run) -> None:
    result = cli(server.url + "/")
    assert (result.status, result.out, result.err) == (0, b"Hello, world!", "")


def test_scheme_less_urls(server: ServerThread, cli: Run) -> None:
    host_port = server.url.removeprefix("http://")
    assert cli(host_port + "/").out == b"Hello, world!"
    port = host_port.rpartition(":")[2]
    data = cli(f":{port}/echo").json()
    assert header(data, "host") == [f"localhost:{port}"]


def test_method_word_and_items(server: ServerThread, cli: Run) -> None:
    result = cli("POST", server.url + "/echo", "name=ada", "age:=36", "X-A:1", "q==v w")
    data = result.json()
    assert data["method"] == "POST"
    assert json.loads(data["body"]) == {"name": "ada", "age": 36}
    assert data["query"] == "q=v+w"
    assert header(data, "x-a") == ["1"]
    assert header(data, "content-type") == ["application/json"]
    assert header(data, "accept") == ["application/json, */*;q=0.5"]
    assert cli("delete", server.url + "/echo").json()["method"] == "DELETE"
    assert cli("PURGE", server.url + "/echo").json()["method"] == "PURGE"
    # a lower-case word that is no method is the URL, even with items after it
    assert cli(server.url + "/echo", "a=1").json()["method"] == "POST"


def test_method_option(server: ServerThread, cli: Run) -> None:
    assert cli("-X", "patch", server.url + "/echo").json()["method"] == "PATCH"
    result = cli("-X", "PUT", "POST", server.url + "/echo")
    assert result.status == 1
    assert "method is given twice" in one_line(result)


def test_header_option(server: ServerThread, cli: Run) -> None:
    data = cli(
        "-H", "X-A: 1", "-H", "X-A: 2", "-H", "Accept:", "-H", "X-Empty;",
        "-A", "agent/1", server.url + "/echo",
    ).json()  # fmt: skip
    assert header(data, "x-a") == ["1", "2"]
    assert header(data, "accept") == []
    assert header(data, "x-empty") == [""]
    assert header(data, "user-agent") == ["agent/1"]
    # An item `Name:` removes a default header too.
    assert header(cli(server.url + "/echo", "Accept-Encoding:").json(), "accept-encoding") == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-H", "no-colon"], "bad header 'no-colon': expected 'Name: value'"),
        (["-H", "X-A: a\x01b"], "invalid request:"),
        (["-p", "novalue"], "bad parameter 'novalue'"),
        (["URL", "justaword"], "bad item 'justaword'"),
        (["-F", "novalue"], "bad -F 'novalue'"),
        (["-F", "f=@x;size=1"], "unknown option 'size=1'"),
        (["URL", "a:=[1"], "invalid JSON in item 'a:=[1'"),
        (["URL", "a:=NaN"], "invalid request: "),
        (["-d", "a", "--json", "{}"], "give the body only one way: -d and --json"),
        (["-F", "a=1", "URL", "b=2"], "give the body only one way: -F and data items"),
        (["--key", "k.pem"], "--key needs --cert"),
        (["--cacert", "/nonexistent/ca.pem"], "cannot read /nonexistent/ca.pem for --cacert"),
        (["--cert", "/nonexistent/c.pem"], "cannot read /nonexistent/c.pem for --cert"),
        (["-o", "x", "-O"], "give either -o FILE or -O, not both"),
        (["--continue"], "--continue needs -o FILE or -O"),
        (["--timeout", "x"], "argument --timeout: not a number of seconds: 'x'"),
        (["--timeout", "-1"], "must be a positive number of seconds: '-1'"),
        (["--max-redirects", "x"], "argument --max-redirects: not a whole number: 'x'"),
        (["--auth-type", "ntlm"], "argument --auth-type: invalid choice"),
        (["--nope"], "unrecognized arguments: --nope"),
        (["-a", "user"], "no password given for --auth"),
    ],
)
def test_usage_errors_are_one_line(
    server: ServerThread, cli: Run, argv: list[str], message: str
) -> None:
    words = [server.url + "/echo" if word == "URL" else word for word in argv]
    if "URL" not in argv:
        words.append(server.url + "/echo")
    result = cli(*words)
    assert result.status == 1
    assert message in one_line(result)
    assert result.out == b""


def test_no_url(cli: Run) -> None:
    result = cli()
    assert (result.status, one_line(result)) == (1, "httpcore: no URL given (see httpcore --help)")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://exa mple.org:99999/", "invalid URL 'http://exa mple.org:99999/'"),
        ("http://[::1/", "invalid URL"),
    ],
)
def test_bad_urls(cli: Run, url: str, message: str) -> None:
    result = cli(url)
    assert result.status == 1
    assert message in one_line(result)


def test_unsupported_scheme(server: ServerThread, cli: Run) -> None:
    result = cli("ftp://127.0.0.1/file")
    assert result.status == 1
    assert one_line(result) == (
        "httpcore: cannot request ftp://127.0.0.1/file:"
        " only http:// and https:// URLs are supported"
    )
    result = cli(server.url + "/redirect?to=ftp://127.0.0.1/file")
    assert result.status == 2
    assert one_line(result) == (
        f"httpcore: cannot follow the redirect from {server.url}/redirect?to=ftp://127.0.0.1/file:"
        " Redirect to 'ftp://127.0.0.1/file': the scheme 'ftp' is not supported"
        " (only http:// and https://)"
    )


def test_params(server: ServerThread, cli: Run) -> None:
    data = cli("-p", "a=1", "-p", "b=x y", server.url + "/echo?z=0").json()
    assert data["query"] == "z=0&a=1&b=x+y"


def test_data_is_a_form_like_curl(server: ServerThread, cli: Run, tmp_path: Path) -> None:
    data = cli("-d", "a=1", "-d", "b=2", server.url + "/echo").json()
    assert (data["method"], data["body"]) == ("POST", "a=1&b=2")
    assert header(data, "content-type") == ["application/x-www-form-urlencoded"]
    data = cli("-d", "raw", "-H", "Content-Type: text/plain", server.url + "/echo").json()
    assert header(data, "content-type") == ["text/plain"]
    assert cli("-d", "@-", server.url + "/echo", stdin=b"from stdin").json()["body"] == "from stdin"
    body = tmp_path / "body.txt"
    body.write_bytes(b"x" * 200_000)
    data = cli("-d", f"@{body}", server.url + "/echo").json()
    assert data["body"] == "x" * 200_000
    assert header(data, "content-length") == ["200000"]
    data = cli("-d", "a=1", "-d", f"@{body}", server.url + "/echo").json()
    assert data["body"] == "a=1&" + "x" * 200_000
    result = cli("-d", "@/nonexistent/body", server.url + "/echo")
    assert result.status == 1
    assert one_line(result) == (
        "httpcore: cannot read /nonexistent/body for -d: No such file or directory"
    )


def test_data_file_is_resent_on_a_307(server: ServerThread, cli: Run, tmp_path: Path) -> None:
    body = tmp_path / "body.bin"
    body.write_bytes(b"abc")
    data = cli("-d", f"@{body}", server.url + "/redirect?status=307&to=/echo").json()
    assert (data["method"], data["body"]) == ("POST", "abc")


def test_json_option(server: ServerThread, cli: Run, tmp_path: Path) -> None:
    data = cli("-X", "PUT", "--json", '{"a": 1}', server.url + "/echo").json()
    assert (data["method"], data["body"]) == ("PUT", '{"a": 1}')
    assert header(data, "content-type") == ["application/json"]
    assert header(data, "accept") == ["application/json"]
    path = tmp_path / "body.json"
    path.write_text("[1, 2]")
    assert cli("--json", f"@{path}", server.url + "/echo").json()["body"] == "[1, 2]"
    assert cli("--json", "@-", server.url + "/echo", stdin=b"{}").json()["body"] == "{}"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{bad", "invalid JSON in --json: Expecting property name enclosed in double quotes"
         " at line 1 column 2"),
        ("", "invalid JSON in --json: Expecting value at line 1 column 1"),
        ("@-", "invalid JSON in --json: not UTF-8"),
        ("@/nonexistent.json", "cannot read /nonexistent.json for --json"),
    ],
)  # fmt: skip
def test_bad_json_is_refused_before_any_request(cli: Run, value: str, message: str) -> None:
    # Port 1 refuses connections: an attempt to send would exit 2, not 1.
    result = cli("--json", value, "http://127.0.0.1:1/", stdin=b"\xff")
    assert result.status == 1
    assert message in one_line(result)


def test_multipart_form(server: ServerThread, cli: Run, tmp_path: Path) -> None:
    upload = tmp_path / "notes.txt"
    upload.write_bytes(b"file content")
    body = cli(
        "-F", "name=ada", "-F", "name=bob", "-F", f"doc=@{upload};type=text/x-notes;filename=n.txt",
        server.url + "/echo",
    ).json()["body"]  # fmt: skip
    assert body.count('name="name"') == 2
    assert 'name="doc"; filename="n.txt"' in body
    assert "Content-Type: text/x-notes" in body
    assert "file content" in body
    body = cli("-F", f"doc=@{upload}", server.url + "/echo").json()["body"]
    assert 'filename="notes.txt"' in body
    result = cli("-F", "doc=@/nonexistent/file", server.url + "/echo")
    assert result.status == 1
    assert "cannot read /nonexistent/file for -F" in one_line(result)


def test_file_items(server: ServerThread, cli: Run, tmp_path: Path) -> None:
    upload = tmp_path / "a.bin"
    upload.write_bytes(b"\x00\x01")
    data = cli(server.url + "/echo", f"doc@{upload}", "title=t").json()
    assert 'name="doc"; filename="a.bin"' in data["body"]
    assert 'name="title"' in data["body"]
    result = cli(server.url + "/echo", f"doc@{upload}", "n:=1")
    assert "cannot go in a multipart upload" in one_line(result)


def test_large_upload_is_streamed(server: ServerThread, cli: Run, tmp_path: Path) -> None:
    upload = tmp_path / "big.bin"
    with open(upload, "wb") as file:
        file.truncate(20 * 1024 * 1024)
    assert cli("-F", f"f=@{upload}", server.url + "/upload-size").status == 0
    result = cli("-d", f"@{upload}", server.url + "/upload-size")
    assert result.out == str(20 * 1024 * 1024).encode()


# -- auth and cookies ----------------------------------------------------------------


def test_basic_auth(server: ServerThread, cli: Run) -> None:
    assert cli("-a", "user:pass", server.url + "/basic-auth").out == b"authenticated"
    assert cli("-a", "user", server.url + "/basic-auth", password="pass").out == b"authenticated"
    result = cli("-a", "user:wrong", "-i", server.url + "/basic-auth")
    assert (result.status, result.out.split(b"\n")[0]) == (0, b"HTTP/1.1 401 Unauthorized")


def test_digest_auth(server: ServerThread, cli: Run) -> None:
    result = cli("-a", "user:pass", "--auth-type", "digest", server.url + "/digest-auth/MD5")
    assert result.out == b"digest ok nc=00000001"


def test_netrc(
    server: ServerThread, cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login user password pass\n")
    monkeypatch.setenv("NETRC", str(netrc))
    assert cli(server.url + "/basic-auth").out == b"authenticated"


def test_cookies_in_and_out(server: ServerThread, cli: Run, tmp_path: Path) -> None:
    data = cli("-b", "a=1; b=2", server.url + "/echo").json()
    assert header(data, "cookie") == ["a=1; b=2"]
    jar = tmp_path / "jar.txt"
    assert cli("-c", str(jar), server.url + "/set-cookie?session=xyz").status == 0
    assert "session\txyz" in jar.read_text()
    assert header(cli("-b", str(jar), server.url + "/echo").json(), "cookie") == ["session=xyz"]
    result = cli("-b", str(tmp_path / "missing"), server.url + "/echo")
    assert "cannot read cookies from" in one_line(result)
    (tmp_path / "bad").write_text("not a cookie file\n")
    result = cli("-b", str(tmp_path / "bad"), server.url + "/echo")
    assert "does not look like a Netscape format cookies file" in one_line(result)
    result = cli("-c", str(tmp_path / "nodir" / "jar"), server.url + "/echo")
    assert result.status == 1
    assert "cannot write cookies to" in one_line(result)


# -- connection options --------------------------------------------------------------


def test_http2_and_http1_flags(h2_server: ServerThread, cli: Run, ca_file: str) -> None:
    result = cli("-v", "--cacert", ca_file, "--http2", h2_server.url + "/echo")
    assert result.json()["http_version"] == "2"
    assert "< HTTP/2 200" in result.err
    if h2_server.url.startswith("https"):
        data = cli("--cacert", ca_file, "--http1", h2_server.url + "/echo").json()
        assert data["http_version"] == "1.1"


def test_tls_verification(tls_server: ServerThread, cli: Run, ca_file: str) -> None:
    result = cli(tls_server.url + "/")
    assert result.status == 2
    assert one_line(result) == (
        f"httpcore: certificate verify failed for {tls_server.url}/: unable to get local issuer"
        " certificate: use --cacert FILE, or --no-verify to skip the check"
    )
    assert cli("--cacert", ca_file, tls_server.url + "/").out == b"Hello, world!"
    assert cli("--no-verify", tls_server.url + "/").out == b"Hello, world!"
    verbose = cli("-v", "-k", tls_server.url + "/").err
    assert "TLSv1.3, TLS_" in verbose


@pytest.fixture(scope="module")
def mtls_server(
    ca: trustme.CA, ca_file: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerThread]:
    import ssl

    from conftest import _tls_files
    from tests.apps import app

    certfile, keyfile = _tls_files(ca, tmp_path_factory.mktemp("mtls"))
    thread = ServerThread(
        app, certfile=certfile, keyfile=keyfile, ca_certs=ca_file, verify_mode=ssl.CERT_REQUIRED
    ).start()
    thread.url = thread.url.replace("http://", "https://")
    yield thread
    thread.stop()


def test_client_certificate(
    mtls_server: ServerThread, cli: Run, ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    leaf = ca.issue_cert("client@example.org")
    combined = tmp_path / "client.pem"
    leaf.private_key_and_cert_chain_pem.write_to_path(str(combined))
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    url = mtls_server.url + "/"
    assert cli("--cacert", ca_file, "--cert", str(combined), url).out == b"Hello, world!"
    assert cli("--cacert", ca_file, "--cert", str(cert), "--key", str(key), url).status == 0
    assert cli("--cacert", ca_file, url).status == 2


def test_connection_refused(cli: Run) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: refused
        result = cli(f"http://127.0.0.1:{port}/x")
    assert result.status == 2
    assert one_line(result) == (
        f"httpcore: could not connect to http://127.0.0.1:{port}/x: connection refused"
    )


def test_read_timeout(server: ServerThread, cli: Run) -> None:
    result = cli("--read-timeout", "0.2", server.url + "/slow?delay=5")
    assert result.status == 2
    assert one_line(result) == (
        f"httpcore: read timed out after 0.2 s waiting for {server.url}/slow?delay=5"
        " (--read-timeout SECONDS to wait longer)"
    )
    result = cli("--timeout", "0.2", server.url + "/slow-body?delay=5")
    assert result.status == 2
    assert result.out == b"first"  # what arrived was written before the timeout
    assert "read timed out after 0.2 s" in one_line(result)


def test_connect_timeout(cli: Run) -> None:
    # A listener that never answers the TLS handshake: the connect timeout covers it.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = cli("--connect-timeout", "0.2", f"https://127.0.0.1:{port}/")
    assert result.status == 2
    assert one_line(result) == (
        f"httpcore: could not connect to https://127.0.0.1:{port}/: timed out after 0.2 s"
        " (--connect-timeout SECONDS to wait longer)"
    )


def test_proxy_flag_reaches_the_client(server: ServerThread, cli: Run) -> None:
    # An unusable proxy URL: refused when the client is made, in one line naming the
    # proxy without its password.
    result = cli("--proxy", "ftp://user:secret@127.0.0.1:9", server.url + "/")
    assert result.status == 1
    line = one_line(result)
    assert line.startswith("httpcore: cannot use the proxy ftp://user:***@127.0.0.1:9: ")
    assert "secret" not in line
    # A scheme-less proxy is http://, as curl takes it; one that refuses connections
    # is a network failure, in one line that names it.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        result = cli("--proxy", f"127.0.0.1:{port}", server.url + "/")
    assert result.status == 2
    line = one_line(result)
    assert f"via the proxy http://127.0.0.1:{port}" in line
    assert "connection refused" in line


def test_proxy_flag_sends_through_a_real_proxy(
    server: ServerThread, cli: Run, tinyproxy: ProxyServer, tinyproxy_auth: ProxyServer
) -> None:
    tinyproxy.mark()
    result = cli("--proxy", tinyproxy.url, server.url + "/")
    assert result.status == 0, result.err
    assert result.out == b"Hello, world!"
    # tinyproxy logged the forwarded request in absolute form.
    assert any(f"GET {server.url}/ HTTP/1.1" in line for line in tinyproxy.new_lines())
    # Credentials in --proxy go to the proxy; without them it answers 407.
    result = cli("--fail", "--proxy", tinyproxy_auth.url, server.url + "/")
    assert result.status == 4
    result = cli("--proxy", tinyproxy_auth.url_with("user:pass"), server.url + "/")
    assert result.status == 0, result.err
    assert result.out == b"Hello, world!"


def test_masked_proxy_urls() -> None:
    from httpcore.cli.build import masked

    assert masked("http://u:p@h:1") == "http://u:***@h:1"
    assert masked("http://u@h:1") == "http://u@h:1"
    assert masked("http://h:1/a:b@c") == "http://h:1/a:b@c"
    assert masked("http://h:1") == "http://h:1"


def test_redirects(server: ServerThread, cli: Run) -> None:
    url = server.url + "/redirect-chain/2"
    result = cli("-i", url)
    heads = [line for line in result.out.split(b"\n") if line.startswith(b"HTTP/")]
    assert heads == [b"HTTP/1.1 302 Found"] * 2 + [b"HTTP/1.1 200 OK"]
    assert result.out.endswith(b"Hello, world!")
    assert cli("--no-follow", "-I", url).out.startswith(b"HTTP/1.1 302 Found\n")
    assert cli("--no-follow", "-L", url).out == b"Hello, world!"
    result = cli("--max-redirects", "1", url)
    assert result.status == 2
    message = one_line(result)
    assert message.startswith(f"httpcore: too many redirects from {server.url}/redirect-chain/1")
    assert message.endswith("(--max-redirects N to allow more)")
    verbose = cli("-v", url).err
    assert verbose.count("* redirect to ") == 2


def test_protocol_error(cli: Run) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        import threading

        def answer() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")

        thread = threading.Thread(target=answer)
        thread.start()
        result = cli(f"http://127.0.0.1:{port}/")
        thread.join(10)
    assert result.status == 2
    assert one_line(result).startswith(
        f"httpcore: the server broke the HTTP protocol at http://127.0.0.1:{port}/:"
    )


# -- output --------------------------------------------------------------------------


def test_include_and_head(server: ServerThread, cli: Run) -> None:
    out = cli("-i", server.url + "/").out
    head, _, body = out.partition(b"\n\n")
    assert head.split(b"\n")[0] == b"HTTP/1.1 200 OK"
    assert b"content-type: text/plain" in head
    assert body == b"Hello, world!"
    result = cli("-I", server.url + "/echo")
    assert result.out.startswith(b"HTTP/1.1 200 OK\n")
    assert result.out.endswith(b"\n\n")


def test_fail(server: ServerThread, cli: Run) -> None:
    result = cli("--fail", server.url + "/status/404")
    assert (result.status, result.out) == (4, b"")
    assert one_line(result) == f"httpcore: HTTP 404 Not Found from {server.url}/status/404"
    assert cli("-f", server.url + "/status/503").status == 5
    assert cli(server.url + "/status/404").status == 0
    assert cli("--fail", server.url + "/").status == 0


def test_verbose(server: ServerThread, cli: Run) -> None:
    result = cli("-v", "-a", "user:pass", "-d", "x=1", server.url + "/basic-auth")
    assert result.out == b"authenticated"
    lines = result.err.splitlines()
    assert lines[0] == f"* {server.url}: HTTP/1.1"
    assert lines[1] == "> POST /basic-auth HTTP/1.1"
    assert "> Authorization: Basic ..." in lines  # never the credentials
    assert "> [3 bytes of body]" in lines
    assert "< HTTP/1.1 200 OK" in lines
    assert lines[-1] == "* 13 bytes in " + lines[-1].split(" in ")[1]
    # A request that fails before an answer is still shown.
    failed = cli("-v", "http://127.0.0.1:1/")
    assert failed.err.splitlines()[0] == "> GET /"


def test_traceback_option(cli: Run) -> None:
    from httpcore import ConnectError

    with pytest.raises(ConnectError):
        cli("--traceback", "http://127.0.0.1:1/")
    from httpcore.cli.errors import UsageError

    with pytest.raises(UsageError):
        cli("--traceback", "-H", "bad", "http://127.0.0.1:1/")


def test_version_and_help(cli: Run) -> None:
    result = cli("--version")
    lines = result.out.decode().splitlines()
    assert result.status == 0
    assert lines[0].startswith("httpcore ")
    assert [line.split()[0] for line in lines[1:4]] == ["Python", "trio", "h11"]
    assert any(line.startswith("h2 ") for line in lines)
    assert lines[-1].startswith("OpenSSL")
    result = cli("--help")
    assert result.status == 0
    assert b"examples:" in result.out
    assert b"exit status: 0 ok, 1 usage" in result.out


def test_broken_pipe_is_quiet(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    stdout = open(write_end, "w")  # noqa: SIM115
    monkeypatch.setattr("sys.stdout", stdout)
    try:
        assert main([server.url + "/bytes/100000"]) == 1
    finally:
        stdout.close()
    assert capsys.readouterr().err == ""


def test_interrupted_password_prompt(
    server: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupt(prompt: str) -> str:
        raise KeyboardInterrupt

    assert main(["-a", "user", server.url + "/"], ask_password=interrupt) == 130
    assert capsys.readouterr().err == ""


def test_other_errors_propagate(server: ServerThread) -> None:
    def broken(prompt: str) -> str:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError):
        main(["-a", "user", server.url + "/"], ask_password=broken)


def test_option_details(server: ServerThread, cli: Run) -> None:
    assert cli("--timeout", "none", server.url + "/").status == 0
    data = cli("-H", "Accept: text/x", server.url + "/echo", "a=1", "X-Not-Sent:").json()
    assert header(data, "accept") == ["text/x"]
    data = cli(
        "-H", "Content-Type: application/x+json", "-H", "Accept: a/b", "--json", "1",
        server.url + "/echo",
    ).json()  # fmt: skip
    assert (header(data, "content-type"), header(data, "accept")) == (
        ["application/x+json"],
        ["a/b"],
    )
    assert header(cli("-b", "a=1;; b", server.url + "/echo").json(), "cookie") == ["a=1; b="]


def test_is_interrupt() -> None:
    from httpcore.cli.main import _is_interrupt

    assert _is_interrupt(BaseExceptionGroup("", [KeyboardInterrupt(), KeyboardInterrupt()]))
    assert not _is_interrupt(BaseExceptionGroup("", [KeyboardInterrupt(), ValueError()]))


def _raised_from(error: Exception, cause: BaseException) -> Exception:
    """`error` raised from `cause` as the library does (`raise error from cause` in an except)."""
    try:
        try:
            raise cause
        except BaseException as exc:
            raise error from exc
    except Exception as final:
        return final


def test_describe_every_failure() -> None:
    import errno

    import httpcore
    from httpcore.cli.errors import describe

    url = "http://h.test/"
    config = httpcore.TimeoutConfig(1.5, pool_timeout=None)
    cases: list[tuple[Exception, str]] = [
        (
            _raised_from(
                httpcore.ConnectError("x"), socket.gaierror(-2, "Name or service not known")
            ),
            "could not connect to http://h.test/: could not resolve the host name",
        ),
        (
            _raised_from(httpcore.ConnectError("x"), OSError(errno.ENETUNREACH, "unreachable")),
            "could not connect to http://h.test/: network unreachable",
        ),
        (
            _raised_from(httpcore.ConnectError("reset by peer"), ConnectionResetError(104, "")),
            "could not connect to http://h.test/: reset by peer",
        ),
        (httpcore.WriteTimeout("x"), "write timed out after 1.5 s sending to http://h.test/"),
        (
            httpcore.PoolTimeout("x"),
            "timed out after no limit waiting for a connection to http://h.test/",
        ),
        (
            httpcore.ProxyError("407 from proxy"),
            "the proxy failed for http://h.test/: 407 from proxy",
        ),
        (httpcore.LocalProtocolError("bad"), "invalid request to http://h.test/: bad"),
        (
            httpcore.DecodingError("corrupt gzip"),
            "could not decode the response body of http://h.test/: corrupt gzip",
        ),
        (httpcore.ReadError("reset"), "request to http://h.test/ failed: reset"),
        (httpcore.ResponseClosed("closed"), "request to http://h.test/ failed: closed"),
    ]
    for error, expected in cases:
        assert describe(error, url, config) == expected  # type: ignore[arg-type]
    proxy = "http://127.0.0.1:3128"
    assert describe(httpcore.ProxyError("407"), url, config, proxy) == (
        "the proxy http://127.0.0.1:3128 failed for http://h.test/: 407"
    )
    refused = _raised_from(httpcore.ConnectError("x"), ConnectionRefusedError(111, "refused"))
    assert describe(refused, url, config, proxy) == (  # type: ignore[arg-type]
        "could not connect to http://h.test/ via the proxy http://127.0.0.1:3128:"
        " connection refused"
    )


def test_write_timeout(cli: Run, tmp_path: Path) -> None:
    # A server that accepts and never reads: the upload stalls once the buffers are full.
    import threading

    upload = tmp_path / "upload.bin"
    with open(upload, "wb") as file:
        file.truncate(64 * 1024 * 1024)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        accepted: list[socket.socket] = []
        thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]))
        thread.start()
        result = cli("--write-timeout", "0.2", "-d", f"@{upload}", f"http://127.0.0.1:{port}/up")
        thread.join(10)
        accepted[0].close()
    assert result.status == 2
    assert one_line(result) == (
        f"httpcore: write timed out after 0.2 s sending to http://127.0.0.1:{port}/up"
    )


def test_proxy_from_the_environment(
    server: ServerThread, cli: Run, tinyproxy: ProxyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", tinyproxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    tinyproxy.mark()
    result = cli(server.url + "/")
    assert result.status == 0, result.err
    assert any(f"GET {server.url}/ HTTP/1.1" in line for line in tinyproxy.new_lines())
    # NO_PROXY sends it direct again.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    tinyproxy.mark()
    assert cli(server.url + "/").status == 0
    assert not any("GET " in line for line in tinyproxy.new_lines())
