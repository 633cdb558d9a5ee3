//! AWS errors that name the call, the resource and what to check.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::Error;

/// How a message starts when the service answered with an HTTP error it did not name.
const UNNAMED_ANSWER: &str = "the endpoint answered HTTP ";
/// How a message starts when the service refused the call (HTTP 403) without naming the error.
const DENIED_ANSWER: &str = "the endpoint answered HTTP 403";

/// What went wrong in an AWS call, in a form commands can print.
#[derive(Debug, Clone)]
pub struct AwsError {
    /// The IAM action, e.g. `elasticloadbalancing:CreateRule`.
    pub action: String,
    /// The resource it was about.
    pub resource: String,
    /// AWS's error code, if any.
    pub code: Option<String>,
    /// AWS's message or the transport problem.
    pub message: String,
}

/// Kept typed inside [`Error::Failed`] (a caller can `downcast_ref::<AwsError>()` to read the
/// code); its message already carries the SDK's cause text, so it names no `source()`.
impl std::error::Error for AwsError {}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let code = self
            .code
            .as_deref()
            .map(|c| format!("{c}: "))
            .unwrap_or_default();
        write!(
            f,
            "{} on {} failed: {code}{}; {}",
            self.action,
            self.resource,
            self.message,
            hint(
                self.code.as_deref(),
                &self.action,
                &self.resource,
                &self.message
            )
        )
    }
}

fn hint(code: Option<&str>, action: &str, resource: &str, message: &str) -> String {
    match code.unwrap_or("") {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "AuthorizationError" => format!(
            "the credentials in use lack `{action}` on {resource}: add it to their IAM policy (`mcpctl iam-policy` prints the policy mcpctl needs; check which identity is used with `aws sts get-caller-identity`)"
        ),
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
            "the credentials have expired: refresh them (e.g. `aws sso login --profile NAME`) and run again".to_string()
        }
        "InvalidClientTokenId" | "UnrecognizedClientException" | "InvalidSignatureException" | "SignatureDoesNotMatch" => {
            "the credentials are not valid for this account/region: check --profile, AWS_PROFILE and the access keys".to_string()
        }
        "Throttling" | "ThrottlingException" | "TooManyRequestsException" | "RequestLimitExceeded" => {
            "AWS throttled the call even after retries: wait a minute and run again (it is safe to re-run)".to_string()
        }
        "ValidationError" | "InvalidConfigurationRequest" | "InvalidParameterException" | "InvalidParameterValue" | "InvalidParameterCombination" => format!(
            "AWS refused a value for {resource}: fix the setting the message names in the stack file (mcpctl checks what it can at load; this one only AWS knows)"
        ),
        "" if message.starts_with("no answer within --call-timeout") => {
            "the endpoint accepted the connection but did not answer: check the network, --region and AWS_ENDPOINT_URL if set, or give a longer --call-timeout".to_string()
        }
        "" if message.contains("credentials") => {
            "no AWS credentials found: pass --profile, set AWS_PROFILE, or run `aws configure` / `aws sso login`".to_string()
        }
        // A refusal whose body the SDK could not read as an AWS error (an XML body on a
        // JSON-protocol service): it is still a refusal, most likely of the action.
        "" if message.starts_with(DENIED_ANSWER) => format!(
            "HTTP 403 is a refusal: the credentials in use most likely lack `{action}` on {resource}: add it to their IAM policy (`mcpctl iam-policy` prints the policy mcpctl needs; `aws sts get-caller-identity` shows which identity is used)"
        ),
        "" if message.starts_with(UNNAMED_ANSWER) => format!(
            "the endpoint ({}) answered without an AWS error code: it may be a passing fault (run again, it is safe) or an endpoint that is not AWS or does not implement `{action}`; check AWS_ENDPOINT_URL if set",
            super::settings::endpoint_for_messages()
        ),
        "" => "could not reach AWS: check the network, --region, and AWS_ENDPOINT_URL if set".to_string(),
        _ => format!("check that {resource} exists and that the stack's settings for it are right"),
    }
}

/// True when `e` is an AWS call the credentials may not make (`AccessDenied…`, or HTTP 403
/// with no error code the SDK could read).
pub fn is_access_denied(e: &Error) -> bool {
    match e {
        Error::Failed(a) => a.downcast_ref::<AwsError>().is_some_and(|a| {
            matches!(
                a.code.as_deref(),
                Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation")
            ) || (a.code.is_none() && a.message.starts_with(DENIED_ANSWER))
        }),
        _ => false,
    }
}

/// `read`, or nothing when it was refused for lack of permission and `optional` (the stack does
/// not use what it reads, e.g. autoscaling).
pub fn unless_denied<T>(
    optional: bool,
    read: crate::error::Result<Option<T>>,
) -> crate::error::Result<Option<T>> {
    match read {
        Err(e) if optional && is_access_denied(&e) => Ok(None),
        other => other,
    }
}

/// The AWS error code of a failed call (e.g. `TargetGroupNotFound`).
pub fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    match e {
        SdkError::ServiceError(s) => s.err().code(),
        _ => None,
    }
}

/// Describe a failed call: `action` is the IAM action (`ecs:UpdateService`), `resource` what it
/// was about (`service opensearch-mcp-server-stateless`).
pub fn describe<E>(action: &str, resource: &str, e: &SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (code, message) = match e {
        SdkError::ServiceError(s) => {
            let code = s.err().code().map(str::to_string);
            let text = s
                .err()
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| s.err().to_string());
            // The service answered, with an error it did not name (a 5XX from a load balancer
            // or proxy in front of it, an operation it does not implement): say so, not that
            // AWS could not be reached.
            let text = match &code {
                None => format!("{UNNAMED_ANSWER}{}: {text}", s.raw().status().as_u16()),
                Some(_) => text,
            };
            (code, text)
        }
        SdkError::ResponseError(r) => (
            None,
            format!(
                "{UNNAMED_ANSWER}{} that could not be read: {}",
                r.raw().status().as_u16(),
                crate::error::source_chain(e)
            ),
        ),
        SdkError::TimeoutError(_) => (None, timed_out()),
        SdkError::DispatchFailure(d) if d.is_timeout() => (None, timed_out()),
        other => (None, crate::error::source_chain(other)),
    };
    AwsError {
        action: action.to_string(),
        resource: resource.to_string(),
        code,
        message,
    }
}

/// The message of a call that ran out of time: the bound and the endpoint that did not answer.
fn timed_out() -> String {
    let settings = super::settings::current();
    format!(
        "no answer within --call-timeout {} from {}",
        humantime::format_duration(settings.call_timeout),
        super::settings::endpoint_for_messages()
    )
}

/// [`describe`] as a command error (exit 1), the IAM action named by the operation that
/// failed ([`action_of`]), so no action is typed by hand.
pub fn call_error<E>(resource: &str, e: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    Error::Failed(anyhow::Error::new(describe(
        &action_of::<E>(),
        resource,
        &e,
    )))
}

/// The IAM action of the operation whose error type is `E`: the SDK names it
/// `aws_sdk_SERVICE::operation::snake_name::OperationError`, so
/// `aws_sdk_ecs::operation::update_service::UpdateServiceError` is `ecs:UpdateService` (for
/// these services an action has its operation's name). Unit tests pin it for every crate.
pub fn action_of<E>() -> String {
    let path = std::any::type_name::<E>();
    let krate = path.split("::").next().unwrap_or_default();
    let name = path.rsplit("::").next().unwrap_or_default();
    let operation = name.strip_suffix("Error").unwrap_or(name);
    let prefix = super::calls::prefix_of_crate(krate).unwrap_or(krate);
    format!("{prefix}:{operation}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_denied_names_the_action_and_resource() {
        let e = AwsError {
            action: "elasticloadbalancing:CreateRule".into(),
            resource: "listener rule for /ossserver-stateless/*".into(),
            code: Some("AccessDenied".into()),
            message: "User is not authorized".into(),
        };
        let s = e.to_string();
        assert!(s.starts_with("elasticloadbalancing:CreateRule on listener rule for /ossserver-stateless/* failed: AccessDenied"), "{s}");
        assert!(s.contains("lack `elasticloadbalancing:CreateRule`"), "{s}");
    }

    #[test]
    fn a_refused_value_points_at_the_setting_not_at_existence() {
        let e = AwsError {
            action: "elasticloadbalancing:CreateTargetGroup".into(),
            resource: "target group t".into(),
            code: Some("ValidationError".into()),
            message: "Invalid matcher".into(),
        };
        let s = e.to_string();
        assert!(s.contains("AWS refused a value for target group t"), "{s}");
        assert!(!s.contains("exists"), "{s}");
    }

    #[test]
    fn transport_errors_point_at_the_endpoint() {
        let e = AwsError {
            action: "ecs:DescribeClusters".into(),
            resource: "cluster c".into(),
            code: None,
            message: "dispatch failure: connection refused".into(),
        };
        assert!(e.to_string().contains("AWS_ENDPOINT_URL"));
        assert!(e.to_string().contains("could not reach AWS"));
    }

    #[test]
    fn an_answer_without_an_error_code_is_not_called_unreachable() {
        let e = AwsError {
            action: "application-autoscaling:DescribeScalingActivities".into(),
            resource: "service/c/s".into(),
            code: None,
            message: format!("{UNNAMED_ANSWER}500: unhandled error"),
        };
        let s = e.to_string();
        assert!(!s.contains("could not reach"), "{s}");
        assert!(s.contains("answered without an AWS error code"), "{s}");
        assert!(
            s.contains("does not implement `application-autoscaling:DescribeScalingActivities`"),
            "{s}"
        );
    }
}

#[cfg(test)]
mod action_tests {
    use super::action_of;

    #[test]
    fn the_action_is_the_failed_operation_of_each_sdk() {
        use aws_sdk_applicationautoscaling::operation::register_scalable_target::RegisterScalableTargetError;
        use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataError;
        use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsError;
        use aws_sdk_elasticloadbalancingv2::operation::set_rule_priorities::SetRulePrioritiesError;
        let cases = [
            (
                action_of::<aws_sdk_acm::operation::describe_certificate::DescribeCertificateError>(
                ),
                "acm:DescribeCertificate",
            ),
            (
                action_of::<RegisterScalableTargetError>(),
                "application-autoscaling:RegisterScalableTarget",
            ),
            (
                action_of::<GetMetricDataError>(),
                "cloudwatch:GetMetricData",
            ),
            (action_of::<FilterLogEventsError>(), "logs:FilterLogEvents"),
            (
                action_of::<aws_sdk_ecr::operation::batch_get_image::BatchGetImageError>(),
                "ecr:BatchGetImage",
            ),
            (
                action_of::<aws_sdk_ecs::operation::update_service::UpdateServiceError>(),
                "ecs:UpdateService",
            ),
            (
                action_of::<SetRulePrioritiesError>(),
                "elasticloadbalancing:SetRulePriorities",
            ),
            (
                action_of::<aws_sdk_iam::operation::get_role::GetRoleError>(),
                "iam:GetRole",
            ),
            (
                action_of::<aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError>(),
                "sts:GetCallerIdentity",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }
}

#[cfg(test)]
mod denied_tests {
    use super::*;

    fn failed(code: Option<&str>) -> Error {
        Error::Failed(anyhow::Error::new(AwsError {
            action: "application-autoscaling:DescribeScalableTargets".into(),
            resource: "service/c/s".into(),
            code: code.map(str::to_string),
            message: "no".into(),
        }))
    }

    #[test]
    fn a_refused_read_is_nothing_only_when_the_stack_does_not_use_it() {
        let denied = || Err::<Option<i32>, _>(failed(Some("AccessDeniedException")));
        assert!(matches!(unless_denied(true, denied()), Ok(None)));
        assert!(unless_denied(false, denied()).is_err());
        let other = Err::<Option<i32>, _>(failed(Some("ThrottlingException")));
        assert!(unless_denied(true, other).is_err());
        assert!(unless_denied(true, Err::<Option<i32>, _>(failed(None))).is_err());
        // A 403 whose body named no error code (moto's XML body on a JSON-protocol service).
        let unnamed = Error::Failed(anyhow::Error::new(AwsError {
            action: "cloudwatch:DescribeAlarms".into(),
            resource: "alarm a".into(),
            code: None,
            message: format!("{DENIED_ANSWER}: unhandled error"),
        }));
        assert!(is_access_denied(&unnamed));
        let text = format!("{unnamed:#}");
        assert!(text.contains("lack `cloudwatch:DescribeAlarms`"), "{text}");
        assert!(text.contains("mcpctl iam-policy"), "{text}");
        assert!(matches!(unless_denied(true, Ok(Some(3))), Ok(Some(3))));
    }
}
