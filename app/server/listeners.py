"""Listening sockets bound before serving: the relay's two ports and HTTPS (uvicorn binds plain HTTP)."""

from __future__ import annotations

import socket


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind and listen on `host:port` (0 picks a free port); workers receive it from the parent."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(socket.SOMAXCONN)
    except BaseException:
        sock.close()
        raise
    return sock
