//! The managed task role: created with the ECS tasks trust policy, its inline
//! `OpenSearchAccess` policy kept exactly least-privilege, tagged `mcpctl:managed`. Roles given
//! by ARN are never touched. Also: which services use a role, and deleting one (for
//! `cleanup --delete-role`), and the fine-grained access control role-mapping step.

use aws_sdk_iam::types::Tag;

use super::deploy::Record;
use super::deploy::{Applying, Deploy};
use super::errors::{call_error, code};
use super::Clients;
use crate::error::{Context, Result};
use crate::plan::desired::{canonical_json, TaskRoleSpec, TASK_ROLE_POLICY};
use crate::plan::observed::ObservedTaskRole;
use crate::plan::steps::{Step, TaskRoleUpdate};
use crate::plan::{Action, Kind};
use crate::plan::{Desired, Observed, Steps};
use crate::stack::Stack;

/// IAM returns policy documents URL-encoded.
fn decode(doc: &str) -> String {
    let text = urlencoding::decode(doc)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| doc.to_string());
    canonical_json(&text)
}

fn iam_tags(tags: &[(String, String)]) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .context_failed(|| format!("building IAM tag {k}"))
        })
        .collect()
}

/// Observe the role `name` (trust policy, inline `OpenSearchAccess` policy, tags).
pub async fn observe(c: &Clients, name: &str) -> Result<Option<ObservedTaskRole>> {
    let what = format!("IAM role {name}");
    let role = match c.iam.get_role().role_name(name).send().await {
        Ok(o) => o.role,
        Err(e) if code(&e) == Some("NoSuchEntity") => return Ok(None),
        Err(e) => return Err(call_error(&what, e)),
    };
    let Some(role) = role else { return Ok(None) };
    let policy = match c
        .iam
        .get_role_policy()
        .role_name(name)
        .policy_name(TASK_ROLE_POLICY)
        .send()
        .await
    {
        Ok(p) => decode(p.policy_document()),
        Err(e) if code(&e) == Some("NoSuchEntity") => String::new(),
        Err(e) => return Err(call_error(&what, e)),
    };
    let tags: Vec<(String, String)> = role
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    Ok(Some(ObservedTaskRole {
        arn: role.arn().to_string(),
        spec: TaskRoleSpec {
            name: name.to_string(),
            trust_policy: decode(role.assume_role_policy_document().unwrap_or_default()),
            policy,
            tags,
        },
    }))
}

async fn put_policy(c: &Clients, s: &TaskRoleSpec) -> Result<()> {
    c.iam
        .put_role_policy()
        .role_name(&s.name)
        .policy_name(TASK_ROLE_POLICY)
        .policy_document(&s.policy)
        .send()
        .await
        .map_err(|e| call_error(&format!("IAM role {}", s.name), e))?;
    Ok(())
}

/// Create the role with its trust policy and tags, then its inline policy; returns its ARN.
pub async fn create(c: &Clients, s: &TaskRoleSpec) -> Result<String> {
    let out = c
        .iam
        .create_role()
        .role_name(&s.name)
        .assume_role_policy_document(&s.trust_policy)
        .description("OpenSearch MCP server task role (managed by mcpctl)")
        .set_tags(Some(iam_tags(&s.tags)?))
        .send()
        .await
        .map_err(|e| call_error(&format!("IAM role {}", s.name), e))?;
    put_policy(c, s).await?;
    Ok(out.role().map(|r| r.arn().to_string()).unwrap_or_default())
}

/// Apply an update: only the calls for what changed.
pub async fn update(c: &Clients, s: &TaskRoleSpec, update: &TaskRoleUpdate) -> Result<()> {
    let what = format!("IAM role {}", s.name);
    if update.trust_policy {
        c.iam
            .update_assume_role_policy()
            .role_name(&s.name)
            .policy_document(&s.trust_policy)
            .send()
            .await
            .map_err(|e| call_error(&what, e))?;
    }
    if update.policy {
        put_policy(c, s).await?;
    }
    if update.tags {
        c.iam
            .tag_role()
            .role_name(&s.name)
            .set_tags(Some(iam_tags(&s.tags)?))
            .send()
            .await
            .map_err(|e| call_error(&what, e))?;
    }
    Ok(())
}

/// Services in `cluster` whose current task definition runs as `role_arn`.
pub async fn users(c: &Clients, cluster: &str, role_arn: &str) -> Result<Vec<String>> {
    let mut arns = Vec::new();
    let mut token = None;
    loop {
        let out = c
            .ecs
            .list_services()
            .cluster(cluster)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| call_error(&format!("cluster {cluster}"), e))?;
        arns.extend(out.service_arns().iter().cloned());
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    let mut users = Vec::new();
    for chunk in arns.chunks(10) {
        let out = c
            .ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| call_error(&format!("cluster {cluster}"), e))?;
        for s in out.services() {
            if s.status() != Some("ACTIVE") {
                continue;
            }
            let td = s.task_definition().unwrap_or_default();
            let d = c
                .ecs
                .describe_task_definition()
                .task_definition(td)
                .send()
                .await
                .map_err(|e| call_error(td, e))?;
            if d.task_definition().and_then(|t| t.task_role_arn()) == Some(role_arn) {
                users.push(s.service_name().unwrap_or_default().to_string());
            }
        }
    }
    users.sort();
    Ok(users)
}

/// Delete a role: its inline policies, its attached policies, then the role.
pub async fn delete(c: &Clients, name: &str) -> Result<()> {
    let what = format!("IAM role {name}");
    let inline = c
        .iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| call_error(&what, e))?;
    for p in inline.policy_names() {
        c.iam
            .delete_role_policy()
            .role_name(name)
            .policy_name(p)
            .send()
            .await
            .map_err(|e| call_error(&what, e))?;
    }
    let attached = c
        .iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| call_error(&what, e))?;
    for p in attached.attached_policies() {
        c.iam
            .detach_role_policy()
            .role_name(name)
            .policy_arn(p.policy_arn().unwrap_or_default())
            .send()
            .await
            .map_err(|e| call_error(&what, e))?;
    }
    c.iam
        .delete_role()
        .role_name(name)
        .send()
        .await
        .map_err(|e| call_error(&what, e))?;
    Ok(())
}

/// The role-mapping step for a domain with fine-grained access control: which backend role to
/// map, the security REST API calls and the Dashboards path (what the old script's closing
/// message said, so nobody has to open `configure-opensearch-fgac.md`).
pub fn role_mapping_guidance(role_arn: &str, opensearch_host: Option<&str>) -> String {
    let host = opensearch_host
        .filter(|h| !h.is_empty() && *h != "localhost")
        .map(|h| {
            h.trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_string()
        })
        .unwrap_or_else(|| "DOMAIN_ENDPOINT".to_string());
    format!(
        "Fine-grained access control: map the task role as a backend role so the server may read.\n\
         \x20 backend role: {role_arn}\n\
         \x20 with the security REST API (as the master user; keep the entries the mapping already has):\n\
         \x20   curl -u MASTER_USER 'https://{host}/_plugins/_security/api/rolesmapping/readall'\n\
         \x20   curl -u MASTER_USER -X PUT 'https://{host}/_plugins/_security/api/rolesmapping/readall' \\\n\
         \x20     -H 'Content-Type: application/json' -d '{{\"backend_roles\": [\"{role_arn}\"]}}'\n\
         \x20 or in OpenSearch Dashboards: Security > Roles > readall > Mapped users > Manage mapping >\n\
         \x20   Backend roles: {role_arn} > Map\n\
         \x20 (set `roles.task_role.fine_grained_access_control: false` in the stack if the domain does not use it)"
    )
}

/// Carry out the plan's step for the managed task role, when the stack has one.
pub async fn apply(
    c: &Clients,
    spec: Option<&TaskRoleSpec>,
    step: Option<&Step<String, TaskRoleUpdate>>,
    rec: &mut Record,
) -> Result<()> {
    if let (Some(spec), Some(step)) = (spec, step) {
        match step {
            Step::Create => {
                let arn = create(c, spec).await?;
                rec.add(Kind::TaskRole, Action::Create, &spec.name, &arn);
            }
            Step::Update(arn, update) => {
                self::update(c, spec, update).await?;
                rec.add(Kind::TaskRole, Action::Update, &spec.name, arn);
            }
            Step::Keep(_) => {}
        }
    }
    Ok(())
}

impl Deploy for crate::plan::kinds::task_role::TaskRole {
    async fn observe(c: &Clients, stack: &Stack, _: &Observed) -> Result<Self::Observed> {
        match &stack.roles.managed_task_role {
            Some(r) => observe(c, &r.name).await,
            None => Ok(None),
        }
    }

    async fn apply(run: &mut Applying<'_>, d: &Desired, steps: &Steps) -> Result<()> {
        let (spec, step) = (d.task_role.as_ref(), steps.task_role.as_ref());
        apply(run.c, spec, step, &mut run.rec).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::desired::{opensearch_policy, policy_statements};
    use crate::plan::kinds::task_role::task_trust_policy;

    #[test]
    fn url_encoded_documents_compare_equal_after_decoding() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ecs-tasks.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        assert_eq!(
            policy_statements(&decode(encoded)),
            policy_statements(&task_trust_policy())
        );
    }

    #[test]
    fn the_policy_is_read_only_on_the_domain_and_its_paths() {
        let p: serde_json::Value = serde_json::from_str(&opensearch_policy(
            Some("arn:aws:es:us-east-1:123456789012:domain/d"),
            None,
            false,
        ))
        .unwrap();
        let st = &p["Statement"][0];
        assert_eq!(
            st["Action"],
            serde_json::json!(["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"])
        );
        assert_eq!(
            st["Resource"],
            serde_json::json!([
                "arn:aws:es:us-east-1:123456789012:domain/d",
                "arn:aws:es:us-east-1:123456789012:domain/d/*"
            ])
        );
        assert_eq!(p["Statement"].as_array().unwrap().len(), 1);
        let aoss: serde_json::Value = serde_json::from_str(&opensearch_policy(
            None,
            Some("arn:aws:aoss:us-east-1:123456789012:collection/abc"),
            true,
        ))
        .unwrap();
        assert_eq!(
            aoss["Statement"][0]["Action"],
            serde_json::json!(["aoss:APIAccessAll"])
        );
        // ECS Exec on: the ssmmessages channels, nothing else.
        assert_eq!(aoss["Statement"].as_array().unwrap().len(), 2);
        assert_eq!(
            aoss["Statement"][1]["Action"],
            serde_json::json!([
                "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel",
                "ssmmessages:OpenDataChannel"
            ])
        );
    }

    #[test]
    fn reordered_statements_and_single_values_are_not_drift() {
        let a = r#"{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow","Action":["es:ESHttpPost","es:ESHttpGet"],"Resource":"arn:d"}]}"#;
        let b = r#"{"Statement":{"Resource":["arn:d"],"Action":["es:ESHttpGet","es:ESHttpPost"],"Effect":"Allow"},"Version":"2012-10-17"}"#;
        assert_eq!(policy_statements(a), policy_statements(b));
    }

    #[test]
    fn guidance_names_the_role_and_the_host() {
        let g = role_mapping_guidance(
            "arn:aws:iam::123456789012:role/ecsTaskRole",
            Some("https://search-d-abc.us-east-1.es.amazonaws.com"),
        );
        assert!(g.contains("backend role: arn:aws:iam::123456789012:role/ecsTaskRole"));
        assert!(g.contains("'https://search-d-abc.us-east-1.es.amazonaws.com/_plugins/_security/api/rolesmapping/readall'"));
        assert!(g.contains("Security > Roles > readall"));
    }
}
