//! The limit on tool calls in flight, so memory stays within what the task has.
//!
//! A tool call holds its OpenSearch answer (up to `MCP_MAX_RESPONSE_BYTES`) several times over
//! while it is read, parsed, rendered as the tool's text and written as the JSON-RPC answer. The
//! connection cap does not bound that: a thousand connections could each hold one. So every
//! `tools/call` takes a slot before rmcp sees it and gives it back when its answer has been
//! written (or the client went away); with every slot taken, the call is answered at once with
//! HTTP 503, `Retry-After: 1` and a JSON-RPC error saying to retry. Nothing queues.
//!
//! The number of slots is `MCP_MAX_INFLIGHT_CALLS`, or by default what fits the memory the task
//! has (the cgroup limit, read at start; else the machine's memory): three quarters of it, less
//! [`BASE_BYTES`] for the process itself, divided by the peak one call may reach
//! ([`per_call_bytes`]).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What the process holds without any call in flight (runtime, clients, caches), with margin.
pub const BASE_BYTES: u64 = 64 * 1024 * 1024;
/// A call's peak as a multiple of its answer: the bytes read, the parsed JSON (small objects
/// such as histogram buckets take several times their text), the tool's text and the JSON-RPC
/// answer written from it. Measured: 200 calls with 1.8 MB answers held 2.3 MB each
/// (`server_limits_tools::memory_stays_bounded_by_the_in_flight_limit`); 4 leaves room for
/// the moments a call holds two copies.
pub const PER_CALL_FACTOR: u64 = 4;
/// A call's fixed cost besides its answer (request, buffers, tasks).
pub const PER_CALL_FIXED: u64 = 256 * 1024;
/// Fewest and most slots the default gives.
pub const DEFAULT_RANGE: (usize, usize) = (4, 1024);
/// Assumed memory when neither the cgroup nor `/proc/meminfo` says (Fargate's smallest task
/// that runs this server comfortably).
pub const ASSUMED_MEMORY: u64 = 1024 * 1024 * 1024;

/// The peak memory one call may reach with an answer budget of `budget` bytes.
pub fn per_call_bytes(budget: usize) -> u64 {
    (budget as u64)
        .saturating_mul(PER_CALL_FACTOR)
        .saturating_add(PER_CALL_FIXED)
}

/// The default number of slots for `memory` bytes and an answer budget of `budget` bytes.
pub fn default_slots(memory: u64, budget: usize) -> usize {
    let usable = (memory / 4 * 3).saturating_sub(BASE_BYTES);
    let slots = usable / per_call_bytes(budget);
    (slots.min(DEFAULT_RANGE.1 as u64) as usize).max(DEFAULT_RANGE.0)
}

/// Parse a cgroup memory limit file: v2 `memory.max` (`max` = none) or v1
/// `memory.limit_in_bytes` (a huge number = none).
pub fn parse_cgroup_limit(text: &str) -> Option<u64> {
    let n: u64 = text.trim().parse().ok()?;
    // cgroup v1 says "no limit" with a page-rounded i64::MAX.
    (n > 0 && n < (1 << 60)).then_some(n)
}

/// `MemTotal` from `/proc/meminfo` text, in bytes.
pub fn parse_meminfo_total(text: &str) -> Option<u64> {
    let kb: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb.saturating_mul(1024))
}

/// The memory this process may use, and where that number came from.
pub fn task_memory() -> (u64, &'static str) {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    if let Some(n) = read("/sys/fs/cgroup/memory.max").and_then(|t| parse_cgroup_limit(&t)) {
        return (n, "cgroup memory.max");
    }
    if let Some(n) =
        read("/sys/fs/cgroup/memory/memory.limit_in_bytes").and_then(|t| parse_cgroup_limit(&t))
    {
        return (n, "cgroup memory.limit_in_bytes");
    }
    match read("/proc/meminfo").and_then(|t| parse_meminfo_total(&t)) {
        Some(n) => (n, "MemTotal"),
        None => (ASSUMED_MEMORY, "assumed"),
    }
}

/// The shared slots for tool calls in flight.
#[derive(Clone)]
pub struct CallLimit {
    slots: Arc<Semaphore>,
    max: usize,
}

impl CallLimit {
    /// `max` slots (at least one).
    pub fn new(max: usize) -> CallLimit {
        let max = max.max(1);
        CallLimit {
            slots: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// The configured slots (`MCP_MAX_INFLIGHT_CALLS`) or the default for the task's memory,
    /// logged once at start.
    pub fn from_config(configured: Option<usize>, budget: usize) -> CallLimit {
        match configured {
            Some(n) => CallLimit::new(n),
            None => {
                let (memory, source) = task_memory();
                let n = default_slots(memory, budget);
                tracing::info!(
                    message = "tool calls in flight limited by memory",
                    max_inflight_calls = n,
                    memory_bytes = memory,
                    memory_source = source,
                    per_call_bytes = per_call_bytes(budget),
                );
                CallLimit::new(n)
            }
        }
    }

    /// The number of slots.
    pub fn max(&self) -> usize {
        self.max
    }

    /// A slot, or `None` at once when all are taken.
    pub fn try_admit(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }
}

/// A response body that holds a call's slot until it has been written or dropped.
pub struct SlotBody {
    inner: axum::body::Body,
    _slot: OwnedSemaphorePermit,
}

impl SlotBody {
    /// `inner`, giving `slot` back when done.
    pub fn new(inner: axum::body::Body, slot: OwnedSemaphorePermit) -> SlotBody {
        SlotBody { inner, _slot: slot }
    }
}

impl http_body::Body for SlotBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, axum::Error>>> {
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_files_and_meminfo_are_read() {
        assert_eq!(parse_cgroup_limit("max\n"), None);
        assert_eq!(parse_cgroup_limit("1073741824\n"), Some(1 << 30));
        assert_eq!(parse_cgroup_limit("9223372036854771712\n"), None);
        assert_eq!(parse_cgroup_limit("0"), None);
        assert_eq!(parse_cgroup_limit("lots"), None);
        let meminfo = "MemTotal:        8052156 kB\nMemFree:  1 kB\n";
        assert_eq!(parse_meminfo_total(meminfo), Some(8_052_156 * 1024));
        assert_eq!(parse_meminfo_total("nothing"), None);
    }

    #[test]
    fn the_default_fits_the_task_memory() {
        let budget = 2 * 1024 * 1024;
        // Fargate's 1 GiB task (stacks/shared.yaml): every slot at its peak fits.
        let n = default_slots(1 << 30, budget);
        assert!(
            n as u64 * per_call_bytes(budget) + BASE_BYTES <= 1 << 30,
            "{n}"
        );
        assert!(n >= 16, "{n}");
        // Bounded both ways.
        assert_eq!(default_slots(1 << 20, budget), DEFAULT_RANGE.0);
        assert_eq!(default_slots(1 << 50, budget), DEFAULT_RANGE.1);
        assert_eq!(default_slots(u64::MAX, usize::MAX), DEFAULT_RANGE.0);
    }

    #[test]
    fn slots_are_refused_at_once_when_taken() {
        let l = CallLimit::new(2);
        let a = l.try_admit().unwrap();
        let _b = l.try_admit().unwrap();
        assert!(l.try_admit().is_none());
        drop(a);
        assert!(l.try_admit().is_some());
        assert_eq!(CallLimit::new(0).max(), 1);
    }
}
