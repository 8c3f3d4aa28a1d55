"""Serve the UI with uvicorn on a socket bound here, so port 0 works (the
port is known before serving) and the address record names the real port."""

from __future__ import annotations

import signal
import socket
import sys

from . import address


class PortInUse(Exception):
    pass


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(datastore: str, host: str, port: int) -> int:
    import uvicorn

    from .app import create_app
    from .views import log_to_stderr

    try:
        sock = bind(host, port)
    except PortInUse as exc:
        hint = " (choose another with --port, or --port 0 for a free one)" if port else ""
        print(f"flowc ui: {exc}{hint}", file=sys.stderr)
        return 2
    port = sock.getsockname()[1]
    app = create_app(datastore, host)
    store = app.state.store
    recorded = True
    try:
        store.storage.check() if not store.present() else None  # a new local datastore: made, so runs can find us
        address.publish(store.storage, host, port)
    except Exception as exc:  # read-only access is enough to browse
        recorded = False
        print(f"flowc ui: note: cannot record the address in {store.where} ({type(exc).__name__}: {exc}); "
              "`flowc run` will not print it", file=sys.stderr)
    print(f"flowc ui: {store.where} at {address.base_url(host, port)}/ (Ctrl-C to stop)", flush=True)
    log_to_stderr()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                           server_header=False))
    previous = signal.signal(signal.SIGTERM, _stop)  # uvicorn restores it, then raises the signal it caught
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if recorded:
            address.withdraw(store.storage)
        sock.close()
    print("flowc ui: stopped", flush=True)
    return 0


def _stop(signum, frame):
    raise KeyboardInterrupt
