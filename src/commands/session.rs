//! One region for every command. Every command that reads or changes a stack's resources loads
//! its stacks and connects through [`open`], so the region is always resolved the same way:
//! `--region`, then `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the profile's `region`, then
//! the stack file's `region` ([`crate::aws::region::resolve`]). `${AWS_REGION}` in the stack
//! files (ARNs, the log region, the task's `AWS_REGION`) is that region too, so a command never
//! reads one region's rules while its stack names another's.

use crate::aws::Clients;
use crate::cli::GlobalArgs;
use crate::error::Result;
use crate::stack::Stack;

/// Stacks loaded for a command, and the clients of the one region they are used in.
pub struct Session {
    /// The stacks, in the order asked for; each one's `region` is the region in use.
    pub stacks: Vec<Stack>,
    /// Clients for that region.
    pub clients: Clients,
    /// The region in use.
    pub region: String,
}

/// Load `names` (at least one) and connect in the resolved region
/// ([`crate::aws::region::load_stacks`]).
pub async fn open(names: &[&str], global: &GlobalArgs) -> Result<Session> {
    let profile = global.profile.as_deref();
    let (stacks, region) = crate::aws::region::load_stacks(
        names,
        &global.stacks_dir,
        profile,
        global.region.as_deref(),
    )
    .await?;
    let clients = Clients::connect(profile, Some(&region)).await;
    Ok(Session {
        stacks,
        clients,
        region,
    })
}

/// [`open`] for one stack: the stack and the clients.
pub async fn open_one(name: &str, global: &GlobalArgs) -> Result<(Stack, Clients)> {
    let mut s = open(&[name], global).await?;
    let stack = s.stacks.remove(0);
    Ok((stack, s.clients))
}
