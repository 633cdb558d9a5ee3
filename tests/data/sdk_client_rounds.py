#!/usr/bin/env python3
"""The official Python MCP SDK client (mcp 2.x) doing ROUNDS rounds of initialize -> tools/list
-> tools/call list_indices against URL, each round a new session, as the user's clients do.
Prints a JSON summary; exits 1 if any round failed.

Usage: sdk_client_rounds.py URL ROUNDS
"""
import asyncio
import json
import sys
import traceback

from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client


async def one_round(url: str) -> None:
    async with streamable_http_client(url) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            names = {t.name for t in tools.tools}
            if "list_indices" not in names:
                raise RuntimeError(f"list_indices not among the tools: {sorted(names)}")
            result = await session.call_tool("list_indices", {})
            if result.is_error:
                raise RuntimeError(f"list_indices returned an error: {result.content}")
            text = " ".join(c.text for c in result.content if hasattr(c, "text"))
            if "movies" not in text:
                raise RuntimeError(f"list_indices did not list movies: {text[:200]}")


async def main(url: str, rounds: int) -> int:
    failures = []
    for i in range(rounds):
        try:
            await one_round(url)
        except BaseException as e:  # noqa: BLE001 - every failure is reported
            failures.append(f"round {i}: {type(e).__name__}: {e} {traceback.format_exc()[-300:]}")
    print(json.dumps({"rounds": rounds, "ok": rounds - len(failures), "failures": failures[:5]}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], int(sys.argv[2]))))
