"""A Python MCP server as the user wrote theirs: the official SDK's FastMCP (named `MCPServer` in
mcp 2.x) with stateless HTTP and a `list_indices` tool returning a list of dicts with index,
docs.count, docs.deleted, store.size, health, status. The tests compare its `tools/call` result
with opensearch-mcp-server's, so clients of the old server see the same result.

Usage: python python_list_indices_server.py PORT OPENSEARCH_URL
(OpenSearch is read with urllib, so only the `mcp` package is needed.)
"""

import json
import sys
import urllib.request

from mcp.server.mcpserver import MCPServer

port = int(sys.argv[1])
opensearch = sys.argv[2].rstrip("/")

mcp = MCPServer("OpenSearch MCP Server", log_level="WARNING")


@mcp.tool()
def list_indices() -> list[dict]:
    """List all indices."""
    with urllib.request.urlopen(f"{opensearch}/_cat/indices?format=json", timeout=10) as r:
        indices = json.load(r)
    return [
        {
            "index": i["index"],
            "docs.count": i["docs.count"],
            "docs.deleted": i["docs.deleted"],
            "store.size": i["store.size"],
            "health": i["health"],
            "status": i["status"],
        }
        for i in indices
    ]


mcp.run(transport="streamable-http", host="127.0.0.1", port=port, stateless_http=True, json_response=True)
