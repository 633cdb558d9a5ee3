//! The one region a command uses everywhere (clients, `awslogs-region`, ARNs interpolated from
//! `${AWS_REGION}`, the task's `AWS_REGION`): `--region`, then `AWS_REGION`, then
//! `AWS_DEFAULT_REGION`, then the profile's `region`, then the stack's own `region`.

use aws_config::meta::region::ProvideRegion;
use aws_config::profile::ProfileFileRegionProvider;

/// The first region of `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION` and the profile's
/// `region` (`profile`: the user's `--profile`); `None` when none gives one (then the stack's
/// `region` decides). `env` reads an environment variable.
pub async fn resolve(
    cli: Option<&str>,
    profile: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    if let Some(r) = cli.filter(|r| !r.is_empty()) {
        return Some(r.to_string());
    }
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Some(r) = env(var).filter(|r| !r.trim().is_empty()) {
            return Some(r.trim().to_string());
        }
    }
    let mut p = ProfileFileRegionProvider::builder();
    if let Some(name) = profile {
        p = p.profile_name(name);
    }
    p.build().region().await.map(|r| r.to_string())
}

/// The process environment as the stack files see it: `${AWS_REGION}` is `resolved` (the region
/// in use) when there is one.
pub fn env_in_region(resolved: Option<&str>) -> impl Fn(&str) -> Option<String> + '_ {
    move |k: &str| match (k, resolved) {
        ("AWS_REGION", Some(r)) => Some(r.to_string()),
        _ => std::env::var(k).ok(),
    }
}

/// Load the stacks `names` from `stacks_dir` in the one region a command uses: [`resolve`]'s,
/// else the first stack file's `region`. `${AWS_REGION}` in the files is that region, and each
/// stack's `region` is set to it. Returns the stacks and the region.
pub async fn load_stacks(
    names: &[&str],
    stacks_dir: &std::path::Path,
    profile: Option<&str>,
    cli: Option<&str>,
) -> crate::error::Result<(Vec<crate::stack::Stack>, String)> {
    load_stacks_with(names, stacks_dir, profile, cli, &|_| None).await
}

/// [`load_stacks`] where `fallback` gives the variables the environment does not set (`iam-policy
/// --account` gives `AWS_ACCOUNT_ID`).
pub async fn load_stacks_with(
    names: &[&str],
    stacks_dir: &std::path::Path,
    profile: Option<&str>,
    cli: Option<&str>,
    fallback: &dyn Fn(&str) -> Option<String>,
) -> crate::error::Result<(Vec<crate::stack::Stack>, String)> {
    let resolved = resolve(cli, profile, &|k| std::env::var(k).ok()).await;
    let in_region = env_in_region(resolved.as_deref());
    let lookup = |k: &str| in_region(k).or_else(|| fallback(k));
    let mut stacks = Vec::with_capacity(names.len());
    for name in names {
        let mut s = crate::stack::load_with_env(name, stacks_dir, &lookup)?;
        if let Some(r) = &resolved {
            s.region = r.clone();
        }
        stacks.push(s);
    }
    let region = match (resolved.clone(), stacks.first()) {
        (Some(r), _) => r,
        (None, Some(s)) => s.region.clone(),
        (None, None) => {
            return Err(crate::error::Error::bad_input(
                "name at least one stack (--stack NAME)",
            ))
        }
    };
    Ok((stacks, region))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn flag_then_aws_region_then_aws_default_region() {
        let env = |k: &str| match k {
            "AWS_REGION" => Some("eu-west-1".to_string()),
            "AWS_DEFAULT_REGION" => Some("eu-central-1".to_string()),
            _ => None,
        };
        assert_eq!(
            resolve(Some("ap-south-1"), None, &env).await.as_deref(),
            Some("ap-south-1")
        );
        assert_eq!(
            resolve(None, None, &env).await.as_deref(),
            Some("eu-west-1")
        );
        let only_default =
            |k: &str| (k == "AWS_DEFAULT_REGION").then(|| "eu-central-1".to_string());
        assert_eq!(
            resolve(None, None, &only_default).await.as_deref(),
            Some("eu-central-1")
        );
    }
}
