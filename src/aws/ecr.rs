//! The stack's ECR repository: scan on push, a lifecycle policy keeping the last N images.

use aws_sdk_ecr::types::{ImageScanningConfiguration, Tag};

use super::deploy::Record;
use super::deploy::{Applying, Deploy};
use super::errors::{call_error, code};
use super::Clients;
use crate::error::Result;
use crate::plan::desired::{canonical_json, RepositorySpec};
use crate::plan::observed::ObservedRepository;
use crate::plan::steps::{RepositoryRef, RepositoryUpdate, Step};
use crate::plan::{Action, Kind};
use crate::plan::{Desired, Observed, Steps};
use crate::stack::Stack;

fn ecr_tags(tags: &[(String, String)]) -> Vec<Tag> {
    tags.iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

/// Observe the repository `name`.
pub async fn observe(c: &Clients, name: &str) -> Result<Option<ObservedRepository>> {
    let what = format!("ECR repository {name}");
    let out = match c
        .ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) if code(&e) == Some("RepositoryNotFoundException") => return Ok(None),
        Err(e) => return Err(call_error(&what, e)),
    };
    let Some(repo) = out.repositories().first() else {
        return Ok(None);
    };
    let arn = repo.repository_arn().unwrap_or_default().to_string();
    let policy = match c
        .ecr
        .get_lifecycle_policy()
        .repository_name(name)
        .send()
        .await
    {
        Ok(p) => canonical_json(p.lifecycle_policy_text().unwrap_or_default()),
        Err(e) if code(&e) == Some("LifecyclePolicyNotFoundException") => String::new(),
        Err(e) => return Err(call_error(&what, e)),
    };
    let tags: Vec<(String, String)> = c
        .ecr
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .map_err(|e| call_error(&what, e))?
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    Ok(Some(ObservedRepository {
        uri: repo.repository_uri().unwrap_or_default().to_string(),
        spec: RepositorySpec {
            name: name.to_string(),
            scan_on_push: repo
                .image_scanning_configuration()
                .is_some_and(|s| s.scan_on_push()),
            lifecycle_policy: policy,
            tags: tags.clone(),
        },
        tags,
        arn,
    }))
}

/// Create the repository with its scanning configuration, tags and lifecycle policy; returns
/// its URI.
pub async fn create(c: &Clients, s: &RepositorySpec) -> Result<String> {
    let what = format!("ECR repository {}", s.name);
    let out = c
        .ecr
        .create_repository()
        .repository_name(&s.name)
        .image_scanning_configuration(
            ImageScanningConfiguration::builder()
                .scan_on_push(s.scan_on_push)
                .build(),
        )
        .set_tags(Some(ecr_tags(&s.tags)))
        .send()
        .await
        .map_err(|e| call_error(&what, e))?;
    if !s.lifecycle_policy.is_empty() {
        put_policy(c, s).await?;
    }
    Ok(out
        .repository()
        .and_then(|r| r.repository_uri())
        .unwrap_or_default()
        .to_string())
}

async fn put_policy(c: &Clients, s: &RepositorySpec) -> Result<()> {
    if s.lifecycle_policy.is_empty() {
        // `ecr.keep_images: 0`: no lifecycle policy.
        return match c
            .ecr
            .delete_lifecycle_policy()
            .repository_name(&s.name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if code(&e) == Some("LifecyclePolicyNotFoundException") => Ok(()),
            Err(e) => Err(call_error(&format!("ECR repository {}", s.name), e)),
        };
    }
    c.ecr
        .put_lifecycle_policy()
        .repository_name(&s.name)
        .lifecycle_policy_text(&s.lifecycle_policy)
        .send()
        .await
        .map_err(|e| call_error(&format!("ECR repository {}", s.name), e))?;
    Ok(())
}

/// Apply an update: only the calls for the fields that changed.
pub async fn update(
    c: &Clients,
    arn: &str,
    s: &RepositorySpec,
    update: &RepositoryUpdate,
) -> Result<()> {
    let what = format!("ECR repository {}", s.name);
    if update.scanning {
        c.ecr
            .put_image_scanning_configuration()
            .repository_name(&s.name)
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(s.scan_on_push)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| call_error(&what, e))?;
    }
    if update.lifecycle_policy {
        put_policy(c, s).await?;
    }
    if update.tags {
        c.ecr
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(ecr_tags(&s.tags)))
            .send()
            .await
            .map_err(|e| call_error(&what, e))?;
    }
    Ok(())
}

/// Delete the repository `name` with its images (`cleanup --delete-images`). Already gone
/// counts as done.
pub async fn delete(c: &Clients, name: &str) -> Result<()> {
    match c
        .ecr
        .delete_repository()
        .repository_name(name)
        .force(true)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if code(&e) == Some("RepositoryNotFoundException") => Ok(()),
        Err(e) => Err(call_error(&format!("ECR repository {name}"), e)),
    }
}

/// Whether `image` (`REPO_URI@sha256:...` or `REPO_URI:TAG`) exists in the repository whose
/// URI is `repo_uri`. `None` when the image is not in that repository (nothing to check).
pub async fn image_exists(
    c: &Clients,
    repo_name: &str,
    repo_uri: &str,
    image: &str,
) -> Result<Option<bool>> {
    let Some(rest) = image.strip_prefix(repo_uri) else {
        return Ok(None);
    };
    let id = if let Some(digest) = rest.strip_prefix('@') {
        aws_sdk_ecr::types::ImageIdentifier::builder()
            .image_digest(digest)
            .build()
    } else if let Some(tag) = rest.strip_prefix(':') {
        aws_sdk_ecr::types::ImageIdentifier::builder()
            .image_tag(tag)
            .build()
    } else if rest.is_empty() {
        aws_sdk_ecr::types::ImageIdentifier::builder()
            .image_tag("latest")
            .build()
    } else {
        return Ok(None);
    };
    match c
        .ecr
        .describe_images()
        .repository_name(repo_name)
        .image_ids(id)
        .send()
        .await
    {
        Ok(o) => Ok(Some(!o.image_details().is_empty())),
        Err(e)
            if matches!(
                code(&e),
                Some("ImageNotFoundException") | Some("RepositoryNotFoundException")
            ) =>
        {
            Ok(Some(false))
        }
        Err(e) => Err(call_error(&format!("image {image}"), e)),
    }
}

/// The repository's tag mutability (`MUTABLE` / `IMMUTABLE`); `None` when it does not exist.
pub async fn tag_mutability(c: &Clients, name: &str) -> Result<Option<String>> {
    match c
        .ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
    {
        Ok(o) => Ok(o
            .repositories()
            .first()
            .and_then(|r| r.image_tag_mutability())
            .map(|m| m.as_str().to_string())),
        Err(e) if code(&e) == Some("RepositoryNotFoundException") => Ok(None),
        Err(e) => Err(call_error(&format!("ECR repository {name}"), e)),
    }
}

/// The architectures (`amd64`, `arm64`) an image index or manifest list names. `None` when the
/// manifest is a single-platform one (its architecture is in the config blob, not read here).
pub fn manifest_architectures(manifest: &str) -> Option<Vec<String>> {
    let v: serde_json::Value = serde_json::from_str(manifest).ok()?;
    let list = v.get("manifests")?.as_array()?;
    Some(
        list.iter()
            .filter_map(|m| m.pointer("/platform/architecture")?.as_str())
            .map(str::to_string)
            .collect(),
    )
}

/// The architectures of `image` when it is in the repository `repo_name` at `repo_uri` and is
/// a multi-platform image (read with `BatchGetImage`); `None` when that cannot be told.
pub async fn image_architectures(
    c: &Clients,
    repo_name: &str,
    repo_uri: &str,
    image: &str,
) -> Result<Option<Vec<String>>> {
    let Some(rest) = image.strip_prefix(repo_uri) else {
        return Ok(None);
    };
    let b = aws_sdk_ecr::types::ImageIdentifier::builder();
    let id = match (rest.strip_prefix('@'), rest.strip_prefix(':')) {
        (Some(digest), _) => b.image_digest(digest).build(),
        (_, Some(tag)) => b.image_tag(tag).build(),
        _ if rest.is_empty() => b.image_tag("latest").build(),
        _ => return Ok(None),
    };
    let out = c
        .ecr
        .batch_get_image()
        .repository_name(repo_name)
        .image_ids(id)
        .accepted_media_types("application/vnd.oci.image.index.v1+json")
        .accepted_media_types("application/vnd.docker.distribution.manifest.list.v2+json")
        .accepted_media_types("application/vnd.oci.image.manifest.v1+json")
        .accepted_media_types("application/vnd.docker.distribution.manifest.v2+json")
        .send()
        .await
        .map_err(|e| call_error(&format!("image {image}"), e))?;
    Ok(out
        .images()
        .first()
        .and_then(|i| i.image_manifest())
        .and_then(manifest_architectures))
}

/// Carry out the plan's step for the repository (create, update or keep); its URI.
pub async fn apply(
    c: &Clients,
    repo: &RepositorySpec,
    step: &Step<RepositoryRef, RepositoryUpdate>,
    rec: &mut Record,
) -> Result<String> {
    Ok(match step {
        Step::Create => {
            let uri = create(c, repo).await?;
            rec.add(Kind::Repository, Action::Create, &repo.name, &uri);
            uri
        }
        Step::Update(r, update) => {
            self::update(c, &r.arn, repo, update).await?;
            rec.add(Kind::Repository, Action::Update, &repo.name, &r.arn);
            r.uri.clone()
        }
        Step::Keep(r) => r.uri.clone(),
    })
}

impl Deploy for crate::plan::kinds::repository::Repository {
    async fn observe(c: &Clients, stack: &Stack, _: &Observed) -> Result<Self::Observed> {
        observe(c, &stack.names.ecr_repository).await
    }

    async fn apply(run: &mut Applying<'_>, d: &Desired, steps: &Steps) -> Result<()> {
        run.repo_uri = apply(run.c, &d.repository, &steps.repository, &mut run.rec).await?;
        Ok(())
    }
}

#[cfg(test)]
mod architecture_tests {
    use super::manifest_architectures;

    #[test]
    fn architectures_come_from_an_index_only() {
        let index = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"digest":"sha256:a","platform":{"architecture":"amd64","os":"linux"}},{"digest":"sha256:b","platform":{"architecture":"unknown","os":"unknown"}}]}"#;
        assert_eq!(
            manifest_architectures(index),
            Some(vec!["amd64".to_string(), "unknown".to_string()])
        );
        let single = r#"{"schemaVersion":2,"config":{"digest":"sha256:c"},"layers":[]}"#;
        assert_eq!(manifest_architectures(single), None);
        assert_eq!(manifest_architectures("not json"), None);
    }
}
