//! What several commands say the same way: who they act as, and why a resource is not there.

use crate::aws::Clients;
use crate::error::Result;
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
}
