//! AWS calls as one type, [`Call`]: recorded as they are made (the [`CallLog`] SDK interceptor,
//! so that commands can report what they did and a re-run can be shown to have made no
//! mutating call), or described before they are made with their parameters (what `--dry-run`
//! prints and `--output json` lists for `cutover`, `rollback` and `cleanup`).

use std::fmt;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde::Serialize;

/// One AWS API call. Serialised with the SDK's service name and the operation
/// (`{"service":"ECS","operation":"UpdateService"}`, what `up --output json` lists) and, for a
/// call described before it is made, the IAM action and the request parameters in the API's
/// field names (`{"action":"elasticloadbalancing:ModifyRule","params":{…}}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    /// The service as the SDK names it (`ECS`, `Elastic Load Balancing v2`, ...).
    pub service: String,
    /// The operation (`DescribeServices`, `CreateRule`, ...).
    pub operation: String,
    /// `service:Operation` as IAM and CloudTrail name it (`elasticloadbalancing:ModifyRule`);
    /// only for a call described before it is made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The request parameters in the API's field names; only for a described call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<serde_json::Value>,
}

/// The services mcpctl calls: IAM action prefix, the SDK's service name, the SDK crate.
const SERVICES: [(&str, &str, &str); 9] = [
    ("acm", "ACM", "aws_sdk_acm"),
    (
        "application-autoscaling",
        "Application Auto Scaling",
        "aws_sdk_applicationautoscaling",
    ),
    ("cloudwatch", "CloudWatch", "aws_sdk_cloudwatch"),
    ("ecs", "ECS", "aws_sdk_ecs"),
    ("ecr", "ECR", "aws_sdk_ecr"),
    (
        "elasticloadbalancing",
        "Elastic Load Balancing v2",
        "aws_sdk_elasticloadbalancingv2",
    ),
    ("logs", "CloudWatch Logs", "aws_sdk_cloudwatchlogs"),
    ("iam", "IAM", "aws_sdk_iam"),
    ("sts", "STS", "aws_sdk_sts"),
];

/// The IAM action prefix of the SDK crate `krate` (`aws_sdk_ecs` → `ecs`).
pub(crate) fn prefix_of_crate(krate: &str) -> Option<&'static str> {
    SERVICES.iter().find(|s| s.2 == krate).map(|s| s.0)
}

impl Call {
    /// A call recorded as it was made: the SDK's service name and the operation.
    pub fn recorded(service: &str, operation: &str) -> Self {
        Call {
            service: service.to_string(),
            operation: operation.to_string(),
            action: None,
            params: None,
        }
    }

    /// A call described before it is made: the IAM action (`elasticloadbalancing:ModifyRule`)
    /// and its parameters.
    pub fn planned(action: &str, params: serde_json::Value) -> Self {
        let (prefix, operation) = action.split_once(':').unwrap_or(("", action));
        let service = SERVICES
            .iter()
            .find(|s| s.0 == prefix)
            .map_or(prefix, |s| s.1);
        Call {
            service: service.to_string(),
            operation: operation.to_string(),
            action: Some(action.to_string()),
            params: Some(params),
        }
    }

    /// `service:Operation` as IAM names it (computed from the SDK's service name when the call
    /// was recorded).
    pub fn iam_action(&self) -> String {
        match &self.action {
            Some(a) => a.clone(),
            None => {
                let prefix = SERVICES
                    .iter()
                    .find(|s| s.1 == self.service)
                    .map_or(self.service.as_str(), |s| s.0);
                format!("{prefix}:{}", self.operation)
            }
        }
    }

    /// True for calls that change something (everything but Describe/List/Get/BatchGet and
    /// the ECR login token).
    pub fn is_mutating(&self) -> bool {
        let op = self.operation.as_str();
        !(op.starts_with("Describe")
            || op.starts_with("List")
            || op.starts_with("Get")
            || op.starts_with("BatchGet")
            || op.starts_with("Filter"))
    }
}

/// The shared, ordered log of calls made through one set of clients.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<Call>>>);

/// Every call of the process (all client sets), for the JSON error document: what was done
/// before a failure. Bounded: past [`PROCESS_CALLS_MAX`] calls only the count grows.
static PROCESS: Mutex<(Vec<Call>, usize)> = Mutex::new((Vec::new(), 0));

/// At most this many calls are kept for [`process_calls`].
pub const PROCESS_CALLS_MAX: usize = 10_000;

/// Every AWS call this process made so far (at most [`PROCESS_CALLS_MAX`]), and how many in all.
pub fn process_calls() -> (Vec<Call>, usize) {
    PROCESS
        .lock()
        .map(|g| (g.0.clone(), g.1))
        .unwrap_or_default()
}

fn record_for_process(call: &Call) {
    if let Ok(mut g) = PROCESS.lock() {
        g.1 += 1;
        if g.0.len() < PROCESS_CALLS_MAX {
            g.0.push(call.clone());
        }
    }
}

impl CallLog {
    /// Every call so far.
    pub fn all(&self) -> Vec<Call> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "mcpctl-call-log"
    }

    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Client interceptors see the operation's metadata from serialization on (it is not
        // in the config bag yet at `read_before_execution`).
        let (service, operation) = match cfg.load::<Metadata>() {
            Some(m) => (m.service().to_string(), m.name().to_string()),
            None => ("unknown".to_string(), "unknown".to_string()),
        };
        let mut call = Call::recorded(&service, &operation);
        call.params = deployment_alarms(context.input());
        record_for_process(&call);
        #[cfg(debug_assertions)]
        check_listed(&call);
        if let Ok(mut v) = self.0.lock() {
            v.push(call);
        }
        Ok(())
    }
}

/// Debug builds (every test run): a call the permission table does not list for the running
/// command stops the process, naming the action, so `mcpctl iam-policy` cannot fall behind
/// the calls the code makes.
#[cfg(debug_assertions)]
fn check_listed(call: &Call) {
    if let Some(command) = crate::aws::permissions::current() {
        let action = call.iam_action();
        assert!(
            crate::aws::permissions::lists(command, &action),
            "`mcpctl {command}` called {action}, which src/aws/permissions/table.rs does not list for it: add it there"
        );
    }
}

/// The one request field a recorded call keeps: `deploymentConfiguration.alarms` of an ECS
/// `CreateService`/`UpdateService` (moto does not store it, so tests read it here), in the
/// API's field names.
fn deployment_alarms(
    input: &aws_smithy_runtime_api::client::interceptors::context::Input,
) -> Option<serde_json::Value> {
    use aws_sdk_ecs::operation::{
        create_service::CreateServiceInput, update_service::UpdateServiceInput,
    };
    let config = input
        .downcast_ref::<CreateServiceInput>()
        .and_then(|i| i.deployment_configuration())
        .or_else(|| {
            input
                .downcast_ref::<UpdateServiceInput>()
                .and_then(|i| i.deployment_configuration())
        })?;
    let a = config.alarms()?;
    Some(serde_json::json!({
        "deploymentConfiguration": {
            "alarms": {
                "alarmNames": a.alarm_names(),
                "enable": a.enable(),
                "rollback": a.rollback(),
            }
        }
    }))
}

/// `elasticloadbalancing:ModifyRule {"RuleArn":"…","Actions":[…]}`; a recorded call shows only
/// its action.
impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.params {
            Some(p) => write!(f, "{} {p}", self.iam_action()),
            None => f.write_str(&self.iam_action()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_action_then_parameters() {
        let c = Call::planned(
            "elasticloadbalancing:DeleteRule",
            serde_json::json!({"RuleArn": "arn:x"}),
        );
        assert_eq!(
            c.to_string(),
            r#"elasticloadbalancing:DeleteRule {"RuleArn":"arn:x"}"#
        );
        assert_eq!(c.service, "Elastic Load Balancing v2");
        assert_eq!(c.operation, "DeleteRule");
        assert!(c.is_mutating());
    }

    #[test]
    fn recorded_and_planned_calls_name_the_same_action() {
        let recorded = Call::recorded("Elastic Load Balancing v2", "ModifyRule");
        let planned = Call::planned("elasticloadbalancing:ModifyRule", serde_json::json!({}));
        assert_eq!(recorded.iam_action(), planned.iam_action());
        assert_eq!(
            (recorded.service, recorded.operation),
            (planned.service, planned.operation)
        );
        assert_eq!(
            Call::recorded("CloudWatch Logs", "PutRetentionPolicy").iam_action(),
            "logs:PutRetentionPolicy"
        );
        assert_eq!(
            Call::recorded("Application Auto Scaling", "RegisterScalableTarget").iam_action(),
            "application-autoscaling:RegisterScalableTarget"
        );
        assert_eq!(
            Call::recorded("CloudWatch", "PutMetricAlarm").iam_action(),
            "cloudwatch:PutMetricAlarm"
        );
        // The JSON of a recorded call stays `{service, operation}` (what `up` prints).
        assert_eq!(
            serde_json::to_value(Call::recorded("ECS", "UpdateService")).unwrap(),
            serde_json::json!({"service": "ECS", "operation": "UpdateService"})
        );
    }

    #[test]
    fn reads_are_not_mutating() {
        let c = |op: &str| Call::recorded("ECS", op);
        assert!(!c("DescribeServices").is_mutating());
        assert!(!c("ListTagsForResource").is_mutating());
        assert!(!c("GetAuthorizationToken").is_mutating());
        assert!(c("UpdateService").is_mutating());
        assert!(c("CreateRule").is_mutating());
        assert!(c("RegisterTaskDefinition").is_mutating());
    }
}
