//! AWS: clients from aws-config's default chain, and one module per resource kind that
//! observes it (by deterministic name and the `mcpctl:stack` tag) and applies a planned change.
//!
//! # Public API
//! * [`Clients::connect`]`(profile, region)` (commands get the region from
//!   [`region::load_stacks`], the one way a region is chosen), [`Clients::from_config`]`(sdk_config)` — ECR, ECS,
//!   ELBv2, CloudWatch Logs and IAM clients from the default credential chain (profiles, SSO,
//!   env, container credentials), honouring `--profile`, `--region` and `AWS_ENDPOINT_URL` like
//!   every AWS tool; throttling is retried by the SDK's standard retry mode (5 attempts). Every
//!   call goes through [`CallLog`] (`clients.calls`), so a command can say which calls it made
//!   (and tests can prove a re-run made no mutating call).
//! * [`load_balancer`] — [`load_balancer::find`] the ALB (name or ARN: VPC, subnets, security
//!   groups, DNS name), [`load_balancer::listener`] on a port, `create_listener`, `cluster`.
//! * [`target_group`] — [`target_group::describe_by_name`] (the one lookup by name; `observe`,
//!   `arn_by_name` and the archive use it), `create`, `update`, [`target_group::health`] and
//!   [`target_group::HealthCount`] (read into `crate::model::health`), `tags_of`/`add_tags` for
//!   any ELB resource.
//! * [`listener_rule`] — the SDK's rules read into `crate::model::ListenerRule` and
//!   [`listener_rule::rules`]: every rule of a listener sorted by priority (moto and AWS do not
//!   promise an order), with tags; `create`, `update`, `forward_to` for `up`;
//!   [`listener_rule::RuleChange`] for `cutover`, `rollback` and `cleanup`. Which rule is the
//!   stack's is answered in `crate::model::rule`.
//! * [`forward`] — `crate::model::forward::Forward` (a rule's forward action as validated
//!   data) in its SDK/API-JSON spellings.
//! * [`calls`] — [`Call`], the one model of an AWS call (recorded by [`CallLog`] or described
//!   before it is made).
//! * [`certificate`] — the ACM certificate of an HTTPS listener: status and domain names.
//! * [`metrics`] — `AWS/ApplicationELB` metrics of a target group (`GetMetricData`).
//! * [`ecr`], [`logs`], [`task_definition`], [`service`], [`iam_role`] — observe/apply per
//!   resource (and delete helpers for `cleanup`; `iam_role::users` lists the services running
//!   as a role, for `cleanup --delete-role`).
//! * [`scaling`] — Application Auto Scaling of the service's desired count (scalable target,
//!   target-tracking policies, activities); [`alarm`] — the CloudWatch alarm a deployment rolls
//!   back on.
//! * [`deploy`] — `observe` a stack (with preflight problems) and `apply` a plan in order.
//! * [`image`] — docker build, ECR login with `GetAuthorizationToken`, push, deploy by digest.
//! * [`wait`] — the deployment waiter (pure assessment of recorded service states + polling).
//! * [`settings`] — `--call-timeout` (per attempt and per call, plus a connect timeout) and
//!   the `--profile` check; [`identity`] — `sts:GetCallerIdentity`, shown before changes.
//! * [`call_error`] — an AWS error naming the IAM action, the resource and what to check.

pub mod alarm;
pub mod calls;
pub mod certificate;
pub mod deploy;
pub mod ecr;
pub mod errors;
pub mod forward;
pub mod iam_propagation;
pub mod iam_role;
pub mod identity;
pub mod image;
pub mod listener_rule;
pub mod load_balancer;
pub mod logs;
pub mod metrics;
pub mod permissions;
pub mod region;
pub mod scaling;
pub mod service;
pub mod settings;
pub mod target_group;
pub mod task_definition;
pub mod wait;

pub use calls::{Call, CallLog};
pub use errors::{call_error, AwsError};

use aws_config::{BehaviorVersion, Region};

/// The AWS service clients mcpctl uses, sharing one configuration and one [`CallLog`].
#[derive(Clone, Debug)]
pub struct Clients {
    /// ACM (the certificate of an HTTPS listener).
    pub acm: aws_sdk_acm::Client,
    /// Application Auto Scaling (the service's desired count).
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
    /// CloudWatch (ALB metrics of a progressive cutover).
    pub cloudwatch: aws_sdk_cloudwatch::Client,
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
    /// STS (who the credentials are: [`identity::caller`]).
    pub sts: aws_sdk_sts::Client,
    /// The region the clients talk to.
    pub region: String,
    /// Every call made through these clients, in order.
    pub calls: CallLog,
}

impl Clients {
    /// Clients from the default chain. `region` wins over the profile's and the environment's
    /// (pass the stack's region when `--region` is absent).
    ///
    /// `--profile` wins over the environment's keys (`AWS_ACCESS_KEY_ID`), as in the AWS CLI;
    /// every call is bounded by [`settings::current`]'s timeouts.
    pub async fn connect(profile: Option<&str>, region: Option<&str>) -> Clients {
        let settings = settings::current();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(settings::timeout_config(&settings));
        if let Some(p) = profile {
            let credentials = aws_config::profile::ProfileFileCredentialsProvider::builder()
                .profile_name(p)
                .build();
            loader = loader.profile_name(p).credentials_provider(credentials);
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
            acm: aws_sdk_acm::Client::from_conf(
                aws_sdk_acm::config::Builder::from(shared)
                    .interceptor(calls.clone())
                    .build(),
            ),
            autoscaling: aws_sdk_applicationautoscaling::Client::from_conf(
                aws_sdk_applicationautoscaling::config::Builder::from(shared)
                    .interceptor(calls.clone())
                    .build(),
            ),
            cloudwatch: aws_sdk_cloudwatch::Client::from_conf(
                aws_sdk_cloudwatch::config::Builder::from(shared)
                    .interceptor(calls.clone())
                    .build(),
            ),
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
            sts: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(shared)
                    .interceptor(calls.clone())
                    .build(),
            ),
            region,
            calls,
        }
    }
}

/// Tags as `(key, value)` pairs, the shape every resource module takes.
pub type Tags = Vec<(String, String)>;
