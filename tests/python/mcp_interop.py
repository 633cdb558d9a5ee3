"""Interop check with the official Python MCP SDK (`mcp`): initialize, list tools, call
list_indices and search_index over streamable HTTP against opensearch-mcp-server.

Usage: python mcp_interop.py URL
Prints one JSON object with what the SDK saw; exits non-zero on any failure.
"""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def texts(result):
    return [c.text for c in result.content if getattr(c, "type", None) == "text"]


async def main(url: str) -> dict:
    async with streamable_http_client(url) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            tools = await session.list_tools()
            indices = await session.call_tool("list_indices", {})
            search = await session.call_tool(
                "search_index",
                {"index": "movies", "query": {"match": {"title": "heat"}}, "size": 3},
            )
            missing = await session.call_tool("get_index_mapping", {"index": "no-such-index"})
            return {
                "protocol_version": init.protocol_version,
                "server_name": init.server_info.name,
                "tools": sorted(t.name for t in tools.tools),
                "list_indices": {"is_error": indices.is_error, "text": texts(indices)},
                "search_index": {"is_error": search.is_error, "text": texts(search)},
                "missing_index": {"is_error": missing.is_error, "text": texts(missing)},
            }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))))
