//! The migration story against moto: cutover (canary, full), rollback, rollback again, cleanup,
//! and the bad orders, each read back through the AWS API.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use aws_sdk_elasticloadbalancingv2 as elbv2;
use common::Moto;
use elbv2::types::{Action, ActionTypeEnum, RuleCondition, TargetDescription, TargetTypeEnum};

/// The stateful and stateless target groups, the ALB's listener and the production rule,
/// created directly in moto the way the old scripts left them.
struct Fixture {
    moto: Moto,
    elb: elbv2::Client,
    stacks: tempfile::TempDir,
    listener_arn: String,
    stateful_tg: String,
    stateless_tg: String,
    production_rule: String,
}

/// A `stacks/` copy in a temporary directory (cleanup writes its archive there).
fn copy_stacks() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for f in ["shared.yaml", "stateful.yaml", "stateless.yaml"] {
        std::fs::copy(
            common::workspace_root().join("stacks").join(f),
            dir.path().join(f),
        )
        .expect("copy stack file");
    }
    dir
}

/// Default-for-az subnets of moto's default VPC, read with EC2's query API (no EC2 SDK here).
fn default_subnets(moto: &Moto) -> Vec<String> {
    use std::io::{Read, Write};
    let body = "Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=default-for-az&Filter.1.Value.1=true";
    let mut s = std::net::TcpStream::connect(("127.0.0.1", moto.port)).expect("connect moto");
    let req = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        moto.port,
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out.split("<subnetId>")
        .skip(1)
        .filter_map(|p| p.split("</subnetId>").next())
        .map(str::to_string)
        .collect()
}

async fn elb_client(moto: &Moto) -> elbv2::Client {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&moto.endpoint)
        .credentials_provider(elbv2::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    elbv2::Client::new(&conf)
}

async fn create_tg(elb: &elbv2::Client, name: &str, vpc: &str) -> String {
    elb.create_target_group()
        .name(name)
        .protocol(elbv2::types::ProtocolEnum::Http)
        .port(9898)
        .vpc_id(vpc)
        .target_type(TargetTypeEnum::Ip)
        .send()
        .await
        .expect("create target group")
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string()
}

impl Fixture {
    /// The shared ALB and listener, both target groups, and the production rule (priority 100,
    /// `/ossserver/*` → stateful). `stateless_healthy` registers two IP targets in the
    /// stateless group (moto reports registered targets as healthy).
    async fn start(with_stateless: bool, stateless_healthy: bool) -> Fixture {
        let moto = Moto::start();
        let elb = elb_client(&moto).await;
        let subnets = default_subnets(&moto);
        assert!(subnets.len() >= 2, "moto's default VPC has subnets");
        let lb = elb
            .create_load_balancer()
            .name("fastmcp-alb")
            .set_subnets(Some(subnets[..2].to_vec()))
            .send()
            .await
            .expect("create ALB");
        let lb = &lb.load_balancers()[0];
        let vpc = lb.vpc_id().unwrap().to_string();
        let listener = elb
            .create_listener()
            .load_balancer_arn(lb.load_balancer_arn().unwrap())
            .protocol(elbv2::types::ProtocolEnum::Http)
            .port(80)
            .default_actions(
                Action::builder()
                    .r#type(ActionTypeEnum::FixedResponse)
                    .fixed_response_config(
                        elbv2::types::FixedResponseActionConfig::builder()
                            .status_code("404")
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("create listener");
        let listener_arn = listener.listeners()[0].listener_arn().unwrap().to_string();
        let stateful_tg = create_tg(&elb, "opensearch-mcp-tg", &vpc).await;
        let production_rule =
            create_rule(&elb, &listener_arn, 100, "/ossserver/*", &stateful_tg).await;
        let mut stateless_tg = String::new();
        if with_stateless {
            stateless_tg = create_tg(&elb, "opensearch-mcp-tg-stateless", &vpc).await;
            create_rule(
                &elb,
                &listener_arn,
                110,
                "/ossserver-stateless/*",
                &stateless_tg,
            )
            .await;
            if stateless_healthy {
                register_ips(&elb, &stateless_tg, &["10.0.1.10", "10.0.2.10"]).await;
            }
        }
        register_ips(&elb, &stateful_tg, &["10.0.1.20"]).await;
        Fixture {
            moto,
            elb,
            stacks: copy_stacks(),
            listener_arn,
            stateful_tg,
            stateless_tg,
            production_rule,
        }
    }

    /// Run mcpctl against this moto; returns the process output.
    fn mcpctl(&self, args: &[&str]) -> Output {
        run_mcpctl(&self.moto, self.stacks.path(), args)
    }

    /// The listener's rules as AWS returns them (priority, conditions, actions, tags), for
    /// "nothing changed" comparisons.
    async fn rules(&self) -> BTreeMap<String, String> {
        let out = self
            .elb
            .describe_rules()
            .listener_arn(&self.listener_arn)
            .send()
            .await
            .expect("describe rules");
        let mut snap = BTreeMap::new();
        for r in out.rules() {
            let arn = r.rule_arn().unwrap().to_string();
            let tags = self.tags(&arn).await;
            snap.insert(
                arn,
                format!(
                    "{:?} {:?} {:?} {:?}",
                    r.priority(),
                    r.conditions(),
                    r.actions(),
                    tags
                ),
            );
        }
        snap
    }

    async fn actions(&self, rule_arn: &str) -> Vec<Action> {
        self.elb
            .describe_rules()
            .rule_arns(rule_arn)
            .send()
            .await
            .expect("describe rule")
            .rules()[0]
            .actions()
            .to_vec()
    }

    async fn tags(&self, arn: &str) -> BTreeMap<String, String> {
        let out = self
            .elb
            .describe_tags()
            .resource_arns(arn)
            .send()
            .await
            .expect("describe tags");
        out.tag_descriptions()[0]
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap().to_string(),
                    t.value().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    /// (target group ARN, weight) of the production rule's forward action.
    async fn weights(&self) -> Vec<(String, i32)> {
        let actions = self.actions(&self.production_rule).await;
        assert_eq!(actions.len(), 1, "{actions:?}");
        let a = &actions[0];
        match a.forward_config() {
            Some(cfg) => cfg
                .target_groups()
                .iter()
                .map(|t| {
                    (
                        t.target_group_arn().unwrap().to_string(),
                        t.weight().unwrap_or(1),
                    )
                })
                .collect(),
            None => vec![(a.target_group_arn().unwrap().to_string(), 1)],
        }
    }
}

async fn create_rule(
    elb: &elbv2::Client,
    listener: &str,
    priority: i32,
    path: &str,
    tg: &str,
) -> String {
    elb.create_rule()
        .listener_arn(listener)
        .priority(priority)
        .conditions(
            RuleCondition::builder()
                .field("path-pattern")
                .values(path)
                .build(),
        )
        .actions(
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(tg)
                .build(),
        )
        .send()
        .await
        .expect("create rule")
        .rules()[0]
        .rule_arn()
        .unwrap()
        .to_string()
}

async fn register_ips(elb: &elbv2::Client, tg: &str, ips: &[&str]) {
    let mut req = elb.register_targets().target_group_arn(tg);
    for ip in ips {
        req = req.targets(TargetDescription::builder().id(*ip).port(9898).build());
    }
    req.send().await.expect("register targets");
}

fn run_mcpctl(moto: &Moto, stacks: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(common::mcpctl_bin());
    cmd.args(args)
        .arg("--stacks-dir")
        .arg(stacks)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ACCOUNT_ID", "123456789012");
    for (k, v) in moto.aws_env() {
        cmd.env(k, v);
    }
    cmd.output().expect("run mcpctl")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}

#[tokio::test(flavor = "multi_thread")]
async fn canary_full_cutover_rollback_and_rollback_again() {
    let f = Fixture::start(true, true).await;
    let original = f.actions(&f.production_rule).await;

    // A dry run changes nothing and prints the exact call.
    let before = f.rules().await;
    let o = f.mcpctl(&["cutover", "--weight", "10", "--dry-run"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(
        text(&o).contains("elasticloadbalancing:ModifyRule"),
        "{}",
        text(&o)
    );
    assert_eq!(f.rules().await, before, "dry run changed the rules");

    // Canary: 90/10, the replaced routing recorded on the rule.
    let o = f.mcpctl(&["cutover", "--weight", "10", "--yes"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(
        text(&o).contains("Routing before: opensearch-mcp-tg 100%"),
        "{}",
        text(&o)
    );
    assert_eq!(
        f.weights().await,
        vec![(f.stateful_tg.clone(), 90), (f.stateless_tg.clone(), 10)]
    );
    let tags = f.tags(&f.production_rule).await;
    assert_eq!(
        tags.get("mcpctl:cutover-replaced").map(String::as_str),
        Some("v1 form=arn tg:opensearch-mcp-tg=1")
    );

    // Full cutover: all traffic to stateless; the record still holds the original routing.
    let o = f.mcpctl(&["cutover", "--yes", "--output", "json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let report = json(&o);
    assert_eq!(report["changed"], true);
    assert_eq!(report["record"]["record"], "keep");
    assert_eq!(f.weights().await, vec![(f.stateless_tg.clone(), 1)]);
    assert_eq!(f.tags(&f.production_rule).await, tags);

    // Rollback: one ModifyRule, the actions equal the pre-cutover ones exactly.
    let started = Instant::now();
    let o = f.mcpctl(&["rollback", "--yes", "--output", "json"]);
    let wall = started.elapsed();
    assert_eq!(code(&o), 0, "{}", text(&o));
    let report = json(&o);
    let calls: Vec<&str> = report["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        calls
            .iter()
            .filter(|c| **c == "elasticloadbalancing:ModifyRule")
            .count(),
        1,
        "{calls:?}"
    );
    assert_eq!(f.actions(&f.production_rule).await, original);
    println!(
        "rollback against moto: routing switch (ModifyRule) {:.1} ms, whole `mcpctl rollback` process {:.0} ms",
        report["switch_ms"].as_f64().unwrap(),
        wall.as_secs_f64() * 1000.0
    );

    // A second rollback: nothing to do, no call, exit 0.
    let before = f.rules().await;
    let o = f.mcpctl(&["rollback", "--yes"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("Nothing to do"), "{}", text(&o));
    assert_eq!(f.rules().await, before);

    // A new cutover after the rollback records afresh and can be rolled back again.
    let o = f.mcpctl(&["cutover", "--yes"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let tags = f.tags(&f.production_rule).await;
    assert!(tags.contains_key("mcpctl:cutover-replaced"), "{tags:?}");
    assert!(!tags.contains_key("mcpctl:cutover-restored"), "{tags:?}");
    let o = f.mcpctl(&["rollback", "--yes"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(f.actions(&f.production_rule).await, original);
}

/// A bad order must exit with `want`, say `says`, and leave every rule exactly as it was.
async fn refused_without_change(f: &Fixture, args: &[&str], want: i32, says: &str) {
    let before = f.rules().await;
    let o = f.mcpctl(args);
    assert_eq!(code(&o), want, "{args:?}: {}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(says),
        "{args:?} should say {says:?}: {}",
        text(&o)
    );
    assert_eq!(f.rules().await, before, "{args:?} changed the rules");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_orders_are_refused_and_change_nothing() {
    let never = Fixture::start(false, false).await;
    refused_without_change(
        &never,
        &["cutover", "--yes"],
        3,
        "stack stateless is not deployed",
    )
    .await;
    refused_without_change(&never, &["rollback", "--yes"], 3, "nothing to roll back").await;

    let unhealthy = Fixture::start(true, false).await;
    refused_without_change(&unhealthy, &["cutover", "--yes"], 3, "no healthy targets").await;
    refused_without_change(
        &unhealthy,
        &["cutover", "--weight", "1000", "--yes"],
        2,
        "whole percentage from 1 to 100",
    )
    .await;
    refused_without_change(
        &unhealthy,
        &["cutover", "--from", "stateless", "--to", "stateless"],
        2,
        "both",
    )
    .await;
    // Not a terminal and no --yes: nobody to ask, so nothing happens.
    register_ips(&unhealthy.elb, &unhealthy.stateless_tg, &["10.0.3.10"]).await;
    refused_without_change(&unhealthy, &["cutover"], 2, "pass --yes").await;
    // --force overrides the health gate (here the group is healthy now; the gate passes anyway).
    let o = unhealthy.mcpctl(&["cutover", "--weight", "50", "--yes", "--force"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn force_overrides_the_health_gate() {
    let f = Fixture::start(true, false).await;
    let o = f.mcpctl(&["cutover", "--yes", "--force"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("--force"), "{}", text(&o));
    assert_eq!(f.weights().await, vec![(f.stateless_tg.clone(), 1)]);
}
