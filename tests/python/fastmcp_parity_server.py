"""The user's production server, rebuilt from the facts in issue 16: FastMCP 2.12.3 with
`stateless_http=True` over opensearch-py 3.0. The parity test (server/tests/fastmcp_parity.rs) runs it
beside opensearch-mcp-server against the same osmem and compares the answers.

What it reproduces, as the user's server does it:
- `list_indices` returns one dict, `{"success": True, "indices": [...]}`, the rows being
  `_cat/indices` with `h=index,docs.count,docs.deleted,store.size,health,status` and
  `format=json`; FastMCP 2.12 sends it as one text block holding the compact JSON
  (`pydantic_core.to_json`) and the same object as `structuredContent`. Failures are the same
  shape with `"success": False` and `"OpenSearch error: ..."` / `"Unexpected error: ..."`.
- `GET <MCP_PATH's parent>/health`: `{"status": "healthy", "service": "OpenSearch MCP Server",
  "opensearch": {"status": "connected", "cluster_name", "version", "health"}}`, or
  `"opensearch": {"status": "error", "error": "..."}` when OpenSearch is unreachable.
- `config://opensearch`: host, port, default_index, max_results, timeout.
- `serverInfo.name` "OpenSearch MCP Server".

Needs `fastmcp==2.12.3` and `opensearch-py==3.0.0` (requirements-fastmcp.txt, installed by
scripts/setup-venv into $VENV/fastmcp-parity and put on PYTHONPATH).

Env: MCP_PORT (9898), MCP_PATH (/ossserver-stateless/ossmcp), OPENSEARCH_HOST (localhost),
OPENSEARCH_PORT (9200), OPENSEARCH_DEFAULT_INDEX, OPENSEARCH_MAX_RESULTS (100),
OPENSEARCH_TIMEOUT (30). Listens on 127.0.0.1 only.
"""
import json
import os

from fastmcp import FastMCP
from opensearchpy import OpenSearch
from opensearchpy.exceptions import OpenSearchException
from starlette.requests import Request
from starlette.responses import JSONResponse

port = int(os.environ.get("MCP_PORT", "9898"))
path = os.environ.get("MCP_PATH", "/ossserver-stateless/ossmcp")
health_path = path.rsplit("/", 1)[0] + "/health"

os_host = os.environ.get("OPENSEARCH_HOST", "localhost")
os_port = int(os.environ.get("OPENSEARCH_PORT", "9200"))
default_index = os.environ.get("OPENSEARCH_DEFAULT_INDEX")
max_results = int(os.environ.get("OPENSEARCH_MAX_RESULTS", "100"))
timeout = float(os.environ.get("OPENSEARCH_TIMEOUT", "30"))

client = OpenSearch(hosts=[{"host": os_host, "port": os_port}], use_ssl=False, timeout=timeout)

mcp = FastMCP("OpenSearch MCP Server", stateless_http=True)


@mcp.tool()
def list_indices() -> dict:
    """List all indices in the OpenSearch cluster."""
    try:
        indices = client.cat.indices(
            format="json", h="index,docs.count,docs.deleted,store.size,health,status"
        )
        return {"success": True, "indices": indices}
    except OpenSearchException as e:
        return {"success": False, "error": f"OpenSearch error: {e}"}
    except Exception as e:  # noqa: BLE001 - the user's server reports everything as a result
        return {"success": False, "error": f"Unexpected error: {e}"}


@mcp.resource("config://opensearch")
def opensearch_config() -> str:
    """The OpenSearch connection (never credentials)."""
    return json.dumps(
        {
            "host": os_host,
            "port": os_port,
            "default_index": default_index,
            "max_results": max_results,
            "timeout": timeout,
        }
    )


@mcp.custom_route(health_path, methods=["GET"])
async def health(_request: Request) -> JSONResponse:
    try:
        info = client.info()
        cluster = client.cluster.health()
        opensearch = {
            "status": "connected",
            "cluster_name": info.get("cluster_name"),
            "version": info.get("version", {}).get("number"),
            "health": cluster.get("status"),
        }
    except Exception as e:  # noqa: BLE001
        opensearch = {"status": "error", "error": str(e)}
    return JSONResponse(
        {"status": "healthy", "service": "OpenSearch MCP Server", "opensearch": opensearch}
    )


if __name__ == "__main__":
    mcp.run(
        transport="http",
        host="127.0.0.1",
        port=port,
        path=path,
        log_level="warning",
        show_banner=False,
    )
