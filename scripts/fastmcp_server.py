#!/usr/bin/env python3
"""The seed's Python server, minimal: FastMCP (official MCP SDK 1.x) over streamable HTTP with
`list_indices` over opensearch-py, configured by the same environment variables as
`opensearch-mcp-server` so `mcpctl local --server-bin` can run it as replicas.

Used by `scripts/bench` (the Python baseline) and as a stand-in server. Needs `mcp<2` and
`opensearch-py` (scripts/bench installs them into .bench-venv).

Env: MCP_HOST (0.0.0.0), MCP_PORT (9898), MCP_PATH (/ossserver-stateless/ossmcp),
MCP_STATELESS (true), OPENSEARCH_HOST (localhost, with or without scheme), OPENSEARCH_PORT (9200).
Health: GET at the MCP path's sibling `health`.
"""
import os
import sys

import uvicorn
from mcp.server.fastmcp import FastMCP
from mcp.server.transport_security import TransportSecuritySettings
from opensearchpy import OpenSearch
from starlette.requests import Request
from starlette.responses import JSONResponse


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    sys.exit(f"{name}={value!r}: expected true or false")


host = os.environ.get("MCP_HOST", "0.0.0.0")
port = int(os.environ.get("MCP_PORT", "9898"))
path = os.environ.get("MCP_PATH", "/ossserver-stateless/ossmcp")
stateless = env_bool("MCP_STATELESS", True)
health_path = path.rsplit("/", 1)[0] + "/health"

os_host = os.environ.get("OPENSEARCH_HOST", "localhost")
os_port = int(os.environ.get("OPENSEARCH_PORT", "9200"))
if "://" not in os_host:
    os_host = f"http://{os_host}"
client = OpenSearch(hosts=[f"{os_host}:{os_port}"], timeout=10)

mcp = FastMCP(
    "OpenSearch MCP Server",
    stateless_http=stateless,
    streamable_http_path=path,
    transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
)


@mcp.tool()
def list_indices() -> list:
    """List the indices of the OpenSearch cluster."""
    return client.cat.indices(format="json")


@mcp.custom_route(health_path, methods=["GET"])
async def health(_request: Request) -> JSONResponse:
    return JSONResponse(
        {"status": "ok", "service": "fastmcp", "mode": "stateless" if stateless else "stateful"}
    )


if __name__ == "__main__":
    uvicorn.run(mcp.streamable_http_app(), host=host, port=port, log_level="warning")
