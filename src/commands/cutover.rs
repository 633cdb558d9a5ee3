//! `mcpctl cutover`: send the production path's traffic (all, or a percentage) to another stack.

use clap::Args;
use serde::Serialize;

use crate::aws::forward::Forward;
use crate::aws::listener_rule::{self, RuleChange};
use crate::aws::load_balancer::{self, AlbListener};
use crate::aws::target_group::{self, health_count, HealthCount};
use crate::aws::Call;
use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::output::print_json;
use crate::stack::{self, Stack};
use crate::traffic::cutover::{cutover, record_for_cutover};
use crate::traffic::drift::{drift, moved};
use crate::traffic::record::{self, APPLIED_TAG, REPLACED_TAG, RESTORED_TAG};
use crate::traffic::{Percent, RecordUpdate};

/// Arguments of `mcpctl cutover`.
#[derive(Debug, Args)]
pub struct CutoverArgs {
    /// The stack whose production rule (its path patterns, e.g. `/ossserver/*`) is moved.
    #[arg(long, value_name = "STACK", default_value = "stateful")]
    pub from: String,
    /// The stack that receives the traffic (its target group must have healthy targets).
    #[arg(long, value_name = "STACK", default_value = "stateless")]
    pub to: String,
    /// Share of the production traffic for `--to`, a whole percentage 1–100 (a canary: 10, then 50, then 100).
    #[arg(long, value_name = "PERCENT", default_value = "100")]
    pub weight: Percent,
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Print the routing before/after and the exact calls, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Cut over even when the target group of `--to` has no healthy targets.
    #[arg(long)]
    pub force: bool,
}

/// What `cutover` found and did, for `--output json` (and the text it prints).
#[derive(Debug, Serialize)]
pub struct CutoverReport {
    /// The stack whose production rule moves.
    pub from: String,
    /// The stack receiving the traffic.
    pub to: String,
    /// The requested share for `to`, in percent.
    pub weight: u8,
    /// The ALB listener.
    pub listener: AlbListener,
    /// The production rule's ARN.
    pub rule_arn: String,
    /// Its priority.
    pub priority: Option<i32>,
    /// Its path patterns.
    pub path_patterns: Vec<String>,
    /// Target health of `to`'s target group.
    pub target_health: HealthCount,
    /// True when `--force` overrode a failed health check.
    pub forced: bool,
    /// Routing before.
    pub before: Forward,
    /// Routing after.
    pub after: Forward,
    /// Routing before, as people read it (`opensearch-mcp-tg 100%`).
    pub routing_before: String,
    /// Routing after, as people read it.
    pub routing_after: String,
    /// Groups the old routing sent traffic to that the new one drops.
    pub dropped: Vec<String>,
    /// What happens to the record of the replaced routing.
    pub record: RecordUpdate,
    /// The mutating calls, in order.
    pub calls: Vec<Call>,
    /// True with `--dry-run`: nothing was changed.
    pub dry_run: bool,
    /// True when the calls were made.
    pub changed: bool,
}

/// Check that two stacks share the region, ALB and listener (a cutover moves one rule).
pub(crate) fn same_listener(a: &Stack, b: &Stack) -> Result<()> {
    if a.region != b.region || a.load_balancer != b.load_balancer {
        return Err(Error::bad_input(format!(
            "stacks {} and {} are not behind the same load balancer and listener (region {} / {}, ALB {} / {}, port {} / {}): a cutover moves one listener rule, so both stacks must share `region` and `load_balancer`",
            a.name, b.name, a.region, b.region, a.load_balancer.reference, b.load_balancer.reference,
            a.load_balancer.listener_port, b.load_balancer.listener_port
        )));
    }
    Ok(())
}

/// Run `mcpctl cutover`.
pub async fn run(args: CutoverArgs, global: &GlobalArgs) -> Result<()> {
    if args.from == args.to {
        return Err(Error::bad_input(format!(
            "--from and --to are both `{}`: name the stack serving production now and the one to move it to",
            args.from
        )));
    }
    let from = stack::load(&args.from, &global.stacks_dir)?;
    let to = stack::load(&args.to, &global.stacks_dir)?;
    same_listener(&from, &to)?;
    let region = global.region.clone().unwrap_or_else(|| from.region.clone());
    let aws = crate::aws::Clients::connect(global.profile.as_deref(), Some(&region)).await;
    let lb = &from.load_balancer;
    let listener = load_balancer::find_listener(&aws, &lb.reference, lb.listener_port)
        .await?
        .ok_or_else(|| {
            Error::refused(format!(
                "load balancer {} has no listener on port {} in {region} (or does not exist): there is no production traffic to move; deploy with `mcpctl up --stack {}` first",
                lb.reference, lb.listener_port, from.name
            ))
        })?;
    let rules = listener_rule::rules(&aws, &listener.arn).await?;
    let paths = &from.routing.path_patterns;
    let rule = rules
        .iter()
        .find(|r| r.priority.is_some() && r.serves(paths))
        .ok_or_else(|| {
            Error::refused(format!(
                "no rule on {}:{} serves {} (the paths of stack {}); deploy it with `mcpctl up --stack {}`, or pass --from with the stack that serves production",
                listener.load_balancer, listener.port, paths.join(", "), from.name, from.name
            ))
        })?;
    let current = rule
        .forward()
        .map_err(|e| Error::refused(format!("{} cannot be moved: {e}", rule.label())))?;
    // A routing mcpctl did not set (a racing rollback, a hand edit) is never recorded as the
    // way back.
    if let Some(d) = drift(rule, &current).map_err(|e| Error::refused(e.to_string()))? {
        return Err(Error::refused(d.to_string()));
    }
    let to_tg_arn = target_group::arn_by_name(&aws, &to.names.target_group)
        .await?
        .ok_or_else(|| {
            Error::refused(format!(
                "stack {} is not deployed: target group {} does not exist in {region}; deploy it first with `mcpctl up --stack {}` and wait until its targets are healthy; nothing was changed",
                to.name, to.names.target_group, to.name
            ))
        })?;
    let from_arn = match target_group::arn_by_name(&aws, &from.names.target_group).await? {
        Some(arn) => arn,
        None if args.weight == Percent::ALL => String::new(),
        None => {
            return Err(Error::refused(format!(
                "target group {} of stack {} does not exist, so {}% cannot stay on it; cut over all traffic (leave out --weight) or deploy {} again",
                from.names.target_group, from.name, 100 - args.weight.get(), from.name
            )))
        }
    };
    let health = health_count(&aws, &to_tg_arn).await?;
    if health.healthy == 0 && !args.force {
        return Err(Error::refused(format!(
            "target group {} (stack {}) has no healthy targets ({} of {} healthy): production traffic would get errors; wait until `mcpctl status --stack {}` shows healthy targets, or pass --force; nothing was changed",
            to.names.target_group, to.name, health.healthy, health.total, to.name
        )));
    }
    let change = cutover(&current, &from_arn, &to_tg_arn, args.weight)
        .map_err(|e| Error::bad_input(format!("the new routing is not valid: {e}")))?;
    let record = record_for_cutover(&current, &rule.tags)
        .map_err(|e| Error::refused(format!("{}: {e}", rule.label())))?;
    let mut changes = Vec::new();
    if !change.unchanged {
        if let RecordUpdate::Write {
            value,
            remove_restored,
        } = &record
        {
            changes.push(RuleChange::AddTags {
                rule_arn: rule.arn.clone(),
                tags: vec![(REPLACED_TAG.to_string(), value.clone())],
            });
            if *remove_restored {
                changes.push(RuleChange::RemoveTags {
                    rule_arn: rule.arn.clone(),
                    keys: vec![RESTORED_TAG.to_string()],
                });
            }
        }
        changes.push(RuleChange::SetForward {
            rule_arn: rule.arn.clone(),
            forward: change.after.clone(),
        });
        // After the switch: what this step set, so the next cutover or rollback can tell a
        // change it did not make.
        changes.push(RuleChange::AddTags {
            rule_arn: rule.arn.clone(),
            tags: vec![(APPLIED_TAG.to_string(), record::encode(&change.after))],
        });
    }
    let mut report = CutoverReport {
        from: from.name.clone(),
        to: to.name.clone(),
        weight: args.weight.get(),
        listener,
        rule_arn: rule.arn.clone(),
        priority: rule.priority,
        path_patterns: rule.path_patterns.clone(),
        target_health: health,
        forced: health.healthy == 0,
        routing_before: change.before.to_string(),
        routing_after: change.after.to_string(),
        before: change.before.clone(),
        after: change.after.clone(),
        dropped: change.dropped.clone(),
        record,
        calls: changes.iter().map(RuleChange::planned).collect(),
        dry_run: args.dry_run,
        changed: false,
    };
    let json = global.output.is_json();
    if !json {
        print_plan(&report)?;
    }
    if !changes.is_empty() && !args.dry_run {
        crate::commands::show_identity(&aws).await?;
        crate::prompt::confirm(
            &format!(
                "Send {}% of {} to stack {}?",
                report.weight,
                report.path_patterns.join(", "),
                report.to
            ),
            args.yes,
        )?;
        // Last look before the first change: refuse if the rule moved since it was read.
        let now = listener_rule::rule(&aws, &rule.arn).await?;
        if let Some(what) = moved(rule, now.as_ref()) {
            return Err(Error::refused(format!(
                "{what}: another cutover or rollback, or a hand edit, changed it while this cutover was deciding; nothing was changed; run `mcpctl cutover` again to decide on the rule as it is now"
            )));
        }
        for c in &changes {
            c.apply(&aws).await?;
        }
        report.changed = true;
    }
    if json {
        print_json(&report)?;
    } else {
        print_outcome(&report)?;
    }
    Ok(())
}

fn print_plan(r: &CutoverReport) -> Result<()> {
    crate::outln!(
        "Production rule: {} on {}:{}",
        match r.priority {
            Some(p) => format!("rule {p} ({})", r.path_patterns.join(", ")),
            None => "default rule".into(),
        },
        r.listener.load_balancer,
        r.listener.port
    )?;
    crate::outln!(
        "Stack {}: {} of {} targets healthy{}",
        r.to,
        r.target_health.healthy,
        r.target_health.total,
        if r.forced {
            " (--force: going ahead anyway)"
        } else {
            ""
        }
    )?;
    crate::outln!("Routing before: {}", r.before)?;
    crate::outln!("Routing after:  {}", r.after)?;
    for d in &r.dropped {
        crate::outln!("Note: target group {d} no longer receives traffic from this rule")?;
    }
    if r.calls.is_empty() {
        return Ok(());
    }
    match &r.record {
        RecordUpdate::Keep { value } => crate::outln!(
            "Rollback record: kept ({REPLACED_TAG} = {value}, the routing before this cutover began)"
        )?,
        RecordUpdate::Write { value, .. } => {
            crate::outln!("Rollback record: {REPLACED_TAG} = {value} (on the rule)")?
        }
    }
    super::print_calls("Calls", &r.calls, r.dry_run)?;
    Ok(())
}

fn print_outcome(r: &CutoverReport) -> Result<()> {
    if r.calls.is_empty() {
        crate::outln!("Nothing to do: the rule already routes this way.")?;
    } else if r.changed {
        crate::outln!(
            "Done: {}% of {} now goes to stack {}. Undo with `mcpctl rollback`.",
            r.weight,
            r.path_patterns.join(", "),
            r.to
        )?;
    } else {
        crate::outln!("Dry run: nothing was changed.")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<super::CutoverArgs, clap::Error> {
        let cli = Cli::try_parse_from([&["mcpctl", "cutover"], args].concat())?;
        match cli.command {
            Command::Cutover(a) => Ok(a),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn defaults_move_all_traffic_from_stateful_to_stateless() {
        let a = parse(&[]).unwrap();
        assert_eq!((a.from.as_str(), a.to.as_str()), ("stateful", "stateless"));
        assert_eq!(a.weight.get(), 100);
        assert!(!a.yes && !a.dry_run && !a.force);
    }

    #[test]
    fn a_canary_weight_and_flags_parse() {
        let a = parse(&[
            "--weight",
            "10",
            "--yes",
            "--dry-run",
            "--force",
            "--to",
            "x",
        ])
        .unwrap();
        assert_eq!(a.weight.get(), 10);
        assert!(a.yes && a.dry_run && a.force);
        assert_eq!(a.to, "x");
    }

    #[test]
    fn stacks_must_share_the_listener() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks");
        let env = |k: &str| (k == "AWS_ACCOUNT_ID").then(|| "123456789012".to_string());
        let a = crate::stack::load_with_env("stateful", &dir, &env).unwrap();
        let mut b = crate::stack::load_with_env("stateless", &dir, &env).unwrap();
        assert!(super::same_listener(&a, &b).is_ok());
        b.load_balancer.listener_port = 8080;
        let e = super::same_listener(&a, &b).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("port 80 / 8080"), "{e}");
    }

    #[test]
    fn weight_1000_is_bad_input_with_what_to_write() {
        let e = parse(&["--weight", "1000"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(
            e.to_string().contains("whole percentage from 1 to 100"),
            "{e}"
        );
    }
}
