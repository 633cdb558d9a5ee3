//! Waiting without a terminal: plain progress lines (CI logs, files), never ANSI codes.

use std::time::{Duration, Instant};

use super::{HealthCount, Progress};

/// Progress as plain lines, for a stderr that is not a terminal (CI, a log file): a line when
/// the counts change and at least every [`Lines::EVERY`] while they do not, events as they
/// come, no ANSI codes.
pub struct Lines {
    service: String,
    start: Instant,
    last: Option<(Instant, String)>,
}

impl Lines {
    /// A line at least this often while waiting.
    pub const EVERY: Duration = Duration::from_secs(5);

    /// Progress lines for `service`.
    pub fn new(service: &str) -> Lines {
        Lines {
            service: service.to_string(),
            start: Instant::now(),
            last: None,
        }
    }

    /// The line to print for `status`, if one is due at `now`.
    fn due(&mut self, status: String, now: Instant) -> Option<String> {
        let due = match &self.last {
            None => true,
            Some((at, prev)) => *prev != status || now.duration_since(*at) >= Self::EVERY,
        };
        if !due {
            return None;
        }
        self.last = Some((now, status.clone()));
        Some(format!(
            "waiting for {} [{}s]: {status}",
            self.service,
            now.duration_since(self.start).as_secs()
        ))
    }
}

impl Progress for Lines {
    fn status(&mut self, running: i32, desired: i32, targets: Option<HealthCount>) {
        let t = targets.map_or(String::new(), |t| {
            format!(", targets healthy {}/{}", t.healthy, t.total)
        });
        if let Some(line) = self.due(
            format!("tasks running {running}/{desired}{t}"),
            Instant::now(),
        ) {
            eprintln!("{line}");
        }
    }
    fn event(&mut self, message: &str) {
        eprintln!("  event: {message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_come_on_change_and_at_least_every_few_seconds() {
        let mut l = Lines::new("svc");
        let t0 = l.start;
        let first = l.due("tasks running 0/2".into(), t0).unwrap();
        assert_eq!(first, "waiting for svc [0s]: tasks running 0/2");
        assert!(!first.contains('\x1b'), "no ANSI codes");
        assert_eq!(
            l.due("tasks running 0/2".into(), t0 + Duration::from_secs(2)),
            None
        );
        assert_eq!(
            l.due("tasks running 1/2".into(), t0 + Duration::from_secs(3))
                .as_deref(),
            Some("waiting for svc [3s]: tasks running 1/2")
        );
        assert!(l
            .due(
                "tasks running 1/2".into(),
                t0 + Duration::from_secs(3) + Lines::EVERY
            )
            .is_some());
    }
}
