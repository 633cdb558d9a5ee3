//! Policy documents: the ECR lifecycle policy, the task role's trust and OpenSearch policies,
//! and the normalisation that makes documents AWS reformatted compare equal.

/// The lifecycle policy that keeps the last `n` images.
pub fn lifecycle_policy(n: i32) -> String {
    if n <= 0 {
        // `ecr.keep_images: 0`: no lifecycle policy (as ECR reports a repository without one).
        return String::new();
    }
    let policy = serde_json::json!({
        "rules": [{
            "rulePriority": 1,
            "description": format!("keep the last {n} images"),
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": n},
            "action": {"type": "expire"}
        }]
    });
    canonical_json(&policy.to_string())
}

/// JSON text with object keys sorted and no spaces, so that documents compare by content
/// (AWS returns policies reformatted). Text that is not JSON is returned as it is.
pub fn canonical_json(text: &str) -> String {
    fn sort(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let sorted: std::collections::BTreeMap<String, serde_json::Value> =
                    m.into_iter().map(|(k, v)| (k, sort(v))).collect();
                serde_json::Value::Object(sorted.into_iter().collect())
            }
            serde_json::Value::Array(a) => {
                serde_json::Value::Array(a.into_iter().map(sort).collect())
            }
            other => other,
        }
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => sort(v).to_string(),
        Err(_) => text.to_string(),
    }
}

/// The trust policy that lets ECS tasks assume the role.
pub fn task_trust_policy() -> String {
    canonical_json(
        &serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole"
            }]
        })
        .to_string(),
    )
}

/// The least-privilege policy for the read-only server: `es:ESHttpGet`, `es:ESHttpHead` and
/// `es:ESHttpPost` (search, count, msearch and explain are POSTs) on the domain and its
/// paths — no PUT or DELETE, the server never writes; `aoss:APIAccessAll` on a Serverless
/// collection (its data access policy does the fine-grained part).
///
/// With ECS Exec enabled on the service (`service.enable_execute_command`), the task role also
/// needs the four `ssmmessages` channel actions ECS Exec uses (on `*`, as AWS documents), or
/// `aws ecs execute-command` fails.
pub fn opensearch_policy(domain: Option<&str>, collection: Option<&str>, ecs_exec: bool) -> String {
    let mut statements = Vec::new();
    if let Some(d) = domain {
        statements.push(serde_json::json!({
            "Effect": "Allow",
            "Action": ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"],
            "Resource": [d, format!("{d}/*")]
        }));
    }
    if let Some(c) = collection {
        statements.push(serde_json::json!({
            "Effect": "Allow",
            "Action": ["aoss:APIAccessAll"],
            "Resource": [c]
        }));
    }
    if ecs_exec {
        statements.push(serde_json::json!({
            "Effect": "Allow",
            "Action": [
                "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel",
                "ssmmessages:OpenDataChannel"
            ],
            "Resource": "*"
        }));
    }
    canonical_json(
        &serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string(),
    )
}

/// A policy document as its statements, normalised (no `Sid`, single values as lists, lists
/// sorted), one per `; ` — so that documents AWS reformatted compare equal and a difference
/// reads as the statements that differ.
pub fn policy_statements(doc: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(doc) else {
        return doc.to_string();
    };
    let statements = match &v["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        serde_json::Value::Null => Vec::new(),
        one => vec![one.clone()],
    };
    let mut out: Vec<String> = statements
        .into_iter()
        .map(|mut st| {
            if let Some(m) = st.as_object_mut() {
                m.remove("Sid");
                for key in ["Action", "NotAction", "Resource", "NotResource"] {
                    if let Some(val) = m.get_mut(key) {
                        normalise_list(val);
                    }
                }
                if let Some(serde_json::Value::Object(p)) = m.get_mut("Principal") {
                    for val in p.values_mut() {
                        normalise_list(val);
                    }
                }
            }
            canonical_json(&st.to_string())
        })
        .collect();
    out.sort();
    format!(
        "version {}: {}",
        v["Version"].as_str().unwrap_or("(none)"),
        out.join("; ")
    )
}

fn normalise_list(val: &mut serde_json::Value) {
    let mut items: Vec<serde_json::Value> = match val.take() {
        serde_json::Value::Array(a) => a,
        other => vec![other],
    };
    items.sort_by_key(|i| i.to_string());
    *val = serde_json::Value::Array(items);
}
