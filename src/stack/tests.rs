//! Loading the real stack files and broken ones: exact `file:line:col` messages.

use super::*;

fn env(name: &str) -> Option<String> {
    match name {
        "AWS_ACCOUNT_ID" => Some("123456789012".into()),
        _ => None,
    }
}

fn repo_stacks() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("stacks")
}

/// A temp stacks dir with the repo's shared.yaml and one extra file.
fn dir_with(name: &str, text: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo_stacks().join("shared.yaml"),
        d.path().join("shared.yaml"),
    )
    .unwrap();
    std::fs::write(d.path().join(format!("{name}.yaml")), text).unwrap();
    d
}

fn err(name: &str, text: &str) -> String {
    let d = dir_with(name, text);
    match load_with_env(name, d.path(), &env) {
        Ok(s) => panic!("expected an error, got {s:?}"),
        Err(Error::BadInput { message: m, .. }) => {
            m.replace(&format!("{}/", d.path().display()), "")
        }
        Err(e) => panic!("expected BadInput, got {e:?}"),
    }
}

const GOOD: &str = "extends: shared.yaml
names:
  ecr_repository: opensearch-mcp-server-stateless
  service: opensearch-mcp-server-stateless
  task_family: opensearch-mcp-server-stateless
  target_group: opensearch-mcp-tg-stateless
  log_group: /ecs/opensearch-mcp-server-stateless
routing:
  path_patterns: [\"/ossserver-stateless/*\"]
  priority: 110
health_check:
  path: /ossserver-stateless/health
env:
  MCP_PATH: /ossserver-stateless/ossmcp
";

#[test]
fn the_stateless_stack_loads_with_shared_settings_once() {
    let s = load_with_env("stateless", &repo_stacks(), &env).unwrap();
    assert_eq!(s.name, "stateless");
    assert_eq!(s.region, "us-east-1");
    assert_eq!(s.cluster, "fastmcp-time-server-cluster");
    assert_eq!(
        s.load_balancer.reference,
        LoadBalancerRef::Name("fastmcp-alb".into())
    );
    assert_eq!(s.load_balancer.listener_port, 80);
    assert_eq!(s.names.service, "opensearch-mcp-server-stateless");
    assert_eq!(s.names.target_group, "opensearch-mcp-tg-stateless");
    assert_eq!(s.names.log_group, "/ecs/opensearch-mcp-server-stateless");
    assert_eq!(s.routing.path_patterns, vec!["/ossserver-stateless/*"]);
    assert_eq!(s.routing.priority, Some(110));
    assert_eq!(s.health_check.path, "/ossserver-stateless/health");
    assert_eq!(s.env["MCP_STATELESS"], "true");
    assert_eq!(s.env["MCP_PATH"], "/ossserver-stateless/ossmcp");
    assert_eq!(s.env["MCP_PATH_ALIASES"], "/ossserver");
    assert_eq!(s.env["MCP_PORT"], "9898");
    assert_eq!(s.image, None, "`${{MCPCTL_IMAGE:-}}` unset means build");
    assert_eq!(
        s.roles.execution_role_arn,
        "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
    );
    // shared env first, then the stack's own
    let keys: Vec<&str> = s.env.keys().map(String::as_str).collect();
    assert_eq!(keys.first(), Some(&"MCP_HOST"));
    assert_eq!(keys.last(), Some(&"MCP_PATH_ALIASES"));
    assert_eq!(
        s.resource_tags()[0],
        ("mcpctl:stack".into(), "stateless".into())
    );
}

#[test]
fn the_stateful_stack_keeps_the_scripts_names() {
    let s = load_with_env("stateful", &repo_stacks(), &env).unwrap();
    assert_eq!(s.names.ecr_repository, "opensearch-mcp-server");
    assert_eq!(s.names.target_group, "opensearch-mcp-tg");
    assert_eq!(s.routing.path_patterns, vec!["/ossserver/*"]);
    assert_eq!(s.health_check.path, "/ossserver/health");
    assert_eq!(s.env["MCP_STATELESS"], "false");
    assert!(!s.env.contains_key("MCP_PATH_ALIASES"));
}

#[test]
fn a_path_and_an_archive_directory_work_and_render_round_trips() {
    let s = load_with_env(
        repo_stacks().join("stateless.yaml").to_str().unwrap(),
        Path::new("/nonexistent"),
        &env,
    )
    .unwrap();
    let mut with_dollar = s.clone();
    with_dollar
        .env
        .insert("WEIRD".into(), "a$b ${NOT_A_VAR}".into());
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("stack.yaml"), to_yaml(&with_dollar)).unwrap();
    let back = load_with_env(d.path().to_str().unwrap(), Path::new("stacks"), &|_| None).unwrap();
    assert_eq!(back.source, d.path().join("stack.yaml"));
    assert_eq!(
        Stack {
            source: s.source.clone(),
            ..back
        },
        with_dollar
    );
}

#[test]
fn unknown_stack_names_list_the_available_ones() {
    let m = load_with_env("stateles", &repo_stacks(), &env)
        .unwrap_err()
        .to_string();
    assert!(m.contains("stateful, stateless"), "{m}");
}

#[test]
fn misspelled_key_points_at_it_and_suggests_the_right_one() {
    let text = GOOD.replace("health_check:", "helth_check:");
    let m = err("s", &text);
    assert!(
        m.starts_with("s.yaml:11:1: unknown key `helth_check`: did you mean `health_check`?"),
        "{m}"
    );
}

#[test]
fn misspelled_nested_key() {
    let text = GOOD.replace("  priority: 110", "  priorty: 110");
    let m = err("s", &text);
    assert!(
        m.starts_with("s.yaml:10:3: unknown key `priorty`: did you mean `priority`?"),
        "{m}"
    );
}

#[test]
fn malformed_yaml_gives_line_and_column() {
    let m = err("s", "extends: shared.yaml\nnames: [oops\n");
    assert!(m.starts_with("s.yaml:"), "{m}");
    let loc: Vec<&str> = m.splitn(4, ':').collect();
    assert!(
        loc[1].parse::<u32>().is_ok() && loc[2].parse::<u32>().is_ok(),
        "{m}"
    );
}

#[test]
fn wrong_types_and_impossible_values_are_all_listed() {
    let text = GOOD.replace("priority: 110", "priority: 60000").replace(
        "path: /ossserver-stateless/health",
        "path: ossserver-stateless/health",
    ) + "container:\n  cpu: 512\n  memory: 512\nservice:\n  desired_count: two\n";
    let m = err("s", &text);
    assert!(
        m.contains("s.yaml:10:13: priority 60000 is out of range: an ALB rule priority is 1-50000"),
        "{m}"
    );
    assert!(m.contains("s.yaml:12:9: `ossserver-stateless/health` must start with `/`: write `/ossserver-stateless/health`"), "{m}");
    assert!(m.contains("s.yaml:17:11: memory 512 does not go with cpu 512 on Fargate: use 1024, 2048, 3072, 4096"), "{m}");
    assert!(
        m.contains("s.yaml:19:18: `service.desired_count` must be a whole number, got `two`"),
        "{m}"
    );
    assert!(m.contains("(4 problems"), "{m}");
}

#[test]
fn a_bad_health_check_matcher_is_a_problem_at_load() {
    let text = GOOD.replace(
        "path: /ossserver-stateless/health",
        "path: /ossserver-stateless/health\n  matcher: 200-OK",
    );
    let m = err("s", &text);
    assert!(
        m.starts_with(
            "s.yaml:13:12: `200-OK` is not a status matcher; use e.g. `200` or `200-299`"
        ),
        "{m}"
    );
}

#[test]
fn names_aws_would_reject() {
    let text = GOOD.replace(
        "target_group: opensearch-mcp-tg-stateless",
        "target_group: opensearch-mcp-target-group-stateless",
    );
    let m = err("s", &text);
    assert!(
        m.starts_with(
            "s.yaml:6:17: `opensearch-mcp-target-group-stateless` is not a valid target group name"
        ),
        "{m}"
    );
}

#[test]
fn unset_variable_points_at_the_dollar() {
    let text = GOOD.replace(
        "  MCP_PATH: /ossserver-stateless/ossmcp",
        "  MCP_PATH: /x/${MCP_PREFIX}/ossmcp",
    );
    let m = err("s", &text);
    assert!(
        m.starts_with("s.yaml:14:16: environment variable MCP_PREFIX is not set"),
        "{m}"
    );
}

#[test]
fn unset_variable_in_the_shared_file_names_that_file() {
    let d = dir_with("s", GOOD);
    let m = load_with_env("s", d.path(), &|_| None)
        .unwrap_err()
        .to_string();
    assert!(
        m.contains("shared.yaml:15:36: environment variable AWS_ACCOUNT_ID is not set"),
        "{m}"
    );
}

#[test]
fn incomplete_stack_names_what_is_missing() {
    let text = GOOD.replace("  service: opensearch-mcp-server-stateless\n", "");
    let m = err("s", &text);
    assert!(m.starts_with("s.yaml:1:1: missing `names.service`; add it to s.yaml or shared.yaml, e.g. `service: opensearch-mcp-server-stateless`"), "{m}");
}

#[test]
fn extends_a_missing_file() {
    let m = err("s", "extends: common.yaml\n");
    assert!(
        m.starts_with("s.yaml:1:10: `extends: common.yaml` names"),
        "{m}"
    );
}

#[test]
fn a_list_where_a_value_belongs() {
    let text = GOOD.replace("  priority: 110", "  priority: [1, 2]");
    let m = err("s", &text);
    assert!(
        m.starts_with("s.yaml:10:3: invalid type: sequence, expected a single value"),
        "{m}"
    );
}

#[test]
fn the_shared_task_role_is_managed_and_its_arn_derived() {
    let s = load_with_env("stateless", &repo_stacks(), &env).unwrap();
    let t = s.roles.managed_task_role.as_ref().unwrap();
    assert_eq!(t.name, "ecsTaskRole");
    assert_eq!(
        t.opensearch_domain_arn.as_deref(),
        Some("arn:aws:es:us-east-1:123456789012:domain/opensearch-mcp")
    );
    assert!(t.fine_grained_access_control);
    assert_eq!(
        s.roles.task_role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/ecsTaskRole")
    );
}

#[test]
fn a_stack_can_reference_an_existing_task_role_instead() {
    let text = format!("{GOOD}roles:\n  task_role_arn: arn:aws:iam::123456789012:role/existing\n");
    let d = dir_with("s", &text);
    let s = load_with_env("s", d.path(), &env).unwrap();
    assert_eq!(s.roles.managed_task_role, None);
    assert_eq!(
        s.roles.task_role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/existing")
    );
    let back = tempfile::tempdir().unwrap();
    std::fs::write(back.path().join("stack.yaml"), to_yaml(&s)).unwrap();
    let again = load_with_env(back.path().to_str().unwrap(), Path::new("x"), &|_| None).unwrap();
    assert_eq!(again.roles, s.roles);
}

#[test]
fn task_role_mistakes() {
    let both = format!(
        "{GOOD}roles:\n  task_role_arn: arn:aws:iam::123456789012:role/x\n  task_role:\n    name: y\n"
    );
    assert!(
        err("s", &both).starts_with("s.yaml:16:18: give either `task_role_arn`"),
        "{}",
        err("s", &both)
    );
    let bad = format!("{GOOD}roles:\n  task_role:\n    opensearch_domain_arn: arn:aws:es:us-east-1:123456789012:domain/*\n");
    let m = err("s", &bad);
    assert!(m.starts_with("s.yaml:17:28: `arn:aws:es:us-east-1:123456789012:domain/*` is not an OpenSearch domain ARN"), "{m}");
}

#[test]
fn an_unknown_key_does_not_hide_the_other_problems() {
    let text = format!(
        "{GOOD}routng:\n  path_patterns:\n  - /x/*\n  priority: 7\nimage: not a uri!!\ncontainer:\n  cpu: 300\nlogs:\n  retention_days: 8\n"
    )
    .replace("health_check:\n  path: /ossserver-stateless/health\n", "health_check:\n  path: /ossserver-stateless/health\n  matcher: \"700\"\n");
    let m = err("s", &text);
    let lines: Vec<&str> = m.lines().collect();
    assert!(
        lines[0].starts_with("s.yaml:16:1: unknown key `routng`: did you mean `routing`?"),
        "{m}"
    );
    for want in [
        "`700` is not a matcher an ALB accepts",
        "`not a uri!!` is not an image reference",
        "cpu 300 is not a Fargate size",
        "`logs.retention_days` is `8`",
        "(5 problems in the stack; nothing was changed)",
    ] {
        assert!(m.contains(want), "missing {want:?} in\n{m}");
    }
}

#[test]
fn a_serverless_collection_gives_the_server_the_aoss_service() {
    let text = format!(
        "{GOOD}roles:\n  task_role:\n    opensearch_collection_arn: arn:aws:aoss:us-east-1:123456789012:collection/abc\n"
    );
    let d = dir_with("s", &text);
    let s = load_with_env("s", d.path(), &env).unwrap();
    assert_eq!(s.env["OPENSEARCH_SERVICE"], "aoss");
    let m = err(
        "s",
        &text.replace("env:\n", "env:\n  OPENSEARCH_SERVICE: es\n"),
    );
    assert!(m.contains("needs `aoss`"), "{m}");
}

#[test]
fn an_extends_loop_points_at_the_extends_line() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("a.yaml"), "# a\nextends: b.yaml\n").unwrap();
    std::fs::write(d.path().join("b.yaml"), "extends: a.yaml\n").unwrap();
    let m = load_with_env("a", d.path(), &env).unwrap_err().to_string();
    let m = m.replace(&format!("{}/", d.path().display()), "");
    assert!(
        m.starts_with("b.yaml:1:10: `extends:` loops back to a file already read"),
        "{m}"
    );
}

#[test]
fn stacks_of_one_directory_may_not_share_a_path_or_a_task_family() {
    let d = dir_with("s", GOOD);
    std::fs::write(
        d.path().join("t.yaml"),
        GOOD.replace(
            "task_family: opensearch-mcp-server-stateless",
            "task_family: other",
        ),
    )
    .unwrap();
    let m = err_in(&d, "s");
    assert!(
        m.starts_with("s.yaml:9:19: path `/ossserver-stateless/*` is also a path of stack `t`"),
        "{m}"
    );
    std::fs::write(
        d.path().join("t.yaml"),
        GOOD.replace("/ossserver-stateless/*", "/other/*"),
    )
    .unwrap();
    let m = err_in(&d, "s");
    assert!(
        m.starts_with("s.yaml:5:16: task family `opensearch-mcp-server-stateless` is also the task family of stack `t`"),
        "{m}"
    );
    // The shipped stacks do not collide.
    load_with_env("stateful", &repo_stacks(), &env).unwrap();
}

fn err_in(d: &tempfile::TempDir, name: &str) -> String {
    match load_with_env(name, d.path(), &env) {
        Ok(s) => panic!("expected an error, got {s:?}"),
        Err(e) => e
            .to_string()
            .replace(&format!("{}/", d.path().display()), ""),
    }
}
