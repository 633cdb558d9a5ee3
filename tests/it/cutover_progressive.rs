//! `mcpctl cutover --steps` against moto, with the test playing the ALB: it puts the stateless
//! target group's `AWS/ApplicationELB` data points into CloudWatch during a bake (moto stores
//! `PutMetricData` and answers `GetMetricData` with sums), and, for the probe gate, real server
//! replicas behind `mcpctl local`'s round-robin router stand behind `--probe-url`.
//!
//! Every MCP probe goes to 127.0.0.1: the moto ALB's DNS name is never contacted (`--no-probe`
//! or `--probe-url` in every run).

use std::io::Read;
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::aws::{moto_stack, Aws};
use crate::common::fault_proxy::{FaultProxy, Reply, Request};
use crate::common::local::{signal, Local};
use serde_json::Value;

const STATEFUL_TG: &str = "opensearch-mcp-tg";
const STATELESS_TG: &str = "opensearch-mcp-tg-stateless";
const PROGRESS_TAG: &str = "mcpctl:cutover-progressive";
const REPLACED_TAG: &str = "mcpctl:cutover-replaced";
const RESTORED_TAG: &str = "mcpctl:cutover-restored";
const APPLIED_TAG: &str = "mcpctl:cutover-applied";

/// moto with both stacks deployed and a healthy target in the stateless group.
fn deployed(dir: &Path) -> Aws {
    let aws = Aws::start();
    moto_stack(dir, "stateful", "");
    moto_stack(dir, "stateless", "");
    aws.up_all(dir.to_str().unwrap(), &["stateful", "stateless"]);
    aws.register_target(STATELESS_TG, "10.0.1.10");
    aws
}

/// `mcpctl --output json cutover --yes --stacks-dir DIR ARGS`, started in the background.
fn spawn_cutover(aws: &Aws, dir: &Path, args: &[&str]) -> Child {
    let mut all = vec![
        "--output",
        "json",
        "cutover",
        "--yes",
        "--stacks-dir",
        dir.to_str().unwrap(),
        "--interval",
        "1s",
        // moto answers at once: no late periods to wait for.
        "--metrics-lag",
        "0s",
    ];
    all.extend_from_slice(args);
    aws.mcpctl_cmd(&all)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mcpctl cutover")
}

/// Wait (bounded) for the child and parse its one JSON document.
fn finish(mut child: Child, within: Duration) -> (Output, Value) {
    let deadline = Instant::now() + within;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "cutover did not end within {within:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON document ({e}):\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, doc)
}

/// The production rule (priority 100, `/ossserver/*`): its weights by target group name and tags.
fn production(aws: &Aws) -> Value {
    aws.boto(
        "lb = elb.describe_load_balancers(Names=['fastmcp-alb'])['LoadBalancers'][0]['LoadBalancerArn']\n\
         ls = [l for l in elb.describe_listeners(LoadBalancerArn=lb)['Listeners'] if l['Port'] == 80][0]\n\
         names = {t['TargetGroupArn']: t['TargetGroupName'] for t in elb.describe_target_groups()['TargetGroups']}\n\
         r = [r for r in elb.describe_rules(ListenerArn=ls['ListenerArn'])['Rules'] if r['Priority'] == '100'][0]\n\
         a = r['Actions'][0]\n\
         groups = a.get('ForwardConfig', {}).get('TargetGroups') or [{'TargetGroupArn': a['TargetGroupArn'], 'Weight': 1}]\n\
         tags = {t['Key']: t['Value'] for t in elb.describe_tags(ResourceArns=[r['RuleArn']])['TagDescriptions'][0]['Tags']}\n\
         result = {'weights': {names[g['TargetGroupArn']]: g.get('Weight', 1) for g in groups}, 'tags': tags}",
    )
}

/// Wait (bounded) until the production rule sends `percent` to the stateless group.
fn wait_for_step(aws: &Aws, child: &mut Child, percent: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let p = production(aws);
        if p["weights"][STATELESS_TG] == percent && p["tags"][PROGRESS_TAG].is_string() {
            return p;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("cutover ended ({status}) before step {percent}%: {err}");
        }
        assert!(Instant::now() < deadline, "never reached {percent}%: {p}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Play the ALB: `requests` to the stateless group, `errors` of them 5XX and the rest 2XX,
/// stamped now.
fn put_alb_metrics(aws: &Aws, requests: u32, errors: u32) {
    aws.boto(&format!(
        "cw = boto3.client('cloudwatch')\n\
         lb = elb.describe_load_balancers(Names=['fastmcp-alb'])['LoadBalancers'][0]['LoadBalancerArn'].split(':loadbalancer/')[1]\n\
         tg = elb.describe_target_groups(Names=['{STATELESS_TG}'])['TargetGroups'][0]['TargetGroupArn'].split(':')[-1]\n\
         now = datetime.datetime.now(datetime.timezone.utc)\n\
         dims = [{{'Name': 'LoadBalancer', 'Value': lb}}, {{'Name': 'TargetGroup', 'Value': tg}}]\n\
         for name, v in [('RequestCount', {requests}), ('HTTPCode_Target_5XX_Count', {errors}), ('HTTPCode_Target_2XX_Count', {requests} - {errors})]:\n\
         \x20   cw.put_metric_data(Namespace='AWS/ApplicationELB', MetricData=[{{'MetricName': name, 'Dimensions': dims, 'Timestamp': now, 'Value': v, 'Unit': 'Count'}}])\n\
         result = tg"
    ));
}

/// The rule is back on the stateful group alone, the record moved to "restored".
fn assert_restored(aws: &Aws) {
    let p = production(aws);
    assert_eq!(p["weights"], serde_json::json!({STATEFUL_TG: 1}), "{p}");
    let tags = &p["tags"];
    assert!(tags[RESTORED_TAG].is_string(), "{p}");
    for gone in [REPLACED_TAG, APPLIED_TAG, PROGRESS_TAG] {
        assert!(tags[gone].is_null(), "{gone} left on the rule: {p}");
    }
}

#[test]
fn a_5xx_breach_during_the_bake_restores_the_routing_and_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let aws = deployed(dir.path());
    let mut child = spawn_cutover(
        &aws,
        dir.path(),
        &["--steps", "10,50,100", "--bake", "60s", "--no-probe"],
    );
    let at_10 = wait_for_step(&aws, &mut child, 10);
    assert_eq!(at_10["weights"][STATEFUL_TG], 90);
    assert!(at_10["tags"][PROGRESS_TAG]
        .as_str()
        .unwrap()
        .starts_with("v1 to=opensearch-mcp-tg-stateless steps=10/50/100 step=0 since="));
    // 50 of 200 requests answered 5XX: 25% > 1%.
    put_alb_metrics(&aws, 200, 50);
    let (out, doc) = finish(child, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{doc}\n{stderr}");
    assert_eq!(doc["exit_code"], 4);
    assert_eq!(doc["error"]["kind"], "aborted");
    assert_eq!(doc["outcome"], "aborted", "{doc}");
    assert_eq!(doc["step"], 0);
    assert_eq!(doc["breach"]["gate"], "error_rate");
    assert_eq!(doc["breach"]["observed"], 25.0);
    assert_eq!(doc["breach"]["threshold"], 1.0);
    let last = &doc["steps"][0]["last_reading"];
    assert_eq!(last["metrics"]["requests"], 200.0, "{doc}");
    assert_eq!(last["metrics"]["target_5xx"], 50.0);
    assert!(doc["restore_ms"].as_f64().unwrap() > 0.0);
    assert!(
        stderr.contains(
            "aborted by a gate at step 1 (10%): 25.00% target 5XX (50 of 200 requests) > 1%"
        ),
        "{stderr}"
    );
    // Progress (on stderr with --output json): the step, then a line per reading.
    assert!(
        stderr.contains("Step 1/3: 10% to stack stateless (set: "),
        "{stderr}"
    );
    assert!(
        stderr.lines().any(|l| l.starts_with("step 1/3 10%")
            && l.contains("requests 200")
            && l.contains("5XX 25.00%/1%")
            && l.contains("BREACHED")),
        "{stderr}"
    );
    assert_restored(&aws);

    // Ctrl-C without a terminal to ask on: the recorded routing is restored (exit 4). On a fresh
    // ALB: a step judges every period it overlaps, so in this same minute the 5XX above would
    // breach it again at once.
    let dir = tempfile::tempdir().unwrap();
    let aws = deployed(dir.path());
    let mut child = spawn_cutover(
        &aws,
        dir.path(),
        &["--steps", "10,100", "--bake", "60s", "--no-probe"],
    );
    wait_for_step(&aws, &mut child, 10);
    signal(child.id() as i32, libc::SIGINT);
    let (out, doc) = finish(child, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(4), "{doc}");
    assert_eq!(doc["outcome"], "interrupted");
    assert_eq!(doc["rolled_back"], true);
    assert_restored(&aws);
}

/// CloudWatch refusing every `GetMetricData` (the deployer's credentials lack the action): the
/// step cannot be judged, so it breaches `metrics_unavailable` and the routing is restored —
/// never "every gate held".
#[test]
fn unreadable_metrics_breach_and_restore_the_routing() {
    let dir = tempfile::tempdir().unwrap();
    let aws = deployed(dir.path());
    let refused = Arc::new(AtomicUsize::new(0));
    let n = refused.clone();
    let proxy = FaultProxy::start(
        aws.moto.port,
        Arc::new(move |_req: &mut Request| {
            n.fetch_add(1, Ordering::SeqCst);
            // CloudWatch's query-protocol error, as AWS sends it to a caller without the action.
            Reply::Respond {
                status: 403,
                content_type: "text/xml".into(),
                body: "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: cloudwatch:GetMetricData</Message></Error><RequestId>0</RequestId></ErrorResponse>".into(),
            }
        }),
    );
    let child = aws
        .mcpctl_cmd(&[
            "--output",
            "json",
            "cutover",
            "--yes",
            "--stacks-dir",
            dir.path().to_str().unwrap(),
            "--interval",
            "1s",
            "--metrics-lag",
            "0s",
            "--steps",
            "50,100",
            "--bake",
            "60s",
            "--no-probe",
        ])
        .env("AWS_ENDPOINT_URL_CLOUDWATCH", &proxy.endpoint)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (out, doc) = finish(child, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{doc}\n{stderr}");
    assert_eq!(doc["breach"]["gate"], "metrics_unavailable", "{doc}");
    let message = doc["breach"]["message"].as_str().unwrap();
    assert!(message.contains("cloudwatch:GetMetricData"), "{message}");
    assert!(message.contains("AccessDenied"), "{message}");
    assert_eq!(doc["step"], 0);
    assert!(refused.load(Ordering::SeqCst) >= 3);
    assert!(!stderr.contains("every gate held"), "{stderr}");
    assert_restored(&aws);
}

/// Traffic too thin to judge: with `--require-traffic` an unjudged step breaches (exit 4,
/// routing restored), its step saying why; the probe alone never makes it "held".
#[test]
fn an_unjudged_step_breaches_with_require_traffic() {
    let dir = tempfile::tempdir().unwrap();
    let aws = deployed(dir.path());
    let child = spawn_cutover(
        &aws,
        dir.path(),
        &[
            "--steps",
            "100",
            "--bake",
            "60s",
            "--no-probe",
            "--require-traffic",
        ],
    );
    let (out, doc) = finish(child, Duration::from_secs(150));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{doc}\n{stderr}");
    assert_eq!(doc["breach"]["gate"], "not_judged", "{doc}");
    let step = &doc["steps"][0];
    assert_eq!(step["judged"], false, "{doc}");
    assert_eq!(step["requests"], 0.0, "{doc}");
    assert!(step["not_judged"].as_str().is_some(), "{doc}");
    assert!(
        stderr.contains("the step's rates were not judged (")
            && stderr.contains("--require-traffic"),
        "the breach says why: {stderr}"
    );
    assert_restored(&aws);
}

#[test]
fn clean_steps_reach_100_percent_and_an_interrupted_bake_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let aws = deployed(dir.path());
    let d = dir.path().to_str().unwrap();
    // Nothing recorded yet: nothing to resume (a refusal, exit 3).
    let out = aws.mcpctl(&[
        "cutover",
        "--resume",
        "--yes",
        "--no-probe",
        "--stacks-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to resume"));

    // A dry run shows the first step's calls (the progress record rides with the routing
    // record) and changes nothing.
    let before = production(&aws);
    let out = aws.mcpctl(&[
        "cutover",
        "--steps",
        "10,100",
        "--no-probe",
        "--dry-run",
        "--stacks-dir",
        d,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("Step 1 of 2:") && text.contains("Dry run: nothing was changed."),
        "{text}"
    );
    assert!(
        text.contains(PROGRESS_TAG) && text.contains("ModifyRule"),
        "{text}"
    );
    assert_eq!(production(&aws), before);

    // The process dies (SIGKILL: no handler runs) during the first bake.
    let mut child = spawn_cutover(
        &aws,
        dir.path(),
        &["--steps", "10,100", "--bake", "60s", "--no-probe"],
    );
    wait_for_step(&aws, &mut child, 10);
    put_alb_metrics(&aws, 120, 0);
    child.kill().unwrap();
    child.wait().unwrap();
    let left = production(&aws);
    assert_eq!(left["weights"][STATELESS_TG], 10, "{left}");
    assert!(left["tags"][PROGRESS_TAG]
        .as_str()
        .unwrap()
        .contains("step=0"));

    // --resume continues the recorded step's bake, then the next step, and ends at 100%.
    let child = spawn_cutover(&aws, dir.path(), &["--resume", "--no-probe"]);
    let (out, doc) = finish(child, Duration::from_secs(200));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{doc}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(doc["outcome"], "completed");
    assert_eq!(doc["resumed"], true);
    assert_eq!(doc["steps_planned"], serde_json::json!([10, 100]));
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{doc}");
    // Step 1 was already set: no calls, and the data put before the kill still counts.
    assert_eq!(steps[0]["calls"], serde_json::json!([]));
    assert_eq!(steps[0]["last_reading"]["metrics"]["requests"], 120.0);
    assert_eq!(steps[0]["last_reading"]["verdict"]["judged"], true);
    assert_eq!(steps[1]["weight"], 100);
    let done = production(&aws);
    // At 100% the stateful group stays attached at weight 0; the progress record is gone and
    // the routing record stays for `rollback`.
    assert_eq!(
        done["weights"],
        serde_json::json!({STATEFUL_TG: 0, STATELESS_TG: 100}),
        "{done}"
    );
    assert!(done["tags"][PROGRESS_TAG].is_null(), "{done}");
    assert!(done["tags"][REPLACED_TAG].is_string(), "{done}");
    let out = aws.mcpctl(&["rollback", "--yes", "--stacks-dir", d]);
    assert_eq!(out.status.code(), Some(0));
    assert_restored(&aws);
}

#[test]
fn the_probe_gate_aborts_on_session_not_found_from_stateful_replicas() {
    let local = Local::start(&["stateful", "stateless"]);
    let dir = tempfile::tempdir().unwrap();
    let aws = deployed(dir.path());
    // Three stateful replicas behind a round-robin router: the session made by `initialize` is
    // unknown to the replica that gets the next request.
    let stateful = local.mcp_url("stateful");
    let child = spawn_cutover(
        &aws,
        dir.path(),
        &[
            "--steps",
            "10,100",
            "--bake",
            "60s",
            "--probe-url",
            &stateful,
            "--probe-interval",
            "1s",
        ],
    );
    let (out, doc) = finish(child, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(4), "{doc}");
    assert_eq!(doc["breach"]["gate"], "session_not_found", "{doc}");
    let probe = &doc["steps"][0]["last_reading"]["probe"];
    assert_eq!(probe["session_not_found"], 1, "{doc}");
    assert!(probe["last_error"]
        .as_str()
        .unwrap()
        .contains("Session not found"));
    assert_eq!(doc["probe_url"], stateful);
    assert_restored(&aws);

    // The stateless replicas answer every probe: the cutover completes.
    let stateless = local.mcp_url("stateless");
    let child = spawn_cutover(
        &aws,
        dir.path(),
        &[
            "--steps",
            "100",
            "--bake",
            "60s",
            "--probe-url",
            &stateless,
            "--probe-interval",
            "1s",
        ],
    );
    let (out, doc) = finish(child, Duration::from_secs(150));
    assert_eq!(out.status.code(), Some(0), "{doc}");
    for step in doc["steps"].as_array().unwrap() {
        let p = &step["last_reading"]["probe"];
        assert!(p["runs"].as_u64().unwrap() >= 2, "{doc}");
        assert_eq!(p["failures"], 0, "{doc}");
    }
    assert_eq!(production(&aws)["weights"][STATELESS_TG], 100);
}

/// Capacity before weight: one healthy stateless target cannot take what four stateful ones
/// carry. The 100% step is refused (exit 3) before any change, with the numbers and the fix;
/// `--force` goes ahead.
#[test]
fn a_step_the_to_group_cannot_carry_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let aws = deployed(dir.path());
    for ip in ["10.0.2.11", "10.0.2.12", "10.0.2.13", "10.0.2.14"] {
        aws.register_target(STATEFUL_TG, ip);
    }
    let before = production(&aws);
    let child = spawn_cutover(
        &aws,
        dir.path(),
        &["--steps", "100", "--bake", "60s", "--no-probe"],
    );
    let (out, doc) = finish(child, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{doc}\n{stderr}");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("it has 1 healthy target(s), and at 100% it would carry the load that 4 healthy target(s) carry now, so it needs at least 4"),
        "{message}"
    );
    assert!(
        message.contains("mcpctl scale --stack stateless --count 4"),
        "{message}"
    );
    assert_eq!(production(&aws), before, "nothing changed");
    // A 25% canary fits (1 of 4), and --force overrides for the rest.
    let out = aws.mcpctl(&[
        "cutover",
        "--weight",
        "25",
        "--yes",
        "--stacks-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = aws.mcpctl(&[
        "cutover",
        "--weight",
        "50",
        "--yes",
        "--stacks-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let out = aws.mcpctl(&[
        "cutover",
        "--weight",
        "50",
        "--force",
        "--yes",
        "--stacks-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(production(&aws)["weights"][STATELESS_TG], 50);
}

/// With `service.autoscaling` on the `--to` stack, a step it cannot carry raises the scalable
/// target's minimum instead of refusing, and waits for the healthy targets (here registered by
/// the test, as ECS would register the new tasks); a wait that runs out is refused (exit 3).
#[test]
fn autoscaling_minimum_is_raised_for_a_step_and_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let aws = Aws::start();
    moto_stack(dir.path(), "stateful", "");
    moto_stack(
        dir.path(),
        "stateless",
        "  autoscaling:\n    min: 1\n    max: 6\n    requests_per_target: 100\n",
    );
    aws.up_all(dir.path().to_str().unwrap(), &["stateful", "stateless"]);
    aws.register_target(STATELESS_TG, "10.0.1.10");
    for ip in ["10.0.2.11", "10.0.2.12", "10.0.2.13", "10.0.2.14"] {
        aws.register_target(STATEFUL_TG, ip);
    }
    let min = || {
        aws.boto(
            "aas = boto3.client('application-autoscaling')\n\
             t = aas.describe_scalable_targets(ServiceNamespace='ecs', ResourceIds=['service/fastmcp-time-server-cluster/opensearch-mcp-server-stateless'])['ScalableTargets']\n\
             result = t[0]['MinCapacity']",
        )
    };
    assert_eq!(min(), 1);
    // Nobody starts the tasks: the wait runs out, nothing of the routing changed.
    let before = production(&aws);
    let child = spawn_cutover(
        &aws,
        dir.path(),
        &[
            "--steps",
            "100",
            "--bake",
            "60s",
            "--no-probe",
            "--capacity-wait",
            "3s",
        ],
    );
    let (out, doc) = finish(child, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(3), "{doc}");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("1 healthy of the 4 needed") && message.contains("minimum is now 4"),
        "{message}"
    );
    assert_eq!(min(), 4, "the minimum was raised for the step");
    assert_eq!(production(&aws), before);

    // The new tasks register while the step waits: it goes ahead and completes.
    let mut child = spawn_cutover(
        &aws,
        dir.path(),
        &[
            "--steps",
            "100",
            "--bake",
            "60s",
            "--no-probe",
            "--capacity-wait",
            "60s",
        ],
    );
    std::thread::sleep(Duration::from_secs(3));
    assert!(child.try_wait().unwrap().is_none(), "it waits for capacity");
    assert_eq!(production(&aws), before, "no weight before the capacity");
    for ip in ["10.0.1.11", "10.0.1.12", "10.0.1.13"] {
        aws.register_target(STATELESS_TG, ip);
    }
    let (out, doc) = finish(child, Duration::from_secs(150));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{doc}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(doc["capacity_raised"][0]["to_min"], 4, "{doc}");
    assert_eq!(doc["capacity_raised"][0]["healthy"], 4, "{doc}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("stack stateless has autoscaling: waited")
    );
    assert_eq!(production(&aws)["weights"][STATELESS_TG], 100);
}

/// The default probe must reach the `--to` stack: when its own rule (priority 110) forwards to
/// another target group, a probe there would judge the wrong stack, so the cutover is refused
/// (exit 3) before any change, naming `--probe-url`.
#[test]
fn a_probe_route_that_reaches_another_stack_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let aws = deployed(dir.path());
    aws.boto(
        "lb = elb.describe_load_balancers(Names=['fastmcp-alb'])['LoadBalancers'][0]['LoadBalancerArn']\n\
         ls = [l for l in elb.describe_listeners(LoadBalancerArn=lb)['Listeners'] if l['Port'] == 80][0]\n\
         old = elb.describe_target_groups(Names=['opensearch-mcp-tg'])['TargetGroups'][0]['TargetGroupArn']\n\
         r = [r for r in elb.describe_rules(ListenerArn=ls['ListenerArn'])['Rules'] if r['Priority'] == '110'][0]\n\
         elb.modify_rule(RuleArn=r['RuleArn'], Actions=[{'Type': 'forward', 'TargetGroupArn': old}])",
    );
    let before = production(&aws);
    let child = spawn_cutover(&aws, dir.path(), &["--steps", "100", "--bake", "60s"]);
    let (out, doc) = finish(child, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(3), "{doc}");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("not to target group opensearch-mcp-tg-stateless")
            && message.contains("--probe-url"),
        "{message}"
    );
    assert_eq!(production(&aws), before, "nothing changed");
}

#[test]
fn bad_progressive_flags_exit_2_before_any_change() {
    let dir = tempfile::tempdir().unwrap();
    let aws = Aws::start();
    moto_stack(dir.path(), "stateful", "");
    moto_stack(dir.path(), "stateless", "");
    let d = dir.path().to_str().unwrap();
    for (args, want) in [
        (vec!["--steps", "50,10"], "must rise"),
        (vec!["--steps", "10,150"], "`150`"),
        (vec!["--steps", "10", "--bake", "0s"], "--bake"),
        // Shorter than one ALB metric period.
        (vec!["--steps", "10", "--bake", "59s"], "60s to 24h"),
        (
            vec!["--steps", "10", "--metrics-lag", "1h"],
            "--metrics-lag",
        ),
        (
            vec!["--steps", "10", "--metrics-lag", "soon"],
            "--metrics-lag",
        ),
        (vec!["--steps", "10", "--interval", "0s"], "--interval"),
        (
            vec!["--steps", "10", "--probe-interval", "500ms"],
            "--probe-interval",
        ),
        (vec!["--steps", "10", "--bake", "25h"], "--bake"),
        (vec!["--steps", "10", "--max-p99", "soon"], "--max-p99"),
        (vec!["--steps", "10", "--min-requests=-5"], "--min-requests"),
        (
            vec!["--steps", "10", "--max-error-rate", "101"],
            "--max-error-rate",
        ),
        (vec!["--steps", "10", "--weight", "10"], "--weight"),
        (
            vec!["--steps", "10", "--probe-url", "ftp://x", "--bake", "60s"],
            "--probe-url",
        ),
        (vec!["--resume", "--steps", "10"], "--resume"),
    ] {
        let mut all = vec!["cutover", "--yes", "--stacks-dir", d];
        all.extend(args.iter().copied());
        let out = aws.mcpctl(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
}
