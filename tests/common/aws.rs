//! AWS in the emulator for the `up` tests: moto with the user's shared resources (cluster, ALB in
//! the default VPC, roles), `mcpctl` run against it, boto3 to read back through the AWS API
//! (independently of mcpctl's own code), and a proxy that freezes a chosen call so a test can
//! kill `mcpctl` halfway through.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{mcpctl_bin, venv_bin, workspace_root, Moto};

/// The account moto uses.
pub const ACCOUNT: &str = "123456789012";

/// An image URI to deploy without building (moto does not check images).
pub const IMAGE: &str =
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/opensearch-mcp-server-stateless@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// moto with the shared resources set up as in the user's account.
pub struct Aws {
    /// The emulator.
    pub moto: Moto,
    /// What `scripts/emulator-shared-resources.py` reported (subnets, security group, ALB, ...).
    pub shared: serde_json::Value,
}

impl Aws {
    /// Start moto and create the cluster, the ALB (with its HTTP:80 listener) and the roles.
    pub fn start() -> Aws {
        Self::start_with(&[])
    }

    /// Like [`Aws::start`], without the ALB listener (so `up` has to create it).
    pub fn start_without_listener() -> Aws {
        Self::start_with(&["--no-listener"])
    }

    /// Like [`Aws::start`], with environment variables for moto (e.g.
    /// `MOTO_ECS_SERVICE_RUNNING=2`, so services report running tasks).
    pub fn start_with_moto_env(env: &[(&str, &str)]) -> Aws {
        Self::start_with_options(env, &[])
    }

    /// Start moto with `env` and set up the shared resources with the set-up script's `args`
    /// (e.g. `--no-listener`); see `Moto::start_prepared`.
    pub fn start_with_options(env: &[(&str, &str)], args: &[&str]) -> Aws {
        let (moto, shared) = Moto::start_prepared(env, args);
        Aws { moto, shared }
    }

    fn start_with(args: &[&str]) -> Aws {
        Self::start_with_options(&[], args)
    }

    /// Environment for `mcpctl` (and boto3): moto's endpoint, dummy credentials, the account ID
    /// the stack files interpolate.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut e = self.moto.aws_env();
        e.push(("AWS_ACCOUNT_ID".into(), ACCOUNT.into()));
        e.push(("NO_COLOR".into(), "1".into()));
        e
    }

    /// Run `mcpctl ARGS` from the workspace root against moto.
    pub fn mcpctl(&self, args: &[&str]) -> Output {
        self.mcpctl_cmd(args).output().expect("run mcpctl")
    }

    /// The `mcpctl ARGS` command, ready to run.
    pub fn mcpctl_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(mcpctl_bin());
        cmd.args(args)
            .current_dir(workspace_root())
            .env_remove("AWS_PROFILE")
            .envs(self.env())
            .stdin(Stdio::null());
        cmd
    }

    /// `mcpctl --output json ARGS`, asserting success; returns the JSON document.
    pub fn mcpctl_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--output", "json"];
        all.extend_from_slice(args);
        let out = self.mcpctl(&all);
        assert!(
            out.status.success(),
            "mcpctl {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "mcpctl {args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Run a boto3 snippet that sets `result`; returns `result` as JSON. The snippet has `ecs`,
    /// `ecr`, `elb`, `logs`, `iam` and `ec2` clients.
    pub fn boto(&self, code: &str) -> serde_json::Value {
        self.boto_with(code, |_| {})
    }

    /// [`Aws::boto`] as the IAM user with the access key `id`/`secret` (once moto enforces
    /// IAM, the dummy keys are refused).
    pub fn boto_as(&self, id: &str, secret: &str, code: &str) -> serde_json::Value {
        self.boto_with(code, |cmd| {
            cmd.env("AWS_ACCESS_KEY_ID", id)
                .env("AWS_SECRET_ACCESS_KEY", secret)
                .env_remove("AWS_SESSION_TOKEN");
        })
    }

    fn boto_with(&self, code: &str, configure: impl FnOnce(&mut Command)) -> serde_json::Value {
        let program = format!(
            "import boto3, json, datetime\n\
             ecs = boto3.client('ecs'); ecr = boto3.client('ecr'); elb = boto3.client('elbv2')\n\
             logs = boto3.client('logs'); iam = boto3.client('iam'); ec2 = boto3.client('ec2')\n\
             result = None\n{code}\n\
             print(json.dumps(result, default=str))\n"
        );
        let mut cmd = Command::new(venv_bin("python"));
        cmd.args(["-c", &program]).envs(self.env());
        configure(&mut cmd);
        let out = cmd.output().expect("run python");
        assert!(
            out.status.success(),
            "boto3 snippet failed:\n{code}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("snippet printed JSON")
    }

    /// The deployment the user's 00-05 scripts left, with their real names and settings
    /// (`scripts/emulator-routing-deployment.py`, boto3).
    pub fn scripts_deployment(&self) {
        let out = Command::new(venv_bin("python"))
            .arg(workspace_root().join("scripts/emulator-routing-deployment.py"))
            .envs(self.env())
            .output()
            .expect("run emulator-routing-deployment.py");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `up` each of `stacks` (in the stacks directory `dir`) with [`IMAGE`], not waiting: moto
    /// never runs tasks.
    pub fn up_all(&self, dir: &str, stacks: &[&str]) {
        for s in stacks {
            self.up(dir, s);
        }
    }

    /// `mcpctl --output json up --stack STACK --image IMAGE --no-wait --stacks-dir DIR`,
    /// asserting success; returns its JSON document.
    pub fn up(&self, dir: &str, stack: &str) -> serde_json::Value {
        self.mcpctl_json(&[
            "up",
            "--stack",
            stack,
            "--image",
            IMAGE,
            "--no-wait",
            "--stacks-dir",
            dir,
        ])
    }

    /// Register `ip` in the target group `name`, as ECS would for a running task (moto
    /// registers none, and reports an IP target healthy).
    pub fn register_target(&self, name: &str, ip: &str) {
        self.boto(&format!(
            "tg = elb.describe_target_groups(Names=['{name}'])['TargetGroups'][0]['TargetGroupArn']\n\
             elb.register_targets(TargetGroupArn=tg, Targets=[{{'Id': '{ip}', 'Port': 9898}}])\n\
             result = tg"
        ));
    }

    /// Every rule on the HTTP:80 listener (priority, paths, forward target group ARNs, tags).
    pub fn rules(&self) -> serde_json::Value {
        self.boto(
            "lb = elb.describe_load_balancers(Names=['fastmcp-alb'])['LoadBalancers'][0]['LoadBalancerArn']\n\
             ls = [l for l in elb.describe_listeners(LoadBalancerArn=lb)['Listeners'] if l['Port'] == 80]\n\
             result = []\n\
             for r in (elb.describe_rules(ListenerArn=ls[0]['ListenerArn'])['Rules'] if ls else []):\n\
             \x20   if r['IsDefault']: continue\n\
             \x20   tags = {t['Key']: t['Value'] for t in elb.describe_tags(ResourceArns=[r['RuleArn']])['TagDescriptions'][0]['Tags']}\n\
             \x20   paths = [v for c in r['Conditions'] if c['Field'] == 'path-pattern' for v in (c.get('PathPatternConfig', {}).get('Values') or c.get('Values', []))]\n\
             \x20   tgs = [t['TargetGroupArn'] for a in r['Actions'] if a['Type'] == 'forward' for t in a.get('ForwardConfig', {}).get('TargetGroups', [])] or [a['TargetGroupArn'] for a in r['Actions'] if a.get('TargetGroupArn')]\n\
             \x20   result.append({'arn': r['RuleArn'], 'priority': int(r['Priority']), 'paths': paths, 'target_groups': tgs, 'tags': tags})\n\
             result.sort(key=lambda r: r['priority'])",
        )
    }

    /// Names of the target groups in the account.
    pub fn target_group_names(&self) -> Vec<String> {
        let v = self.boto("result = sorted(t['TargetGroupName'] for t in elb.describe_target_groups()['TargetGroups'])");
        serde_json::from_value(v).unwrap()
    }

    /// Revision numbers of a task definition family.
    pub fn revisions(&self, family: &str) -> Vec<u32> {
        let v = self.boto(&format!(
            "result = [int(a.rsplit(':', 1)[1]) for a in ecs.list_task_definitions(familyPrefix='{family}')['taskDefinitionArns']]"
        ));
        serde_json::from_value(v).unwrap()
    }
}

/// Write `text` as `name.yaml` in a fresh temp dir (it may `extends:` an absolute path).
pub fn stack_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(&p, text).unwrap();
    p
}

/// The repository's stack file `name` as an absolute path (for `extends:`).
pub fn repo_stack(name: &str) -> String {
    workspace_root()
        .join("stacks")
        .join(format!("{name}.yaml"))
        .display()
        .to_string()
}

/// The repository's stack `name` in `dir`, with the service settings moto's CreateService can
/// store (no circuit breaker, no ECS Exec, no grace period) and `extra` YAML appended.
pub fn moto_stack(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let text = format!(
        "extends: {}\nservice:\n  circuit_breaker_rollback: false\n  enable_execute_command: false\n  health_check_grace_period_seconds: 0\n{extra}",
        repo_stack(name)
    );
    stack_file(dir, name, &text)
}

/// A TCP proxy in front of moto that forwards everything until a request contains `trigger`
/// (e.g. `Action=CreateRule`); that request is never forwarded and its connection hangs, so
/// the client is frozen at that exact call. Stops when dropped.
pub struct FreezingProxy {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    frozen: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    /// Requests forwarded (connections, roughly).
    pub forwarded: Arc<AtomicUsize>,
}

impl FreezingProxy {
    /// Start a proxy to `upstream_port` that freezes at `trigger`.
    pub fn start(upstream_port: u16, trigger: &str) -> FreezingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let frozen = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let forwarded = Arc::new(AtomicUsize::new(0));
        let (f, s, n, trig) = (
            frozen.clone(),
            stop.clone(),
            forwarded.clone(),
            trigger.as_bytes().to_vec(),
        );
        std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).ok();
                        let Ok(upstream) = TcpStream::connect(("127.0.0.1", upstream_port)) else {
                            continue;
                        };
                        n.fetch_add(1, Ordering::SeqCst);
                        let (c2, u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                        // upstream -> client
                        std::thread::spawn(move || pipe(u2, c2, None, None));
                        // client -> upstream, watching for the trigger
                        let (f2, trig2) = (f.clone(), trig.clone());
                        std::thread::spawn(move || pipe(client, upstream, Some(trig2), Some(f2)));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FreezingProxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            frozen,
            stop,
            forwarded,
        }
    }

    /// Wait (bounded) until a request hit the trigger.
    pub fn wait_frozen(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.frozen.load(Ordering::SeqCst) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }
}

impl Drop for FreezingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn pipe(
    mut from: TcpStream,
    mut to: TcpStream,
    trigger: Option<Vec<u8>>,
    frozen: Option<Arc<AtomicBool>>,
) {
    let mut buf = [0u8; 16384];
    let mut window: Vec<u8> = Vec::new();
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let (Some(t), Some(f)) = (&trigger, &frozen) {
            window.extend_from_slice(&buf[..n]);
            if window.windows(t.len()).any(|w| w == t.as_slice()) {
                f.store(true, Ordering::SeqCst);
                // Hold the connection without forwarding until the client goes away.
                while from.read(&mut buf).map(|n| n > 0).unwrap_or(false) {}
                break;
            }
            let keep = window.len().saturating_sub(t.len());
            window.drain(..keep);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Both);
}

/// The mutating operations (not Describe/List/Get/BatchGet/Filter, as `Call::is_mutating`) in
/// the `calls` of `up --output json`.
pub fn mutating(out: &serde_json::Value) -> Vec<String> {
    out["calls"]
        .as_array()
        .expect("`calls` in the JSON output")
        .iter()
        .map(|c| c["operation"].as_str().unwrap_or_default().to_string())
        .filter(|op| {
            !["Describe", "List", "Get", "BatchGet", "Filter"]
                .iter()
                .any(|p| op.starts_with(p))
        })
        .collect()
}
