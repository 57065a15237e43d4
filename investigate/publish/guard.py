"""What stands in front of a Datasette this program serves: plain ASGI, no Datasette internals.

- **The Host header.** A web page the editor opens elsewhere can point a name it controls at
  127.0.0.1 (DNS rebinding) and then read the editors' instance as if it were its own site. A
  request whose Host is not an address the instance serves is refused (421), so such a page
  reaches nothing. Served on every interface (0.0.0.0) the names are not known; the password
  the instance then requires protects it.
- **No path of the workspace.** Datasette's introspection pages (``/-/databases``,
  ``/-/metadata``) show where the database lies and the plugin configuration; they answer 404.
"""

from __future__ import annotations

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
#: Datasette's pages that show file paths: the database's, the workspace's in plugin config.
INTROSPECTION = {"/-/databases", "/-/databases.json", "/-/metadata", "/-/metadata.json"}


def allowed_hosts(host: str) -> set[str] | None:
    """The names a browser may use to reach an instance bound to ``host``; None for any (an
    instance on every interface)."""
    host = host.strip("[]").lower()
    if host in ("0.0.0.0", "::", ""):
        return None
    return LOOPBACK | {host} if host in LOOPBACK else {host}


def host_name(header: str) -> str:
    """``localhost:8001`` → ``localhost``; ``[::1]:8001`` → ``::1``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


async def _refuse(send, status: int, text: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": text.encode()})


def guard(app, hosts: set[str] | None):
    """``app`` behind the Host check and without its introspection pages."""

    async def guarded(scope, receive, send):
        if scope.get("type") == "http":
            if scope.get("path") in INTROSPECTION:
                return await _refuse(send, 404, "Not found")
            if hosts is not None:
                header = next((v for k, v in scope.get("headers", []) if k == b"host"), b"").decode("latin-1")
                if host_name(header) not in hosts:
                    return await _refuse(send, 421, "This server answers only to its own address")
        return await app(scope, receive, send)

    return guarded
