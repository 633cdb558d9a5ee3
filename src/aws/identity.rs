//! Who the credentials are: `sts:GetCallerIdentity`, shown before a command changes anything,
//! so acting on the wrong account is seen before it happens (as terraform shows its workspace).

use serde::Serialize;

use super::{call_error, Clients};
use crate::error::Result;

/// The account, region and identity a command acts as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// The 12-digit account ID.
    pub account: String,
    /// The region the clients talk to.
    pub region: String,
    /// The caller's ARN (user, assumed role...).
    pub arn: String,
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "account {}, region {}, as {}",
            self.account, self.region, self.arn
        )
    }
}

/// Ask STS who the clients' credentials are.
pub async fn caller(clients: &Clients) -> Result<Identity> {
    let out = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| call_error("the credentials in use", e))?;
    Ok(Identity {
        account: out.account().unwrap_or("unknown").to_string(),
        region: clients.region.clone(),
        arn: out.arn().unwrap_or("unknown").to_string(),
    })
}
