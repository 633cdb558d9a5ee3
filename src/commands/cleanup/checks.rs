//! What cleanup reads before deciding: which stack owns each target group (for handing a rule
//! over) and whether the task role may be deleted (`--delete-role`).

use std::collections::HashMap;
use std::path::Path;

use crate::aws::forward::target_group_name;
use crate::aws::listener_rule::{tag_value, ListenerRule};
use crate::aws::{iam_role, target_group, Clients};
use crate::error::{Error, Result};
use crate::stack::{self, Stack, STACK_TAG};

/// Which stack owns each target group: its `mcpctl:stack` tag, else the stack file naming it.
pub(super) async fn owners(
    c: &Clients,
    rules: &[ListenerRule],
    stacks_dir: &Path,
) -> Result<HashMap<String, String>> {
    let mut arns: Vec<String> = rules
        .iter()
        .filter_map(|r| r.forward().ok())
        .flat_map(|f| f.groups.into_iter().map(|g| g.arn))
        .collect();
    arns.sort();
    arns.dedup();
    let by_file: HashMap<String, String> = std::fs::read_dir(stacks_dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        .filter_map(|e| stack::load(&e.path().to_string_lossy(), stacks_dir).ok())
        .map(|s| (s.names.target_group, s.name))
        .collect();
    let tags: HashMap<String, crate::aws::Tags> =
        target_group::tags_of(c, &arns).await?.into_iter().collect();
    Ok(arns
        .into_iter()
        .filter_map(|arn| {
            let owner = tags
                .get(&arn)
                .and_then(|t| tag_value(t, STACK_TAG).map(str::to_string))
                .or_else(|| by_file.get(target_group_name(&arn)).cloned())?;
            Some((arn, owner))
        })
        .collect())
}

/// What `--delete-role` does with the stack's task role.
pub(super) enum RoleFate {
    /// Delete the managed role with this name.
    Delete(String),
    /// Keep it (with the reason to print, if any).
    Kept(Option<String>),
}

/// The task role `--delete-role` may delete: only one mcpctl manages for the stack
/// (`roles.task_role`, tagged `mcpctl:managed`) that no other service runs as. A role still in
/// use is a refusal (exit 3) before anything changes.
pub(super) async fn managed_role(c: &Clients, stack: &Stack) -> Result<RoleFate> {
    let Some(managed) = &stack.roles.managed_task_role else {
        let why = match &stack.roles.task_role_arn {
            Some(arn) => format!("task role {arn}: given by ARN, mcpctl never deletes it"),
            None => "no task role to delete (the stack has no `roles.task_role`)".to_string(),
        };
        return Ok(RoleFate::Kept(Some(why)));
    };
    let Some(role) = iam_role::observe(c, &managed.name).await? else {
        return Ok(RoleFate::Kept(None));
    };
    let tag = crate::plan::desired::MANAGED_ROLE_TAG;
    if !role.spec.tags.iter().any(|(k, _)| k == tag) {
        return Ok(RoleFate::Kept(Some(format!(
            "task role {}: not tagged {tag}, so mcpctl did not create it and leaves it alone",
            managed.name
        ))));
    }
    let users: Vec<String> = iam_role::users(c, &stack.cluster, &role.arn)
        .await?
        .into_iter()
        .filter(|s| *s != stack.names.service)
        .collect();
    if !users.is_empty() {
        return Err(Error::refused(format!(
            "--delete-role: task role {} is still used by service(s) {} in cluster {}; clean those up first or leave out --delete-role; nothing was changed",
            managed.name,
            users.join(", "),
            stack.cluster
        )));
    }
    Ok(RoleFate::Delete(managed.name.clone()))
}
