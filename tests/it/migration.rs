//! The migration story against moto: cutover (canary, full), rollback, rollback again, cleanup,
//! and the bad orders, each read back through the AWS API.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_elasticloadbalancingv2 as elbv2;
use elbv2::types::{Action, ActionTypeEnum, RuleCondition, TargetDescription, TargetTypeEnum};

/// The shared resources (`crate::common::aws::Aws`: cluster, ALB with its HTTP:80 listener, roles), the
/// stateful and stateless target groups and their rules created directly in moto, the way the
/// old scripts left them.
struct Fixture {
    aws: crate::common::aws::Aws,
    elb: elbv2::Client,
    stacks: tempfile::TempDir,
    listener_arn: String,
    stateful_tg: String,
    stateless_tg: String,
    production_rule: String,
}

async fn elb_client(moto: &crate::common::Moto) -> elbv2::Client {
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
        let aws = crate::common::aws::Aws::start();
        let elb = elb_client(&aws.moto).await;
        let vpc = aws.shared["vpc"].as_str().expect("vpc").to_string();
        let listener_arn = aws.shared["listener"]
            .as_str()
            .expect("listener")
            .to_string();
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
            aws,
            elb,
            stacks: moto_stacks(),
            listener_arn,
            stateful_tg,
            stateless_tg,
            production_rule,
        }
    }

    /// Run mcpctl against this moto; returns the process output.
    fn mcpctl(&self, args: &[&str]) -> Output {
        let dir = self.stacks.path().to_str().unwrap().to_string();
        let mut all = args.to_vec();
        all.extend(["--stacks-dir", &dir]);
        self.aws.mcpctl(&all)
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

    /// Change the production rule's forward by hand (as the console or another process would).
    async fn hand_edit(&self, weights: &[(&str, i32)]) {
        let mut cfg = elbv2::types::ForwardActionConfig::builder();
        for (tg, w) in weights {
            cfg = cfg.target_groups(
                elbv2::types::TargetGroupTuple::builder()
                    .target_group_arn(*tg)
                    .weight(*w)
                    .build(),
            );
        }
        self.elb
            .modify_rule()
            .rule_arn(&self.production_rule)
            .actions(
                Action::builder()
                    .r#type(ActionTypeEnum::Forward)
                    .forward_config(cfg.build())
                    .build(),
            )
            .send()
            .await
            .expect("modify rule by hand");
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

    assert_eq!(
        tags.get("mcpctl:cutover-applied").map(String::as_str),
        Some("v1 form=config stick=off tg:opensearch-mcp-tg=90 tg:opensearch-mcp-tg-stateless=10")
    );

    // Full cutover: all traffic to stateless, the stateful group kept at weight 0 (attached,
    // health-checked, no request); the record still holds the original routing.
    let o = f.mcpctl(&["cutover", "--yes", "--output", "json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let report = json(&o);
    assert_eq!(report["changed"], true);
    assert_eq!(report["record"]["record"], "keep");
    assert_eq!(
        report["routing_after"],
        "opensearch-mcp-tg 0% (weight 0) + opensearch-mcp-tg-stateless 100% (weight 100)"
    );
    assert_eq!(report["target_health"]["healthy"], 2);
    assert_eq!(
        f.weights().await,
        vec![(f.stateful_tg.clone(), 0), (f.stateless_tg.clone(), 100)]
    );
    let full_tags = f.tags(&f.production_rule).await;
    assert_eq!(
        full_tags.get("mcpctl:cutover-replaced"),
        tags.get("mcpctl:cutover-replaced")
    );
    assert_eq!(
        full_tags.get("mcpctl:cutover-applied").map(String::as_str),
        Some("v1 form=config stick=off tg:opensearch-mcp-tg=0 tg:opensearch-mcp-tg-stateless=100")
    );

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

/// Issue 11 item 3: `cutover` and `rollback` compare the record on the rule with the live
/// routing; a change they did not make is reported (exit 3, what changed, how to go on), never
/// "Nothing to do", and never recorded as the way back.
#[tokio::test(flavor = "multi_thread")]
async fn a_change_mcpctl_did_not_make_is_reported_never_nothing_to_do() {
    let f = Fixture::start(true, true).await;
    let original = f.actions(&f.production_rule).await;
    let (old, new) = (f.stateful_tg.clone(), f.stateless_tg.clone());

    // A rollback racing a cutover: the rollback restored the original and moved the record to
    // `cutover-restored`, then the racing cutover's ModifyRule landed at 50/50.
    assert_eq!(code(&f.mcpctl(&["cutover", "--weight", "10", "--yes"])), 0);
    assert_eq!(code(&f.mcpctl(&["rollback", "--yes"])), 0);
    f.hand_edit(&[(&old, 50), (&new, 50)]).await;
    let tags = f.tags(&f.production_rule).await;
    assert!(
        tags.contains_key("mcpctl:cutover-restored")
            && !tags.contains_key("mcpctl:cutover-replaced"),
        "{tags:?}"
    );
    refused_without_change(
        &f,
        &["rollback", "--yes"],
        3,
        "it routes opensearch-mcp-tg 50% (weight 50) + opensearch-mcp-tg-stateless 50% (weight 50), but the last rollback left it routing opensearch-mcp-tg 100%",
    )
    .await;
    refused_without_change(&f, &["rollback", "--yes"], 3, "mcpctl rollback --force").await;
    // The next cutover does not record 50/50 as the way back.
    refused_without_change(
        &f,
        &["cutover", "--weight", "10", "--yes"],
        3,
        "was changed by something other than mcpctl",
    )
    .await;
    // How to go on: rollback --force puts back what the last rollback restored.
    let o = f.mcpctl(&["rollback", "--yes", "--force"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(f.actions(&f.production_rule).await, original);
    let o = f.mcpctl(&["rollback", "--yes"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("Nothing to do"), "{}", text(&o));

    // A hand edit of the rule during a cutover.
    assert_eq!(code(&f.mcpctl(&["cutover", "--weight", "10", "--yes"])), 0);
    f.hand_edit(&[(&old, 50), (&new, 50)]).await;
    refused_without_change(
        &f,
        &["rollback", "--yes"],
        3,
        "the last cutover left it routing",
    )
    .await;
    refused_without_change(
        &f,
        &["cutover", "--weight", "20", "--yes"],
        3,
        "the last cutover left it routing opensearch-mcp-tg 90% + opensearch-mcp-tg-stateless 10%",
    )
    .await;
    let o = f.mcpctl(&["rollback", "--yes", "--force"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(f.actions(&f.production_rule).await, original);
    let tags = f.tags(&f.production_rule).await;
    assert!(
        !tags.contains_key("mcpctl:cutover-replaced")
            && !tags.contains_key("mcpctl:cutover-applied"),
        "{tags:?}"
    );
}

/// A proxy in front of moto that holds the first request containing `trigger` until
/// [`HoldingProxy::release`], so a test can change AWS while mcpctl is between its reads and its
/// writes.
struct HoldingProxy {
    endpoint: String,
    held: Arc<AtomicBool>,
    release: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl HoldingProxy {
    fn start(upstream_port: u16, trigger: &str) -> HoldingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let held = Arc::new(AtomicBool::new(false));
        let release = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, r, st, trig) = (
            held.clone(),
            release.clone(),
            stop.clone(),
            trigger.as_bytes().to_vec(),
        );
        std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                client.set_nonblocking(false).ok();
                let Ok(upstream) = TcpStream::connect(("127.0.0.1", upstream_port)) else {
                    continue;
                };
                let (c2, u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                std::thread::spawn(move || copy(u2, c2, None));
                let hold = (trig.clone(), h.clone(), r.clone());
                std::thread::spawn(move || copy(client, upstream, Some(hold)));
            }
        });
        HoldingProxy {
            endpoint,
            held,
            release,
            stop,
        }
    }

    /// Wait (bounded) until a request hit the trigger and is being held.
    fn wait_held(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.held.load(Ordering::SeqCst) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    fn release(&self) {
        self.release.store(true, Ordering::SeqCst);
    }
}

impl Drop for HoldingProxy {
    fn drop(&mut self) {
        self.release.store(true, Ordering::SeqCst);
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Copy `from` to `to`; with `hold`, the first chunk window containing the trigger waits (at
/// most 60 s) for the release before it is forwarded.
type Hold = (Vec<u8>, Arc<AtomicBool>, Arc<AtomicBool>);
fn copy(mut from: TcpStream, mut to: TcpStream, hold: Option<Hold>) {
    let mut buf = [0u8; 16384];
    let mut window: Vec<u8> = Vec::new();
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some((trigger, held, release)) = &hold {
            window.extend_from_slice(&buf[..n]);
            if window.len() > 65536 {
                window.drain(..window.len() - 65536);
            }
            if !held.load(Ordering::SeqCst)
                && window
                    .windows(trigger.len())
                    .any(|w| w == trigger.as_slice())
            {
                held.store(true, Ordering::SeqCst);
                let deadline = Instant::now() + Duration::from_secs(60);
                while !release.load(Ordering::SeqCst) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    to.shutdown(std::net::Shutdown::Write).ok();
}

/// Issue 11 item 3: the rule is read again just before the first change; a rule that moved
/// while cutover was deciding is not overwritten.
#[tokio::test(flavor = "multi_thread")]
async fn a_rule_that_moves_while_cutover_decides_is_not_overwritten() {
    let f = Fixture::start(true, true).await;
    // Cutover reads the rules, then the target health: hold it there.
    let proxy = HoldingProxy::start(f.aws.moto.port, "Action=DescribeTargetHealth");
    let dir = f.stacks.path().to_str().unwrap().to_string();
    let mut cmd = f
        .aws
        .mcpctl_cmd(&["cutover", "--weight", "10", "--yes", "--stacks-dir", &dir]);
    cmd.env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("start mcpctl cutover");
    assert!(
        proxy.wait_held(Duration::from_secs(60)),
        "cutover never asked for the target health"
    );
    // Meanwhile someone edits the rule.
    f.hand_edit(&[(&f.stateful_tg, 50), (&f.stateless_tg, 50)])
        .await;
    let before = f.rules().await;
    proxy.release();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("wait for mcpctl").is_none() {
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("mcpctl cutover did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().expect("mcpctl output");
    assert_eq!(code(&o), 3, "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("changed it while this cutover was deciding; nothing was changed"),
        "{}",
        text(&o)
    );
    assert_eq!(f.rules().await, before, "the hand edit was overwritten");
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
        &["cleanup", "--stack", "stateful", "--yes"],
        3,
        "still gets production traffic",
    )
    .await;
    assert!(
        !unhealthy.stacks.path().join("archive").exists(),
        "a refused cleanup writes no archive"
    );
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
    let o = unhealthy.mcpctl(&["cutover", "--weight", "50", "--yes"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn forced_cleanup_during_a_canary_keeps_the_path_on_the_other_stack() {
    let f = Fixture::start(true, true).await;
    let o = f.mcpctl(&["cutover", "--weight", "50", "--yes"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = f.mcpctl(&["cleanup", "--stack", "stateful", "--yes", "--force"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    // The old group left the production rule, which now belongs to the stateless stack.
    assert_eq!(f.weights().await, vec![(f.stateless_tg.clone(), 50)]);
    assert_eq!(
        f.tags(&f.production_rule)
            .await
            .get("mcpctl:stack")
            .map(String::as_str),
        Some("stateless")
    );
    let gone = f
        .elb
        .describe_target_groups()
        .names("opensearch-mcp-tg")
        .send()
        .await;
    assert!(gone.is_err(), "the stateful target group was deleted");
    assert_eq!(
        f.rules().await.len(),
        3,
        "default, production and stateless rules remain"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn force_overrides_the_health_gate() {
    let f = Fixture::start(true, false).await;
    let o = f.mcpctl(&["cutover", "--yes", "--force"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("--force"), "{}", text(&o));
    assert_eq!(
        f.weights().await,
        vec![(f.stateful_tg.clone(), 0), (f.stateless_tg.clone(), 100)]
    );
}

/// Stack files for moto: the repository's stacks with the service settings moto's CreateService
/// stores (as the `up` tests use), same names, in a temporary directory that also receives
/// cleanup's archive.
fn moto_stacks() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["stateful", "stateless"] {
        std::fs::write(
            dir.path().join(format!("{name}.yaml")),
            format!(
                "extends: {}\nservice:\n  circuit_breaker_rollback: false\n  enable_execute_command: false\n  health_check_grace_period_seconds: 0\n",
                crate::common::aws::repo_stack(name)
            ),
        )
        .expect("write stack file");
    }
    dir
}

/// The story's view of AWS, read with boto3 (independently of mcpctl's code).
struct Story {
    aws: crate::common::aws::Aws,
    stacks: tempfile::TempDir,
}

impl Story {
    fn start() -> Story {
        Story {
            aws: crate::common::aws::Aws::start(),
            stacks: moto_stacks(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        let dir = self.stacks.path().to_str().unwrap().to_string();
        all.extend(["--stacks-dir", &dir]);
        self.aws.mcpctl(&all)
    }

    fn ok(&self, args: &[&str]) -> Output {
        let o = self.run(args);
        assert_eq!(code(&o), 0, "mcpctl {args:?}: {}", text(&o));
        o
    }

    fn up(&self, stack: &str) {
        self.ok(&[
            "up",
            "--stack",
            stack,
            "--image",
            crate::common::aws::IMAGE,
            "--no-wait",
        ]);
    }

    /// The production rule's actions and tags exactly as AWS returns them.
    fn production(&self) -> serde_json::Value {
        self.aws.boto(
            "lb = elb.describe_load_balancers(Names=['fastmcp-alb'])['LoadBalancers'][0]['LoadBalancerArn']\n\
             l = [l for l in elb.describe_listeners(LoadBalancerArn=lb)['Listeners'] if l['Port'] == 80][0]['ListenerArn']\n\
             r = [r for r in elb.describe_rules(ListenerArn=l)['Rules'] if any('/ossserver/*' in (c.get('PathPatternConfig', {}).get('Values') or c.get('Values', [])) for c in r['Conditions'])]\n\
             result = [{'arn': x['RuleArn'], 'priority': x['Priority'], 'actions': x['Actions'], 'tags': {t['Key']: t['Value'] for t in elb.describe_tags(ResourceArns=[x['RuleArn']])['TagDescriptions'][0]['Tags']}} for x in r]",
        )
    }

    /// target group name -> ARN.
    fn target_groups(&self) -> BTreeMap<String, String> {
        serde_json::from_value(self.aws.boto(
            "result = {t['TargetGroupName']: t['TargetGroupArn'] for t in elb.describe_target_groups()['TargetGroups']}",
        ))
        .unwrap()
    }

    /// (target group name, weight) of the production rule's forward.
    fn routing(&self) -> Vec<(String, i64)> {
        let p = self.production();
        let rules = p.as_array().unwrap();
        assert_eq!(rules.len(), 1, "exactly one /ossserver/* rule: {p}");
        let a = &rules[0]["actions"][0];
        let names: BTreeMap<String, String> = self
            .target_groups()
            .into_iter()
            .map(|(n, a)| (a, n))
            .collect();
        let name = |arn: &str| {
            names
                .get(arn)
                .cloned()
                .unwrap_or_else(|| format!("MISSING {arn}"))
        };
        match a["ForwardConfig"]["TargetGroups"].as_array() {
            Some(tgs) => tgs
                .iter()
                .map(|t| {
                    (
                        name(t["TargetGroupArn"].as_str().unwrap()),
                        t["Weight"].as_i64().unwrap_or(1),
                    )
                })
                .collect(),
            None => vec![(name(a["TargetGroupArn"].as_str().unwrap()), 1)],
        }
    }

    fn archives(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.stacks.path().join("archive"))
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }
}

const OLD_TG: &str = "opensearch-mcp-tg";
const NEW_TG: &str = "opensearch-mcp-tg-stateless";

#[test]
fn the_whole_migration_story() {
    let s = Story::start();
    // Deploy alongside: two target groups, two rules.
    s.up("stateful");
    s.up("stateless");
    let tgs = s.target_groups();
    assert!(
        tgs.contains_key(OLD_TG) && tgs.contains_key(NEW_TG),
        "{tgs:?}"
    );
    assert_eq!(s.routing(), vec![(OLD_TG.to_string(), 1)]);
    let before_cutover = s.production()[0]["actions"].clone();
    // The stateless tasks register as healthy targets (moto reports registered IPs healthy).
    s.aws.boto(&format!(
        "elb.register_targets(TargetGroupArn='{}', Targets=[{{'Id': '10.0.1.10', 'Port': 9898}}, {{'Id': '10.0.2.10', 'Port': 9898}}])",
        tgs[NEW_TG]
    ));

    // Canary.
    s.ok(&["cutover", "--weight", "10", "--yes"]);
    assert_eq!(
        s.routing(),
        vec![(OLD_TG.to_string(), 90), (NEW_TG.to_string(), 10)]
    );
    let tags = s.production()[0]["tags"].clone();
    assert!(
        tags["mcpctl:cutover-replaced"]
            .as_str()
            .unwrap()
            .contains("tg:opensearch-mcp-tg=1"),
        "{tags}"
    );
    // Full cutover: stateful stays in the forward at weight 0.
    s.ok(&["cutover", "--yes"]);
    assert_eq!(
        s.routing(),
        vec![(OLD_TG.to_string(), 0), (NEW_TG.to_string(), 100)]
    );

    // Rollback drill: exactly the pre-cutover actions (a dry run first changes nothing).
    let snapshot = s.aws.rules();
    let o = s.ok(&["rollback", "--dry-run"]);
    assert!(
        text(&o).contains("elasticloadbalancing:ModifyRule"),
        "{}",
        text(&o)
    );
    assert_eq!(s.aws.rules(), snapshot);
    let started = Instant::now();
    let o = s.ok(&["rollback", "--yes", "--output", "json"]);
    let wall = started.elapsed();
    assert_eq!(s.production()[0]["actions"], before_cutover);
    println!(
        "rollback (full story, moto): ModifyRule {:.1} ms, whole command {:.0} ms",
        json(&o)["switch_ms"].as_f64().unwrap(),
        wall.as_secs_f64() * 1000.0
    );
    // Again: nothing to do, nothing changed.
    let snapshot = s.aws.rules();
    let o = s.ok(&["rollback", "--yes"]);
    assert!(text(&o).contains("Nothing to do"), "{}", text(&o));
    assert_eq!(s.aws.rules(), snapshot);

    // Cleanup of a live stack is refused (canary: stateful still gets 50%).
    s.ok(&["cutover", "--weight", "50", "--yes"]);
    let snapshot = s.aws.rules();
    let o = s.run(&["cleanup", "--stack", "stateful", "--yes"]);
    assert_eq!(code(&o), 3, "{}", text(&o));
    assert!(
        text(&o).contains("still gets production traffic"),
        "{}",
        text(&o)
    );
    assert_eq!(s.aws.rules(), snapshot);
    assert!(s.target_groups().contains_key(OLD_TG));
    assert!(
        s.archives().is_empty(),
        "a refused cleanup writes no archive"
    );

    // After full cutover: cleanup archives, removes the stack, hands the rule over.
    s.ok(&["cutover", "--yes"]);
    // A dry run first: the steps in order, nothing written or changed.
    let snapshot = s.aws.rules();
    let o = s.ok(&["cleanup", "--stack", "stateful", "--dry-run"]);
    let out = text(&o);
    let order: Vec<usize> = [
        "ecs:UpdateService",
        "ecs:DeleteService",
        "elasticloadbalancing:AddTags",
        "elasticloadbalancing:DeleteTargetGroup",
        "logs:DeleteLogGroup",
        "ecs:DeregisterTaskDefinition",
    ]
    .iter()
    .map(|c| {
        out.find(c)
            .unwrap_or_else(|| panic!("dry run lacks {c}: {out}"))
    })
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "steps out of order: {out}"
    );
    assert!(out.contains("hand over to stack stateless"), "{out}");
    assert!(!out.contains("ecr:DeleteRepository"), "{out}");
    assert!(s.archives().is_empty(), "a dry run writes no archive");
    assert_eq!(s.aws.rules(), snapshot);
    // The task role is shared: --delete-role refuses while the stateless service runs as it.
    let o = s.run(&["cleanup", "--stack", "stateful", "--yes", "--delete-role"]);
    assert_eq!(code(&o), 3, "{}", text(&o));
    assert!(
        text(&o).contains("still used by service(s) opensearch-mcp-server-stateless"),
        "{}",
        text(&o)
    );
    assert!(
        s.archives().is_empty(),
        "a refused cleanup writes no archive"
    );
    assert_eq!(s.aws.rules(), snapshot);
    let o = s.ok(&[
        "cleanup", "--stack", "stateful", "--yes", "--output", "json",
    ]);
    let report = json(&o);
    assert_eq!(report["done"], true);
    let archives = s.archives();
    assert_eq!(archives.len(), 1, "{archives:?}");
    let archive = &archives[0];
    let name = archive.file_name().unwrap().to_string_lossy().to_string();
    assert!(
        name.starts_with("stateful-") && name.ends_with('Z'),
        "{name}"
    );
    for f in [
        "stack.yaml",
        "task-definition.json",
        "service.json",
        "target-group.json",
        "listener-rules.json",
        "archive.json",
    ] {
        assert!(archive.join(f).is_file(), "archive lacks {f}");
    }
    let td: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(archive.join("task-definition.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(td["taskDefinition"]["family"], "opensearch-mcp-server");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(archive.join("archive.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["status"], "finished");

    // Stack resources gone, through the AWS API.
    let gone = s.aws.boto(
        "svc = ecs.describe_services(cluster='fastmcp-time-server-cluster', services=['opensearch-mcp-server'])['services']\n\
         tds = ecs.list_task_definitions(status='ACTIVE')['taskDefinitionArns']\n\
         lgs = [g['logGroupName'] for g in logs.describe_log_groups(logGroupNamePrefix='/ecs/opensearch-mcp-server')['logGroups']]\n\
         repos = [r['repositoryName'] for r in ecr.describe_repositories()['repositories']]\n\
         clusters = [c['status'] for c in ecs.describe_clusters(clusters=['fastmcp-time-server-cluster'])['clusters']]\n\
         lbs = [l['LoadBalancerName'] for l in elb.describe_load_balancers()['LoadBalancers']]\n\
         result = {'service': [x['status'] for x in svc], 'tds': tds, 'logs': lgs, 'repos': repos, 'clusters': clusters, 'lbs': lbs}",
    );
    assert!(
        gone["service"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s != "ACTIVE"),
        "{gone}"
    );
    let tds: Vec<String> = serde_json::from_value(gone["tds"].clone()).unwrap();
    assert!(
        tds.iter()
            .all(|a| a.contains("opensearch-mcp-server-stateless:")),
        "stateful revisions deregistered, stateless kept: {tds:?}"
    );
    assert!(!tds.is_empty());
    assert_eq!(
        gone["logs"],
        serde_json::json!(["/ecs/opensearch-mcp-server-stateless"])
    );
    // ECR is kept without --delete-images; shared resources are untouched.
    assert!(
        gone["repos"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "opensearch-mcp-server"),
        "{gone}"
    );
    assert_eq!(gone["clusters"], serde_json::json!(["ACTIVE"]));
    assert_eq!(gone["lbs"], serde_json::json!(["fastmcp-alb"]));
    let tgs = s.target_groups();
    assert!(
        !tgs.contains_key(OLD_TG) && tgs.contains_key(NEW_TG),
        "{tgs:?}"
    );
    // /ossserver/* still forwards to stateless, now owned by it; the deleted group left the
    // forward action (ALB refuses to delete a group a rule names).
    assert_eq!(s.routing(), vec![(NEW_TG.to_string(), 100)]);
    assert_eq!(s.production()[0]["tags"]["mcpctl:stack"], "stateless");
    assert_eq!(s.aws.rules().as_array().unwrap().len(), 2);

    // Rollback now refuses and says how to bring stateful back.
    let snapshot = s.aws.rules();
    let o = s.run(&["rollback", "--yes"]);
    assert_eq!(code(&o), 3, "{}", text(&o));
    let msg = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        msg.contains(&format!("mcpctl up --stack {}", archive.display())),
        "{msg}"
    );
    assert_eq!(s.aws.rules(), snapshot);

    // `up` from the archive brings stateful back. ECS attaches a service only to a target
    // group a listener rule forwards to (moto does not check it), so the plan adds the
    // recreated group to the handed-over rule at weight 0 — before CreateService, no request
    // moves; rollback then works.
    // The archive pins the image that ran (the stack was deployed with --image): restoring
    // needs neither --image nor docker, and brings back that server.
    let pinned = std::fs::read_to_string(archive.join("stack.yaml")).unwrap();
    assert!(
        pinned.contains(crate::common::aws::IMAGE),
        "the archived stack names the image that ran:\n{pinned}"
    );
    let o = s.ok(&[
        "up",
        "--stack",
        archive.to_str().unwrap(),
        "--no-wait",
        "--output",
        "json",
    ]);
    let up = json(&o);
    let rule_change = up["plan"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "listener_rule")
        .unwrap()
        .clone();
    assert_eq!(rule_change["action"], "update", "{rule_change}");
    assert!(
        rule_change["note"]
            .as_str()
            .unwrap()
            .contains("adds target group opensearch-mcp-tg at weight 0"),
        "{rule_change}"
    );
    let ops: Vec<&str> = up["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["operation"].as_str().unwrap())
        .collect();
    let at = |op: &str| {
        ops.iter()
            .position(|o| *o == op)
            .unwrap_or_else(|| panic!("no {op} in {ops:?}"))
    };
    assert!(at("CreateTargetGroup") < at("ModifyRule"), "{ops:?}");
    assert!(at("ModifyRule") < at("CreateService"), "{ops:?}");
    let tgs = s.target_groups();
    assert!(tgs.contains_key(OLD_TG), "{tgs:?}");
    assert_eq!(
        s.routing(),
        vec![(NEW_TG.to_string(), 100), (OLD_TG.to_string(), 0)],
        "the traffic stays on stateless"
    );
    // The recreated group has no targets yet: rollback goes ahead (it is the way back) and warns.
    let o = s.ok(&["rollback", "--yes"]);
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("warning: target group opensearch-mcp-tg has no healthy targets"),
        "{}",
        text(&o)
    );
    assert_eq!(s.routing(), vec![(OLD_TG.to_string(), 1)]);
    let actions = &s.production()[0]["actions"];
    let expected = before_cutover.to_string().replace(
        before_cutover[0]["ForwardConfig"]["TargetGroups"][0]["TargetGroupArn"]
            .as_str()
            .unwrap(),
        &tgs[OLD_TG],
    );
    assert_eq!(
        actions.to_string(),
        expected,
        "same routing, the recreated group's ARN"
    );
}

#[test]
fn a_cleanup_stopped_halfway_finishes_when_run_again() {
    let s = Story::start();
    s.up("stateful");
    s.up("stateless");
    let tgs = s.target_groups();
    s.aws.boto(&format!(
        "elb.register_targets(TargetGroupArn='{}', Targets=[{{'Id': '10.0.1.10', 'Port': 9898}}])",
        tgs[NEW_TG]
    ));
    s.ok(&["cutover", "--yes"]);

    // Freeze at DeleteTargetGroup: the service and the rule hand-over are done by then.
    let proxy =
        crate::common::aws::FreezingProxy::start(s.aws.moto.port, "Action=DeleteTargetGroup");
    let dir = s.stacks.path().to_str().unwrap().to_string();
    let mut cmd = s.aws.mcpctl_cmd(&[
        "cleanup",
        "--stack",
        "stateful",
        "--yes",
        "--stacks-dir",
        &dir,
    ]);
    cmd.env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = crate::common::ChildGuard::spawn("mcpctl cleanup", &mut cmd);
    assert!(
        proxy.wait_frozen(std::time::Duration::from_secs(60)),
        "cleanup never reached DeleteTargetGroup"
    );
    child.kill();
    let archives = s.archives();
    assert_eq!(archives.len(), 1);
    let manifest = std::fs::read_to_string(archives[0].join("archive.json")).unwrap();
    assert!(manifest.contains("\"started\""), "{manifest}");
    assert!(
        s.target_groups().contains_key(OLD_TG),
        "stopped before the target group went"
    );

    // Run again: continues with the same archive and finishes.
    let o = s.ok(&[
        "cleanup", "--stack", "stateful", "--yes", "--output", "json",
    ]);
    let report = json(&o);
    assert_eq!(report["continued"], true, "{report}");
    assert_eq!(s.archives(), archives, "no second archive");
    assert!(
        archives[0].join("service.json").is_file(),
        "the first run's capture is kept"
    );
    let manifest = std::fs::read_to_string(archives[0].join("archive.json")).unwrap();
    assert!(manifest.contains("\"finished\""), "{manifest}");
    assert!(!s.target_groups().contains_key(OLD_TG));
    assert_eq!(s.routing(), vec![(NEW_TG.to_string(), 100)]);

    // And once more: nothing to do.
    let o = s.ok(&["cleanup", "--stack", "stateful", "--yes"]);
    assert!(text(&o).contains("Nothing to do"), "{}", text(&o));

    // The images go only when asked for.
    let o = s.ok(&["cleanup", "--stack", "stateful", "--delete-images", "--yes"]);
    assert!(text(&o).contains("ecr:DeleteRepository"), "{}", text(&o));
    let repos = s.aws.boto(
        "result = sorted(r['repositoryName'] for r in ecr.describe_repositories()['repositories'])",
    );
    assert_eq!(
        repos,
        serde_json::json!(["opensearch-mcp-server-stateless"])
    );

    // The last stack goes with the task role mcpctl manages (nothing else runs as it now);
    // the shared execution role stays.
    let role_of = |name: &str| {
        s.aws.boto(&format!(
            "try:\n    result = iam.get_role(RoleName='{name}')['Role']['RoleName']\nexcept iam.exceptions.NoSuchEntityException:\n    result = None"
        ))
    };
    assert_eq!(role_of("ecsTaskRole"), "ecsTaskRole");
    let o = s.ok(&[
        "cleanup",
        "--stack",
        "stateless",
        "--yes",
        "--force",
        "--delete-role",
    ]);
    assert!(text(&o).contains("iam:DeleteRole"), "{}", text(&o));
    assert_eq!(role_of("ecsTaskRole"), serde_json::Value::Null);
    assert_eq!(role_of("ecsTaskExecutionRole"), "ecsTaskExecutionRole");
    assert!(s.target_groups().is_empty(), "{:?}", s.target_groups());
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_sees_rules_on_every_listener_of_the_alb() {
    let f = Fixture::start(true, true).await;
    let o = f.mcpctl(&["cutover", "--yes"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    // Someone routes /reports/* on another listener to the stateful group.
    let lb = f.aws.shared["load_balancer"].as_str().unwrap();
    let other = f
        .elb
        .create_listener()
        .load_balancer_arn(lb)
        .protocol(elbv2::types::ProtocolEnum::Http)
        .port(8080)
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
        .expect("create listener")
        .listeners()[0]
        .listener_arn()
        .unwrap()
        .to_string();
    create_rule(&f.elb, &other, 5, "/reports/*", &f.stateful_tg).await;
    refused_without_change(
        &f,
        &["cleanup", "--stack", "stateful", "--yes"],
        3,
        "rule 5 (/reports/*) is not a rule of stack stateful but forwards only to this stack's target group",
    )
    .await;
}
