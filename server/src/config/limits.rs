//! Bounds on what one process holds for its HTTP clients: sessions (stateful mode), connections,
//! tool calls in flight, and how long an idle or slow connection may stay (`MCP_MAX_SESSIONS`,
//! `MCP_SESSION_IDLE_SECONDS`, `MCP_MAX_CONNECTIONS`, `MCP_MAX_INFLIGHT_CALLS`,
//! `MCP_KEEPALIVE_TIMEOUT`).

use std::time::Duration;

use super::parse::{parse_num, parse_seconds};
use super::ConfigError;

/// A request's headers must arrive within this time of its first byte (slowloris).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A request body must arrive completely within this time of the headers.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// A response write that makes no progress for this long ends the connection (a client that
/// stops reading).
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections accepted beyond `MCP_MAX_CONNECTIONS` that may only ask for health (so the load
/// balancer still sees the task healthy at the cap); one request each, then closed.
pub const HEALTH_RESERVE: usize = 16;

/// The HTTP limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most live sessions in stateful mode (`MCP_MAX_SESSIONS`).
    pub max_sessions: usize,
    /// A session unused this long is closed (`MCP_SESSION_IDLE_SECONDS`).
    pub session_idle: Duration,
    /// Most open client connections (`MCP_MAX_CONNECTIONS`).
    pub max_connections: usize,
    /// An idle keep-alive connection is closed after this (`MCP_KEEPALIVE_TIMEOUT`); longer than
    /// the ALB's idle timeout (60 s by default), as AWS asks of targets.
    pub keepalive: Duration,
    /// Most tool calls in flight (`MCP_MAX_INFLIGHT_CALLS`); `None`: derived from the memory
    /// the task has (see `http::calls`).
    pub max_inflight_calls: Option<usize>,
}

impl Limits {
    /// Read the limits through `get` (trimmed, empty = unset).
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Limits, ConfigError> {
        let max_sessions = parse_num::<usize>("MCP_MAX_SESSIONS", get("MCP_MAX_SESSIONS"), 1000)?;
        if !(1..=100_000).contains(&max_sessions) {
            return Err(ConfigError {
                variable: "MCP_MAX_SESSIONS",
                message: format!("{max_sessions} is out of range; use 1 to 100000"),
            });
        }
        let session_idle = parse_seconds(
            "MCP_SESSION_IDLE_SECONDS",
            get("MCP_SESSION_IDLE_SECONDS"),
            Duration::from_secs(300),
        )?;
        let max_connections =
            parse_num::<usize>("MCP_MAX_CONNECTIONS", get("MCP_MAX_CONNECTIONS"), 1024)?;
        if !(1..=100_000).contains(&max_connections) {
            return Err(ConfigError {
                variable: "MCP_MAX_CONNECTIONS",
                message: format!("{max_connections} is out of range; use 1 to 100000"),
            });
        }
        let keepalive = parse_seconds(
            "MCP_KEEPALIVE_TIMEOUT",
            get("MCP_KEEPALIVE_TIMEOUT"),
            Duration::from_secs(75),
        )?;
        let max_inflight_calls = match get("MCP_MAX_INFLIGHT_CALLS") {
            None => None,
            v => {
                let n = parse_num::<usize>("MCP_MAX_INFLIGHT_CALLS", v, 0)?;
                if !(1..=100_000).contains(&n) {
                    return Err(ConfigError {
                        variable: "MCP_MAX_INFLIGHT_CALLS",
                        message: format!("{n} is out of range; use 1 to 100000"),
                    });
                }
                Some(n)
            }
        };
        Ok(Limits {
            max_inflight_calls,
            max_sessions,
            session_idle,
            max_connections,
            keepalive,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Limits, ConfigError> {
        Limits::from_lookup(&|k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_outlive_the_alb_idle_timeout() {
        let l = load(&[]).unwrap();
        assert_eq!(l.max_sessions, 1000);
        assert_eq!(l.session_idle, Duration::from_secs(300));
        assert_eq!(l.max_connections, 1024);
        assert!(l.keepalive > Duration::from_secs(60));
        assert_eq!(l.max_inflight_calls, None);
        assert_eq!(
            load(&[("MCP_MAX_INFLIGHT_CALLS", "7")])
                .unwrap()
                .max_inflight_calls,
            Some(7)
        );
    }

    #[test]
    fn bad_limits_name_their_variable() {
        for (var, value) in [
            ("MCP_MAX_SESSIONS", "0"),
            ("MCP_MAX_SESSIONS", "lots"),
            ("MCP_SESSION_IDLE_SECONDS", "-1"),
            ("MCP_MAX_CONNECTIONS", "0"),
            ("MCP_KEEPALIVE_TIMEOUT", "forever"),
            ("MCP_MAX_INFLIGHT_CALLS", "0"),
            ("MCP_MAX_INFLIGHT_CALLS", "many"),
        ] {
            let e = load(&[(var, value)]).unwrap_err();
            assert_eq!(e.variable, var, "{var}={value}");
        }
    }
}
