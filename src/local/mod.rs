//! `mcpctl local`: a replica supervisor and a round-robin router with no session affinity.
