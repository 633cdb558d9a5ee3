//! `monitor`: both stacks side by side — each target group's ALB metrics over a sliding window
//! (requests, 4XX and 5XX shares, p99, healthy and unhealthy hosts), the server's own EMF
//! metrics when the stack turns them on, and each stack's share of the production rule (the
//! rule that routes the first stack's MCP path). The plan's Phase 5, "Monitor".

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::aws::listener_rule::{self, ListenerRule};
use crate::aws::metrics::{self, AlbMetrics, ServerMetrics};
use crate::aws::{load_balancer, target_group, Clients};
use crate::cutover::decide::gate::{judge, Thresholds, Verdict};
use crate::error::{Error, Result};
use crate::model::rule::routing as routing_rule;
use crate::stack::Stack;

/// One stack in a sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackSample {
    /// Stack name.
    pub stack: String,
    /// Its target group.
    pub target_group: String,
    /// ALB metrics over the window (`None`: the target group does not exist).
    pub alb: Option<AlbMetrics>,
    /// The server's EMF metrics, when the stack sets `MCP_METRICS_NAMESPACE`.
    pub server: Option<ServerMetrics>,
    /// Its share of the production rule, in percent.
    pub production_percent: u32,
    /// For every stack after the first (the ones being cut over to): the progressive cutover's
    /// gates on its ALB metrics (`None` for the first stack, or without a target group).
    pub gates: Option<Verdict>,
}

/// One reading of every stack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The window the metrics cover, in seconds.
    pub window_seconds: u64,
    /// The production rule's priority and paths (`None`: no rule routes the first stack's path).
    pub production_rule: Option<String>,
    /// Each stack, in the order given.
    pub stacks: Vec<StackSample>,
}

/// Read one sample of `stacks` over the last `window`.
pub async fn sample(
    c: &Clients,
    stacks: &[Stack],
    window: Duration,
    thresholds: &Thresholds,
) -> Result<Sample> {
    let first = stacks
        .first()
        .ok_or_else(|| Error::bad_input("give at least one --stack"))?;
    let alb = load_balancer::require(c, &first.load_balancer.reference).await?;
    let listener = load_balancer::listener(c, &alb.arn, first.load_balancer.listener_port).await?;
    let rules = match &listener {
        Some(l) => listener_rule::rules(c, &l.arn).await?,
        None => Vec::new(),
    };
    let production = first.mcp_path().and_then(|p| routing_rule(&rules, p));
    let end = SystemTime::now();
    let start = end - window;
    let mut out = Vec::new();
    for (i, s) in stacks.iter().enumerate() {
        let tg = target_group::describe_by_name(c, &s.names.target_group).await?;
        let tg_arn = tg
            .as_ref()
            .and_then(|t| t.target_group_arn())
            .map(str::to_string);
        let alb_metrics = match &tg_arn {
            Some(arn) => Some(metrics::read(c, &alb.arn, arn, start, end).await?),
            None => None,
        };
        let server = match s.env.get("MCP_METRICS_NAMESPACE") {
            Some(ns) => {
                let service = s.env.get("MCP_METRICS_SERVICE").unwrap_or(&s.names.service);
                Some(metrics::read_server(c, ns, service, start, end).await?)
            }
            None => None,
        };
        let production_percent = match (production, &tg_arn) {
            (Some(rule), Some(arn)) => share(rule, arn),
            _ => 0,
        };
        let gates = match (&alb_metrics, i) {
            (Some(m), 1..) => Some(judge(m, None, thresholds)),
            _ => None,
        };
        out.push(StackSample {
            stack: s.name.clone(),
            target_group: s.names.target_group.clone(),
            alb: alb_metrics,
            server,
            production_percent,
            gates,
        });
    }
    Ok(Sample {
        at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        window_seconds: window.as_secs(),
        production_rule: production.map(|r| {
            format!(
                "priority {} {}",
                r.priority.map_or("default".to_string(), |p| p.to_string()),
                r.path_patterns.join(",")
            )
        }),
        stacks: out,
    })
}

/// A target group's share of `rule`'s traffic, in percent (0 when the rule is not one forward).
fn share(rule: &ListenerRule, tg_arn: &str) -> u32 {
    rule.forward()
        .map_or(0, |f| f.percent_of(tg_arn).round() as u32)
}

/// `part` as a share of `whole` (`2.50%`), `-` when there is no whole.
pub(crate) fn rate(part: f64, whole: f64) -> String {
    if whole <= 0.0 {
        "-".into()
    } else {
        format!("{:.2}%", part * 100.0 / whole)
    }
}

/// The sample as a table (one header, one line per stack).
pub fn render(s: &Sample) -> String {
    let mut out = format!(
        "{}  window {}s  production rule: {}\n{:<12} {:>6} {:>9} {:>7} {:>7} {:>8} {:>7} {:>9} {:>9} {:>10}\n",
        s.at,
        s.window_seconds,
        s.production_rule.as_deref().unwrap_or("none"),
        "stack", "share", "requests", "4XX", "5XX", "p99", "healthy", "unhealthy", "mcp calls", "mcp p99"
    );
    for st in &s.stacks {
        let dash = || "-".to_string();
        let (req, c4, c5, p99, healthy, unhealthy) = match &st.alb {
            Some(m) => (
                format!("{}", m.requests),
                rate(m.target_4xx, m.requests),
                rate(m.target_5xx, m.requests),
                m.p99_seconds
                    .map_or_else(dash, |p| format!("{:.0}ms", p * 1000.0)),
                m.healthy_hosts.map_or_else(dash, |h| h.to_string()),
                m.unhealthy_hosts.map_or_else(dash, |h| h.to_string()),
            ),
            None => (
                "no target group".into(),
                dash(),
                dash(),
                dash(),
                dash(),
                dash(),
            ),
        };
        let (calls, mcp_p99) = match &st.server {
            Some(m) => (
                m.calls.to_string(),
                m.p99_ms.map_or_else(dash, |p| format!("{p:.0}ms")),
            ),
            None => (dash(), dash()),
        };
        out.push_str(&format!(
            "{:<12} {:>5}% {:>9} {:>7} {:>7} {:>8} {:>7} {:>9} {:>9} {:>10}\n",
            st.stack, st.production_percent, req, c4, c5, p99, healthy, unhealthy, calls, mcp_p99
        ));
    }
    for st in &s.stacks {
        match &st.gates {
            Some(Verdict::Breached(b)) => {
                out.push_str(&format!("gates {}: BREACHED: {}\n", st.stack, b.message))
            }
            Some(Verdict::Holding { judged: false }) => out.push_str(&format!(
                "gates {}: holding (too few requests to judge the rates yet)\n",
                st.stack
            )),
            Some(Verdict::Holding { judged: true }) => {
                out.push_str(&format!("gates {}: holding\n", st.stack))
            }
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_shows_shares_rates_and_missing_data() {
        let s = Sample {
            at: "2026-12-02T02:40:00Z".into(),
            window_seconds: 300,
            production_rule: Some("priority 100 /ossserver/*".into()),
            stacks: vec![
                StackSample {
                    stack: "stateful".into(),
                    target_group: "opensearch-mcp-tg".into(),
                    alb: Some(AlbMetrics {
                        requests: 900.0,
                        target_5xx: 9.0,
                        target_4xx: 0.0,
                        p99_seconds: Some(0.12),
                        healthy_hosts: Some(2.0),
                        unhealthy_hosts: Some(0.0),
                        ..Default::default()
                    }),
                    server: None,
                    production_percent: 90,
                    gates: None,
                },
                StackSample {
                    stack: "stateless".into(),
                    target_group: "opensearch-mcp-tg-stateless".into(),
                    alb: None,
                    server: Some(ServerMetrics {
                        calls: 12.0,
                        p99_ms: Some(8.0),
                    }),
                    production_percent: 10,
                    gates: Some(Verdict::Holding { judged: false }),
                },
            ],
        };
        let t = render(&s);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].contains("production rule: priority 100 /ossserver/*"));
        assert!(lines[2].starts_with("stateful"));
        assert!(
            lines[2].contains("90%") && lines[2].contains("1.00%") && lines[2].contains("120ms")
        );
        assert!(lines[3].contains("no target group") && lines[3].contains("8ms"));
        assert_eq!(
            lines[4],
            "gates stateless: holding (too few requests to judge the rates yet)"
        );
    }
}
