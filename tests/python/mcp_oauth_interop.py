"""The official Python MCP SDK (`mcp`) calling tools with an OAuth bearer token.

Usage: MCP_TEST_TOKEN=<access token> python mcp_oauth_interop.py URL
Initializes, lists tools and calls list_indices and search_index with the token in the
Authorization header (an httpx client given to the SDK's streamable HTTP transport), then tries
to initialize without the token and records the HTTP status the SDK got. Prints one JSON object.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def texts(result):
    return [c.text for c in result.content if getattr(c, "type", None) == "text"]


async def with_token(url: str, token: str) -> dict:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                tools = await session.list_tools()
                indices = await session.call_tool("list_indices", {})
                search = await session.call_tool(
                    "search_index",
                    {"index": "movies", "query": {"match": {"title": "heat"}}, "size": 3},
                )
                return {
                    "protocol_version": init.protocol_version,
                    "tools": sorted(t.name for t in tools.tools),
                    "list_indices": {"is_error": indices.is_error, "text": texts(indices)},
                    "search_index": {"is_error": search.is_error, "text": texts(search)},
                }


async def without_token(url: str) -> str:
    http = create_mcp_http_client()
    async with http:
        resp = await http.post(
            url,
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
            headers={"Accept": "application/json, text/event-stream"},
        )
        return f"{resp.status_code} {resp.headers.get('www-authenticate', '')}"


async def main(url: str) -> dict:
    out = await with_token(url, os.environ["MCP_TEST_TOKEN"])
    out["without_token"] = await without_token(url)
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))))
