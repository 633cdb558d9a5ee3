//! The pipeline `plan` and `up` share: load the stack, observe AWS, plan (with every preflight
//! problem listed at once). Commands print the result; `up` then hands the plan's steps to
//! [`crate::aws::deploy::apply`].

use std::path::Path;

use crate::aws::deploy::observe;
use crate::aws::{ecr, Clients};
use crate::error::{Error, Result};
use crate::plan::{plan, Desired, Observed, Plan};
use crate::stack::Stack;

/// A stack read, observed and planned: what `plan` prints and `up` applies.
pub struct Prepared {
    /// The stack.
    pub stack: Stack,
    /// AWS clients for its region.
    pub clients: Clients,
    /// What exists.
    pub observed: Observed,
    /// What should exist.
    pub desired: Desired,
    /// The difference (problems include preflight ones).
    pub plan: Plan,
}

/// Load the stack, observe AWS, plan. Fails (exit 2) when the stack or the shared resources it
/// references are unusable, listing every problem.
/// `profile` and `region` are the user's `--profile` and `--region`.
pub async fn prepare(
    stack_arg: &str,
    stacks_dir: &Path,
    profile: Option<&str>,
    region: Option<&str>,
    image: Option<String>,
) -> Result<Prepared> {
    // One region everywhere: `${AWS_REGION}` in the stack files (log region, ARNs, the task's
    // AWS_REGION) is the resolved region, and so are the clients.
    let (mut stacks, in_use) =
        crate::aws::region::load_stacks(&[stack_arg], stacks_dir, profile, region).await?;
    let stack = stacks.remove(0);
    let clients = Clients::connect(profile, Some(&in_use)).await;
    let (observed, problems) = observe(&clients, &stack).await?;
    let Some(observed) = observed else {
        return Err(preflight_error(&stack, &problems));
    };
    let image = image.or_else(|| stack.image.clone());
    let desired = Desired::new(&stack, &observed.shared, image);
    let mut plan = plan(&desired, &observed);
    let mut all = problems;
    all.extend(crate::plan::endpoint::wildcard_only(
        &stack,
        observed.shared.certificate.as_ref(),
    ));
    all.append(&mut plan.problems);
    plan.problems = all;
    // A managed task role whose policy would change while another service runs as it (e.g. the
    // adopted production service): changing it would change what production may do.
    if let (Some(crate::plan::steps::Step::Update(arn, u)), Some(_)) =
        (&plan.steps.task_role, &observed.task_role)
    {
        // Only in a cluster that exists (a missing one is already a problem above).
        if (u.policy || u.trust_policy) && !observed.shared.cluster_arn.is_empty() {
            let others: Vec<String> = crate::aws::iam_role::users(&clients, &stack.cluster, arn)
                .await?
                .into_iter()
                .filter(|s| *s != stack.names.service)
                .collect();
            if !others.is_empty() {
                plan.problems.push(format!(
                    "IAM task role `{}` is the role ECS service(s) {} run as, and `up` would rewrite its policy; give this stack its own role (`roles.task_role.name`, e.g. MCPCTL_TASK_ROLE=opensearch-mcp-{}-task-role) or reference that role unchanged with `roles.task_role_arn`",
                    arn.rsplit('/').next().unwrap_or(arn),
                    others.join(", "),
                    stack.name
                ));
            }
        }
    }
    // The image, when it is in the stack's own repository: does it exist?
    if let (Some(image), Some(repo)) = (&desired.task_definition.image, &observed.repository) {
        if ecr::image_exists(&clients, &repo.spec.name, &repo.uri, image).await? == Some(false) {
            plan.warnings.push(format!(
                "image {image} is not in ECR repository {}: ECS will fail to pull it (push it first, or leave out --image/`image:` to build and push server/)",
                repo.spec.name
            ));
        } else if let Some(archs) =
            ecr::image_architectures(&clients, &repo.spec.name, &repo.uri, image).await?
        {
            // An image built for another CPU does not start on the task's platform:
            // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-arm64.html
            let want = stack.architecture.oci_architecture();
            if !archs.iter().any(|a| a == want) {
                plan.problems.push(format!(
                    "image {image} is built for {} but the stack runs on {} (`container.architecture: {}`); push an image for {want} (`docker build --platform {}`) or set `container.architecture`",
                    archs.join(", "),
                    want,
                    stack.architecture.as_str(),
                    stack.architecture.docker_platform(),
                ));
            }
        }
    }
    Ok(Prepared {
        stack,
        clients,
        observed,
        desired,
        plan,
    })
}

/// The preflight failure: every problem, and that nothing was changed.
pub fn preflight_error(stack: &Stack, problems: &[String]) -> Error {
    Error::bad_input(format!(
        "stack `{}` cannot be deployed; nothing was changed:\n{}",
        stack.name,
        problems
            .iter()
            .map(|p| format!("  - {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    ))
}
