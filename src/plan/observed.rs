//! Observed state: what exists in AWS, as plain data filled in by the `aws` modules and
//! normalised to the same shapes as the desired specs (so that comparing them is exact).
//! Listener rules are the one rule model, [`ListenerRule`] (plain data in `crate::model`, which
//! `aws` fills in), so `up`, `cutover` and `cleanup` see a rule alike.

use serde::Serialize;

pub use super::kinds::log_group::ObservedLogGroup;
pub use super::kinds::repository::ObservedRepository;
pub use super::kinds::service::ObservedService;
pub use super::kinds::target_group::ObservedTargetGroup;
pub use super::kinds::task_definition::ObservedTaskDefinition;
pub use super::kinds::task_role::ObservedTaskRole;
pub use crate::model::ListenerRule;

/// The shared ALB.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Alb {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// DNS name (`fastmcp-alb-1326912822.us-east-1.elb.amazonaws.com`).
    pub dns_name: String,
    /// VPC.
    pub vpc_id: String,
    /// Its subnets (the tasks' default subnets).
    pub subnets: Vec<String>,
    /// Its security groups (the tasks' default security groups).
    pub security_groups: Vec<String>,
}

pub use crate::model::Listener;

/// The resources every stack shares (never created or deleted by mcpctl, except the listener).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Shared {
    /// The ECS cluster's ARN.
    pub cluster_arn: String,
    /// The ALB.
    pub alb: Alb,
    /// The listener on the stack's port, if it exists.
    pub listener: Option<Listener>,
    /// Every rule on that listener, sorted by priority (default rule last).
    pub rules: Vec<ListenerRule>,
    /// The ALB's port-80 listener, when the stack's listener is HTTPS on another port.
    pub http_listener: Option<Listener>,
    /// The ACM certificate of an HTTPS stack (`None`: HTTP, or not found).
    pub certificate: Option<super::endpoint::Certificate>,
}

pub use super::Observed;
