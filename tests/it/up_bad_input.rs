//! Malformed, misspelled and incomplete stack files: the exact `file:line:col` message, exit
//! code 2, and zero AWS calls — proven by pointing `AWS_ENDPOINT_URL` at a listener that counts
//! every connection made to it.

use std::process::{Command, Output, Stdio};
use std::sync::atomic::Ordering;

use crate::common::aws::repo_stack;
use crate::common::fake_aws::Counter;

fn run(counter: &Counter, args: &[&str], account: bool) -> Output {
    let mut cmd = Command::new(crate::common::mcpctl_bin());
    cmd.args(args)
        .current_dir(crate::common::workspace_root())
        .env("AWS_ENDPOINT_URL", &counter.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCOUNT_ID")
        .stdin(Stdio::null());
    if account {
        cmd.env("AWS_ACCOUNT_ID", "123456789012");
    }
    cmd.output().unwrap()
}

/// Run `plan` and `up` on `text` (written as `DIR/bad.yaml`); both must exit 2 with `expected`
/// as the first line of stderr (after `error: `, path made relative), and make no AWS call.
fn check(text: &str, expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, text).unwrap();
    let counter = Counter::start();
    for cmd in ["plan", "up"] {
        let out = run(
            &counter,
            &[
                cmd,
                "--stack",
                file.to_str().unwrap(),
                "--image",
                "x@sha256:1",
            ],
            true,
        );
        let err =
            String::from_utf8_lossy(&out.stderr).replace(&format!("{}/", dir.path().display()), "");
        assert_eq!(out.status.code(), Some(2), "{cmd}: {err}");
        let first = err.lines().next().unwrap_or_default();
        assert_eq!(first, format!("error: {expected}"), "{cmd}: {err}");
    }
    assert_eq!(
        counter.hits.load(Ordering::SeqCst),
        0,
        "no AWS call may be made"
    );
}

fn good(extra_top: &str) -> String {
    format!(
        "extends: {}\n{extra_top}names:\n  service: opensearch-mcp-server-stateless\n",
        repo_stack("stateless")
    )
}

#[test]
fn a_misspelled_key_names_the_place_and_the_right_key() {
    check(
        &good("helth_check:\n  path: /x/health\n"),
        "bad.yaml:2:1: unknown key `helth_check`: did you mean `health_check`? (allowed here: extends, name, region, cluster, load_balancer, network, roles, names, image, container, service, routing, health_check, logs, ecr, env, secrets, tags, auth)",
    );
    check(
        &good("routing:\n  path_patterns: [/a/*]\n  priorty: 5\n"),
        "bad.yaml:4:3: unknown key `priorty`: did you mean `priority`? (allowed here: path_patterns, priority)",
    );
}

#[test]
fn malformed_yaml_gives_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, "names:\n  service: [unclosed\ncluster: x\n").unwrap();
    let counter = Counter::start();
    let out = run(&counter, &["plan", "--stack", file.to_str().unwrap()], true);
    assert_eq!(out.status.code(), Some(2));
    let err =
        String::from_utf8_lossy(&out.stderr).replace(&format!("{}/", dir.path().display()), "");
    let first = err.lines().next().unwrap();
    let rest = first
        .strip_prefix("error: bad.yaml:")
        .unwrap_or_else(|| panic!("{err}"));
    let parts: Vec<&str> = rest.splitn(3, ':').collect();
    assert!(
        parts[0].parse::<u32>().unwrap() >= 2 && parts[1].parse::<u32>().is_ok(),
        "{first}"
    );
    assert_eq!(counter.hits.load(Ordering::SeqCst), 0);
}

#[test]
fn wrong_types_and_impossible_values_are_all_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        format!(
            "extends: {}\nrouting:\n  path_patterns: [ossserver-x/*]\n  priority: 0\ncontainer:\n  cpu: 256\n  memory: 4096\nnames:\n  target_group: this-target-group-name-is-far-too-long\nservice:\n  desired_count: [2]\n",
            repo_stack("stateless")
        ),
    )
    .unwrap();
    let counter = Counter::start();
    let out = run(
        &counter,
        &["up", "--stack", file.to_str().unwrap(), "--image", "x"],
        true,
    );
    assert_eq!(out.status.code(), Some(2));
    let err =
        String::from_utf8_lossy(&out.stderr).replace(&format!("{}/", dir.path().display()), "");
    // A list where a number belongs stops parsing first:
    assert!(
        err.starts_with("error: bad.yaml:11:3: invalid type: sequence, expected a single value"),
        "{err}"
    );
    std::fs::write(
        &file,
        std::fs::read_to_string(&file).unwrap().replace("[2]", "2"),
    )
    .unwrap();
    let out = run(
        &counter,
        &["up", "--stack", file.to_str().unwrap(), "--image", "x"],
        true,
    );
    assert_eq!(out.status.code(), Some(2));
    let err =
        String::from_utf8_lossy(&out.stderr).replace(&format!("{}/", dir.path().display()), "");
    for line in [
        "bad.yaml:9:17: `this-target-group-name-is-far-too-long` is not a valid target group name",
        "bad.yaml:7:11: memory 4096 does not go with cpu 256 on Fargate: use 512, 1024, 2048",
        "bad.yaml:3:19: `ossserver-x/*` must start with `/`: write `/ossserver-x/*`",
        "bad.yaml:4:13: priority 0 is out of range: an ALB rule priority is 1-50000",
        "(4 problems in the stack; nothing was changed)",
    ] {
        assert!(err.contains(line), "missing {line:?} in:\n{err}");
    }
    assert_eq!(counter.hits.load(Ordering::SeqCst), 0);
}

#[test]
fn an_incomplete_stack_says_what_is_missing() {
    check(
        "region: us-east-1\ncluster: c\nload_balancer:\n  name: fastmcp-alb\nroles:\n  execution_role_arn: arn:aws:iam::123456789012:role/e\nnames:\n  ecr_repository: repo\n  task_family: f\n  target_group: t\n  log_group: /ecs/l\nrouting:\n  path_patterns: [/a/*]\nhealth_check:\n  path: /a/health\n",
        "bad.yaml:1:1: missing `names.service`; add it to bad.yaml, e.g. `service: opensearch-mcp-server-stateless`",
    );
}

#[test]
fn an_unset_variable_in_the_shared_file_is_reported_there() {
    let counter = Counter::start();
    let out = run(&counter, &["plan", "--stack", "stateless"], false);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: stacks/shared.yaml:15:36: environment variable AWS_ACCOUNT_ID is not set; export it (export AWS_ACCOUNT_ID=...) or give a default: ${AWS_ACCOUNT_ID:-value}"),
        "{err}"
    );
    assert_eq!(counter.hits.load(Ordering::SeqCst), 0);
}

#[test]
fn an_unknown_stack_name_lists_the_stacks() {
    let counter = Counter::start();
    let out = run(&counter, &["up", "--stack", "statless"], true);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no stack named `statless`: stacks/statless.yaml does not exist; stacks in stacks: shared, stateful, stateless"), "{err}");
    assert_eq!(counter.hits.load(Ordering::SeqCst), 0);
}

#[test]
fn missing_credentials_and_an_unreachable_endpoint_are_explained() {
    let mut cmd = Command::new(crate::common::mcpctl_bin());
    cmd.args(["plan", "--stack", "stateless"])
        .current_dir(crate::common::workspace_root())
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCOUNT_ID", "123456789012")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: ecs:DescribeClusters on cluster fastmcp-time-server-cluster failed: dispatch failure"), "{err}");
    assert!(err.contains("no AWS credentials found: pass --profile, set AWS_PROFILE, or run `aws configure` / `aws sso login`"), "{err}");

    // Credentials, but nothing listening at the endpoint (retried, then explained).
    let out = cmd
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Connection refused"), "{err}");
    assert!(
        err.contains(
            "could not reach AWS: check the network, --region, and AWS_ENDPOINT_URL if set"
        ),
        "{err}"
    );
}
