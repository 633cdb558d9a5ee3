//! The rollback alarm as a resource kind ([`Alarm`]): put before the service that names it (by
//! the service's apply), deleted after the service stopped naming it (its own apply, last).

use super::decide::{action_of, change};
use super::{alarm_dimensions, AlarmSpec, ObservedAlarm, ERROR_PERCENT};
use crate::plan::compare::Walk;
use crate::plan::fields::diff;
use crate::plan::kinds::{Inputs, Resource};
use crate::plan::{Action, Kind};

/// What happens to the rollback alarm.
#[derive(Debug, Clone, PartialEq)]
pub enum AlarmStep {
    /// `PutMetricAlarm` (creates or updates).
    Put(AlarmSpec),
    /// `DeleteAlarms` (after the service stops naming it).
    Delete(String),
}

/// The alarm's call, if any, and the ALB whose target group's metrics it watches.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlarmSteps {
    /// The ALB (the alarm's `LoadBalancer` dimension, with the target group's).
    pub alb_arn: String,
    /// The call, if any.
    pub call: Option<AlarmStep>,
}

/// The CloudWatch alarm ECS rolls a deployment back on.
pub struct Alarm;

impl Resource for Alarm {
    type Spec = Option<AlarmSpec>;
    type Observed = Option<ObservedAlarm>;
    type Step = AlarmSteps;

    fn desired(from: &Inputs<'_>) -> Option<AlarmSpec> {
        AlarmSpec::of(from.stack)
    }

    fn compare(w: &mut Walk<'_>) -> AlarmSteps {
        let alb_arn = &w.observed.shared.alb.arn;
        let tg_arn = w.observed.target_group.as_ref().map(|t| t.arn.as_str());
        let dims = tg_arn.and_then(|t| alarm_dimensions(alb_arn, t));
        let (want, have) = (w.desired.alarm.as_ref(), w.observed.alarm.as_ref());
        AlarmSteps {
            alb_arn: alb_arn.clone(),
            call: compare(w, want, have, dims),
        }
    }

    fn only_tags(step: &AlarmSteps) -> bool {
        step.call.is_none()
    }
}

/// The rollback alarm (`dims`: its dimensions, when the target group exists).
fn compare(
    w: &mut Walk<'_>,
    alarm: Option<&AlarmSpec>,
    have: Option<&ObservedAlarm>,
    dims: Option<(String, String)>,
) -> Option<AlarmStep> {
    match (alarm, have) {
        (Some(want), have) => {
            let diffs = match (have, &dims) {
                (Some(h), Some((lb, tg))) => {
                    diff(&want.definition(lb, tg).fields(), &h.definition.fields())
                }
                (Some(h), None) => diff(
                    &want
                        .definition("(the ALB)", "(the target group up creates)")
                        .fields(),
                    &h.definition.fields(),
                ),
                (None, _) => Vec::new(),
            };
            let mut c = change(
                Kind::Alarm,
                &want.name,
                action_of(have.is_some(), &diffs),
                &diffs,
                false,
            );
            c.note = Some(format!(
                "5XX above {ERROR_PERCENT}% of requests rolls a deployment back"
            ));
            let put = c.action != Action::Unchanged;
            w.changes.push(c);
            put.then(|| AlarmStep::Put(want.clone()))
        }
        (None, Some(h)) => {
            w.changes
                .push(change(Kind::Alarm, &h.name, Action::Delete, &[], false));
            Some(AlarmStep::Delete(h.name.clone()))
        }
        (None, None) => None,
    }
}
