//! AWS: clients from aws-config's default chain, and one module per resource kind that
//! observes it (by deterministic name and the `mcpctl:stack` tag) and applies a planned change.
//!
//! # Public API
//! * [`Clients::connect`]`(profile, region)`, [`Clients::for_stack`]`(profile, region, stack)`
//!   (the stack's region unless `--region`), [`Clients::from_config`]`(sdk_config)` — ECR, ECS,
//!   ELBv2, CloudWatch Logs and IAM clients from the default credential chain (profiles, SSO,
//!   env, container credentials), honouring `--profile`, `--region` and `AWS_ENDPOINT_URL` like
//!   every AWS tool; throttling is retried by the SDK's standard retry mode (5 attempts). Every
//!   call goes through [`CallLog`] (`clients.calls`), so a command can say which calls it made
//!   (and tests can prove a re-run made no mutating call).
//! * [`load_balancer`] — [`load_balancer::find`] the ALB (name or ARN: VPC, subnets, security
//!   groups, DNS name), [`load_balancer::listener`] on a port, `create_listener`, `cluster`.
//! * [`target_group`] — `observe` by name, `create`, `update`, [`target_group::health`],
//!   `tags_of`/`add_tags` for any ELB resource.
//! * [`listener_rule`] — [`listener_rule::rules`]: every rule of a listener sorted by priority
//!   (moto and AWS do not promise an order), with tags and forward weights; `create`, `update`,
//!   `forward_to`. The stack's own rule is [`crate::plan::find_own_rule`].
//! * [`ecr`], [`logs`], [`task_definition`], [`service`], [`iam_role`] — observe/apply per
//!   resource (and delete helpers for `cleanup`; `iam_role::users` lists the services running
//!   as a role, for `cleanup --delete-role`).
//! * [`deploy`] — `observe` a stack (with preflight problems) and `apply` a plan in order.
//! * [`image`] — docker build, ECR login with `GetAuthorizationToken`, push, deploy by digest.
//! * [`wait`] — the deployment waiter (pure assessment of recorded service states + polling).
//! * [`call_error`] — an AWS error naming the IAM action, the resource and what to check.

pub mod calls;
pub mod deploy;
pub mod ecr;
pub mod errors;
pub mod iam_propagation;
pub mod iam_role;
pub mod image;
pub mod listener_rule;
pub mod load_balancer;
pub mod logs;
pub mod region;
pub mod service;
pub mod target_group;
pub mod task_definition;
pub mod wait;

pub use calls::{Call, CallLog};
pub use errors::{call_error, AwsError};

use aws_config::{BehaviorVersion, Region};

/// The AWS service clients mcpctl uses, sharing one configuration and one [`CallLog`].
#[derive(Clone, Debug)]
pub struct Clients {
    /// ECR.
    pub ecr: aws_sdk_ecr::Client,
    /// ECS.
    pub ecs: aws_sdk_ecs::Client,
    /// Elastic Load Balancing v2 (ALB, listeners, rules, target groups).
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    /// CloudWatch Logs.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// IAM.
    pub iam: aws_sdk_iam::Client,
    /// The region the clients talk to.
    pub region: String,
    /// Every call made through these clients, in order.
    pub calls: CallLog,
}

impl Clients {
    /// Clients from the default chain. `region` wins over the profile's and the environment's
    /// (pass the stack's region when `--region` is absent).
    pub async fn connect(profile: Option<&str>, region: Option<&str>) -> Clients {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = region {
            loader = loader.region(Region::new(r.to_string()));
        }
        let retry = aws_config::retry::RetryConfig::standard().with_max_attempts(5);
        let shared = loader.retry_config(retry).load().await;
        Clients::from_config(&shared)
    }

    /// Clients from an already loaded SDK configuration.
    pub fn from_config(shared: &aws_config::SdkConfig) -> Clients {
        let calls = CallLog::default();
        let region = shared
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".to_string());
        Clients {
            ecr: aws_sdk_ecr::Client::from_conf(
                aws_sdk_ecr::config::Builder::from(shared)
                    .interceptor(calls.clone())
                    .build(),
            ),
            ecs: aws_sdk_ecs::Client::from_conf(
                aws_sdk_ecs::config::Builder::from(shared)
                    .interceptor(calls.clone())
                    .build(),
            ),
            elb: aws_sdk_elasticloadbalancingv2::Client::from_conf(
                aws_sdk_elasticloadbalancingv2::config::Builder::from(shared)
                    .interceptor(calls.clone())
                    .build(),
            ),
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(
                aws_sdk_cloudwatchlogs::config::Builder::from(shared)
                    .interceptor(calls.clone())
                    .build(),
            ),
            iam: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(shared)
                    .interceptor(calls.clone())
                    .build(),
            ),
            region,
            calls,
        }
    }

    /// Clients for a stack: `region` (the user's `--region`) if given, else the stack's
    /// region; `profile` is the user's `--profile`.
    pub async fn for_stack(
        profile: Option<&str>,
        region: Option<&str>,
        stack: &crate::stack::Stack,
    ) -> Clients {
        Clients::connect(profile, Some(region.unwrap_or(&stack.region))).await
    }
}

/// Tags as `(key, value)` pairs, the shape every resource module takes.
pub type Tags = Vec<(String, String)>;
