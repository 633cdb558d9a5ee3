//! The stack file `adopt` writes: `extends: shared.yaml` and only the settings that differ from
//! it. Every setting of the running deployment is written first; then each one the shared file
//! already gives (the resolved stack and its desired state stay equal without it) is left out.
//! Names the shared file sets but the deployment does not have are written as `~`.

use std::path::Path;

use crate::error::Result;
use crate::plan::desired::{lifecycle_policy, ServiceSpec, TargetGroupSpec, TaskDefinitionSpec};
use crate::plan::observed::Shared;
use crate::plan::Desired;
use crate::stack::{self, escape, LoadBalancerRef, Stack};

use super::read::Live;

/// A value in the written file.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    /// Quoted text.
    Text(String),
    /// A number or `true`/`false`, written as it is.
    Plain(String),
    /// A flow list of quoted text.
    List(Vec<String>),
    /// `~`: not set, even if the shared file sets it.
    Unset,
}

/// One setting: its key path (`["container", "health_check", "retries"]`) and value.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    path: Vec<String>,
    value: Value,
}

fn quote(s: &str) -> String {
    serde_json::to_string(&escape(s)).unwrap_or_else(|_| "\"\"".to_string())
}

impl Value {
    fn render(&self) -> String {
        match self {
            Value::Text(s) => quote(s),
            Value::Plain(s) => s.clone(),
            Value::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|s| quote(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Unset => "~".to_string(),
        }
    }
}

/// The file text for `entries`, nested by key path in first-seen order.
fn render(header: &str, entries: &[Entry]) -> String {
    let mut out = String::from(header);
    out.push_str("extends: shared.yaml\n");
    let mut open: Vec<String> = Vec::new();
    for e in entries {
        let (parents, leaf) = e.path.split_at(e.path.len() - 1);
        let common = open.iter().zip(parents).take_while(|(a, b)| a == b).count();
        open.truncate(common);
        for p in &parents[common..] {
            out.push_str(&format!("{}{p}:\n", "  ".repeat(open.len())));
            open.push(p.clone());
        }
        out.push_str(&format!(
            "{}{}: {}\n",
            "  ".repeat(open.len()),
            leaf[0],
            e.value.render()
        ));
    }
    out
}

fn text(path: &[&str], v: impl Into<String>) -> Entry {
    Entry {
        path: path.iter().map(|s| s.to_string()).collect(),
        value: Value::Text(v.into()),
    }
}

fn plain(path: &[&str], v: impl ToString) -> Entry {
    Entry {
        path: path.iter().map(|s| s.to_string()).collect(),
        value: Value::Plain(v.to_string()),
    }
}

fn list(path: &[&str], v: &[String]) -> Entry {
    Entry {
        path: path.iter().map(|s| s.to_string()).collect(),
        value: Value::List(v.to_vec()),
    }
}

fn keyed(section: &str, key: &str, value: Value) -> Entry {
    Entry {
        path: vec![section.to_string(), key.to_string()],
        value,
    }
}

/// `ecr.keep_images` for a lifecycle policy mcpctl would write (0: none); `None` when the
/// repository's policy is another one.
fn keep_images_of(policy: &str) -> Option<i32> {
    if policy.is_empty() {
        return Some(0);
    }
    (1..=1000).find(|n| lifecycle_policy(*n) == policy)
}

/// Every setting of the running deployment, spelled out.
fn all_entries(live: &Live) -> Vec<Entry> {
    let td = &live.task_definition.spec;
    let svc = &live.service.spec;
    let tg = &live.target_group.spec;
    let mut v = vec![
        text(&["region"], &live.region),
        text(&["cluster"], &live.cluster),
        text(&["load_balancer", "name"], &live.alb.name),
        plain(&["load_balancer", "listener_port"], live.listener.port),
        list(&["network", "subnets"], &svc.subnets),
        list(&["network", "security_groups"], &svc.security_groups),
        plain(&["network", "assign_public_ip"], svc.assign_public_ip),
        text(&["roles", "execution_role_arn"], &td.execution_role_arn),
    ];
    if let Some(arn) = &td.task_role_arn {
        v.push(text(&["roles", "task_role_arn"], arn));
    }
    let repo = live
        .repository
        .as_ref()
        .map_or(live.service.spec.name.clone(), |r| r.spec.name.clone());
    v.extend([
        text(&["names", "ecr_repository"], repo),
        text(&["names", "service"], &svc.name),
        text(&["names", "task_family"], &td.family),
        text(&["names", "container"], &td.container),
        text(&["names", "target_group"], &tg.name),
        text(&["names", "log_group"], &td.log_group),
    ]);
    v.extend(container_entries(td));
    v.extend(service_entries(svc, live));
    v.extend(health_check_entries(tg));
    v.extend(store_entries(live));
    v.extend(env_entries(td));
    v
}

/// `image` and `container`.
fn container_entries(td: &TaskDefinitionSpec) -> Vec<Entry> {
    let mut v = Vec::new();
    if let Some(image) = &td.image {
        v.push(text(&["image"], image));
    }
    v.extend([
        plain(&["container", "port"], td.port),
        plain(&["container", "cpu"], &td.cpu),
        plain(&["container", "memory"], &td.memory),
        text(
            &["container", "architecture"],
            if td.cpu_architecture == "ARM64" {
                "arm64"
            } else {
                "x86_64"
            },
        ),
    ]);
    if let Some(h) = &td.health_check {
        let p = |k: &str| ["container", "health_check", k].map(String::from).to_vec();
        v.push(Entry {
            path: p("command"),
            value: Value::List(h.command.clone()),
        });
        for (k, n) in [
            ("interval_seconds", h.interval),
            ("timeout_seconds", h.timeout),
            ("retries", h.retries),
            ("start_period_seconds", h.start_period),
        ] {
            v.push(Entry {
                path: p(k),
                value: Value::Plain(n.to_string()),
            });
        }
    }
    v
}

/// `service` and `routing`.
fn service_entries(svc: &ServiceSpec, live: &Live) -> Vec<Entry> {
    let mut v = Vec::new();
    v.extend([
        plain(&["service", "desired_count"], svc.desired_count),
        plain(&["service", "min_healthy_percent"], svc.min_healthy_percent),
        plain(&["service", "max_percent"], svc.max_percent),
        plain(
            &["service", "circuit_breaker_rollback"],
            svc.circuit_breaker_rollback,
        ),
        plain(
            &["service", "enable_execute_command"],
            svc.enable_execute_command,
        ),
        plain(
            &["service", "health_check_grace_period_seconds"],
            svc.health_check_grace_period_seconds,
        ),
        list(&["routing", "path_patterns"], &live.rule.path_patterns),
    ]);
    if let Some(p) = live.rule.priority {
        v.push(plain(&["routing", "priority"], p));
    }
    v
}

/// `health_check` (the target group's).
fn health_check_entries(tg: &TargetGroupSpec) -> Vec<Entry> {
    let mut v = Vec::new();
    v.extend([
        text(&["health_check", "path"], &tg.health_check_path),
        plain(&["health_check", "interval_seconds"], tg.interval),
        plain(&["health_check", "timeout_seconds"], tg.timeout),
        plain(&["health_check", "healthy_threshold"], tg.healthy_threshold),
        plain(
            &["health_check", "unhealthy_threshold"],
            tg.unhealthy_threshold,
        ),
        text(&["health_check", "matcher"], &tg.matcher),
        plain(
            &["health_check", "deregistration_delay_seconds"],
            tg.deregistration_delay,
        ),
    ]);
    v
}

/// `logs` and `ecr`.
fn store_entries(live: &Live) -> Vec<Entry> {
    let mut v = Vec::new();
    if let Some(lg) = &live.log_group {
        v.push(Entry {
            path: vec!["logs".into(), "retention_days".into()],
            value: match lg.spec.retention_days {
                Some(d) => Value::Plain(d.to_string()),
                None => Value::Text("never".into()),
            },
        });
    }
    if let Some(r) = &live.repository {
        v.push(plain(&["ecr", "scan_on_push"], r.spec.scan_on_push));
        if let Some(n) = keep_images_of(&r.spec.lifecycle_policy) {
            v.push(plain(&["ecr", "keep_images"], n));
        }
    }
    v
}

/// `env` (with the values mcpctl fills in marked unset) and `secrets`.
fn env_entries(td: &TaskDefinitionSpec) -> Vec<Entry> {
    let mut v = Vec::new();
    for (k, val) in &td.env {
        v.push(keyed("env", k, Value::Text(val.clone())));
    }
    // Values mcpctl fills in for its own server; the running image does not get them.
    for k in ["MCP_PORT", "MCP_ALLOWED_HOSTS"] {
        if !td.env.iter().any(|(n, _)| n == k) {
            v.push(keyed("env", k, Value::Unset));
        }
    }
    for (k, val) in &td.secrets {
        v.push(keyed("secrets", k, Value::Text(val.clone())));
    }
    v
}

/// What must stay equal when a setting is left out.
fn meaning(stack: &Stack, shared: &Shared) -> (Desired, LoadBalancerRef) {
    (
        Desired::new(stack, shared, stack.image.clone()),
        stack.load_balancer.reference.clone(),
    )
}

/// The text of the stack file for `live`, to be written at `path` (next to `shared.yaml`):
/// only what differs from the shared file. `lookup` gives `${VAR}` values.
pub fn stack_text(
    live: &Live,
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String> {
    let header = format!(
        "# The running deployment of ECS service `{}` (cluster {}), as `mcpctl adopt` read it.\n# Only what differs from shared.yaml; `~` means \"not set\" even where shared.yaml sets it.\n",
        live.service.spec.name, live.cluster
    );
    let shared = Shared {
        alb: live.alb.clone(),
        ..Shared::default()
    };
    let mut entries = all_entries(live);
    // Names the shared file adds to env/secrets that the deployment does not have: `~`.
    for _ in 0..3 {
        let full = stack::load_text(path, &render(&header, &entries), lookup)?;
        let mut added = false;
        for (section, live_map, got) in [
            ("env", &live.task_definition.spec.env, &full.env),
            ("secrets", &live.task_definition.spec.secrets, &full.secrets),
        ] {
            for k in got.keys() {
                if !live_map.iter().any(|(n, _)| n == k) {
                    entries.push(keyed(section, k, Value::Unset));
                    added = true;
                }
            }
        }
        if !added {
            break;
        }
    }
    let full = stack::load_text(path, &render(&header, &entries), lookup)?;
    let want = meaning(&full, &shared);
    let mut i = 0;
    while i < entries.len() {
        let mut fewer = entries.clone();
        fewer.remove(i);
        let same = stack::load_text(path, &render(&header, &fewer), lookup)
            .is_ok_and(|s| meaning(&s, &shared) == want);
        if same {
            entries = fewer;
        } else {
            i += 1;
        }
    }
    Ok(render(&header, &entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_nest_by_path_in_order() {
        let e = vec![
            text(&["region"], "us-east-1"),
            plain(&["container", "port"], 9898),
            list(
                &["container", "health_check", "command"],
                &[
                    "CMD-SHELL".to_string(),
                    "curl -f http://x/ || exit 1".into(),
                ],
            ),
            plain(&["container", "health_check", "retries"], 3),
            plain(&["container", "cpu"], 256),
            keyed("env", "MCP_PORT", Value::Unset),
            keyed("env", "PRICE", Value::Text("$5".into())),
        ];
        assert_eq!(
            render("", &e),
            "extends: shared.yaml\nregion: \"us-east-1\"\ncontainer:\n  port: 9898\n  health_check:\n    command: [\"CMD-SHELL\", \"curl -f http://x/ || exit 1\"]\n    retries: 3\n  cpu: 256\nenv:\n  MCP_PORT: ~\n  PRICE: \"$$5\"\n"
        );
    }

    #[test]
    fn keep_images_is_read_back_from_mcpctl_policies_only() {
        assert_eq!(keep_images_of(""), Some(0));
        assert_eq!(keep_images_of(&lifecycle_policy(7)), Some(7));
        assert_eq!(keep_images_of("{\"rules\":[]}"), None);
    }
}
