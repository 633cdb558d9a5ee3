//! IAM's eventual consistency: a role created or changed a moment ago can be refused by ECS for
//! a few seconds ("ECS was unable to assume the role") although nothing is wrong
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency>).
//! [`retry`] repeats exactly those refusals of `RegisterTaskDefinition`, `CreateService` and
//! `UpdateService`, with backoff for a bounded time, saying why on stderr; any other error, or
//! the same one after the window, is returned as it is.
//!
//! The same holds for a target group whose listener rule was created or changed a moment ago:
//! `CreateService` can answer "The target group with targetGroupArn ... does not have an
//! associated load balancer" until ELB's change reaches ECS
//! (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-load-balancers.html>),
//! so that refusal is retried the same way.
//!
//! "not authorized to perform: iam:PassRole" is not one of them: IAM evaluates `iam:PassRole`
//! against the caller's own policies, so it says the deployer lacks the action on that role
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html>); waiting 90 s
//! would not change it, so it fails at once with the action named.

use std::future::Future;
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// How long a role may take to reach ECS before the refusal counts.
pub const WINDOW: Duration = Duration::from_secs(90);

/// What a refusal caused by a change not yet visible to ECS waits for (`None`: any other
/// error, never retried).
pub fn propagation_wait(code: Option<&str>, message: &str) -> Option<&'static str> {
    let m = message.to_ascii_lowercase();
    if m.contains("iam:passrole") {
        return None;
    }
    let service_error = matches!(
        code,
        Some("ClientException") | Some("InvalidParameterException") | Some("AccessDeniedException")
    );
    if !service_error {
        return None;
    }
    if m.contains("unable to assume the role") || m.contains("unable to assume role") {
        return Some("ECS cannot use the role yet; IAM changes take seconds to reach ECS");
    }
    if m.contains("does not have an associated load balancer") {
        return Some("ECS does not see the target group's listener rule yet; ELB changes take seconds to reach ECS");
    }
    None
}

/// True for the refusals a propagation delay causes (and only those).
pub fn is_propagation_refusal(code: Option<&str>, message: &str) -> bool {
    propagation_wait(code, message).is_some()
}

/// The wait before attempt `n` (1-based retries): 1, 2, 4, 8, 8, ... seconds.
pub fn backoff(n: u32) -> Duration {
    Duration::from_secs(1u64 << n.saturating_sub(1).min(3))
}

/// Run `call` until it succeeds, fails otherwise, or the propagation window is over. `what`
/// names the call for the message (`RegisterTaskDefinition opensearch-mcp-server-stateless`).
pub async fn retry<T, E, R, F, Fut>(
    what: &str,
    window: Duration,
    mut call: F,
) -> Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
{
    let start = Instant::now();
    let mut attempt = 0u32;
    loop {
        let e = match call().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let (code, message) = match &e {
            SdkError::ServiceError(s) => (s.err().code(), s.err().message().unwrap_or_default()),
            _ => return Err(e),
        };
        attempt += 1;
        let wait = backoff(attempt);
        let Some(why) = propagation_wait(code, message) else {
            return Err(e);
        };
        if start.elapsed() + wait > window {
            return Err(e);
        }
        eprintln!(
            "{what}: {why} ({}), retrying in {}s ({}s of at most {}s)",
            message.chars().take(160).collect::<String>(),
            wait.as_secs(),
            start.elapsed().as_secs(),
            window.as_secs()
        );
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_role_propagation_refusals_are_retried() {
        assert!(is_propagation_refusal(
            Some("ClientException"),
            "ECS was unable to assume the role 'arn:aws:iam::1:role/r' that was provided for this task."
        ));
        // The deployer lacks iam:PassRole: no wait changes that.
        assert!(!is_propagation_refusal(
            Some("AccessDeniedException"),
            "User: arn:aws:iam::1:user/u is not authorized to perform: iam:PassRole on resource: arn:aws:iam::1:role/r"
        ));
        assert!(is_propagation_refusal(
            Some("InvalidParameterException"),
            "Unable to assume role and validate the specified targetGroupArn."
        ));
        assert!(!is_propagation_refusal(
            Some("ClientException"),
            "Invalid memory 7"
        ));
        assert!(!is_propagation_refusal(
            Some("ThrottlingException"),
            "unable to assume the role"
        ));
        assert!(!is_propagation_refusal(None, "iam:PassRole"));
        // ELB's new rule not yet seen by ECS (CreateService right after CreateRule).
        assert!(is_propagation_refusal(
            Some("InvalidParameterException"),
            "The target group with targetGroupArn arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1 does not have an associated load balancer."
        ));
    }

    #[test]
    fn backoff_doubles_then_stays() {
        let w: Vec<u64> = (1..=6).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(w, [1, 2, 4, 8, 8, 8]);
    }
}
