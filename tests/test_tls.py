"""SSLConfig: verification, client certificates, the TLS environment and the context cache."""

from __future__ import annotations

import pathlib
import shutil
import ssl
import subprocess
import threading
import warnings

import certifi
import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from httpcore._core.config import PoolLimits
from httpcore._trio.tls import SSLConfig

HOST = "example.org"
TLS_ENV = ("SSL_CERT_FILE", "SSL_CERT_DIR", "SSLKEYLOGFILE")

# --- TLS fixtures and helpers --------------------------------------------------------------


@pytest.fixture(autouse=True)
def clean_tls_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The machine running the tests may set these; each test sets what it needs.
    for name in TLS_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(HOST).configure_cert(context)
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def hashed_ca_dir(ca: trustme.CA, directory: pathlib.Path) -> pathlib.Path:
    """A CA directory in OpenSSL's hashed layout (``<subject hash>.0``)."""
    openssl = shutil.which("openssl")
    if openssl is None:  # pragma: no cover - the openssl tool is on every CI image we use
        pytest.skip("needs the openssl command to hash a CA directory")
    directory.mkdir()
    pem = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    digest = subprocess.run(
        [openssl, "x509", "-hash", "-noout", "-in", str(pem)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    pem.rename(directory / f"{digest}.0")
    return directory


def subject_alt_names(tls: ssl.SSLObject) -> object:
    peer = tls.getpeercert()
    assert peer is not None
    return peer["subjectAltName"]


def handshake(
    client_context: ssl.SSLContext, server_context: ssl.SSLContext, hostname: str = HOST
) -> tuple[ssl.SSLObject, ssl.SSLObject]:
    """Run a TLS handshake in memory; raises the ssl error of either side."""
    client_in, client_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    server_in, server_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_context.wrap_bio(client_in, client_out, server_hostname=hostname)
    server = server_context.wrap_bio(server_in, server_out, server_side=True)
    client_done = server_done = False
    for _ in range(10):
        if not client_done:
            try:
                client.do_handshake()
                client_done = True
            except ssl.SSLWantReadError:
                pass
        server_in.write(client_out.read())
        if not server_done:
            try:
                server.do_handshake()
                server_done = True
            except ssl.SSLWantReadError:
                pass
        client_in.write(server_out.read())
        if client_done and server_done:
            return client, server
    raise AssertionError("handshake did not finish")  # pragma: no cover


# --- SSLConfig: verify ---------------------------------------------------------------------


def test_ssl_config_is_frozen_hashable_and_lazy(tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "missing.pem"
    config = SSLConfig(verify=str(missing), cert=(missing, missing, "pw"))  # no I/O here
    assert config == SSLConfig(verify=str(missing), cert=(missing, missing, "pw"))
    assert hash(config) == hash(SSLConfig(verify=str(missing), cert=(missing, missing, "pw")))
    with pytest.raises(AttributeError):
        config.verify = False  # type: ignore[misc]
    with pytest.raises(ValueError, match="could not find a CA bundle"):
        config.load_ssl_context()


def test_default_context_settings() -> None:
    context = SSLConfig(trust_env=False).load_ssl_context()
    assert context.protocol == ssl.PROTOCOL_TLS_CLIENT
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.options & ssl.OP_NO_COMPRESSION
    assert context.keylog_filename is None
    # certifi's bundle holds over a hundred roots.
    assert context.cert_store_stats()["x509_ca"] > 100


def test_verify_true_uses_certifi_not_test_ca(server_context: ssl.SSLContext) -> None:
    context = SSLConfig().load_ssl_context()
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
        handshake(context, server_context)
    # The same store as certifi's file gives.
    reference = ssl.create_default_context(cafile=certifi.where())
    assert context.cert_store_stats() == reference.cert_store_stats()


@pytest.mark.parametrize("http2", [True, False])
def test_verify_ca_file_handshake_and_alpn(
    server_context: ssl.SSLContext, ca_file: pathlib.Path, http2: bool
) -> None:
    context = SSLConfig(verify=ca_file, http2=http2).load_ssl_context()
    client, server = handshake(context, server_context)
    expected = "h2" if http2 else "http/1.1"
    assert client.selected_alpn_protocol() == expected
    assert server.selected_alpn_protocol() == expected
    assert client.version() == "TLSv1.3"
    assert subject_alt_names(client) == (("DNS", HOST),)


def test_verify_ca_file_as_str(server_context: ssl.SSLContext, ca_file: pathlib.Path) -> None:
    client, _ = handshake(SSLConfig(verify=str(ca_file)).load_ssl_context(), server_context)
    assert client.selected_alpn_protocol() == "h2"


def test_verify_checks_hostname(server_context: ssl.SSLContext, ca_file: pathlib.Path) -> None:
    context = SSLConfig(verify=ca_file).load_ssl_context()
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        handshake(context, server_context, hostname="other.example")


def test_verify_wrong_ca_fails(server_context: ssl.SSLContext, tmp_path: pathlib.Path) -> None:
    other = tmp_path / "other.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    context = SSLConfig(verify=other).load_ssl_context()
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
        handshake(context, server_context)


def test_verify_ca_directory(
    ca: trustme.CA, server_context: ssl.SSLContext, tmp_path: pathlib.Path
) -> None:
    directory = hashed_ca_dir(ca, tmp_path / "cas")
    client, _ = handshake(SSLConfig(verify=directory).load_ssl_context(), server_context)
    assert client.selected_alpn_protocol() == "h2"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(SSLConfig(verify=empty).load_ssl_context(), server_context)


def test_verify_false_checks_nothing(server_context: ssl.SSLContext) -> None:
    context = SSLConfig(verify=False).load_ssl_context()
    assert context.verify_mode == ssl.CERT_NONE
    assert context.check_hostname is False
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    client, _ = handshake(context, server_context, hostname="wrong.example")
    assert client.selected_alpn_protocol() == "h2"
    assert client.getpeercert() == {}


@pytest.mark.parametrize("http2", [True, False])
def test_verify_ssl_context_is_used_as_is(
    ca: trustme.CA, server_context: ssl.SSLContext, http2: bool
) -> None:
    own = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(own)
    config = SSLConfig(verify=own, http2=http2)
    assert config.load_ssl_context() is own
    assert config.load_ssl_context() is own
    client, _ = handshake(own, server_context)
    assert client.selected_alpn_protocol() == ("h2" if http2 else "http/1.1")


def test_tls_below_1_2_is_refused(ca: trustme.CA, ca_file: pathlib.Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old_server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        old_server.set_ciphers("DEFAULT:@SECLEVEL=0")
        old_server.minimum_version = old_server.maximum_version = ssl.TLSVersion.TLSv1_1
        permissive = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        permissive.set_ciphers("DEFAULT:@SECLEVEL=0")
        permissive.minimum_version = ssl.TLSVersion.TLSv1
    ca.issue_cert(HOST).configure_cert(old_server)
    ca.configure_trust(permissive)
    client, _ = handshake(permissive, old_server)  # the server works for an old client...
    assert client.version() == "TLSv1.1"
    with pytest.raises(ssl.SSLError):  # ...but not for ours
        handshake(SSLConfig(verify=ca_file).load_ssl_context(), old_server)


def test_tls_1_2_server_is_accepted(ca: trustme.CA, ca_file: pathlib.Path) -> None:
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.maximum_version = ssl.TLSVersion.TLSv1_2
    server.set_alpn_protocols(["http/1.1"])
    ca.issue_cert(HOST).configure_cert(server)
    client, _ = handshake(SSLConfig(verify=ca_file).load_ssl_context(), server)
    assert client.version() == "TLSv1.2"
    assert client.selected_alpn_protocol() == "http/1.1"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("not a certificate\n", "could not load the CA certificates"),
        ("", "could not load the CA certificates"),
    ],
)
def test_verify_bad_ca_file(tmp_path: pathlib.Path, content: str, match: str) -> None:
    path = tmp_path / "bad.pem"
    path.write_text(content)
    with pytest.raises(ValueError, match=match) as info:
        SSLConfig(verify=path).load_ssl_context()
    assert isinstance(info.value.__cause__, ssl.SSLError)


def test_verify_missing_path(tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ValueError, match=r"could not find a CA bundle .* at '.*nope'"):
        SSLConfig(verify=missing).load_ssl_context()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"verify": 1}, TypeError, "verify must be"),
        ({"verify": None}, TypeError, "verify must be"),
        ({"verify": b"/etc/ssl"}, TypeError, "verify must be"),
        ({"cert": 123}, TypeError, "cert must be a path or a tuple"),
        ({"cert": ["a", "b"]}, TypeError, "cert must be a path or a tuple"),
        ({"cert": ("a",)}, ValueError, "not a 1-tuple"),
        ({"cert": ("a", "b", "c", "d")}, ValueError, "not a 4-tuple"),
        ({"cert": ("a", 1)}, TypeError, "must be paths"),
        ({"cert": (1, "b")}, TypeError, "must be paths"),
        ({"cert": ("a", "b", 1)}, TypeError, "password in cert"),
    ],
)
def test_ssl_config_type_errors(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        SSLConfig(**kwargs)  # type: ignore[arg-type]


# --- SSLConfig: client certificates --------------------------------------------------------


@pytest.fixture(scope="module")
def client_cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("client@example.org")


@pytest.fixture
def mtls_server(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(HOST).configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def encrypted_key(leaf: trustme.LeafCert, password: bytes) -> bytes:
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )


@pytest.mark.parametrize(
    "form", ["combined", "combined-str", "pair", "pair-none", "str-pw", "bytes-pw"]
)
def test_client_cert_forms(
    form: str,
    client_cert: trustme.LeafCert,
    mtls_server: ssl.SSLContext,
    ca_file: pathlib.Path,
    tmp_path: pathlib.Path,
) -> None:
    combined = tmp_path / "client.pem"
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(combined))
    cert_file = tmp_path / "cert.pem"
    client_cert.cert_chain_pems[0].write_to_path(str(cert_file))
    key_file = tmp_path / "key.pem"
    client_cert.private_key_pem.write_to_path(str(key_file))
    locked_key = tmp_path / "locked.pem"
    locked_key.write_bytes(encrypted_key(client_cert, b"s3cret"))
    cert = {
        "combined": combined,
        "combined-str": str(combined),
        "pair": (cert_file, str(key_file)),
        "pair-none": (str(cert_file), key_file, None),
        "str-pw": (cert_file, locked_key, "s3cret"),
        "bytes-pw": (cert_file, locked_key, b"s3cret"),
    }[form]
    context = SSLConfig(verify=ca_file, cert=cert).load_ssl_context()  # type: ignore[arg-type]
    _, server = handshake(context, mtls_server)
    assert subject_alt_names(server) == (("email", "client@example.org"),)


def test_no_client_cert_is_refused_by_mtls_server(
    mtls_server: ssl.SSLContext, ca_file: pathlib.Path
) -> None:
    with pytest.raises(ssl.SSLError, match="PEER_DID_NOT_RETURN_A_CERTIFICATE"):
        handshake(SSLConfig(verify=ca_file).load_ssl_context(), mtls_server)


def test_client_cert_errors(client_cert: trustme.LeafCert, tmp_path: pathlib.Path) -> None:
    cert_file = tmp_path / "cert.pem"
    client_cert.cert_chain_pems[0].write_to_path(str(cert_file))
    locked_key = tmp_path / "locked.pem"
    locked_key.write_bytes(encrypted_key(client_cert, b"right"))

    with pytest.raises(ValueError, match="could not load the client certificate") as info:
        SSLConfig(verify=False, cert=(cert_file, locked_key, "wrong")).load_ssl_context()
    assert isinstance(info.value.__cause__, ssl.SSLError)

    with pytest.raises(ValueError, match="could not load the client certificate") as info:
        SSLConfig(verify=False, cert=tmp_path / "missing.pem").load_ssl_context()
    assert isinstance(info.value.__cause__, FileNotFoundError)

    # A certificate without its key.
    with pytest.raises(ValueError, match="could not load the client certificate"):
        SSLConfig(verify=False, cert=cert_file).load_ssl_context()


# --- SSLConfig: environment ----------------------------------------------------------------


@pytest.mark.parametrize("trust_env", [True, False])
def test_ssl_cert_file(
    monkeypatch: pytest.MonkeyPatch,
    server_context: ssl.SSLContext,
    ca_file: pathlib.Path,
    trust_env: bool,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    context = SSLConfig(trust_env=trust_env).load_ssl_context()
    if trust_env:
        client, _ = handshake(context, server_context)
        assert client.selected_alpn_protocol() == "h2"
        assert context.cert_store_stats()["x509_ca"] == 1  # replaces certifi
    else:
        with pytest.raises(ssl.SSLCertVerificationError):
            handshake(context, server_context)


@pytest.mark.parametrize("trust_env", [True, False])
def test_ssl_cert_dir(
    monkeypatch: pytest.MonkeyPatch,
    ca: trustme.CA,
    server_context: ssl.SSLContext,
    tmp_path: pathlib.Path,
    trust_env: bool,
) -> None:
    monkeypatch.setenv("SSL_CERT_DIR", str(hashed_ca_dir(ca, tmp_path / "cas")))
    context = SSLConfig(trust_env=trust_env).load_ssl_context()
    if trust_env:
        client, _ = handshake(context, server_context)
        assert client.selected_alpn_protocol() == "h2"
    else:
        with pytest.raises(ssl.SSLCertVerificationError):
            handshake(context, server_context)


def test_ssl_cert_file_and_dir_both_used(
    monkeypatch: pytest.MonkeyPatch, ca: trustme.CA, ca_file: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    other_ca = trustme.CA()
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    monkeypatch.setenv("SSL_CERT_DIR", str(hashed_ca_dir(other_ca, tmp_path / "cas")))
    context = SSLConfig().load_ssl_context()
    for issuer in (ca, other_ca):
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        issuer.issue_cert(HOST).configure_cert(server)
        client, _ = handshake(context, server)
        assert subject_alt_names(client) == (("DNS", HOST),)


@pytest.mark.parametrize(
    ("file_value", "dir_value"),
    [("missing.pem", "missing-dir"), ("", ""), ("cas", "ca.pem")],
)
def test_unusable_ssl_cert_env_falls_back_to_certifi(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: pathlib.Path,
    ca_file: pathlib.Path,
    server_context: ssl.SSLContext,
    file_value: str,
    dir_value: str,
) -> None:
    (tmp_path / "cas").mkdir()
    # A directory in SSL_CERT_FILE or a file in SSL_CERT_DIR is ignored too.
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / file_value) if file_value else "")
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / dir_value) if dir_value else "")
    context = SSLConfig().load_ssl_context()
    assert context.cert_store_stats()["x509_ca"] > 100
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(context, server_context)


def test_ssl_cert_env_does_not_override_explicit_verify(
    monkeypatch: pytest.MonkeyPatch, ca_file: pathlib.Path, server_context: ssl.SSLContext
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    client, _ = handshake(SSLConfig(verify=ca_file).load_ssl_context(), server_context)
    assert client.selected_alpn_protocol() == "h2"


def test_sslkeylogfile(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: pathlib.Path,
    ca_file: pathlib.Path,
    server_context: ssl.SSLContext,
) -> None:
    keylog = tmp_path / "keys.log"
    monkeypatch.setenv("SSLKEYLOGFILE", str(keylog))

    ignored = SSLConfig(verify=ca_file, trust_env=False).load_ssl_context()
    assert ignored.keylog_filename is None
    handshake(ignored, server_context)
    assert not keylog.exists()

    context = SSLConfig(verify=ca_file).load_ssl_context()
    assert context.keylog_filename == str(keylog)
    handshake(context, server_context)
    assert "CLIENT_HANDSHAKE_TRAFFIC_SECRET" in keylog.read_text()


def test_sslkeylogfile_unwritable(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.setenv("SSLKEYLOGFILE", str(tmp_path / "no-such-dir" / "keys.log"))
    with pytest.raises(ValueError, match="could not open SSLKEYLOGFILE") as info:
        SSLConfig(verify=False).load_ssl_context()
    assert isinstance(info.value.__cause__, OSError)
    assert SSLConfig(verify=False, trust_env=False).load_ssl_context().keylog_filename is None


# --- SSLConfig: caching --------------------------------------------------------------------


def test_equal_configs_share_one_context(
    monkeypatch: pytest.MonkeyPatch, ca_file: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    assert SSLConfig().load_ssl_context() is SSLConfig().load_ssl_context()
    assert SSLConfig(verify=False).load_ssl_context() is SSLConfig(verify=False).load_ssl_context()
    by_path = SSLConfig(verify=ca_file).load_ssl_context()
    assert SSLConfig(verify=str(ca_file)).load_ssl_context() is by_path
    # Relative and absolute spellings of one file share a context.
    monkeypatch.chdir(tmp_path)
    assert SSLConfig(verify="ca.pem").load_ssl_context() is by_path


def test_relative_path_follows_working_directory(
    monkeypatch: pytest.MonkeyPatch,
    ca: trustme.CA,
    tmp_path: pathlib.Path,
    server_context: ssl.SSLContext,
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    ca.cert_pem.write_to_path(str(one / "ca.pem"))
    trustme.CA().cert_pem.write_to_path(str(two / "ca.pem"))
    monkeypatch.chdir(one)
    first = SSLConfig(verify="ca.pem").load_ssl_context()
    handshake(first, server_context)
    monkeypatch.chdir(two)
    second = SSLConfig(verify="ca.pem").load_ssl_context()
    assert second is not first
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(second, server_context)


@pytest.mark.parametrize(
    "other",
    [SSLConfig(http2=False), SSLConfig(verify=False), SSLConfig(trust_env=False)],
    ids=["http2", "verify", "trust_env"],
)
def test_different_configs_get_different_contexts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path, other: SSLConfig
) -> None:
    monkeypatch.setenv("SSLKEYLOGFILE", str(tmp_path / "keys.log"))
    assert other.load_ssl_context() is not SSLConfig().load_ssl_context()


def test_env_change_gives_new_context(
    monkeypatch: pytest.MonkeyPatch, ca_file: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    plain = SSLConfig().load_ssl_context()
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with_file = SSLConfig().load_ssl_context()
    assert with_file is not plain
    assert SSLConfig().load_ssl_context() is with_file
    assert SSLConfig(trust_env=False).load_ssl_context() is not with_file

    monkeypatch.setenv("SSLKEYLOGFILE", str(tmp_path / "keys.log"))
    with_keylog = SSLConfig().load_ssl_context()
    assert with_keylog is not with_file
    assert with_keylog.keylog_filename == str(tmp_path / "keys.log")

    monkeypatch.delenv("SSL_CERT_FILE")
    monkeypatch.delenv("SSLKEYLOGFILE")
    assert SSLConfig().load_ssl_context() is plain
    # SSL_CERT_FILE is not part of the key when verify is explicit.
    explicit = SSLConfig(verify=ca_file).load_ssl_context()
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    assert SSLConfig(verify=ca_file).load_ssl_context() is explicit


def test_cache_is_bounded(tmp_path: pathlib.Path) -> None:
    first = tmp_path / "dir0"
    first.mkdir()
    first_context = SSLConfig(verify=first).load_ssl_context()
    assert SSLConfig(verify=first).load_ssl_context() is first_context
    for index in range(1, 70):
        directory = tmp_path / f"dir{index}"
        directory.mkdir()
        SSLConfig(verify=directory).load_ssl_context()
    # The oldest entry was evicted, so it is built afresh.
    assert SSLConfig(verify=first).load_ssl_context() is not first_context


def test_concurrent_loads_share_one_context(ca_file: pathlib.Path) -> None:
    barrier = threading.Barrier(8)
    results: list[ssl.SSLContext] = []

    def load() -> None:
        barrier.wait()
        results.append(SSLConfig(verify=ca_file, http2=False).load_ssl_context())

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert all(context is results[0] for context in results)


@pytest.mark.parametrize(
    ("soft", "hard", "expected"), [(11, 10, 10), (10, 1, 1), (3, 10, 3), (0, 5, 0)]
)
def test_pool_limits_soft_limit_is_clamped_to_hard_limit(
    soft: int, hard: int, expected: int
) -> None:
    assert PoolLimits(soft_limit=soft, hard_limit=hard).soft_limit == expected
