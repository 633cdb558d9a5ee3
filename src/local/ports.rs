//! The ports `local` gives its children (osmem-server, the replicas). A port is found free here
//! and bound by the child a moment later; in between, any outgoing connection on the machine
//! may take it as its source port if it lies in the kernel's ephemeral range (Linux:
//! `net.ipv4.ip_local_port_range`, by default 32768-60999), and the child then dies with
//! "address in use". So a port is chosen, where the range is known, from the ports just below
//! it, which the kernel never hands out on its own; elsewhere (or when none of the tries is
//! free) from the kernel (`bind` to port 0), as before.

use std::net::TcpListener;
use std::ops::Range;

use crate::error::{Context, Result};

/// Where Linux says which ports it hands out on its own.
const EPHEMERAL_RANGE: &str = "/proc/sys/net/ipv4/ip_local_port_range";
/// How many ports below the ephemeral range are candidates.
const BELOW: u16 = 8192;
/// Ports under this are left alone (privileged, and well-known services).
const LOWEST: u16 = 10_000;
/// Random candidates tried before asking the kernel.
const TRIES: usize = 64;

/// A port on 127.0.0.1 that is free now, outside the ephemeral range where it is known.
pub(super) fn free_port() -> Result<u16> {
    let below = std::fs::read_to_string(EPHEMERAL_RANGE)
        .ok()
        .and_then(|text| candidates(&text));
    if let Some(range) = below {
        for _ in 0..TRIES {
            let port = fastrand::u16(range.clone());
            if TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return Ok(port);
            }
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .context_failed(|| "no free port on 127.0.0.1".to_string())
}

/// The candidate ports below the ephemeral range `ip_local_port_range` gives ("LOW\tHIGH"), or
/// `None` when it is unreadable or leaves too little room under it.
fn candidates(ip_local_port_range: &str) -> Option<Range<u16>> {
    let low: u16 = ip_local_port_range
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let start = low.saturating_sub(BELOW).max(LOWEST);
    (low > start + 1024).then_some(start..low)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_lie_below_the_ephemeral_range_and_above_the_well_known_ports() {
        assert_eq!(candidates("32768\t60999\n"), Some(24576..32768));
        assert_eq!(candidates("15000 60999"), Some(10_000..15000));
        // Too little room, or nothing readable: ask the kernel.
        assert_eq!(candidates("10500 60999"), None);
        assert_eq!(candidates("1024 65535"), None);
        assert_eq!(candidates(""), None);
        assert_eq!(candidates("many ports"), None);
    }

    #[test]
    fn a_chosen_port_is_free_and_outside_the_ephemeral_range() {
        let range = std::fs::read_to_string(EPHEMERAL_RANGE)
            .ok()
            .and_then(|t| candidates(&t));
        for _ in 0..20 {
            let port = free_port().unwrap();
            TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
            if let Some(r) = &range {
                assert!(r.contains(&port), "{port} not in {r:?}");
            }
        }
    }
}
