//! The IAM policy document for some stacks and commands: every need of [`super::NEEDS`] that
//! one of the commands has and the stack's settings call for, grouped into statements by
//! scope and condition.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::command::CommandName;
use super::scope::{resources, Place, Scope};
use super::table::{Need, NEEDS};
use crate::stack::Stack;

/// What a policy is for: the stacks (each with its region, at `account`) and the commands.
#[derive(Debug, Clone)]
pub struct Selection<'a> {
    /// The stacks.
    pub stacks: &'a [Stack],
    /// The commands (every one when empty).
    pub commands: BTreeSet<CommandName>,
    /// The account ID, or `${aws:PrincipalAccount}` (the caller's own account).
    pub account: String,
}

impl Selection<'_> {
    fn wants(&self, need: &Need) -> bool {
        self.commands.is_empty() || need.commands.iter().any(|c| self.commands.contains(c))
    }
}

/// One statement being built: its actions and resources.
#[derive(Default)]
struct Statement {
    actions: BTreeSet<&'static str>,
    resources: BTreeSet<String>,
}

/// The actions the selection needs, sorted (what a test drops one at a time).
pub fn actions(selection: &Selection<'_>) -> Vec<&'static str> {
    let set: BTreeSet<&'static str> = NEEDS
        .iter()
        .filter(|n| selection.wants(n))
        .filter(|n| selection.stacks.iter().any(|s| n.feature.applies(s)))
        .map(|n| n.action)
        .collect();
    set.into_iter().collect()
}

/// An IAM policy document, its keys in the order AWS writes them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyDocument {
    /// `2012-10-17`.
    #[serde(rename = "Version")]
    pub version: &'static str,
    /// The statements.
    #[serde(rename = "Statement")]
    pub statements: Vec<PolicyStatement>,
}

/// One `Allow` statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyStatement {
    /// The scope's name (`Service`, `ListenerRules`, `AllResources`, ...).
    #[serde(rename = "Sid")]
    pub sid: String,
    /// Always `Allow`.
    #[serde(rename = "Effect")]
    pub effect: &'static str,
    /// The actions, sorted.
    #[serde(rename = "Action")]
    pub actions: Vec<&'static str>,
    /// The resources, sorted.
    #[serde(rename = "Resource")]
    pub resources: Vec<String>,
    /// The condition, when the scope has one (`iam:PassedToService`, `ecs:cluster`).
    #[serde(rename = "Condition", skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
}

/// The policy document: one statement per scope and condition, its actions and resources
/// sorted, so the same stacks and commands always give the same text.
pub fn document(selection: &Selection<'_>) -> PolicyDocument {
    let mut statements: BTreeMap<(Scope, String), (Statement, Option<Value>)> = BTreeMap::new();
    for need in NEEDS.iter().filter(|n| selection.wants(n)) {
        for stack in selection.stacks.iter().filter(|s| need.feature.applies(s)) {
            let place = Place::new(&stack.region, &selection.account);
            let (arns, condition) = resources(need.scope, stack, &place);
            if arns.is_empty() {
                continue;
            }
            let key = (
                need.scope,
                condition.as_ref().map(Value::to_string).unwrap_or_default(),
            );
            let entry = statements
                .entry(key)
                .or_insert_with(|| (Statement::default(), condition));
            entry.0.actions.insert(need.action);
            entry.0.resources.extend(arns);
        }
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let statements = statements
        .into_iter()
        .map(|((scope, _), (st, condition))| {
            let base = match scope {
                Scope::Any => "AllResources".to_string(),
                other => format!("{other:?}"),
            };
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            PolicyStatement {
                sid: if *n == 1 { base } else { format!("{base}{n}") },
                effect: "Allow",
                actions: st.actions.into_iter().collect(),
                resources: st.resources.into_iter().collect(),
                condition,
            }
        })
        .collect();
    PolicyDocument {
        version: "2012-10-17",
        statements,
    }
}
