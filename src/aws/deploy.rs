//! Observe a stack (with preflight problems listed at once) and apply a plan in dependency
//! order, the one list `plan::resources!`: listener, ECR repository, (image), log group, task
//! role, task definition, target group, listener rule, (alarm,) service, autoscaling, (the
//! alarm no longer wanted). Deciding what to do is [`crate::plan`]'s job (its
//! [`crate::plan::Steps`]); [`apply`] only carries the steps out, each kind through its module's
//! `Deploy`.

use std::path::PathBuf;

mod apply;

pub use apply::apply;
pub(crate) use apply::{Applying, Deploy};

use serde::Serialize;

use super::errors::code;
use super::{certificate, listener_rule, load_balancer, Clients};
use crate::error::Result;
use crate::plan::endpoint::{ListenerSpec, HTTP_PORT};
use crate::plan::observed::{Alb, Observed, Shared};
use crate::plan::{Action, Kind, Plan};
use crate::stack::Stack;

/// Read everything the stack references and owns. Problems with what it references (cluster,
/// ALB, roles) are returned together; `Observed` is `None` when the ALB is missing.
pub async fn observe(c: &Clients, stack: &Stack) -> Result<(Option<Observed>, Vec<String>)> {
    let mut problems = Vec::new();
    let cluster_arn = load_balancer::cluster(c, &stack.cluster).await?;
    if cluster_arn.is_none() {
        problems.push(format!(
            "ECS cluster `{}` was not found (or is not ACTIVE) in {}; check `cluster` in the stack, --region and --profile",
            stack.cluster, c.region
        ));
    }
    problems.extend(missing_roles(c, stack).await);
    let Some(alb) = load_balancer::find(c, &stack.load_balancer.reference).await? else {
        problems.push(format!(
            "load balancer `{}` was not found in {}; check `load_balancer.name`/`arn` in the stack, --region and --profile",
            stack.load_balancer.reference, c.region
        ));
        return Ok((None, problems));
    };
    if stack.network.subnets.is_empty() && alb.subnets.is_empty() {
        problems.push("the stack gives no `network.subnets` and the ALB reports none to reuse; list the tasks' subnets under `network.subnets`".into());
    }
    if stack.network.security_groups.is_empty() && alb.security_groups.is_empty() {
        problems.push("the stack gives no `network.security_groups` and the ALB has none to reuse; list them under `network.security_groups`".into());
    }
    let shared = shared(c, stack, cluster_arn, alb).await?;
    let observed = apply::observe_owned(c, stack, shared).await?;
    Ok((Some(observed), problems))
}

/// The shared resources around the stack: the listener on its port with every rule on it, the
/// HTTP:80 listener when the stack wants a redirect, and its ACM certificate.
async fn shared(
    c: &Clients,
    stack: &Stack,
    cluster_arn: Option<String>,
    alb: Alb,
) -> Result<Shared> {
    let port = stack.load_balancer.listener_port;
    let listener = load_balancer::listener_serving(
        c,
        &alb.arn,
        port,
        stack.load_balancer.certificate_arn.as_deref(),
    )
    .await?;
    let rules = match &listener {
        Some(l) => listener_rule::rules(c, &l.arn).await?,
        None => Vec::new(),
    };
    let wanted = ListenerSpec::of(stack);
    let http_listener = if wanted.wants_redirect() {
        load_balancer::listener(c, &alb.arn, HTTP_PORT).await?
    } else {
        None
    };
    // The certificate's names are the default domain names, so read it whenever HTTPS is asked.
    let certificate = match &wanted.certificate_arn {
        Some(arn) => certificate::describe(c, arn).await?,
        None => None,
    };
    Ok(Shared {
        cluster_arn: cluster_arn.unwrap_or_default(),
        alb,
        listener,
        rules,
        http_listener,
        certificate,
    })
}

/// The roles the stack references but IAM does not have (a managed task role is created when
/// missing, so only a referenced one must exist). Not allowed to read IAM: nothing is
/// reported, ECS checks the role when the task definition is used.
async fn missing_roles(c: &Clients, stack: &Stack) -> Vec<String> {
    let mut problems = Vec::new();
    for (key, arn) in [
        (
            "roles.execution_role_arn",
            Some(&stack.roles.execution_role_arn),
        ),
        (
            "roles.task_role_arn",
            // A managed task role is created when missing; only a referenced one must exist.
            stack
                .roles
                .task_role_arn
                .as_ref()
                .filter(|_| stack.roles.managed_task_role.is_none()),
        ),
    ] {
        let Some(arn) = arn else { continue };
        let name = arn.rsplit('/').next().unwrap_or(arn);
        match c.iam.get_role().role_name(name).send().await {
            Ok(_) => {}
            Err(e) if code(&e) == Some("NoSuchEntity") => problems.push(format!(
                "IAM role `{name}` (`{key}`) does not exist; create it (see the README's AWS set-up) or fix `{key}`"
            )),
            // Not allowed to read IAM: ECS will check the role when the task definition is used.
            Err(_) => {}
        }
    }
    problems
}

/// Where the image comes from.
#[derive(Debug, Clone)]
pub enum ImageSource {
    /// A prebuilt image URI.
    Given(String),
    /// Build `server/` in this workspace and push it.
    Build(PathBuf),
}

/// One thing `up` did.
#[derive(Debug, Clone, Serialize)]
pub struct Done {
    /// Resource kind.
    pub kind: Kind,
    /// Created or updated.
    pub action: Action,
    /// Name.
    pub name: String,
    /// ARN or other identifier.
    pub id: String,
}

/// The changes `apply` made so far, in order; each kind's `apply` adds its own.
#[derive(Default)]
pub struct Record(Vec<Done>);

impl Record {
    /// One change made: `kind` `name` was created / updated (`id`: its ARN or other identifier).
    pub fn add(&mut self, kind: Kind, action: Action, name: &str, id: &str) {
        self.0.push(Done {
            kind,
            action,
            name: name.to_string(),
            id: id.to_string(),
        })
    }

    /// Changes named by their identifier (autoscaling and the alarm report them so).
    pub fn extend(&mut self, done: Vec<(Kind, Action, String)>) {
        for d in done {
            self.add(d.0, d.1, &d.2, &d.2);
        }
    }

    /// The changes made, in order.
    pub fn into_done(self) -> Vec<Done> {
        self.0
    }
}

/// What `apply` did and what the waiter needs.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    /// Each change made, in order.
    pub done: Vec<Done>,
    /// The task definition the service runs now.
    pub task_definition_arn: String,
    /// The image deployed.
    pub image: Option<String>,
    /// True when the service was created or its deployment changed (wait for it).
    pub service_deploying: bool,
    /// Target group ARN.
    pub target_group_arn: String,
    /// The final plan applied (with the built image's digest, when built).
    pub plan: Plan,
}
