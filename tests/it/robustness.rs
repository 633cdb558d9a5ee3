//! Issue 12: bounded AWS calls (`--call-timeout` against an endpoint that accepts and never
//! answers), the right account (`--profile` wins over the environment's keys, an unknown
//! profile is exit 2, the identity is shown before changes), one JSON document on stdout
//! whatever happens, plain stderr without a terminal, completions and the man page.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::aws::{repo_stack, stack_file, Aws, FreezingProxy, IMAGE};
use crate::common::fake_aws::Counter;
use serde_json::Value;

/// `mcpctl ARGS` against `endpoint`, with dummy keys and no config files.
fn cmd(endpoint: &str, args: &[&str]) -> Command {
    let mut c = Command::new(crate::common::mcpctl_bin());
    c.args(args)
        .current_dir(crate::common::workspace_root())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "ENVKEYENVKEY")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCOUNT_ID", "123456789012")
        .env_remove("AWS_PROFILE")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Run `c` and fail the test if it has not ended within `limit`.
fn run_within(mut c: Command, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = c.spawn().unwrap();
    loop {
        if child.try_wait().unwrap().is_some() {
            return (child.wait_with_output().unwrap(), started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_hung_endpoint_is_given_up_on_after_the_call_timeout_naming_the_call_and_endpoint() {
    let hung = Counter::start();
    let mut c = cmd(
        &hung.url,
        &["plan", "--stack", "stateless", "--call-timeout", "2s"],
    );
    // SDK debug logs on a stderr that is not a terminal: plain text, no ANSI codes.
    c.env("MCPCTL_LOG", "debug");
    let (out, took) = run_within(c, Duration::from_secs(30));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert!(hung.count() >= 1, "the endpoint was reached");
    let last = err
        .lines()
        .rfind(|l| l.starts_with("error: "))
        .unwrap_or_default();
    assert!(
        last.starts_with("error: ecs:DescribeClusters on cluster fastmcp-time-server-cluster failed: no answer within --call-timeout 2s from "),
        "{last}"
    );
    assert!(last.contains(&hung.url), "{last}");
    assert!(err.contains("DEBUG"), "debug logs were on");
    assert!(!err.contains('\x1b'), "ANSI codes on a non-terminal stderr");
}

#[test]
fn the_profile_wins_over_environment_keys_and_an_unknown_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("credentials");
    std::fs::write(
        &creds,
        "[work]\naws_access_key_id = PROFILEKEYPROFILEKEY\naws_secret_access_key = s\n",
    )
    .unwrap();
    let hung = Counter::start();

    let mut c = cmd(
        &hung.url,
        &["plan", "--stack", "stateless", "--profile", "nosuch"],
    );
    c.env("AWS_SHARED_CREDENTIALS_FILE", &creds);
    let (out, _) = run_within(c, Duration::from_secs(30));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("error: AWS profile `nosuch` does not exist in the AWS config or credentials file (profiles there: work)"),
        "{err}"
    );
    assert_eq!(hung.count(), 0, "no AWS call with an unknown profile");

    let mut c = cmd(
        &hung.url,
        &[
            "plan",
            "--stack",
            "stateless",
            "--profile",
            "work",
            "--call-timeout",
            "1s",
        ],
    );
    c.env("AWS_SHARED_CREDENTIALS_FILE", &creds);
    let (out, _) = run_within(c, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1));
    let requests = hung.requests().join("\n");
    assert!(
        requests.contains("Credential=PROFILEKEYPROFILEKEY/"),
        "signed with the profile's key: {requests}"
    );
    assert!(!requests.contains("ENVKEYENVKEY"), "{requests}");
}

#[test]
fn json_output_is_one_document_on_errors_and_refusals() {
    let hung = Counter::start();
    for (args, code, kind) in [
        (
            vec!["--output", "json", "plan", "--stack", "nosuch"],
            2,
            "bad_input",
        ),
        (
            vec!["--output", "json", "cutover", "--weight", "1000"],
            2,
            "bad_input",
        ),
        (
            vec![
                "--output",
                "json",
                "plan",
                "--stack",
                "stateless",
                "--call-timeout",
                "1s",
            ],
            1,
            "aws",
        ),
    ] {
        let (out, _) = run_within(cmd(&hung.url, &args), Duration::from_secs(30));
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: not one JSON document ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        assert_eq!(doc["ok"], false, "{doc:#}");
        assert_eq!(doc["exit_code"], code, "{doc:#}");
        assert_eq!(doc["error"]["kind"], kind, "{doc:#}");
        assert!(doc["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
}

#[test]
fn an_up_that_fails_halfway_reports_the_call_what_it_did_and_who_it_acted_as() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let stack = stack_file(
        dir.path(),
        "stateless",
        &format!(
            "extends: {}\nservice:\n  circuit_breaker_rollback: false\n  enable_execute_command: false\n  health_check_grace_period_seconds: 0\n",
            repo_stack("stateless")
        ),
    );
    // CreateRule never answers: the call timeout ends it, and the JSON says what was done.
    let proxy = FreezingProxy::start(aws.moto.port, "Action=CreateRule");
    let mut c = aws.mcpctl_cmd(&[
        "--output",
        "json",
        "up",
        "--stack",
        stack.to_str().unwrap(),
        "--image",
        IMAGE,
        "--no-wait",
        "--call-timeout",
        "3s",
    ]);
    c.env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (out, took) = run_within(c, Duration::from_secs(90));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert!(
        err.contains("Acting as account 123456789012, region us-east-1, as arn:aws:"),
        "{err}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["exit_code"], 1);
    assert_eq!(doc["error"]["kind"], "aws");
    assert_eq!(
        doc["error"]["call"], "elasticloadbalancing:CreateRule",
        "{doc:#}"
    );
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("no answer within --call-timeout 3s"),
        "{message}"
    );
    assert!(message.contains(&proxy.endpoint), "{message}");
    let changes: Vec<&str> = doc["changes_made"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["operation"].as_str().unwrap())
        .collect();
    assert!(changes.contains(&"CreateTargetGroup"), "{changes:?}");
    assert!(changes.contains(&"RegisterTaskDefinition"), "{changes:?}");
    assert_eq!(changes.last(), Some(&"CreateRule"), "{changes:?}");
    assert!(
        doc["plan"].is_object(),
        "the plan it was carrying out: {doc:#}"
    );
}

#[test]
fn completions_and_the_man_page_come_from_the_cli_definition() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = Command::new(crate::common::mcpctl_bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("mcpctl") && text.contains("cutover"),
            "{shell}: {text}"
        );
        assert!(text.contains("call-timeout"), "{shell}");
    }
    let out = Command::new(crate::common::mcpctl_bin())
        .arg("man")
        .output()
        .unwrap();
    assert!(out.status.success());
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH mcpctl"),
        "{page}"
    );
    assert!(
        page.contains("completions") && page.contains("rollback"),
        "{page}"
    );
}

/// The stateless stack with the service settings moto's CreateService can store, and `extra`.
fn moto_stack(dir: &std::path::Path, name: &str, extra: &str) -> String {
    let text = format!(
        "extends: {}\nservice:\n  circuit_breaker_rollback: false\n  enable_execute_command: false\n  health_check_grace_period_seconds: 0\n{extra}",
        repo_stack("stateless")
    );
    stack_file(dir, name, &text).display().to_string()
}

#[test]
fn an_edited_priority_moves_the_rule_with_set_rule_priorities() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let stack = moto_stack(dir.path(), "stateless", "");
    aws.mcpctl_json(&["up", "--stack", &stack, "--image", IMAGE, "--no-wait"]);
    assert_eq!(aws.rules()[0]["priority"], 110);
    let stack = moto_stack(
        dir.path(),
        "stateless",
        "routing:\n  path_patterns: [\"/ossserver-stateless/*\"]\n  priority: 120\n",
    );
    let plan = aws.mcpctl(&["plan", "--stack", &stack, "--image", IMAGE]);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(text.contains("priority: 110 -> 120"), "{text}");
    let out = aws.mcpctl_json(&["up", "--stack", &stack, "--image", IMAGE, "--no-wait"]);
    assert_eq!(
        crate::common::aws::mutating(&out),
        vec!["SetRulePriorities"],
        "{out:#}"
    );
    let rules = aws.rules();
    assert_eq!(rules.as_array().unwrap().len(), 1);
    assert_eq!(rules[0]["priority"], 120);
    let again = aws.mcpctl_json(&["up", "--stack", &stack, "--image", IMAGE, "--no-wait"]);
    assert!(crate::common::aws::mutating(&again).is_empty(), "{again:#}");
}

#[test]
fn a_path_whose_rule_another_stack_owns_is_refused_before_any_change() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let owner = moto_stack(dir.path(), "stateless", "");
    aws.mcpctl_json(&["up", "--stack", &owner, "--image", IMAGE, "--no-wait"]);
    let before = aws.rules();
    // Another stack in another directory (so the load-time check cannot see it) with the
    // same path: the live rule's tag names its owner.
    let other_dir = tempfile::tempdir().unwrap();
    let intruder = moto_stack(
        other_dir.path(),
        "intruder",
        "names:\n  ecr_repository: intruder\n  service: intruder\n  task_family: intruder\n  target_group: intruder-tg\n  log_group: /ecs/intruder\n",
    );
    let out = aws.mcpctl(&[
        "--output",
        "json",
        "up",
        "--stack",
        &intruder,
        "--image",
        IMAGE,
        "--no-wait",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "listener rule /ossserver-stateless/* (priority 110) belongs to stack `stateless`"
        ),
        "{message}"
    );
    assert_eq!(doc["changes_made"], serde_json::json!([]), "{doc:#}");
    assert_eq!(aws.rules(), before, "the rule was not touched");
}

#[test]
fn cleanup_of_a_never_deployed_stack_shows_no_archive_path() {
    let aws = Aws::start();
    let stacks = tempfile::tempdir().unwrap();
    for f in ["shared.yaml", "stateless.yaml"] {
        std::fs::copy(
            crate::common::workspace_root().join("stacks").join(f),
            stacks.path().join(f),
        )
        .unwrap();
    }
    let dir = stacks.path().to_str().unwrap();
    let out = aws.mcpctl(&[
        "cleanup",
        "--stack",
        "stateless",
        "--yes",
        "--stacks-dir",
        dir,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("Nothing to do: stack stateless has no resources left (nothing archived)."),
        "{text}"
    );
    assert!(!text.contains("Archive:"), "{text}");
    assert!(!stacks.path().join("archive").exists());
}
