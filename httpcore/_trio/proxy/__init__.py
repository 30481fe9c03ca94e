"""Connections through proxies: forwarding, CONNECT tunnels, HTTPS proxies, SOCKS5.

The pure parts (which proxy a URL takes, NO_PROXY, the CONNECT and SOCKS5
handshakes) are in `httpcore._core.proxies` and `httpcore._core.tunnels`;
this package does their I/O.
"""

from .connect import ProxyRoute, connect_to_proxy, open_tunnel

__all__ = ["ProxyRoute", "connect_to_proxy", "open_tunnel"]
