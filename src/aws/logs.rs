//! The stack's CloudWatch log group (retention from the stack), and reading its events for
//! `mcpctl logs`.

use std::collections::HashMap;

use super::deploy::Record;
use super::deploy::{Applying, Deploy};
use super::errors::call_error;
use super::Clients;
use crate::error::Result;
use crate::plan::desired::LogGroupSpec;
use crate::plan::observed::ObservedLogGroup;
use crate::plan::steps::{LogGroupUpdate, Step};
use crate::plan::{Action, Kind};
use crate::plan::{Desired, Observed, Steps};
use crate::stack::Stack;

/// Observe the log group `name`.
pub async fn observe(c: &Clients, name: &str) -> Result<Option<ObservedLogGroup>> {
    let what = format!("log group {name}");
    let out = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(|e| call_error(&what, e))?;
    let Some(g) = out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
    else {
        return Ok(None);
    };
    let arn = g
        .arn()
        .unwrap_or_default()
        .trim_end_matches(":*")
        .to_string();
    let tags: Vec<(String, String)> = c
        .logs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .map_err(|e| call_error(&what, e))?
        .tags()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let mut tags = tags;
    tags.sort();
    Ok(Some(ObservedLogGroup {
        arn,
        spec: LogGroupSpec {
            name: name.to_string(),
            retention_days: g.retention_in_days(),
            tags: tags.clone(),
        },
        tags,
    }))
}

fn tag_map(tags: &[(String, String)]) -> HashMap<String, String> {
    tags.iter().cloned().collect()
}

/// Create the log group with its tags and retention.
pub async fn create(c: &Clients, s: &LogGroupSpec) -> Result<()> {
    c.logs
        .create_log_group()
        .log_group_name(&s.name)
        .set_tags(Some(tag_map(&s.tags)))
        .send()
        .await
        .map_err(|e| call_error(&format!("log group {}", s.name), e))?;
    set_retention(c, s).await
}

async fn set_retention(c: &Clients, s: &LogGroupSpec) -> Result<()> {
    let what = format!("log group {}", s.name);
    match s.retention_days {
        Some(d) => {
            c.logs
                .put_retention_policy()
                .log_group_name(&s.name)
                .retention_in_days(d)
                .send()
                .await
                .map_err(|e| call_error(&what, e))?;
        }
        None => {
            c.logs
                .delete_retention_policy()
                .log_group_name(&s.name)
                .send()
                .await
                .map_err(|e| call_error(&what, e))?;
        }
    }
    Ok(())
}

/// Apply an update: only the calls for the fields that changed.
pub async fn update(
    c: &Clients,
    arn: &str,
    s: &LogGroupSpec,
    update: &LogGroupUpdate,
) -> Result<()> {
    if update.retention {
        set_retention(c, s).await?;
    }
    if update.tags {
        c.logs
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tag_map(&s.tags)))
            .send()
            .await
            .map_err(|e| call_error(&format!("log group {}", s.name), e))?;
    }
    Ok(())
}

/// One log line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogLine {
    /// CloudWatch's event id (to skip events already shown when following).
    pub id: String,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    /// The stream (`ecs/CONTAINER/TASK_ID`).
    pub stream: String,
    /// The message.
    pub message: String,
}

/// Most pages one [`read`] follows (a bound on a misbehaving endpoint, not on real logs).
const MAX_PAGES: usize = 10_000;
/// Most events one [`read`] keeps.
const MAX_LINES: usize = 100_000;

/// Events of `group` from `start_ms` on (all pages), oldest first. A page may be empty and
/// still carry a `nextToken` (FilterLogEvents searches a time slice per call): paging goes on
/// until there is no token, as the API reference says
/// (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html>).
pub async fn read(c: &Clients, group: &str, start_ms: i64) -> Result<Vec<LogLine>> {
    let mut lines = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let out = c
            .logs
            .filter_log_events()
            .log_group_name(group)
            .start_time(start_ms)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| call_error(&format!("log group {group}"), e))?;
        lines.extend(out.events().iter().map(|e| LogLine {
            id: e.event_id().unwrap_or_default().to_string(),
            timestamp: e.timestamp().unwrap_or_default(),
            stream: e.log_stream_name().unwrap_or_default().to_string(),
            message: e.message().unwrap_or_default().trim_end().to_string(),
        }));
        if lines.len() >= MAX_LINES {
            lines.truncate(MAX_LINES);
            break;
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    lines.sort_by_key(|l| l.timestamp);
    Ok(lines)
}

/// Delete the log group `name` and its events (`cleanup`). Already gone counts as done.
pub async fn delete(c: &Clients, name: &str) -> Result<()> {
    match c.logs.delete_log_group().log_group_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if super::errors::code(&e) == Some("ResourceNotFoundException") => Ok(()),
        Err(e) => Err(call_error(&format!("log group {name}"), e)),
    }
}

/// Carry out the plan's step for the log group (create, update or keep).
pub async fn apply(
    c: &Clients,
    lg: &LogGroupSpec,
    step: &Step<String, LogGroupUpdate>,
    rec: &mut Record,
) -> Result<()> {
    match step {
        Step::Create => {
            create(c, lg).await?;
            rec.add(Kind::LogGroup, Action::Create, &lg.name, &lg.name);
        }
        Step::Update(arn, update) => {
            self::update(c, arn, lg, update).await?;
            rec.add(Kind::LogGroup, Action::Update, &lg.name, arn);
        }
        Step::Keep(_) => {}
    }
    Ok(())
}

impl Deploy for crate::plan::kinds::log_group::LogGroup {
    async fn observe(c: &Clients, stack: &Stack, _: &Observed) -> Result<Self::Observed> {
        observe(c, &stack.names.log_group).await
    }

    async fn apply(run: &mut Applying<'_>, d: &Desired, steps: &Steps) -> Result<()> {
        apply(run.c, &d.log_group, &steps.log_group, &mut run.rec).await
    }
}
