//! Changing a running stack by hand: `scale` (the desired count, or the autoscaler's range),
//! `revisions` (the task definition history, which one runs) and `up --revision N` (put the
//! service back on an earlier revision). The decisions ([`decide_scale`], [`revision_arn`]) are
//! pure; the calls are in `aws/`.

use serde::Serialize;

use crate::aws::{scaling, service, task_definition, Clients};
use crate::error::{Error, Result};
use crate::plan::scaling::resource_id;
use crate::stack::Stack;

/// What `scale` does, decided from the flags and the service's scalable target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleDecision {
    /// The scalable target's new range, when it changes (`RegisterScalableTarget`).
    pub range: Option<(i32, i32)>,
    /// The desired count to set (`UpdateService`).
    pub count: i32,
}

/// Decide `scale --count N [--min A] [--max B]`. `target` is the service's scalable target range
/// (`None`: no autoscaling). While autoscaling governs the count, setting it alone would be
/// undone by the autoscaler, so it is refused (exit 3) unless `--min`/`--max` move the range
/// to hold it; `--min`/`--max` without autoscaling are bad input (exit 2).
pub fn decide_scale(
    count: i32,
    min: Option<i32>,
    max: Option<i32>,
    target: Option<(i32, i32)>,
) -> Result<ScaleDecision> {
    match (target, min.is_some() || max.is_some()) {
        (None, false) => Ok(ScaleDecision { range: None, count }),
        (None, true) => Err(Error::bad_input(
            "--min/--max set the autoscaler's range, but this service has no scalable target; add `service.autoscaling` to the stack and run `up`, or give only --count",
        )),
        (Some((lo, hi)), false) => Err(Error::refused(format!(
            "autoscaling governs this service's count ({lo}..{hi}) and would undo --count {count}; pass --min/--max to move its range as well (e.g. --min {count} --max {}), or change `service.autoscaling` in the stack and run `up`",
            hi.max(count)
        ))),
        (Some((lo, hi)), true) => {
            let (lo, hi) = (min.unwrap_or(lo), max.unwrap_or(hi));
            if lo > hi {
                return Err(Error::bad_input(format!(
                    "--min {lo} is above --max {hi}; give a range with min <= max"
                )));
            }
            if !(lo..=hi).contains(&count) {
                return Err(Error::bad_input(format!(
                    "--count {count} is outside the range {lo}..{hi}; the autoscaler would move it at once: give a count in the range or widen it"
                )));
            }
            Ok(ScaleDecision {
                range: Some((lo, hi)),
                count,
            })
        }
    }
}

/// What `scale` did, for `--output json`.
#[derive(Debug, Serialize)]
pub struct Scaled {
    /// The service.
    pub service: String,
    /// Its desired count before.
    pub from: i32,
    /// Its desired count now.
    pub to: i32,
    /// The autoscaler's range now, if it has one.
    pub range: Option<(i32, i32)>,
}

/// `scale`: set the desired count (and the autoscaler's range), as [`decide_scale`] says.
pub async fn scale(
    c: &Clients,
    stack: &Stack,
    count: i32,
    min: Option<i32>,
    max: Option<i32>,
) -> Result<Scaled> {
    let (cluster, name) = (&stack.cluster, &stack.names.service);
    let svc = live_service(c, stack).await?;
    let id = resource_id(cluster, name);
    let target = scaling::observe(c, &id).await?.map(|t| (t.min, t.max));
    let d = decide_scale(count, min, max, target)?;
    if let Some((lo, hi)) = d.range {
        scaling::register(c, &id, lo, hi).await?;
    }
    if svc.desired_count() != d.count {
        service::set_desired_count(c, cluster, name, d.count).await?;
    }
    Ok(Scaled {
        service: name.clone(),
        from: svc.desired_count(),
        to: d.count,
        range: d.range.or(target),
    })
}

async fn live_service(c: &Clients, stack: &Stack) -> Result<aws_sdk_ecs::types::Service> {
    let (cluster, name) = (&stack.cluster, &stack.names.service);
    service::describe(c, cluster, name)
        .await?
        .filter(|s| s.status() == Some("ACTIVE"))
        .ok_or_else(|| {
            Error::failed(format!(
                "ECS service {name} is not running in cluster {cluster}; deploy it with `mcpctl up --stack {}` first",
                stack.name
            ))
        })
}

/// One revision of the stack's task definition family.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revision {
    /// Revision number.
    pub revision: i32,
    /// ARN.
    pub arn: String,
    /// The container image (URI).
    pub image: String,
    /// Its digest (`sha256:…`) when the image is pinned by digest.
    pub digest: Option<String>,
    /// True for the revision the service runs.
    pub running: bool,
}

/// The digest of an image reference pinned by digest (`repo@sha256:…`).
pub fn digest_of(image: &str) -> Option<&str> {
    image.rsplit_once('@').map(|(_, d)| d)
}

/// The ARN of revision `n` among `active` ARNs (`…:task-definition/FAMILY:N`); `None` when it
/// is not active. ECS does not let an update move a service to an INACTIVE revision
/// (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deregister-task-definition-v2.html>).
pub fn revision_arn(active: &[String], family: &str, n: i32) -> Option<String> {
    active
        .iter()
        .find(|a| {
            a.rsplit('/')
                .next()
                .and_then(|t| t.rsplit_once(':'))
                .is_some_and(|(f, r)| f == family && r.parse::<i32>() == Ok(n))
        })
        .cloned()
}

/// The newest `limit` active revisions of the stack's family, newest first, with their images
/// and which one the service runs.
pub async fn revisions(c: &Clients, stack: &Stack, limit: usize) -> Result<Vec<Revision>> {
    let family = &stack.names.task_family;
    let running = service::describe(c, &stack.cluster, &stack.names.service)
        .await?
        .filter(|s| s.status() == Some("ACTIVE"))
        .and_then(|s| s.task_definition().map(str::to_string));
    let mut arns = task_definition::active_revisions(c, family).await?;
    let number = |a: &String| {
        a.rsplit_once(':')
            .and_then(|(_, r)| r.parse::<i32>().ok())
            .unwrap_or(0)
    };
    arns.sort_by_key(|a| std::cmp::Reverse(number(a)));
    let mut out = Vec::new();
    for arn in arns.into_iter().take(limit) {
        let Some(td) = task_definition::observe_revision(c, &arn).await? else {
            continue;
        };
        let image = td.spec.image.clone().unwrap_or_default();
        out.push(Revision {
            revision: td.revision,
            digest: digest_of(&image).map(str::to_string),
            image,
            running: running.as_deref() == Some(arn.as_str()),
            arn,
        });
    }
    Ok(out)
}

/// What `up --revision N` did.
#[derive(Debug, Serialize)]
pub struct RevisionSwitch {
    /// The revision the service ran.
    pub from: String,
    /// The revision it runs now.
    pub to: String,
    /// True when the service was already on it (no call made).
    pub unchanged: bool,
}

/// `up --revision N`: point the service at revision `n` of its family (which must be active).
/// Nothing else of the stack changes; the next `up` without `--revision` deploys the stack's
/// own task definition again.
pub async fn use_revision(c: &Clients, stack: &Stack, n: i32) -> Result<RevisionSwitch> {
    let family = &stack.names.task_family;
    let svc = live_service(c, stack).await?;
    let active = task_definition::active_revisions(c, family).await?;
    let Some(arn) = revision_arn(&active, family, n) else {
        return Err(Error::bad_input(format!(
            "{family}:{n} is not an active revision of the stack's task definition; `mcpctl revisions --stack {}` lists the ones to go back to",
            stack.name
        )));
    };
    let from = svc.task_definition().unwrap_or_default().to_string();
    let unchanged = from == arn;
    if !unchanged {
        service::set_task_definition(c, &stack.cluster, &stack.names.service, &arn).await?;
    }
    Ok(RevisionSwitch {
        from,
        to: arn,
        unchanged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_refuses_while_the_autoscaler_governs_unless_the_range_moves_too() {
        assert_eq!(
            decide_scale(3, None, None, None).unwrap(),
            ScaleDecision {
                range: None,
                count: 3
            }
        );
        let e = decide_scale(3, None, None, Some((1, 4))).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains("autoscaling governs"), "{e}");
        assert_eq!(
            decide_scale(6, Some(6), Some(8), Some((1, 4))).unwrap(),
            ScaleDecision {
                range: Some((6, 8)),
                count: 6
            }
        );
        assert_eq!(
            decide_scale(2, None, Some(9), Some((1, 4))).unwrap().range,
            Some((1, 9))
        );
        assert_eq!(
            decide_scale(9, Some(1), Some(4), Some((1, 4)))
                .unwrap_err()
                .exit_code(),
            2
        );
        assert_eq!(
            decide_scale(3, Some(5), Some(4), Some((1, 4)))
                .unwrap_err()
                .exit_code(),
            2
        );
        assert_eq!(
            decide_scale(3, Some(1), None, None)
                .unwrap_err()
                .exit_code(),
            2
        );
    }

    #[test]
    fn a_revision_is_found_by_family_and_number_among_the_active_ones() {
        let active = vec![
            "arn:aws:ecs:us-east-1:1:task-definition/f:1".to_string(),
            "arn:aws:ecs:us-east-1:1:task-definition/f:12".to_string(),
            "arn:aws:ecs:us-east-1:1:task-definition/f-other:2".to_string(),
        ];
        assert_eq!(
            revision_arn(&active, "f", 12).as_deref(),
            Some(active[1].as_str())
        );
        assert_eq!(revision_arn(&active, "f", 2), None);
        assert_eq!(revision_arn(&active, "f", 3), None);
        assert_eq!(digest_of("r/x@sha256:ab"), Some("sha256:ab"));
        assert_eq!(digest_of("r/x:1.0"), None);
    }
}

/// The autoscaling part of `status`: the range, the current count and the latest activities.
#[derive(Debug, Serialize)]
pub struct ScalingStatus {
    /// Fewest tasks.
    pub min: i32,
    /// Most tasks.
    pub max: i32,
    /// The desired count now.
    pub current: i32,
    /// Target-tracking policies (name, metric, target value).
    pub policies: Vec<(String, String, f64)>,
    /// The latest scaling activities, newest first.
    pub activities: Vec<crate::aws::scaling::Activity>,
    /// Why the activities could not be read, if they could not (the rest still shows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activities_error: Option<String>,
}

/// How many scaling activities `status` shows.
pub const ACTIVITIES: i32 = 5;

/// The service's autoscaling for `status` (`None`: no scalable target). `current` is the
/// service's desired count.
pub async fn scaling_status(
    c: &Clients,
    stack: &Stack,
    current: i32,
) -> Result<Option<ScalingStatus>> {
    let id = resource_id(&stack.cluster, &stack.names.service);
    let observed = crate::aws::errors::unless_denied(
        stack.service.autoscaling.is_none(),
        scaling::observe(c, &id).await,
    )?;
    let Some(t) = observed else {
        return Ok(None);
    };
    let (activities, activities_error) = match scaling::activities(c, &id, ACTIVITIES).await {
        Ok(a) => (a, None),
        Err(e) => (Vec::new(), Some(crate::error::source_chain(&e))),
    };
    Ok(Some(ScalingStatus {
        min: t.min,
        max: t.max,
        current,
        policies: t
            .policies
            .iter()
            .map(|p| (p.name.clone(), p.metric.clone(), p.target_value))
            .collect(),
        activities,
        activities_error,
    }))
}
