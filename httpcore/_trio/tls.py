"""TLS settings and the ``ssl.SSLContext`` they build.

``SSLConfig`` is plain data; ``SSLConfig.load_ssl_context()`` builds the
context. Loading a CA bundle costs tens of milliseconds, so contexts are built
once per distinct configuration and kept in a module-level cache;
constructing an ``SSLConfig`` (and so a client) does no I/O at all.

Cached contexts are shared by every client with the same settings: callers
must treat them as read-only.
"""

from __future__ import annotations

import os
import ssl
import threading
from dataclasses import dataclass

import certifi

__all__ = ["CertTypes", "SSLConfig", "VerifyTypes"]

_Path = str | os.PathLike[str]
CertTypes = _Path | tuple[_Path, _Path] | tuple[_Path, _Path, str | bytes | None]
VerifyTypes = bool | _Path | ssl.SSLContext


# (verify, cert, http2, (SSL_CERT_FILE, SSL_CERT_DIR), SSLKEYLOGFILE), paths made absolute.
_CacheKey = tuple[
    bool | str,
    tuple[str, str | None, str | bytes | None] | None,
    bool,
    tuple[str | None, str | None] | None,
    str | None,
]

_CACHE_SIZE = 64
_context_cache: dict[_CacheKey, ssl.SSLContext] = {}
_cache_lock = threading.Lock()


def _is_path(value: object) -> bool:
    return isinstance(value, (str, os.PathLike)) and isinstance(os.fspath(value), str)


def _abspath(value: _Path) -> str:
    # Made absolute so that a cached context never outlives a change of directory.
    return os.path.abspath(os.fspath(value))


def _env(name: str) -> str | None:
    # An empty variable counts as unset.
    return os.environ.get(name) or None


@dataclass(frozen=True, slots=True)
class SSLConfig:
    """TLS settings for https connections; ``load_ssl_context()`` builds the context.

    - ``verify``: ``True`` checks servers against certifi's CA bundle (with
      ``trust_env``, an existing ``SSL_CERT_FILE`` file and/or ``SSL_CERT_DIR``
      directory replace it); ``False`` checks nothing; a path names a CA file
      or a hashed CA directory; an ``ssl.SSLContext`` is used as is.
    - ``cert``: a client certificate: a path to a PEM holding cert and key,
      ``(cert, key)`` or ``(cert, key, password)``.
    - ``trust_env``: honour ``SSL_CERT_FILE``, ``SSL_CERT_DIR`` and
      ``SSLKEYLOGFILE``.
    - ``http2``: offer ``h2`` before ``http/1.1`` by ALPN.

    Construction does no I/O; it raises ``TypeError`` for values of the wrong
    type and ``ValueError`` for a ``cert`` tuple of the wrong length.
    """

    verify: VerifyTypes = True
    cert: CertTypes | None = None
    trust_env: bool = True
    http2: bool = True

    def __post_init__(self) -> None:
        verify: object = self.verify
        if not isinstance(verify, (bool, ssl.SSLContext)) and not _is_path(verify):
            raise TypeError(
                f"verify must be True, False, a CA path or an ssl.SSLContext, not {verify!r}"
            )
        cert: object = self.cert
        if cert is None or _is_path(cert):
            return
        if not isinstance(cert, tuple):
            raise TypeError(f"cert must be a path or a tuple, not {cert!r}")
        if len(cert) not in (2, 3):
            raise ValueError(
                f"cert must be (cert, key) or (cert, key, password), not a {len(cert)}-tuple"
            )
        if not (_is_path(cert[0]) and _is_path(cert[1])):
            raise TypeError(f"the certificate and key in cert must be paths, not {cert!r}")
        if len(cert) == 3 and not isinstance(cert[2], (str, bytes, type(None))):
            raise TypeError(f"the password in cert must be str, bytes or None, not {cert[2]!r}")

    def load_ssl_context(self) -> ssl.SSLContext:
        """Return the ``ssl.SSLContext`` for these settings, built once and cached.

        Every context requires TLS 1.2 or newer, disables TLS compression and
        offers ``["h2", "http/1.1"]`` (or ``["http/1.1"]`` without ``http2``)
        by ALPN; unless ``verify`` is ``False`` it checks the certificate
        chain and the hostname. An ``ssl.SSLContext`` given as ``verify`` is
        returned as is, only with ALPN set on it, and is not cached.

        Equal settings (and, with ``trust_env``, the same values of the TLS
        environment variables) give the same shared context object, which
        must not be modified. A CA file edited after it was loaded is not
        reloaded.

        Raises ``ValueError`` when a CA path does not exist, when a CA,
        certificate or key file cannot be loaded (wrong password, not PEM),
        or when ``SSLKEYLOGFILE`` cannot be opened; the original error is
        the ``__cause__``.
        """
        if isinstance(self.verify, ssl.SSLContext):
            self.verify.set_alpn_protocols(self._alpn_protocols())
            return self.verify
        key = self._cache_key()
        # One lock for lookups and builds, so that threads asking for the same
        # configuration at once share one context; an uncontended lock is cheap.
        with _cache_lock:
            context = _context_cache.get(key)
            if context is None:
                context = self._build(key)
                if len(_context_cache) >= _CACHE_SIZE:
                    # Drop the oldest entry; a process rarely has this many configurations.
                    del _context_cache[next(iter(_context_cache))]
                _context_cache[key] = context
        return context

    def _alpn_protocols(self) -> list[str]:
        return ["h2", "http/1.1"] if self.http2 else ["http/1.1"]

    def _cache_key(self) -> _CacheKey:
        verify = self.verify
        assert not isinstance(verify, ssl.SSLContext)
        verify_key: bool | str = verify if isinstance(verify, bool) else _abspath(verify)
        cert_key: tuple[str, str | None, str | bytes | None] | None
        if self.cert is None:
            cert_key = None
        elif isinstance(self.cert, tuple):
            password = self.cert[2] if len(self.cert) == 3 else None
            cert_key = (_abspath(self.cert[0]), _abspath(self.cert[1]), password)
        else:
            cert_key = (_abspath(self.cert), None, None)
        ca_env = None
        keylog = None
        if self.trust_env:
            if verify is True:
                ca_env = (_env("SSL_CERT_FILE"), _env("SSL_CERT_DIR"))
            keylog = _env("SSLKEYLOGFILE")
        return (verify_key, cert_key, self.http2, ca_env, keylog)

    def _build(self, key: _CacheKey) -> ssl.SSLContext:
        verify, cert, _, ca_env, keylog = key
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.options |= ssl.OP_NO_COMPRESSION
        context.set_alpn_protocols(self._alpn_protocols())
        if verify is False:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            # PROTOCOL_TLS_CLIENT already sets CERT_REQUIRED and check_hostname.
            cafile, capath = _ca_locations(verify, ca_env)
            try:
                context.load_verify_locations(cafile=cafile, capath=capath)
            except (OSError, ssl.SSLError) as exc:
                raise ValueError(
                    f"could not load the CA certificates from {cafile or capath!r}: {exc}"
                ) from exc
        if cert is not None:
            certfile, keyfile, password = cert
            try:
                context.load_cert_chain(certfile, keyfile, password)
            except (OSError, ssl.SSLError) as exc:
                raise ValueError(
                    f"could not load the client certificate {certfile!r}: {exc}"
                ) from exc
        if keylog is not None:
            try:
                context.keylog_filename = keylog
            except OSError as exc:
                raise ValueError(f"could not open SSLKEYLOGFILE {keylog!r}: {exc}") from exc
        return context


def _ca_locations(
    verify: bool | str, ca_env: tuple[str | None, str | None] | None
) -> tuple[str | None, str | None]:
    """Return ``(cafile, capath)`` to load for a ``verify`` other than ``False``."""
    if isinstance(verify, str):
        if os.path.isfile(verify):
            return verify, None
        if os.path.isdir(verify):
            return None, verify
        raise ValueError(f"could not find a CA bundle (file or directory) at {verify!r}")
    if ca_env is not None:
        env_file, env_dir = ca_env
        cafile = env_file if env_file is not None and os.path.isfile(env_file) else None
        capath = env_dir if env_dir is not None and os.path.isdir(env_dir) else None
        if cafile is not None or capath is not None:
            return cafile, capath
    return certifi.where(), None
