//! The MCP probe of a progressive cutover's bake: through the production URL, what every client
//! does first — `initialize`, `notifications/initialized`, `tools/list`, one read-only tool
//! call — on one session, so a replica that does not know the session answers HTTP 404
//! "Session not found" here before users see it. Each failure keeps its class
//! ([`OutcomeKind`]), so the gate can tell the session bug from everything else.

use rmcp::model::Tool;

use crate::cutover::decide::gate::ProbeReading;
use crate::probe::arguments::{arguments_for, Hints};
use crate::probe::check::{call_order, is_read_only};
use crate::probe::driver::McpHttp;
use crate::probe::outcome::{Failure, OutcomeKind};

/// Longest failure text kept in a reading.
const MAX_ERROR_TEXT: usize = 300;

/// Run one probe; `Ok` names the tool it called.
pub async fn probe_once(http: &McpHttp) -> Result<String, Failure> {
    let session = http.initialize().await?;
    let outcome = async {
        http.initialized(&session).await?;
        let listed = http.list_tools(&session).await?;
        let tools: Vec<Tool> = listed
            .get("tools")
            .cloned()
            .and_then(|t| serde_json::from_value(t).ok())
            .ok_or_else(|| {
                Failure::new(
                    OutcomeKind::BadResponse,
                    "tools/list answered without a list of tools",
                )
            })?;
        let tool = call_order(&tools)
            .into_iter()
            .find(|t| is_read_only(t))
            .ok_or_else(|| {
                Failure::new(
                    OutcomeKind::BadResponse,
                    format!(
                        "none of the {} tools is marked read-only (annotations.readOnlyHint), so the probe has nothing safe to call",
                        tools.len()
                    ),
                )
            })?;
        let args = arguments_for(&tool.input_schema, &Hints::default());
        http.call_tool(&session, &tool.name, &args).await?;
        Ok::<_, Failure>(format!("initialize, tools/list ({}), {}", tools.len(), tool.name))
    }
    .await;
    http.close(&session).await;
    outcome
}

impl ProbeReading {
    /// Count one probe's outcome.
    pub fn record(&mut self, outcome: &Result<String, Failure>) {
        self.runs += 1;
        if let Err(f) = outcome {
            self.failures += 1;
            if f.kind == OutcomeKind::SessionNotFound {
                self.session_not_found += 1;
            }
            let mut text = format!("{}: {}", f.kind.label(), f.detail);
            if text.len() > MAX_ERROR_TEXT {
                let cut = (0..=MAX_ERROR_TEXT)
                    .rev()
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(0);
                text.truncate(cut);
                text.push('…');
            }
            self.last_error = Some(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_count_failures_by_class_and_keep_a_bounded_last_error() {
        let mut r = ProbeReading::default();
        r.record(&Ok("initialize, tools/list (6), list_indices".into()));
        assert_eq!((r.runs, r.failures), (1, 0));
        r.record(&Err(Failure::new(
            OutcomeKind::SessionNotFound,
            "tools/list: HTTP 404 Session not found",
        )
        .with_status(404)));
        r.record(&Err(Failure::new(OutcomeKind::Timeout, "x".repeat(5000))));
        assert_eq!((r.runs, r.failures, r.session_not_found), (3, 2, 1));
        let last = r.last_error.unwrap();
        assert!(
            last.starts_with("timeouts: xxx") && last.len() <= MAX_ERROR_TEXT + 3,
            "{last}"
        );
    }
}
