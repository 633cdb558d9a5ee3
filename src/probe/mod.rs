//! The MCP client and load generator behind `mcpctl verify` and `mcpctl call`.
