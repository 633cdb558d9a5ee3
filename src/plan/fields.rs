//! Typed comparable fields. Each resource kind has an enum of the fields it can differ in; a
//! spec lists its values under those keys (normalised text, as the user reads them), the plan
//! compares them ([`diff`]) and turns the differences into the exact update `apply` makes
//! ([`super::steps`]). A key is never a string, so a typo does not compile, and a match over
//! the keys is exhaustive, so a new field must say what `apply` does with it.

use std::fmt;

use super::FieldChange;

/// A comparable field of one resource kind.
pub trait Field: Clone + PartialEq + fmt::Debug {
    /// The name shown in the plan (`env MCP_PATH`, `desired_count`, `tag mcpctl:stack`).
    fn label(&self) -> String;
    /// True for a tag key (tags AWS has but the stack does not name are not drift).
    fn is_tag(&self) -> bool;
}

/// Field values of a resource, in display order.
pub type Fields<F> = Vec<(F, String)>;

/// One field that differs, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff<F> {
    /// Which field.
    pub field: F,
    /// Current value (`(none)` when absent).
    pub from: String,
    /// Wanted value (`(none)` when the stack does not have it).
    pub to: String,
}

impl<F: Field> Diff<F> {
    /// The difference as the plan prints it.
    pub fn shown(&self) -> FieldChange {
        FieldChange {
            field: self.field.label(),
            from: self.from.clone(),
            to: self.to.clone(),
        }
    }
}

/// Compare wanted and observed fields; `observed` only counts the tag keys `desired` names.
pub fn diff<F: Field>(desired: &Fields<F>, observed: &Fields<F>) -> Vec<Diff<F>> {
    desired
        .iter()
        .filter_map(|(k, want)| {
            let have = observed
                .iter()
                .find(|(ok, _)| ok == k)
                .map(|(_, v)| v.as_str());
            (have != Some(want.as_str())).then(|| Diff {
                field: k.clone(),
                from: have.unwrap_or("(none)").to_string(),
                to: want.clone(),
            })
        })
        .chain(
            observed
                .iter()
                .filter(|(k, _)| !k.is_tag() && !desired.iter().any(|(dk, _)| dk == k))
                .map(|(k, have)| Diff {
                    field: k.clone(),
                    from: have.clone(),
                    to: "(none)".to_string(),
                }),
        )
        .collect()
}

/// Tag fields from key/value pairs.
pub fn tag_fields<F>(tags: &[(String, String)], key: impl Fn(String) -> F) -> Fields<F> {
    tags.iter()
        .map(|(k, v)| (key(k.clone()), v.clone()))
        .collect()
}

macro_rules! field_enum {
    (
        $(#[$doc:meta])* $name:ident {
            $( $(#[$vdoc:meta])* $variant:ident => $label:literal, )*
        }
        $( keyed { $( $(#[$kdoc:meta])* $kvariant:ident => $prefix:literal, )* } )?
        tag $tag:ident
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )*
            $( $( $(#[$kdoc])* $kvariant(String), )* )?
            /// A tag, by key.
            $tag(String),
        }

        impl Field for $name {
            fn label(&self) -> String {
                match self {
                    $( $name::$variant => $label.to_string(), )*
                    $( $( $name::$kvariant(k) => format!("{} {k}", $prefix), )* )?
                    $name::$tag(k) => format!("tag {k}"),
                }
            }
            fn is_tag(&self) -> bool {
                matches!(self, $name::$tag(_))
            }
        }
    };
}

field_enum! {
    /// What an ECR repository can differ in.
    RepositoryField {
        /// Scan on push.
        ScanOnPush => "scan_on_push",
        /// The lifecycle policy.
        LifecyclePolicy => "lifecycle_policy",
    }
    tag Tag
}

field_enum! {
    /// What a log group can differ in.
    LogGroupField {
        /// Retention days.
        RetentionDays => "retention_days",
    }
    tag Tag
}

field_enum! {
    /// What the managed task role can differ in.
    TaskRoleField {
        /// The trust policy.
        TrustPolicy => "trust_policy",
        /// The inline `OpenSearchAccess` policy.
        Policy => "policy OpenSearchAccess",
    }
    tag Tag
}

field_enum! {
    /// What a task definition can differ in (any difference registers a new revision).
    TaskDefinitionField {
        /// CPU units.
        Cpu => "cpu",
        /// Memory MiB.
        Memory => "memory",
        /// Execution role.
        ExecutionRoleArn => "execution_role_arn",
        /// Task role.
        TaskRoleArn => "task_role_arn",
        /// Container name.
        Container => "container",
        /// Container port.
        Port => "port",
        /// awslogs group.
        LogGroup => "log_group",
        /// awslogs region.
        LogRegion => "log_region",
        /// awslogs stream prefix.
        LogStreamPrefix => "log_stream_prefix",
        /// Container health check.
        HealthCheck => "health_check",
        /// `runtimePlatform.cpuArchitecture`.
        CpuArchitecture => "cpu_architecture",
        /// Image URI.
        Image => "image",
    }
    keyed {
        /// One environment variable.
        Env => "env",
        /// One secret.
        Secret => "secret",
    }
    tag Tag
}

field_enum! {
    /// What a target group can differ in, in place.
    TargetGroupField {
        /// Health check path.
        HealthCheckPath => "health_check_path",
        /// Seconds between checks.
        HealthCheckInterval => "health_check_interval",
        /// Seconds before a check fails.
        HealthCheckTimeout => "health_check_timeout",
        /// Successes before healthy.
        HealthyThreshold => "healthy_threshold",
        /// Failures before unhealthy.
        UnhealthyThreshold => "unhealthy_threshold",
        /// Healthy HTTP codes.
        Matcher => "matcher",
        /// Draining seconds.
        DeregistrationDelay => "deregistration_delay",
    }
    tag Tag
}

/// What AWS cannot change on an existing target group (a difference is a problem).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetGroupFixedField {
    /// Port.
    Port,
    /// Protocol.
    Protocol,
    /// Target type.
    TargetType,
    /// VPC.
    VpcId,
}

impl Field for TargetGroupFixedField {
    fn label(&self) -> String {
        match self {
            Self::Port => "port",
            Self::Protocol => "protocol",
            Self::TargetType => "target_type",
            Self::VpcId => "vpc_id",
        }
        .to_string()
    }
    fn is_tag(&self) -> bool {
        false
    }
}

field_enum! {
    /// What the stack's listener rule can differ in.
    RuleField {
        /// Path patterns (sorted).
        PathPatterns => "path_patterns",
        /// The forward action (left out while `cutover` manages the rule).
        Forward => "forward",
        /// The rule's priority (`SetRulePriorities`), when the stack's is free.
        Priority => "priority",
    }
    tag Tag
}

field_enum! {
    /// What an ECS service can differ in.
    ServiceField {
        /// The task definition revision it runs.
        TaskDefinition => "task_definition",
        /// Tasks.
        DesiredCount => "desired_count",
        /// Subnets.
        Subnets => "subnets",
        /// Security groups.
        SecurityGroups => "security_groups",
        /// Public IP.
        AssignPublicIp => "assign_public_ip",
        /// Target group binding.
        LoadBalancer => "load_balancer",
        /// Deployment min healthy percent.
        MinHealthyPercent => "min_healthy_percent",
        /// Deployment max percent.
        MaxPercent => "max_percent",
        /// Circuit breaker with rollback.
        CircuitBreakerRollback => "circuit_breaker_rollback",
        /// ECS Exec.
        EnableExecuteCommand => "enable_execute_command",
        /// Health check grace period.
        HealthCheckGracePeriod => "health_check_grace_period_seconds",
        /// Alarms that roll a deployment back.
        DeploymentAlarms => "deployment_alarms",
    }
    tag Tag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_the_names_the_plan_always_showed() {
        assert_eq!(
            TaskDefinitionField::Env("MCP_PATH".into()).label(),
            "env MCP_PATH"
        );
        assert_eq!(TaskDefinitionField::Secret("X".into()).label(), "secret X");
        assert_eq!(
            ServiceField::Tag("mcpctl:stack".into()).label(),
            "tag mcpctl:stack"
        );
        assert_eq!(
            ServiceField::HealthCheckGracePeriod.label(),
            "health_check_grace_period_seconds"
        );
        assert_eq!(TaskRoleField::Policy.label(), "policy OpenSearchAccess");
    }

    #[test]
    fn untracked_tags_are_not_drift_but_dropped_fields_are() {
        let want = vec![(LogGroupField::Tag("a".into()), "1".to_string())];
        let have = vec![
            (LogGroupField::Tag("a".into()), "1".to_string()),
            (LogGroupField::Tag("other".into()), "x".to_string()),
            (LogGroupField::RetentionDays, "7".to_string()),
        ];
        let d = diff(&want, &have);
        assert_eq!(
            d,
            vec![Diff {
                field: LogGroupField::RetentionDays,
                from: "7".into(),
                to: "(none)".into()
            }]
        );
    }
}
