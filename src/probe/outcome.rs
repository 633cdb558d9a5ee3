//! How one MCP request ended, classified precisely enough to tell the user's session bug
//! (HTTP 404 "Session not found") from every other kind of failure.

use serde::Serialize;

/// The class of one request's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// The request got the result it asked for.
    Success,
    /// HTTP 404 "Session not found": the replica did not know the `Mcp-Session-Id`.
    SessionNotFound,
    /// HTTP 401 or 403: no token, a wrong one, or one without the scope the server wants.
    Unauthorized,
    /// Any other non-success HTTP status (e.g. 400, 502 from a proxy, 503).
    HttpError,
    /// A JSON-RPC error response (`"error": {...}`).
    JsonRpcError,
    /// A tool result with `isError: true`.
    ToolError,
    /// No complete answer within the timeout.
    Timeout,
    /// The connection could not be made or broke mid-exchange.
    ConnectionError,
    /// An answer that is not valid MCP (not JSON-RPC, no matching response, wrong content type).
    BadResponse,
}

impl OutcomeKind {
    /// Every kind, in report order.
    pub const ALL: [OutcomeKind; 9] = [
        OutcomeKind::Success,
        OutcomeKind::SessionNotFound,
        OutcomeKind::Unauthorized,
        OutcomeKind::HttpError,
        OutcomeKind::JsonRpcError,
        OutcomeKind::ToolError,
        OutcomeKind::Timeout,
        OutcomeKind::ConnectionError,
        OutcomeKind::BadResponse,
    ];

    /// The label people read in tables.
    pub fn label(self) -> &'static str {
        match self {
            OutcomeKind::Success => "successes",
            OutcomeKind::SessionNotFound => "HTTP 404 Session not found",
            OutcomeKind::Unauthorized => "HTTP 401/403 unauthorized",
            OutcomeKind::HttpError => "other HTTP errors",
            OutcomeKind::JsonRpcError => "JSON-RPC errors",
            OutcomeKind::ToolError => "tool errors (isError)",
            OutcomeKind::Timeout => "timeouts",
            OutcomeKind::ConnectionError => "connection errors",
            OutcomeKind::BadResponse => "invalid responses",
        }
    }

    /// The key used in JSON output.
    pub fn key(self) -> &'static str {
        match self {
            OutcomeKind::Success => "success",
            OutcomeKind::SessionNotFound => "session_not_found",
            OutcomeKind::Unauthorized => "unauthorized",
            OutcomeKind::HttpError => "http_error",
            OutcomeKind::JsonRpcError => "jsonrpc_error",
            OutcomeKind::ToolError => "tool_error",
            OutcomeKind::Timeout => "timeout",
            OutcomeKind::ConnectionError => "connection_error",
            OutcomeKind::BadResponse => "bad_response",
        }
    }
}

/// A failed request: its class and a message that says what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The class (never [`OutcomeKind::Success`]).
    pub kind: OutcomeKind,
    /// The HTTP status, when there was one.
    pub status: Option<u16>,
    /// What went wrong, for people.
    pub detail: String,
    /// The replica that answered (its `X-Served-By` header), when one did.
    pub served_by: Option<String>,
}

impl Failure {
    /// A failure of `kind` with a message.
    pub fn new(kind: OutcomeKind, detail: impl Into<String>) -> Self {
        Failure {
            kind,
            status: None,
            detail: detail.into(),
            served_by: None,
        }
    }

    /// The same failure, noting the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// The same failure, noting the replica that answered.
    pub fn with_served_by(mut self, served_by: Option<String>) -> Self {
        self.served_by = served_by;
        self
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(s) => write!(f, "{} (HTTP {s}): {}", self.kind.label(), self.detail),
            None => write!(f, "{}: {}", self.kind.label(), self.detail),
        }
    }
}

impl std::error::Error for Failure {}

/// Counts of outcomes by kind, plus a few example messages per failure kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    counts: std::collections::BTreeMap<OutcomeKind, u64>,
    examples: std::collections::BTreeMap<OutcomeKind, Vec<String>>,
}

/// How many distinct example messages a tally keeps per failure kind.
const EXAMPLES_PER_KIND: usize = 3;

impl Tally {
    /// Count one success.
    pub fn success(&mut self) {
        *self.counts.entry(OutcomeKind::Success).or_default() += 1;
    }

    /// Count one failure, keeping its message as an example if it is new.
    pub fn failure(&mut self, failure: &Failure) {
        *self.counts.entry(failure.kind).or_default() += 1;
        let examples = self.examples.entry(failure.kind).or_default();
        let text = failure.to_string();
        if examples.len() < EXAMPLES_PER_KIND && !examples.contains(&text) {
            examples.push(text);
        }
    }

    /// Count one outcome.
    pub fn record(&mut self, outcome: &Result<(), Failure>) {
        match outcome {
            Ok(()) => self.success(),
            Err(f) => self.failure(f),
        }
    }

    /// How many outcomes of `kind`.
    pub fn count(&self, kind: OutcomeKind) -> u64 {
        self.counts.get(&kind).copied().unwrap_or(0)
    }

    /// Every outcome counted.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Every outcome that was not a success.
    pub fn failures(&self) -> u64 {
        self.total() - self.count(OutcomeKind::Success)
    }

    /// Example messages for a failure kind.
    pub fn examples(&self, kind: OutcomeKind) -> &[String] {
        self.examples.get(&kind).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Add another tally into this one.
    pub fn merge(&mut self, other: &Tally) {
        for (k, v) in &other.counts {
            *self.counts.entry(*k).or_default() += v;
        }
        for (k, list) in &other.examples {
            for text in list {
                let examples = self.examples.entry(*k).or_default();
                if examples.len() < EXAMPLES_PER_KIND && !examples.contains(text) {
                    examples.push(text.clone());
                }
            }
        }
    }

    /// Counts keyed by [`OutcomeKind::key`], every kind present (zeros included).
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for kind in OutcomeKind::ALL {
            map.insert(kind.key().to_string(), self.count(kind).into());
        }
        serde_json::Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_counts_each_kind_and_keeps_a_few_distinct_examples() {
        let mut t = Tally::default();
        t.success();
        t.success();
        for i in 0..5 {
            t.failure(
                &Failure::new(OutcomeKind::SessionNotFound, format!("s{}", i % 4)).with_status(404),
            );
        }
        t.failure(&Failure::new(OutcomeKind::Timeout, "slow"));
        assert_eq!(t.total(), 8);
        assert_eq!(t.failures(), 6);
        assert_eq!(t.count(OutcomeKind::SessionNotFound), 5);
        assert_eq!(
            t.examples(OutcomeKind::SessionNotFound).len(),
            EXAMPLES_PER_KIND
        );
        assert_eq!(
            t.examples(OutcomeKind::SessionNotFound)[0],
            "HTTP 404 Session not found (HTTP 404): s0"
        );
        let json = t.to_json();
        assert_eq!(json["success"], 2);
        assert_eq!(json["timeout"], 1);
        assert_eq!(json["bad_response"], 0);
    }

    #[test]
    fn merging_adds_counts() {
        let mut a = Tally::default();
        a.success();
        let mut b = Tally::default();
        b.failure(&Failure::new(OutcomeKind::ToolError, "index missing"));
        b.success();
        a.merge(&b);
        assert_eq!(a.count(OutcomeKind::Success), 2);
        assert_eq!(a.count(OutcomeKind::ToolError), 1);
        assert_eq!(
            a.examples(OutcomeKind::ToolError),
            ["tool errors (isError): index missing"]
        );
    }
}
