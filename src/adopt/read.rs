//! Reading a running deployment from AWS, starting at its ECS service: the task definition
//! revision it runs, the target group it is bound to, the ALB and listener rule forwarding to
//! that group, the log group of the container's awslogs configuration and the ECR repository of
//! its image. Only Describe/List/Get calls.

use crate::aws::listener_rule::ListenerRule;
use crate::aws::Clients;
use crate::aws::{ecr, listener_rule, load_balancer, logs, service, target_group, task_definition};
use crate::error::Result;
use crate::plan::observed::{
    Alb, Listener, ObservedLogGroup, ObservedRepository, ObservedService, ObservedTargetGroup,
    ObservedTaskDefinition,
};
use crate::stack::LoadBalancerRef;

use super::AdoptError;

/// The running deployment, as read.
#[derive(Debug, Clone)]
pub struct Live {
    /// The region it runs in.
    pub region: String,
    /// The ECS cluster.
    pub cluster: String,
    /// The service.
    pub service: ObservedService,
    /// The task definition revision the service runs.
    pub task_definition: ObservedTaskDefinition,
    /// The target group the service is bound to.
    pub target_group: ObservedTargetGroup,
    /// The ALB in front of it.
    pub alb: Alb,
    /// The listener holding the rule.
    pub listener: Listener,
    /// The listener rule forwarding to the target group.
    pub rule: ListenerRule,
    /// The log group the container writes to (if it exists).
    pub log_group: Option<ObservedLogGroup>,
    /// The ECR repository of the image (when the image is in this account's ECR).
    pub repository: Option<ObservedRepository>,
}

/// The repository name of an ECR image URI
/// (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME[:TAG|@DIGEST]`); `None` for other registries.
pub fn ecr_repository_of(image: &str) -> Option<&str> {
    let (host, rest) = image.split_once('/')?;
    if !host.contains(".dkr.ecr.") {
        return None;
    }
    let name = rest.split('@').next().unwrap_or(rest);
    // A tag follows the last `:` after the last `/`.
    let name = match name.rsplit_once(':') {
        Some((n, tag)) if !tag.contains('/') => n,
        _ => name,
    };
    (!name.is_empty()).then_some(name)
}

/// Read the deployment behind `service_name` in `cluster`.
pub async fn read(c: &Clients, cluster: &str, service_name: &str) -> Result<Live> {
    if load_balancer::cluster(c, cluster).await?.is_none() {
        return Err(AdoptError::ClusterNotFound {
            cluster: cluster.to_string(),
            region: c.region.clone(),
        }
        .into());
    }
    let Some(svc) = service::observe(c, cluster, service_name, None)
        .await?
        .filter(|s| s.status == "ACTIVE")
    else {
        return Err(AdoptError::ServiceNotFound {
            service: service_name.to_string(),
            cluster: cluster.to_string(),
        }
        .into());
    };
    let td = task_definition::observe_revision(c, &svc.task_definition)
        .await?
        .ok_or_else(|| AdoptError::TaskDefinitionNotFound(svc.task_definition.clone()))?;
    // `normalise` without a known target group keeps the bound group's ARN.
    let tg_arn = svc.spec.target_group.clone();
    if tg_arn.is_empty() {
        return Err(AdoptError::NoLoadBalancer(service_name.to_string()).into());
    }
    let tg_name = crate::aws::forward::target_group_name(&tg_arn).to_string();
    let tg = target_group::observe(c, &tg_name)
        .await?
        .ok_or_else(|| AdoptError::NoLoadBalancer(service_name.to_string()))?;
    let mut found = None;
    for lb_arn in target_group::load_balancer_arns(c, &tg_name).await? {
        let Some(alb) = load_balancer::find(c, &LoadBalancerRef::Arn(lb_arn.clone())).await? else {
            continue;
        };
        for listener in load_balancer::listeners(c, &alb.arn).await? {
            let rules = listener_rule::rules(c, &listener.arn).await?;
            if let Some(rule) = rules.into_iter().find(|r| {
                r.priority.is_some() && r.forwards().iter().any(|f| f.sends_traffic_to(&tg.arn))
            }) {
                found = Some((alb.clone(), listener, rule));
                break;
            }
        }
        if found.is_some() {
            break;
        }
    }
    let (alb, listener, rule) = found.ok_or_else(|| AdoptError::NoRule(tg_name.clone()))?;
    let log_group = match td.spec.log_group.as_str() {
        "" => None,
        name => logs::observe(c, name).await?,
    };
    let repository = match td.spec.image.as_deref().and_then(ecr_repository_of) {
        Some(name) => ecr::observe(c, name).await?,
        None => None,
    };
    Ok(Live {
        region: c.region.clone(),
        cluster: cluster.to_string(),
        service: svc,
        task_definition: td,
        target_group: tg,
        alb,
        listener,
        rule,
        log_group,
        repository,
    })
}

#[cfg(test)]
mod tests {
    use super::ecr_repository_of;

    #[test]
    fn repository_is_read_from_ecr_image_uris_only() {
        let host = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
        assert_eq!(
            ecr_repository_of(&format!("{host}/opensearch-mcp-server:latest")),
            Some("opensearch-mcp-server")
        );
        assert_eq!(
            ecr_repository_of(&format!("{host}/team/app@sha256:abc")),
            Some("team/app")
        );
        assert_eq!(ecr_repository_of(&format!("{host}/app")), Some("app"));
        assert_eq!(ecr_repository_of("python:3.12"), None);
        assert_eq!(ecr_repository_of("ghcr.io/x/y:1"), None);
    }
}
