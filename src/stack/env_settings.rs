//! A stack's container environment, secrets and tags: each key checked, the environment's size
//! bounded, `OPENSEARCH_SERVICE` and `MCP_PORT` filled in or checked against the rest.

use indexmap::IndexMap;

use super::file::StackFile;
use super::model::*;
use super::resolve::Resolver;
use super::rules;

impl Resolver<'_> {
    /// `env`: names and values checked, at most [`rules::ENV_TOTAL_BYTES`] in all, and
    /// `OPENSEARCH_SERVICE=aoss` for an OpenSearch Serverless task role.
    pub(super) fn env(&mut self, roles: &Roles) -> IndexMap<String, String> {
        let mut env = IndexMap::new();
        let mut env_bytes = 0usize;
        for (k, ((v, vp), kp)) in self.map(at!(env)) {
            self.check(&kp, rules::env_name(&k));
            self.check(&vp, rules::env_value(&k, &v));
            env_bytes += k.len() + v.len();
            env.insert(k, v);
        }
        if env_bytes > rules::ENV_TOTAL_BYTES {
            let place = self.env_place();
            self.error(&place, format!("`env` holds {env_bytes} bytes; at most {} fit in a task definition (ECS limits one to 64 KiB): move large values to `secrets` or a file in the image", rules::ENV_TOTAL_BYTES));
        }
        if roles
            .managed_task_role
            .as_ref()
            .is_some_and(|r| r.opensearch_collection_arn.is_some())
        {
            // OpenSearch Serverless signs requests for the `aoss` service, not `es`.
            match env.get("OPENSEARCH_SERVICE").map(String::as_str) {
                None => {
                    env.insert("OPENSEARCH_SERVICE".to_string(), "aoss".to_string());
                }
                Some("aoss") => {}
                Some(other) => {
                    let place = self.env_place();
                    self.error(&place, format!("env OPENSEARCH_SERVICE is `{other}` but `roles.task_role.opensearch_collection_arn` is OpenSearch Serverless, which needs `aoss`; write `OPENSEARCH_SERVICE: aoss` or leave it out"));
                }
            }
        }
        env
    }

    /// `MCP_PORT` is the container port: added when absent (unless `env_unset` names it),
    /// refused when different.
    pub(super) fn mcp_port(
        &mut self,
        mut env: IndexMap<String, String>,
        env_unset: &[String],
        container_port: u16,
    ) -> IndexMap<String, String> {
        if env_unset.iter().any(|k| k == "MCP_PORT") {
            // The stack says the container gets no MCP_PORT (an image that is not this server).
        } else if !env.contains_key("MCP_PORT") {
            env.insert("MCP_PORT".to_string(), container_port.to_string());
        } else if env["MCP_PORT"] != container_port.to_string() {
            let place = self.env_place();
            self.error(&place, format!("env MCP_PORT is {} but container.port is {container_port}; they must match (or leave MCP_PORT out)", env["MCP_PORT"]));
        }
        env
    }

    /// Where `env` is written (the top of the file when it is not).
    fn env_place(&self) -> super::layers::Place {
        self.pick(at!(env))
            .map(|(l, m)| l.place(m.referenced))
            .unwrap_or_else(|| self.top_place())
    }

    /// `secrets`: names and Secrets Manager / SSM ARNs checked, none also in `env`.
    pub(super) fn secrets(&mut self, env: &IndexMap<String, String>) -> IndexMap<String, String> {
        let mut secrets = IndexMap::new();
        for (k, ((v, vp), kp)) in self.map(at!(secrets)) {
            self.check(&kp, rules::env_name(&k));
            self.check(&vp, rules::secret_arn(&v));
            if env.contains_key(&k) {
                self.error(
                    &kp,
                    format!("`{k}` is both in `env` and in `secrets`; keep it only in `secrets`"),
                );
            }
            secrets.insert(k, v);
        }
        secrets
    }

    /// `tags`: keys of 1-128 characters not starting with `aws:`, values of at most 256.
    pub(super) fn tags(&mut self) -> IndexMap<String, String> {
        let mut tags = IndexMap::new();
        for (k, ((v, vp), kp)) in self.map(at!(tags)) {
            if k.is_empty() || k.len() > 128 || k.starts_with("aws:") {
                self.error(
                    &kp,
                    format!(
                        "tag key `{k}` is not allowed: 1-128 characters, not starting with `aws:`"
                    ),
                );
            }
            if v.len() > 256 {
                self.error(&vp, "a tag value is at most 256 characters");
            }
            tags.insert(k, v);
        }
        tags
    }
}
