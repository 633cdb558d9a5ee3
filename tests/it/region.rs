//! One region for every command (`commands::session`): with the stack files saying
//! `region: us-east-1` and the resources in eu-west-1, every command finds them when the region
//! comes only from `AWS_DEFAULT_REGION`, or only from the profile — never the stack file's
//! region, which comes last. Checked in moto's two regions with boto3.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::aws::{moto_stack, Aws, IMAGE};
use crate::common::{venv_bin, workspace_root};

/// Where the region comes from.
#[derive(Clone, Copy)]
enum From<'a> {
    /// `AWS_DEFAULT_REGION` only.
    DefaultRegion,
    /// The profile's `region` only (this config file).
    Profile(&'a Path),
}

/// `mcpctl ARGS` with the region only from `from` (no `AWS_REGION`, no `--region`).
fn mcpctl(aws: &Aws, from: From, dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--stacks-dir", dir.to_str().unwrap()];
    all.extend_from_slice(args);
    let mut cmd = aws.mcpctl_cmd(&all);
    cmd.env_remove("AWS_REGION");
    match from {
        From::DefaultRegion => cmd.env("AWS_DEFAULT_REGION", "eu-west-1"),
        From::Profile(config) => cmd
            .env_remove("AWS_DEFAULT_REGION")
            .env("AWS_CONFIG_FILE", config),
    };
    cmd.output().expect("run mcpctl")
}

fn ok(out: &Output, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A boto3 snippet in `region` (sets `result`).
fn boto_in(aws: &Aws, region: &str, code: &str) -> serde_json::Value {
    let program = format!(
        "import boto3, json\n\
         ecs = boto3.client('ecs', region_name='{region}'); elb = boto3.client('elbv2', region_name='{region}')\n\
         result = None\n{code}\n\
         print(json.dumps(result, default=str))\n"
    );
    let out = Command::new(venv_bin("python"))
        .args(["-c", &program])
        .envs(aws.env())
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn desired(aws: &Aws, region: &str) -> serde_json::Value {
    boto_in(
        aws,
        region,
        "s = ecs.describe_services(cluster='fastmcp-time-server-cluster', services=['opensearch-mcp-server-stateless'])['services']\n\
         result = [x['desiredCount'] for x in s if x['status'] == 'ACTIVE']",
    )
}

fn stateless_weight(aws: &Aws, region: &str) -> serde_json::Value {
    boto_in(
        aws,
        region,
        "lb = elb.describe_load_balancers(Names=['fastmcp-alb'])['LoadBalancers'][0]['LoadBalancerArn']\n\
         ls = [l for l in elb.describe_listeners(LoadBalancerArn=lb)['Listeners'] if l['Port'] == 80][0]\n\
         names = {t['TargetGroupArn']: t['TargetGroupName'] for t in elb.describe_target_groups()['TargetGroups']}\n\
         r = [r for r in elb.describe_rules(ListenerArn=ls['ListenerArn'])['Rules'] if r['Priority'] == '100']\n\
         a = r[0]['Actions'][0] if r else {}\n\
         groups = a.get('ForwardConfig', {}).get('TargetGroups') or []\n\
         result = {names[g['TargetGroupArn']]: g.get('Weight', 1) for g in groups}.get('opensearch-mcp-tg-stateless', 0)",
    )
}

#[test]
fn every_command_uses_the_region_from_the_environment_or_the_profile() {
    let aws = Aws::start();
    // The user's shared resources in eu-west-1 too (moto keeps each region apart).
    let out = Command::new(venv_bin("python"))
        .arg(workspace_root().join("scripts/emulator-shared-resources.py"))
        .envs(aws.env())
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_DEFAULT_REGION", "eu-west-1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // The stack files name us-east-1; the environment or the profile wins.
    moto_stack(dir, "stateful", "region: us-east-1\n");
    moto_stack(dir, "stateless", "region: us-east-1\n");
    let env = From::DefaultRegion;
    for stack in ["stateful", "stateless"] {
        let out = mcpctl(
            &aws,
            env,
            dir,
            &["up", "--stack", stack, "--image", IMAGE, "--no-wait"],
        );
        ok(&out, "up");
    }
    assert_eq!(desired(&aws, "eu-west-1"), serde_json::json!([2]));
    assert_eq!(desired(&aws, "us-east-1"), serde_json::json!([]));
    boto_in(
        &aws,
        "eu-west-1",
        "tg = elb.describe_target_groups(Names=['opensearch-mcp-tg-stateless'])['TargetGroups'][0]['TargetGroupArn']\n\
         elb.register_targets(TargetGroupArn=tg, Targets=[{'Id': '10.0.1.10', 'Port': 9898}])",
    );

    // Reads: each finds the eu-west-1 resources (exit 0).
    for args in [
        vec!["status", "--stack", "stateless"],
        vec!["revisions", "--stack", "stateless"],
        vec!["logs", "--stack", "stateless", "--since", "1m"],
        vec![
            "--output",
            "json",
            "monitor",
            "--count",
            "1",
            "--interval",
            "1s",
        ],
        // --force: stateful still serves production; the dry run reads eu-west-1's rules.
        vec!["cleanup", "--stack", "stateful", "--dry-run", "--force"],
        vec![
            "cutover",
            "--steps",
            "100",
            "--bake",
            "60s",
            "--no-probe",
            "--dry-run",
        ],
    ] {
        ok(&mcpctl(&aws, env, dir, &args), &format!("{args:?}"));
    }
    // Changes land in eu-west-1, never in us-east-1.
    ok(
        &mcpctl(
            &aws,
            env,
            dir,
            &["scale", "--stack", "stateless", "--count", "3"],
        ),
        "scale",
    );
    assert_eq!(desired(&aws, "eu-west-1"), serde_json::json!([3]));
    ok(
        &mcpctl(&aws, env, dir, &["cutover", "--weight", "10", "--yes"]),
        "cutover",
    );
    assert_eq!(stateless_weight(&aws, "eu-west-1"), 10);
    ok(&mcpctl(&aws, env, dir, &["rollback", "--yes"]), "rollback");
    assert_eq!(stateless_weight(&aws, "eu-west-1"), 0);
    ok(
        &mcpctl(
            &aws,
            env,
            dir,
            &["up", "--stack", "stateless", "--revision", "1", "--no-wait"],
        ),
        "up --revision",
    );
    // verify --stack finds the eu-west-1 ALB's address (its request then goes to a closed
    // local port through http_proxy: nothing leaves 127.0.0.1).
    let mut cmd = aws.mcpctl_cmd(&[
        "--stacks-dir",
        dir.to_str().unwrap(),
        "verify",
        "--stack",
        "stateless",
    ]);
    let closed = crate::common::free_port();
    let out = cmd
        .env_remove("AWS_REGION")
        .env("AWS_DEFAULT_REGION", "eu-west-1")
        .env("http_proxy", format!("http://127.0.0.1:{closed}"))
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(".eu-west-1.elb.amazonaws.com"), "{text}");

    // The profile alone.
    let config = dir.join("aws-config");
    std::fs::write(&config, "[default]\nregion = eu-west-1\n").unwrap();
    let profile = From::Profile(&config);
    ok(
        &mcpctl(&aws, profile, dir, &["status", "--stack", "stateless"]),
        "status (profile)",
    );
    ok(
        &mcpctl(
            &aws,
            profile,
            dir,
            &["scale", "--stack", "stateless", "--count", "2"],
        ),
        "scale (profile)",
    );
    assert_eq!(desired(&aws, "eu-west-1"), serde_json::json!([2]));
    assert_eq!(desired(&aws, "us-east-1"), serde_json::json!([]));
}
