//! What AWS accepts: name rules, Fargate cpu/memory pairs, value ranges. Each check returns
//! `Err(message)` saying what is wrong and what to write instead.

/// Result of one check: `Err` holds the message (without location).
pub type Check = Result<(), String>;

fn chars_ok(s: &str, extra: &[char]) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
}

/// ECS cluster, service, task family and container names: 1-255 letters, digits, `-`, `_`.
pub fn ecs_name(s: &str) -> Check {
    if s.is_empty() || s.len() > 255 || !chars_ok(s, &['-', '_']) {
        return Err(format!(
            "`{s}` is not a valid ECS name: use 1-255 letters, digits, `-` and `_` (e.g. `opensearch-mcp-server-stateless`)"
        ));
    }
    Ok(())
}

/// ECR repository names: lowercase, 2-256, components of `[a-z0-9]` separated by `.`, `_`, `-`
/// and `/`.
pub fn ecr_repository(s: &str) -> Check {
    let ok = (2..=256).contains(&s.len())
        && s.split('/').all(|part| {
            !part.is_empty()
                && part.split(['.', '_', '-']).all(|w| {
                    !w.is_empty()
                        && w.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                })
        });
    if !ok {
        return Err(format!(
            "`{s}` is not a valid ECR repository name: use 2-256 lowercase letters and digits, separated by single `-`, `_`, `.` or `/` (e.g. `{}`)",
            suggest_lower(s)
        ));
    }
    Ok(())
}

fn suggest_lower(s: &str) -> String {
    let t: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._/".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let t = t.trim_matches('-').to_string();
    if t.len() < 2 {
        "opensearch-mcp-server".into()
    } else {
        t
    }
}

/// ALB and target group names: 1-32 letters, digits and `-`, not starting or ending with `-`,
/// not starting with `internal-`.
pub fn elb_name(s: &str, what: &str) -> Check {
    if s.is_empty()
        || s.len() > 32
        || !chars_ok(s, &['-'])
        || s.starts_with('-')
        || s.ends_with('-')
        || s.starts_with("internal-")
    {
        let mut hint = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect::<String>()
            .trim_matches('-')
            .to_string();
        hint.truncate(32);
        let hint = hint.trim_end_matches('-');
        return Err(format!(
            "`{s}` is not a valid {what} name: AWS allows 1-32 letters, digits and `-`, not starting or ending with `-`{}",
            if hint.is_empty() || hint == s { String::new() } else { format!(" (e.g. `{hint}`)") }
        ));
    }
    Ok(())
}

/// CloudWatch log group names: 1-512 of letters, digits, `_ - / . #`.
pub fn log_group(s: &str) -> Check {
    if s.is_empty() || s.len() > 512 || !chars_ok(s, &['_', '-', '/', '.', '#']) {
        return Err(format!(
            "`{s}` is not a valid log group name: use letters, digits and `_ - / . #` (e.g. `/ecs/opensearch-mcp-server-stateless`)"
        ));
    }
    Ok(())
}

/// Paths: start with `/`.
pub fn path(s: &str) -> Check {
    if !s.starts_with('/') {
        return Err(format!(
            "`{s}` must start with `/`: write `/{}`",
            s.trim_start_matches('/')
        ));
    }
    if s.len() > 128 || s.chars().any(|c| c.is_whitespace()) {
        return Err(format!(
            "`{s}` is not a valid ALB path: at most 128 characters, no spaces"
        ));
    }
    Ok(())
}

/// ALB quota: at most 5 wildcards (`*` or `?`) in the conditions of one rule
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html>,
/// "Wildcards per rule"; the 5 condition values per rule are checked with the list's length).
pub fn rule_wildcards<'a>(patterns: impl Iterator<Item = &'a str>) -> Check {
    let n: usize = patterns
        .map(|p| p.chars().filter(|c| matches!(c, '*' | '?')).count())
        .sum();
    if n > MAX_RULE_WILDCARDS {
        return Err(format!(
            "`routing.path_patterns` has {n} wildcards (`*`, `?`); an ALB rule allows at most {MAX_RULE_WILDCARDS}: use fewer patterns or fewer wildcards"
        ));
    }
    Ok(())
}

/// The ALB's limit of wildcards per rule.
pub const MAX_RULE_WILDCARDS: usize = 5;

/// At most this many bytes of `env` (names and values): a task definition is at most 64 KiB
/// (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html>, "Task
/// definition size"), and the rest of it needs room too.
pub const ENV_TOTAL_BYTES: usize = 32 * 1024;

/// One `env` value: within [`ENV_TOTAL_BYTES`], without NUL. The message gives the length,
/// never the value (it may be a secret someone put in the wrong place).
pub fn env_value(name: &str, value: &str) -> Check {
    if value.len() > ENV_TOTAL_BYTES {
        return Err(format!(
            "env `{name}` is {} bytes long; a task definition holds at most {ENV_TOTAL_BYTES} bytes of environment: move it to `secrets` or a file in the image",
            value.len()
        ));
    }
    if value.contains('\0') {
        return Err(format!(
            "env `{name}` contains a NUL character, which a process environment cannot hold"
        ));
    }
    Ok(())
}

pub use super::image_reference::image_reference;

/// Target group health check matcher: HTTP codes, ranges, lists (`200`, `200-299`, `200,202`).
pub fn matcher(s: &str) -> Check {
    super::Matcher::parse(s).map(|_| ())
}

/// Listener rule priority: 1-50000.
pub fn priority(p: i64) -> Check {
    if !(1..=50000).contains(&p) {
        return Err(format!(
            "priority {p} is out of range: an ALB rule priority is 1-50000 (e.g. 110), or leave `priority` out to take the next free one"
        ));
    }
    Ok(())
}

/// Fargate's valid (cpu, memory) pairs.
pub fn fargate_memory_options(cpu: u32) -> Option<Vec<u32>> {
    let range = |from: u32, to: u32, step: u32| (from..=to).step_by(step as usize).collect();
    Some(match cpu {
        256 => vec![512, 1024, 2048],
        512 => range(1024, 4096, 1024),
        1024 => range(2048, 8192, 1024),
        2048 => range(4096, 16384, 1024),
        4096 => range(8192, 30720, 1024),
        8192 => range(16384, 61440, 4096),
        16384 => range(32768, 122880, 8192),
        _ => return None,
    })
}

/// Check a Fargate (cpu, memory) pair; returns which field is wrong and the message.
pub fn fargate_pair(cpu: u32, memory: u32) -> Result<(), (&'static str, String)> {
    match fargate_memory_options(cpu) {
        None => Err((
            "cpu",
            format!(
                "cpu {cpu} is not a Fargate size: use 256, 512, 1024, 2048, 4096, 8192 or 16384"
            ),
        )),
        Some(opts) if !opts.contains(&memory) => {
            let list = if opts.len() > 6 {
                format!(
                    "{} to {} in steps of {}",
                    opts[0],
                    opts[opts.len() - 1],
                    opts[1] - opts[0]
                )
            } else {
                opts.iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            Err((
                "memory",
                format!("memory {memory} does not go with cpu {cpu} on Fargate: use {list}"),
            ))
        }
        Some(_) => Ok(()),
    }
}

/// CloudWatch Logs' allowed retention values.
pub const RETENTION_DAYS: &[i32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// IAM role ARN: `arn:aws:iam::123456789012:role/NAME`.
pub fn role_arn(s: &str) -> Check {
    let ok = s
        .strip_prefix("arn:")
        .and_then(|r| r.split_once(":iam::"))
        .and_then(|(partition, rest)| partition.starts_with("aws").then_some(rest))
        .and_then(|rest| rest.split_once(":role/"))
        .is_some_and(|(acct, name)| {
            acct.len() == 12 && acct.chars().all(|c| c.is_ascii_digit()) && !name.is_empty()
        });
    if !ok {
        return Err(format!(
            "`{s}` is not an IAM role ARN: write `arn:aws:iam::${{AWS_ACCOUNT_ID}}:role/ecsTaskExecutionRole` (12-digit account ID)"
        ));
    }
    Ok(())
}

/// IAM role names: 1-64 of letters, digits and `+ = , . @ _ -`.
pub fn iam_role_name(s: &str) -> Check {
    if s.is_empty() || s.len() > 64 || !chars_ok(s, &['+', '=', ',', '.', '@', '_', '-']) {
        return Err(format!(
            "`{s}` is not a valid IAM role name: 1-64 letters, digits and `+=,.@_-` (e.g. `ecsTaskRole`)"
        ));
    }
    Ok(())
}

/// OpenSearch Service domain ARN: `arn:aws:es:REGION:ACCOUNT:domain/NAME`.
pub fn opensearch_domain_arn(s: &str) -> Check {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "es"
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5]
            .strip_prefix("domain/")
            .is_some_and(|n| !n.is_empty() && !n.contains('/') && !n.contains('*'));
    if !ok {
        return Err(format!(
            "`{s}` is not an OpenSearch domain ARN: write `arn:aws:es:us-east-1:${{AWS_ACCOUNT_ID}}:domain/DOMAIN_NAME` (no wildcard: the policy grants the domain and `domain/*` itself)"
        ));
    }
    Ok(())
}

/// OpenSearch Serverless collection ARN: `arn:aws:aoss:REGION:ACCOUNT:collection/ID`.
pub fn opensearch_collection_arn(s: &str) -> Check {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "aoss"
        && parts[5]
            .strip_prefix("collection/")
            .is_some_and(|n| !n.is_empty());
    if !ok {
        return Err(format!(
            "`{s}` is not an OpenSearch Serverless collection ARN: write `arn:aws:aoss:us-east-1:${{AWS_ACCOUNT_ID}}:collection/COLLECTION_ID`"
        ));
    }
    Ok(())
}

/// Secrets Manager or SSM Parameter Store ARN.
pub fn secret_arn(s: &str) -> Check {
    let ok = s.starts_with("arn:aws") && (s.contains(":secretsmanager:") || s.contains(":ssm:"));
    if !ok {
        return Err(format!(
            "`{s}` is not a Secrets Manager or SSM parameter ARN: write e.g. `arn:aws:secretsmanager:us-east-1:${{AWS_ACCOUNT_ID}}:secret:opensearch-password`"
        ));
    }
    Ok(())
}

/// ALB ARN.
pub fn load_balancer_arn(s: &str) -> Check {
    if !(s.starts_with("arn:aws")
        && s.contains(":elasticloadbalancing:")
        && s.contains(":loadbalancer/app/"))
    {
        return Err(format!(
            "`{s}` is not an ALB ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID); or give `name: fastmcp-alb` instead"
        ));
    }
    Ok(())
}

/// `subnet-...` / `sg-...` IDs.
pub fn resource_id(s: &str, prefix: &str) -> Check {
    let ok = s
        .strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|hex| !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()));
    if !ok {
        return Err(format!(
            "`{s}` is not a {prefix} ID: write `{prefix}-0123456789abcdef0`"
        ));
    }
    Ok(())
}

/// Environment variable names: letters, digits and `_`, not starting with a digit.
pub fn env_name(s: &str) -> Check {
    let mut c = s.chars();
    if !(matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || f == '_')
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_'))
    {
        return Err(format!(
            "`{s}` is not a valid environment variable name: use letters, digits and `_` (e.g. `{}`)",
            s.to_ascii_uppercase().replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        ));
    }
    Ok(())
}

/// AWS region names like `us-east-1`.
pub fn region(s: &str) -> Check {
    let parts: Vec<&str> = s.split('-').collect();
    let ok = parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    if s.is_empty() {
        return Err(
            "`region` is empty; write e.g. `region: us-east-1`, or leave the key out for us-east-1"
                .to_string(),
        );
    }
    if !ok {
        return Err(format!(
            "`{s}` is not an AWS region: write e.g. `us-east-1`"
        ));
    }
    Ok(())
}

/// Closest candidate to `word` by edit distance (for "did you mean").
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 2).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
