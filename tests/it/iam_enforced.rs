//! The deployer's policy from `mcpctl iam-policy`, proven under moto's IAM enforcement
//! (`POST /moto-api/reset-auth`): as an IAM user holding exactly the generated actions, the
//! whole migration exits 0; holding all but one of them, the first command that needs it
//! fails (exit 1, or 4 for a progressive cutover that restored the routing), names the action,
//! and leaves the routing as it was.
//!
//! moto checks actions only: it passes `"*"` as the resource and fails conditions, so each user
//! holds the actions with `Resource: "*"` and no condition; the resource scoping is checked in
//! `src/aws/permissions/tests.rs` against the Service Authorization Reference.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;

use std::sync::{mpsc, Arc, Mutex};
use std::time::Instant;

use serde_json::Value;

use crate::common::fault_proxy::{FaultProxy, Reply, Request};

use crate::common::aws::{moto_stack, Aws, ACCOUNT, IMAGE};

/// An IAM user's access key.
#[derive(Clone, Debug)]
struct Keys {
    id: String,
    secret: String,
}

/// The actions of `mcpctl iam-policy --commands COMMAND` for the stacks in `dir`.
fn policy_actions(aws: &Aws, dir: &str, commands: &str) -> Vec<String> {
    let doc = aws.mcpctl_json(&[
        "--stacks-dir",
        dir,
        "iam-policy",
        "--account",
        ACCOUNT,
        "--commands",
        commands,
    ]);
    doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

/// Create the users — `deployer` with every action of `actions`, `without-I` with all but
/// the I-th (each on `"*"`, no condition), and an admin — then turn IAM enforcement on.
/// Returns each user's keys and the admin's.
fn users_then_enforce(aws: &Aws, actions: &[String]) -> (BTreeMap<String, Keys>, Keys) {
    // moto names an action by the request's signing name, which for CloudWatch is
    // `monitoring`, not IAM's `cloudwatch` prefix.
    let moto_names: Vec<String> = actions
        .iter()
        .map(|a| a.replace("cloudwatch:", "monitoring:"))
        .collect();
    let spec = serde_json::to_string(&moto_names).unwrap();
    let code = format!(
        "import os, urllib.request\n\
         actions = json.loads({spec:?})\n\
         users = {{'deployer': actions, 'admin': ['*']}}\n\
         for i, a in enumerate(actions):\n\
         \x20   users['without-%d' % i] = [x for x in actions if x != a]\n\
         result = {{}}\n\
         for name, allowed in users.items():\n\
         \x20   iam.create_user(UserName=name)\n\
         \x20   doc = {{'Version': '2012-10-17', 'Statement': [{{'Effect': 'Allow', 'Action': allowed, 'Resource': '*'}}]}}\n\
         \x20   iam.put_user_policy(UserName=name, PolicyName='deployer', PolicyDocument=json.dumps(doc))\n\
         \x20   k = iam.create_access_key(UserName=name)['AccessKey']\n\
         \x20   result[name] = [k['AccessKeyId'], k['SecretAccessKey']]\n\
         req = urllib.request.Request(os.environ['AWS_ENDPOINT_URL'] + '/moto-api/reset-auth', data=b'0', method='POST', headers={{'Content-Type': 'text/plain'}})\n\
         urllib.request.urlopen(req).read()\n"
    );
    let keys = aws.boto(&code);
    let mut out: BTreeMap<String, Keys> = keys
        .as_object()
        .unwrap()
        .iter()
        .map(|(n, k)| {
            (
                n.clone(),
                Keys {
                    id: k[0].as_str().unwrap().into(),
                    secret: k[1].as_str().unwrap().into(),
                },
            )
        })
        .collect();
    let admin = out.remove("admin").unwrap();
    (out, admin)
}

/// `mcpctl --output json ARGS` as the user with `keys`.
fn run_as(aws: &Aws, keys: &Keys, args: &[&str]) -> Output {
    let mut all = vec!["--output", "json"];
    all.extend_from_slice(args);
    aws.mcpctl_cmd(&all)
        .env("AWS_ACCESS_KEY_ID", &keys.id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .expect("run mcpctl")
}

/// A boto3 snippet run as `keys`.
fn boto_as(aws: &Aws, keys: &Keys, code: &str) -> Value {
    aws.boto_as(&keys.id, &keys.secret, code)
}

/// The traffic every listener rule of every load balancer sends: ARN → priority, conditions
/// and each target group's share of the requests (a group at weight 0 gets none, so dropping
/// it, as cleanup's hand-over does, changes no request's way).
fn routing(aws: &Aws, admin: &Keys) -> BTreeMap<String, Value> {
    let v = boto_as(
        aws,
        admin,
        "def shares(actions):\n\
         \x20   out = []\n\
         \x20   for a in actions:\n\
         \x20       groups = (a.get('ForwardConfig') or {}).get('TargetGroups') or ([{'TargetGroupArn': a['TargetGroupArn'], 'Weight': 1}] if a.get('TargetGroupArn') else [])\n\
         \x20       total = sum(g.get('Weight', 1) for g in groups) or 1\n\
         \x20       out.append([a['Type'], sorted([g['TargetGroupArn'], round(g.get('Weight', 1) / total, 4)] for g in groups if g.get('Weight', 1) > 0)])\n\
         \x20   return out\n\
         result = {}\n\
         for lb in elb.describe_load_balancers()['LoadBalancers']:\n\
         \x20   for l in elb.describe_listeners(LoadBalancerArn=lb['LoadBalancerArn'])['Listeners']:\n\
         \x20       for r in elb.describe_rules(ListenerArn=l['ListenerArn'])['Rules']:\n\
         \x20           result[r['RuleArn']] = [r['Priority'], r['Conditions'], shares(r['Actions'])]\n",
    );
    v.as_object().unwrap().clone().into_iter().collect()
}

/// One command of the flow: its arguments and the codes a run without one action may end with
/// (1; 4 for a progressive cutover, which restores the routing).
struct Step {
    command: &'static str,
    args: Vec<String>,
    denied_codes: &'static [i32],
    /// A rollback (or a progressive cutover's restore) may end with the routing restored to
    /// what it was before the first cutover, not unchanged.
    may_restore: bool,
}

fn step(command: &'static str, args: &[&str]) -> Step {
    Step {
        command,
        args: args.iter().map(|s| s.to_string()).collect(),
        denied_codes: &[1],
        may_restore: false,
    }
}

/// Reads whose refusal counts as nothing there for a stack without autoscaling or alarm
/// rollback (README, "AWS set-up"): a run without them succeeds, so they are not dropped.
const TOLERATED: &[&str] = &[
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:DescribeScalingPolicies",
    "application-autoscaling:DescribeScalingActivities",
    "cloudwatch:DescribeAlarms",
];

/// A second moto, in step with the first, whose requests pass a recording proxy: running a
/// step there first tells which actions the step calls, so each can be dropped on the
/// enforcing moto knowing the step reaches it.
struct Scout {
    aws: Aws,
    _proxy: FaultProxy,
    endpoint: String,
    seen: Arc<Mutex<Vec<String>>>,
    dir: tempfile::TempDir,
}

impl Scout {
    /// The scout, with `setup` (the stack files, a deployment) done on it as on the other.
    fn start(setup: impl Fn(&Aws, &std::path::Path)) -> Scout {
        let aws = Aws::start();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let record = seen.clone();
        let proxy = FaultProxy::start(
            aws.moto.port,
            Arc::new(move |r: &mut Request| {
                if let Some(action) = iam_action(r) {
                    let mut seen = record.lock().unwrap();
                    if !seen.contains(&action) {
                        seen.push(action);
                    }
                }
                Reply::Forward
            }),
        );
        let dir = tempfile::tempdir().unwrap();
        setup(&aws, dir.path());
        let endpoint = proxy.endpoint.clone();
        Scout {
            aws,
            _proxy: proxy,
            endpoint,
            seen,
            dir,
        }
    }

    /// Run the step here (asserting success) and return the IAM actions it called, in the
    /// order of their first call.
    fn actions_of(&self, s: &Step) -> Vec<String> {
        self.seen.lock().unwrap().clear();
        let d = self.dir.path().to_str().unwrap();
        let mut args: Vec<&str> = vec!["--stacks-dir", d, s.command];
        args.extend(s.args.iter().map(String::as_str));
        let out = self
            .aws
            .mcpctl_cmd(&args)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "scout: mcpctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.seen.lock().unwrap().clone()
    }
}

/// `service:Operation` of a request: the signing name from its credential scope (IAM's prefix,
/// except that CloudWatch signs as `monitoring`), the operation from `X-Amz-Target`, `Action=`
/// or, for CloudWatch's CBOR protocol, the path's `/operation/NAME`.
fn iam_action(r: &Request) -> Option<String> {
    let auth = &r
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))?
        .1;
    let scope = auth.split("Credential=").nth(1)?.split(',').next()?;
    let service = scope.split('/').nth(3)?;
    let service = if service == "monitoring" {
        "cloudwatch"
    } else {
        service
    };
    let operation = if r.operation.is_empty() {
        r.path.rsplit_once("/operation/")?.1.to_string()
    } else {
        r.operation.clone()
    };
    Some(format!("{service}:{operation}"))
}

/// Everything [`run_flow`] needs besides the steps.
struct Flow<'a> {
    aws: &'a Aws,
    dir: &'a str,
    deployer: &'a Keys,
    without: &'a BTreeMap<String, Keys>,
    admin: &'a Keys,
    /// Reads whose refusal the flow's commands count as nothing there.
    tolerated: &'a [&'a str],
}

/// Run every step on the scout, in order, on a thread of its own, sending each step's actions
/// as soon as it has them; `before(i)` runs on the scout before step `i`. The scout's moto
/// depends only on its own steps, so it runs ahead while the enforcing moto works through the
/// refused runs of earlier steps (the flow waits only for the first step's list).
fn scout_ahead<'s>(
    scope: &'s std::thread::Scope<'s, '_>,
    scout: &'s Scout,
    steps: &'s [Step],
    before: impl Fn(usize) + Send + 's,
) -> mpsc::Receiver<Vec<String>> {
    let (tx, rx) = mpsc::channel();
    scope.spawn(move || {
        for (i, s) in steps.iter().enumerate() {
            before(i);
            if tx.send(scout.actions_of(s)).is_err() {
                return;
            }
        }
    });
    rx
}

/// Run `steps` in order. For each: take the actions it calls from the scout (`called`, one
/// list per step, see [`scout_ahead`]); for each of them not yet proved needed (and not a
/// tolerated read), in the order they are first called, run it on the enforcing moto as the
/// user without that action and check the failure (a refused run keeps what it did before the
/// refused call, as a full run would have: the next run gets one call further); then run it as
/// the deployer. Returns the actions proved needed.
fn run_flow(
    f: &Flow<'_>,
    steps: &[Step],
    called: &mpsc::Receiver<Vec<String>>,
    pre_cutover: &BTreeMap<String, Value>,
) -> BTreeSet<String> {
    let mut proved = BTreeSet::new();
    for s in steps {
        let started = Instant::now();
        let mut args: Vec<&str> = vec!["--stacks-dir", f.dir, s.command];
        args.extend(s.args.iter().map(String::as_str));
        let called = called
            .recv()
            .expect("the scout stopped before this step (see its panic)");
        let scouted = started.elapsed();
        let mut refused_runs = 0;
        // What the rules send before each refused run: the previous run's `after` (it is the
        // state that run left), so each run costs one look, not two.
        let mut last_seen: Option<BTreeMap<String, Value>> = None;
        for action in &called {
            assert!(
                f.without.contains_key(action) || action == "sts:GetCallerIdentity",
                "mcpctl {args:?} called {action}, which the generated policy lacks"
            );
        }
        for action in called.iter().filter(|a| f.without.contains_key(*a)) {
            if proved.contains(action) || f.tolerated.contains(&action.as_str()) {
                continue;
            }
            let before = last_seen.take().unwrap_or_else(|| routing(f.aws, f.admin));
            let out = run_as(f.aws, &f.without[action], &args);
            refused_runs += 1;
            let code = out.status.code().unwrap_or(-1);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                s.denied_codes.contains(&code),
                "mcpctl {args:?} without {action}: exit {code}\nstdout: {stdout}\nstderr: {stderr}"
            );
            assert!(
                stderr.contains(action.as_str()) || stdout.contains(action.as_str()),
                "mcpctl {args:?} without {action} does not name it:\nstdout: {stdout}\nstderr: {stderr}"
            );
            let after = routing(f.aws, f.admin);
            for (arn, rule) in &before {
                let restored = s.may_restore && after.get(arn) == pre_cutover.get(arn);
                assert!(
                    after.get(arn) == Some(rule) || restored,
                    "mcpctl {args:?} without {action} changed rule {arn}: {rule} became {:?}",
                    after.get(arn)
                );
            }
            proved.insert(action.clone());
            last_seen = Some(after);
        }
        let out = run_as(f.aws, f.deployer, &args);
        assert!(
            out.status.success(),
            "mcpctl {args:?} with the generated policy failed ({:?}):\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!(
            "{} {:?}: {refused_runs} refused runs, {:.1}s (waited {:.1}s for the scout)",
            s.command,
            s.args,
            started.elapsed().as_secs_f64(),
            scouted.as_secs_f64()
        );
    }
    proved
}

fn by_action(actions: &[String], keys: &BTreeMap<String, Keys>) -> BTreeMap<String, Keys> {
    actions
        .iter()
        .enumerate()
        .map(|(i, a)| (a.clone(), keys[&format!("without-{i}")].clone()))
        .collect()
}

#[test]
fn the_migration_runs_with_exactly_the_generated_actions_and_each_one_is_needed() {
    let env = crate::common::moto_sigv4_form_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let aws = Aws::start_with_moto_env(&env);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    moto_stack(dir, "stateful", "");
    moto_stack(dir, "stateless", "");
    let d = dir.to_str().unwrap();
    let commands = [
        "plan",
        "up",
        "status",
        "revisions",
        "scale",
        "cutover",
        "rollback",
        "cleanup",
    ];
    let actions = policy_actions(&aws, d, &commands.join(","));
    assert!(actions.len() > 40, "{actions:?}");
    let (keys, admin) = users_then_enforce(&aws, &actions);
    let deployer = keys["deployer"].clone();
    let without = by_action(&actions, &keys);

    // Enforcement is on: the dummy keys and a user without the action are refused.
    let refused = aws.mcpctl(&["--stacks-dir", d, "plan", "--stack", "stateless"]);
    assert_eq!(
        refused.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let mut progressive = step(
        "cutover",
        &[
            "--steps",
            "100",
            "--bake",
            "60s",
            "--interval",
            "1s",
            "--metrics-lag",
            "0s",
            "--no-probe",
            "--yes",
        ],
    );
    progressive.denied_codes = &[1, 4];
    progressive.may_restore = true;
    let mut rollback = step("rollback", &["--yes"]);
    rollback.may_restore = true;
    let steps = vec![
        step("plan", &["--stack", "stateful", "--image", IMAGE]),
        step(
            "up",
            &["--stack", "stateful", "--image", IMAGE, "--no-wait"],
        ),
        step(
            "up",
            &["--stack", "stateless", "--image", IMAGE, "--no-wait"],
        ),
        step("status", &["--stack", "stateless"]),
        step("revisions", &["--stack", "stateless"]),
        step("scale", &["--stack", "stateless", "--count", "2"]),
        step("cutover", &["--weight", "10", "--yes"]),
        step("cutover", &["--yes"]),
        rollback,
        progressive,
        step("cleanup", &["--stack", "stateful", "--yes"]),
    ];
    // The stateless group needs a healthy target before any cutover (moto registers none).
    let register = "tg = elb.describe_target_groups(Names=['opensearch-mcp-tg-stateless'])['TargetGroups'][0]['TargetGroupArn']\n\
                    elb.register_targets(TargetGroupArn=tg, Targets=[{'Id': '10.0.1.10', 'Port': 9898}])\n";
    let scout = Scout::start(|_, dir| {
        moto_stack(dir, "stateful", "");
        moto_stack(dir, "stateless", "");
    });
    let flow = Flow {
        aws: &aws,
        dir: d,
        deployer: &deployer,
        without: &without,
        admin: &admin,
        tolerated: TOLERATED,
    };
    let proved = std::thread::scope(|scope| {
        let called = scout_ahead(scope, &scout, &steps, |i| {
            if i == 6 {
                scout.aws.boto(register);
            }
        });
        let mut proved = run_flow(&flow, &steps[..6], &called, &BTreeMap::new());
        boto_as(&aws, &admin, register);
        let pre_cutover = routing(&aws, &admin);
        proved.extend(run_flow(&flow, &steps[6..], &called, &pre_cutover));
        proved
    });

    // Restore from the archive, as the deployer.
    let archive = std::fs::read_dir(dir.join("archive"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .expect("cleanup wrote an archive");
    let out = run_as(
        &aws,
        &deployer,
        &[
            "--stacks-dir",
            d,
            "up",
            "--stack",
            archive.to_str().unwrap(),
            "--no-wait",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Every action of the policy was proved needed, except those this flow cannot reach,
    // each for its reason.
    let unreached: BTreeMap<&str, &str> = [
        (
            "application-autoscaling:DescribeScalableTargets",
            "tolerated read",
        ),
        (
            "application-autoscaling:DescribeScalingPolicies",
            "tolerated read",
        ),
        (
            "application-autoscaling:DescribeScalingActivities",
            "tolerated read",
        ),
        ("cloudwatch:DescribeAlarms", "tolerated read"),
        ("ecr:GetAuthorizationToken", "--image: nothing is built"),
        (
            "ecr:BatchCheckLayerAvailability",
            "--image: nothing is built",
        ),
        ("ecr:InitiateLayerUpload", "--image: nothing is built"),
        ("ecr:UploadLayerPart", "--image: nothing is built"),
        ("ecr:CompleteLayerUpload", "--image: nothing is built"),
        ("ecr:PutImage", "--image: nothing is built"),
        ("ecr:BatchGetImage", "--image by digest: no tag to resolve"),
        ("ecr:DescribeImages", "--image by digest: no tag to resolve"),
        ("iam:PassRole", "ECS checks it, moto does not"),
        // AWS authorizes tags given on create (CreateRepository, CreateService, CreateLogGroup
        // with tags) as TagResource; moto does not, and mcpctl tags separately only what it
        // adopts.
        ("ecr:TagResource", "tag on create"),
        ("ecs:TagResource", "tag on create"),
        ("logs:TagResource", "tag on create"),
        (
            "ecr:DeleteLifecyclePolicy",
            "only when keep_images is removed",
        ),
        (
            "ecr:PutImageScanningConfiguration",
            "only when scan_on_push changes",
        ),
        (
            "logs:DeleteRetentionPolicy",
            "only when retention_days is removed",
        ),
        (
            "elasticloadbalancing:ModifyTargetGroup",
            "only when the health check changes",
        ),
        (
            "elasticloadbalancing:SetRulePriorities",
            "only when a priority changes",
        ),
        ("elasticloadbalancing:CreateListener", "the listener exists"),
        (
            "elasticloadbalancing:DeleteRule",
            "cleanup hands the rule over to the other stack",
        ),
        (
            "ecr:DeleteRepository",
            "cleanup keeps the repository unless --delete-repository",
        ),
        ("iam:CreateRole", "the task role exists"),
        (
            "iam:UpdateAssumeRolePolicy",
            "the task role's trust policy is right",
        ),
        (
            "iam:ListRolePolicies",
            "cleanup keeps the role unless --delete-role",
        ),
        (
            "iam:ListAttachedRolePolicies",
            "cleanup keeps the role unless --delete-role",
        ),
        (
            "iam:DeleteRolePolicy",
            "cleanup keeps the role unless --delete-role",
        ),
        (
            "iam:DetachRolePolicy",
            "cleanup keeps the role unless --delete-role",
        ),
        (
            "iam:DeleteRole",
            "cleanup keeps the role unless --delete-role",
        ),
    ]
    .into_iter()
    .collect();
    let missing: Vec<&String> = actions
        .iter()
        .filter(|a| !proved.contains(*a) && !unreached.contains_key(a.as_str()))
        .collect();
    eprintln!(
        "{} actions, {} proved needed by a refused run, {} unreached: {missing:?}",
        actions.len(),
        proved.len(),
        actions.len() - proved.len()
    );
    assert!(
        missing.is_empty(),
        "no refused run proved these needed: {missing:?}"
    );
    // The list stays true: what a refused run proved needed is not called unreached.
    let stale: Vec<&&str> = unreached.keys().filter(|a| proved.contains(**a)).collect();
    assert!(
        stale.is_empty(),
        "proved needed, yet listed as unreached: {stale:?}"
    );
}

/// The user's running deployment (the 00-05 scripts', built with boto3), and `shared.yaml`.
fn scripts_deployment(aws: &Aws, dir: &std::path::Path) {
    aws.scripts_deployment();
    std::fs::copy(
        crate::common::workspace_root().join("stacks/shared.yaml"),
        dir.join("shared.yaml"),
    )
    .unwrap();
}

#[test]
fn adopting_the_running_deployment_needs_only_the_generated_actions() {
    let env = crate::common::moto_sigv4_form_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let aws = Aws::start_with_moto_env(&env);
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_str().unwrap();
    scripts_deployment(&aws, tmp.path());
    // Before adopt there is no stack file to read: the policy of the repository's stacks has
    // the same actions (the names differ, and moto checks actions only).
    let repo = crate::common::workspace_root().join("stacks");
    let commands = "adopt,plan,up,status,logs";
    let actions = policy_actions(&aws, repo.to_str().unwrap(), commands);
    let (keys, admin) = users_then_enforce(&aws, &actions);
    let without = by_action(&actions, &keys);
    let scout = Scout::start(scripts_deployment);
    let flow = Flow {
        aws: &aws,
        dir: d,
        deployer: &keys["deployer"],
        without: &without,
        admin: &admin,
        tolerated: &[
            TOLERATED[0],
            TOLERATED[1],
            TOLERATED[2],
            TOLERATED[3],
            // The preflight's look at a role given by ARN: refused, ECS checks the role when
            // the task definition is used.
            "iam:GetRole",
        ],
    };
    let service = "opensearch-mcp-server-routing";
    let steps = [
        step("adopt", &["--stack", "stateful", "--service", service]),
        step("plan", &["--stack", "stateful"]),
        step("up", &["--stack", "stateful", "--no-wait"]),
        step("status", &["--stack", "stateful"]),
        step("logs", &["--stack", "stateful", "--since", "5m"]),
    ];
    let proved = std::thread::scope(|scope| {
        let called = scout_ahead(scope, &scout, &steps, |_| {});
        run_flow(&flow, &steps, &called, &BTreeMap::new())
    });
    for needed in [
        "ecs:DescribeServices",
        "elasticloadbalancing:DescribeRules",
        "logs:FilterLogEvents",
    ] {
        assert!(proved.contains(needed), "{needed} not proved: {proved:?}");
    }
}

/// `mcpctl iam-policy` with `args` from the workspace root (no AWS call, no moto).
fn iam_policy(args: &[&str], account_env: Option<&str>) -> Output {
    let mut cmd = std::process::Command::new(crate::common::mcpctl_bin());
    cmd.arg("iam-policy")
        .args(args)
        .current_dir(crate::common::workspace_root())
        .env_remove("AWS_ACCOUNT_ID")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_REGION", "eu-west-1");
    if let Some(a) = account_env {
        cmd.env("AWS_ACCOUNT_ID", a);
    }
    cmd.output().expect("run mcpctl iam-policy")
}

#[test]
fn iam_policy_prints_a_scoped_document_and_refuses_bad_flags() {
    let out = iam_policy(&["--account", ACCOUNT], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("a JSON policy");
    assert_eq!(doc["Version"], "2012-10-17");
    let statements = doc["Statement"].as_array().unwrap();
    let text = serde_json::to_string(&doc).unwrap();
    // The region every command uses (AWS_REGION here), the given account, no service wildcard.
    assert!(text.contains(&format!(":eu-west-1:{ACCOUNT}:service/fastmcp-time-server-cluster/opensearch-mcp-server-stateless")), "{text}");
    assert!(!text.contains("us-east-1"), "{text}");
    for s in statements {
        for a in s["Action"].as_array().unwrap() {
            assert!(!a.as_str().unwrap().contains('*'), "{a}");
        }
    }
    // --commands narrows it: a read-only operator gets no write.
    let out = iam_policy(
        &["--commands", "plan,status,logs", "--stack", "stateless"],
        Some(ACCOUNT),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("logs:FilterLogEvents"), "{text}");
    for write in [
        "ecs:UpdateService",
        "elasticloadbalancing:ModifyRule",
        "iam:PassRole",
    ] {
        assert!(
            !text.contains(write),
            "{write} in a read-only policy: {text}"
        );
    }
    // Bad input: exit 2, saying what to write.
    let out = iam_policy(&["--account", "12345"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("12-digit"));
    let out = iam_policy(&["--commands", "deploy"], Some(ACCOUNT));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`deploy` is not a command"));
    let out = iam_policy(&["--stack", "nope", "--account", ACCOUNT], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no stack named `nope`"));
    // Without an account the stack files cannot name their roles: say to pass --account.
    let out = iam_policy(&[], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --account"));
}
