#!/usr/bin/env python3
"""An MCP server built with the official Python SDK (mcp 2.x, `MCPServer`) over streamable HTTP,
for interop tests of `mcpctl verify`/`call` against a server that is not ours.

Env: MCP_PORT, MCP_PATH (/sdk/mcp), MCP_STATELESS (true), OPENSEARCH_URL (for list_indices).
Health at the MCP path's sibling `health`.
"""
import json
import os
import urllib.request

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from starlette.requests import Request
from starlette.responses import JSONResponse

port = int(os.environ["MCP_PORT"])
path = os.environ.get("MCP_PATH", "/sdk/mcp")
stateless = os.environ.get("MCP_STATELESS", "true") == "true"
opensearch = os.environ.get("OPENSEARCH_URL", "http://127.0.0.1:9200")

server = MCPServer("sdk-test-server")
read_only = ToolAnnotations(readOnlyHint=True)


@server.tool(annotations=read_only)
def list_indices() -> str:
    """List the cluster's indices (`_cat/indices`)."""
    with urllib.request.urlopen(f"{opensearch}/_cat/indices?format=json", timeout=5) as r:
        return json.dumps(json.load(r))


@server.tool(annotations=read_only)
def get_document(index: str, id: str) -> str:
    """Fetch one document."""
    with urllib.request.urlopen(f"{opensearch}/{index}/_doc/{id}", timeout=5) as r:
        return json.dumps(json.load(r))


@server.tool()
def delete_everything() -> str:
    """Not read-only: verify must skip it."""
    raise RuntimeError("verify called a tool that is not read-only")


@server.custom_route(path.rsplit("/", 1)[0] + "/health", methods=["GET"])
async def health(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "mode": "stateless" if stateless else "stateful"})


app = server.streamable_http_app(streamable_http_path=path, stateless_http=stateless)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
