//! A listener rule as plain data ([`ListenerRule`]: priority, paths, actions, tags) and the
//! questions every feature asks of a listener's rules, side by side so their differences show:
//!
//! * [`ListenerRule::belongs_to`]: is this rule the stack's (its `mcpctl:stack` tag decides; an
//!   untagged rule serving the stack's paths is adopted) — what `cleanup` hands over or deletes;
//! * [`own_rule`]: the rule `up` keeps updating (exact paths first, then a rule tagged for the
//!   stack forwarding only to its target group, so an edit of the paths finds it again);
//! * [`serving`]: the rule serving exactly a stack's paths (the production rule `cutover` moves);
//! * [`routing`]: the rule the ALB picks for one request path (what `verify` reads).

use serde::Serialize;

use super::forward::{Forward, ForwardError, Spelling, Stickiness, WeightedGroup};
use super::path::path_matches;
use crate::stack::{tagged_for, STACK_TAG};

/// Tag key prefix `cutover` puts on a rule whose routing it manages; `up` leaves the actions
/// of such a rule alone.
pub const CUTOVER_TAG_PREFIX: &str = "mcpctl:cutover";

/// The action type name of a forward action.
const FORWARD: &str = "forward";

/// One action of a listener rule, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleAction {
    /// Its type as AWS names it (`forward`, `fixed-response`, `redirect`, …).
    pub kind: Option<String>,
    /// Its `Order`, when it has one.
    pub order: Option<i32>,
    /// For a forward action: the forward, or why it is not one ALB accepts.
    pub forward: Option<Result<Forward, ForwardError>>,
    /// Any other action in full, as the AWS edge read it (so that a change to it is seen).
    pub detail: String,
}

impl RuleAction {
    /// A forward action.
    pub fn forward(forward: Forward) -> Self {
        RuleAction {
            kind: Some(FORWARD.to_string()),
            order: forward.order,
            forward: Some(Ok(forward)),
            detail: String::new(),
        }
    }

    /// A forward action to one target group at weight 1, spelled as a `ForwardConfig` (the
    /// action `up` creates a rule with).
    pub fn forward_to(tg_arn: &str) -> Self {
        RuleAction::forward(Forward {
            groups: vec![WeightedGroup::new(tg_arn, 1)],
            stickiness: Stickiness::Unset,
            order: None,
            spelling: Spelling::ForwardConfig,
        })
    }

    /// True for a forward action.
    pub fn is_forward(&self) -> bool {
        self.kind.as_deref() == Some(FORWARD)
    }

    /// The type name for messages (`?` when AWS gave none).
    pub fn kind_text(&self) -> &str {
        self.kind.as_deref().unwrap_or("?")
    }

    /// This action as a forward, or why it is not one.
    pub fn as_forward(&self) -> Result<Forward, ForwardError> {
        match (&self.forward, self.is_forward()) {
            (Some(f), true) => f.clone(),
            _ => Err(ForwardError::NotAForward(format!(
                "the rule's action is `{}`, not `forward`; mcpctl only moves forward actions",
                self.kind_text()
            ))),
        }
    }
}

impl Forward {
    /// Read a rule's actions: they must be exactly one forward action.
    pub fn from_rule_actions(actions: &[RuleAction]) -> Result<Forward, ForwardError> {
        match actions {
            [one] => one.as_forward(),
            [] => Err(ForwardError::NotAForward("the rule has no action".into())),
            many => Err(ForwardError::NotAForward(format!(
                "the rule has {} actions ({}); mcpctl only moves rules whose single action is a forward",
                many.len(),
                many.iter()
                    .map(RuleAction::kind_text)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// A listener rule: what `up` plans against, `cutover`/`rollback` move, `cleanup` hands over or
/// deletes and `verify`/`status` read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListenerRule {
    /// The rule's ARN.
    pub arn: String,
    /// Its priority; `None` for the listener's default rule.
    pub priority: Option<i32>,
    /// The values of its `path-pattern` condition(s).
    pub path_patterns: Vec<String>,
    /// Its actions as AWS returned them.
    #[serde(skip)]
    pub actions: Vec<RuleAction>,
    /// Its tags, in AWS's order.
    pub tags: Vec<(String, String)>,
}

impl ListenerRule {
    /// The rule's single forward action, or why it is not one.
    pub fn forward(&self) -> Result<Forward, ForwardError> {
        Forward::from_rule_actions(&self.actions)
    }

    /// Every forward action among the rule's actions (none for fixed-response or redirect
    /// rules; an action AWS would not accept is left out).
    pub fn forwards(&self) -> Vec<Forward> {
        self.actions
            .iter()
            .filter(|a| a.is_forward())
            .filter_map(|a| a.forward.clone().and_then(Result::ok))
            .collect()
    }

    /// The value of tag `key`.
    pub fn tag(&self, key: &str) -> Option<&str> {
        tag_value(&self.tags, key)
    }

    /// True when `cutover` manages this rule's forward action.
    pub fn routed_by_cutover(&self) -> bool {
        self.tags
            .iter()
            .any(|(k, _)| k.starts_with(CUTOVER_TAG_PREFIX))
    }

    /// True for the listener's default rule.
    pub fn is_default(&self) -> bool {
        self.priority.is_none()
    }

    /// True when the rule's path patterns are exactly `paths` (in any order).
    pub fn serves(&self, paths: &[String]) -> bool {
        let mut a = self.path_patterns.clone();
        let mut b = paths.to_vec();
        a.sort();
        b.sort();
        !a.is_empty() && a == b
    }

    /// True when the rule belongs to `stack`: tagged for it, or untagged and serving its
    /// `paths` (a rule created by the old scripts, adopted the way `up` adopts it).
    pub fn belongs_to(&self, stack: &str, paths: &[String]) -> bool {
        match self.tag(STACK_TAG) {
            Some(owner) => owner == stack,
            None => !self.is_default() && self.serves(paths),
        }
    }

    /// True when the rule's only forward target is `tg_arn` (one forward action, one group).
    pub fn forwards_only_to(&self, tg_arn: &str) -> bool {
        match self.forwards().as_slice() {
            [f] => match f.groups.as_slice() {
                [g] => g.arn == tg_arn,
                _ => false,
            },
            _ => false,
        }
    }

    /// True when the ALB would send a request for `path` to this rule (if no rule before it
    /// matches).
    pub fn matches_path(&self, path: &str) -> bool {
        self.path_patterns.iter().any(|p| path_matches(p, path))
    }

    /// Text naming the rule for messages: `rule 100 (/ossserver/*)`.
    pub fn label(&self) -> String {
        match self.priority {
            Some(p) => format!("rule {p} ({})", self.path_patterns.join(", ")),
            None => "the listener's default rule".to_string(),
        }
    }
}

/// The rule `up` keeps as the stack's own among `rules` (sorted by priority): the rule with
/// exactly the stack's `paths` (duplicates ignored); failing that (the paths were edited), a
/// rule tagged for `stack` that `cutover` does not manage and that forwards only to the stack's
/// target group `tg_arn`. A re-run finds it instead of adding another.
pub fn own_rule<'a>(
    rules: &'a [ListenerRule],
    paths: &[String],
    tg_arn: Option<&str>,
    stack: &str,
) -> Option<&'a ListenerRule> {
    let numbered = || rules.iter().filter(|r| !r.is_default());
    numbered()
        .find(|r| same_paths(&r.path_patterns, paths))
        .or_else(|| {
            let tg_arn = tg_arn?;
            numbered().find(|r| {
                tagged_for(&r.tags, stack) && !r.routed_by_cutover() && r.forwards_only_to(tg_arn)
            })
        })
}

/// The first rule (not the default one) whose path patterns are exactly `paths`: the rule
/// that serves a stack's production traffic.
pub fn serving(rules: Vec<ListenerRule>, paths: &[String]) -> Option<ListenerRule> {
    rules
        .into_iter()
        .find(|r| !r.is_default() && r.serves(paths))
}

/// The rule the ALB uses for `path`: the first by priority whose path patterns match it.
pub fn routing<'a>(rules: &'a [ListenerRule], path: &str) -> Option<&'a ListenerRule> {
    let mut sorted: Vec<&ListenerRule> = rules.iter().filter(|r| !r.is_default()).collect();
    sorted.sort_by_key(|r| r.priority);
    sorted.into_iter().find(|r| r.matches_path(path))
}

/// The value of tag `key` among `tags`.
pub fn tag_value<'a>(tags: &'a [(String, String)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Sort rules by priority, the default rule last.
pub fn sort_by_priority(rules: &mut [ListenerRule]) {
    rules.sort_by_key(|r| r.priority.unwrap_or(i32::MAX));
}

fn same_paths(a: &[String], b: &[String]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    a == b
}
