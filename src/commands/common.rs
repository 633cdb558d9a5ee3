//! What several commands say the same way: who they act as, and why a resource is not there.

use crate::aws::Clients;
use crate::error::{Error, Result};
use crate::stack::Stack;

/// "X does not exist in region R", with the likely reason: a region other than the stack's
/// (`--region`, `AWS_REGION`), or a stack never deployed.
pub fn not_found_in_region(what: &str, region_in_use: &str, stack: &Stack) -> String {
    if region_in_use != stack.region {
        format!(
            "{what} does not exist in region {region_in_use}, the region in use; stack {} is set for region {} (`region:` in {}): drop --region / AWS_REGION, or pass --region {}",
            stack.name,
            stack.region,
            stack.source.display(),
            stack.region
        )
    } else {
        format!(
            "{what} does not exist in region {region_in_use}; deploy the stack with `mcpctl up --stack {}` first",
            stack.name
        )
    }
}

/// An AWS "not found" for the shared cluster or load balancer while the region in use is not
/// the stack's: say both regions (a bare `ClusterNotFoundException` does not); the AWS error
/// stays the cause. Any other error is returned as it is.
pub fn explain_not_found(e: Error, region_in_use: &str, stack: &Stack) -> Error {
    let Error::Failed(inner) = e else {
        return e;
    };
    let code = inner
        .chain()
        .find_map(|c| c.downcast_ref::<crate::aws::AwsError>())
        .and_then(|a| a.code.clone());
    let what = match code.as_deref() {
        Some("ClusterNotFoundException") => format!("cluster {}", stack.cluster),
        Some("LoadBalancerNotFound") => format!("load balancer {}", stack.load_balancer.reference),
        _ => return Error::Failed(inner),
    };
    if region_in_use == stack.region {
        return Error::Failed(inner);
    }
    Error::Failed(inner.context(not_found_in_region(&what, region_in_use, stack)))
}

/// Print, on stderr, the account, region and identity the clients act as
/// (`sts:GetCallerIdentity`), before a command changes anything.
pub async fn show_identity(clients: &Clients) -> Result<()> {
    let who = crate::aws::identity::caller(clients).await?;
    eprintln!("Acting as {who}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(region: &str) -> Stack {
        let mut s = crate::stack::load_with_env(
            "stateless",
            &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("stacks"),
            &|k| (k == "AWS_ACCOUNT_ID").then(|| "123456789012".to_string()),
        )
        .unwrap();
        s.region = region.to_string();
        s
    }

    #[test]
    fn a_region_mismatch_names_both_regions() {
        let m = not_found_in_region("log group /ecs/x", "eu-west-1", &stack("us-east-1"));
        assert!(
            m.starts_with("log group /ecs/x does not exist in region eu-west-1, the region in use; stack stateless is set for region us-east-1"),
            "{m}"
        );
        let m = not_found_in_region("log group /ecs/x", "us-east-1", &stack("us-east-1"));
        assert!(m.contains("deploy the stack"), "{m}");
    }

    #[test]
    fn a_missing_cluster_in_another_region_says_both_regions() {
        let aws = crate::aws::AwsError {
            action: "ecs:DescribeServices".into(),
            resource: "service s".into(),
            code: Some("ClusterNotFoundException".into()),
            message: "Cluster not found.".into(),
        };
        let e = Error::Failed(anyhow::Error::new(aws.clone()));
        let m = format!(
            "{:#}",
            explain_not_found(e, "eu-west-1", &stack("us-east-1"))
        );
        assert!(
            m.starts_with("cluster fastmcp-time-server-cluster does not exist in region eu-west-1, the region in use; stack stateless is set for region us-east-1"),
            "{m}"
        );
        assert!(
            m.contains("ClusterNotFoundException"),
            "the cause stays: {m}"
        );
        let e = Error::Failed(anyhow::Error::new(aws));
        let m = format!(
            "{:#}",
            explain_not_found(e, "us-east-1", &stack("us-east-1"))
        );
        assert!(m.starts_with("ecs:DescribeServices"), "{m}");
    }
}
