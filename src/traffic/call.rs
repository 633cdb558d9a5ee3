//! A mutating AWS call described before it is made: what `--dry-run` prints and what
//! `--output json` lists, in the API's own names.

use std::fmt;

use serde::Serialize;

use crate::error::Result;

/// One mutating call: the IAM action (`elasticloadbalancing:ModifyRule`) and its parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedCall {
    /// `service:Operation`, as IAM and CloudTrail name it.
    pub action: String,
    /// The request parameters in the API's field names.
    pub params: serde_json::Value,
}

impl PlannedCall {
    /// A call with its parameters.
    pub fn new(action: &str, params: serde_json::Value) -> Self {
        PlannedCall {
            action: action.to_string(),
            params,
        }
    }
}

/// `elasticloadbalancing:ModifyRule {"RuleArn":"…","Actions":[…]}`
impl fmt::Display for PlannedCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.action, self.params)
    }
}

/// Print `heading` (with "(dry run, not made)" on a dry run) and one indented line per call;
/// nothing when there are no calls.
pub fn print_calls(heading: &str, calls: &[PlannedCall], dry_run: bool) -> Result<()> {
    if calls.is_empty() {
        return Ok(());
    }
    let note = if dry_run { " (dry run, not made)" } else { "" };
    crate::outln!("{heading}{note}:")?;
    for c in calls {
        crate::outln!("  {c}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_action_then_parameters() {
        let c = PlannedCall::new(
            "elasticloadbalancing:DeleteRule",
            serde_json::json!({"RuleArn": "arn:x"}),
        );
        assert_eq!(
            c.to_string(),
            r#"elasticloadbalancing:DeleteRule {"RuleArn":"arn:x"}"#
        );
    }
}
