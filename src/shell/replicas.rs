//! Which replicas answered the shell's last calls: the `X-Served-By` header of each response,
//! kept for the last [`KEPT`] MCP requests.

use std::collections::{BTreeMap, VecDeque};

use crate::probe::report::spread_text;

/// How many recent answers are remembered.
pub const KEPT: usize = 100;

/// The last answers' replica ids (`None`: the response had no `X-Served-By`).
#[derive(Debug, Default, Clone)]
pub struct ReplicaLog {
    recent: VecDeque<Option<String>>,
}

impl ReplicaLog {
    /// Remember who answered one request.
    pub fn record(&mut self, served_by: Option<String>) {
        if self.recent.len() == KEPT {
            self.recent.pop_front();
        }
        self.recent.push_back(served_by);
    }

    /// Answers per replica id, and how many answers named none.
    pub fn spread(&self) -> (BTreeMap<String, u64>, u64) {
        let mut counts = BTreeMap::new();
        let mut unnamed = 0;
        for r in &self.recent {
            match r {
                Some(id) => *counts.entry(id.clone()).or_insert(0) += 1,
                None => unnamed += 1,
            }
        }
        (counts, unnamed)
    }

    /// The `replicas` command's text.
    pub fn text(&self) -> String {
        if self.recent.is_empty() {
            return "no MCP calls yet; run list or stress first".into();
        }
        let (counts, unnamed) = self.spread();
        if counts.is_empty() {
            return format!(
                "the last {} answers carried no X-Served-By header (the server does not send it, \
                 or runs with MCP_SERVED_BY=false)",
                self.recent.len()
            );
        }
        let mut out = format!(
            "last {} answers came from {} replica(s): {}",
            self.recent.len(),
            counts.len(),
            spread_text(&counts)
        );
        if unnamed > 0 {
            out.push_str(&format!("; {unnamed} without X-Served-By"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_answers_and_counts_them_by_replica() {
        let mut log = ReplicaLog::default();
        assert!(log.text().contains("no MCP calls yet"));
        log.record(None);
        assert!(log.text().contains("no X-Served-By"));
        for i in 0..(KEPT + 20) {
            log.record(Some(format!("r{}", i % 3)));
        }
        let (counts, unnamed) = log.spread();
        assert_eq!(counts.values().sum::<u64>(), KEPT as u64);
        assert_eq!(unnamed, 0, "the oldest answers are forgotten");
        assert_eq!(counts.len(), 3);
        let text = log.text();
        assert!(
            text.starts_with("last 100 answers came from 3 replica(s): r"),
            "{text}"
        );
    }
}
