//! `mcpctl cutover --steps` where requests really flow: moto keeps the control plane (listener
//! rules, target groups, targets), the testkit's data plane routes each request like the ALB
//! (weighted forward per request, health checks, 502/503/504) to real `opensearch-mcp-server`
//! replicas on 127.0.0.1 and publishes `AWS/ApplicationELB` metrics into moto's CloudWatch per
//! one-minute period, late. `mcpctl` reaches the ALB's DNS name through `http_proxy` (as DNS
//! would reach the ALB), and moto directly (`NO_PROXY`).
//!
//! The stories, each on its own emulators and run side by side (they mostly wait for minutes to
//! end): the default probe with stateful replicas behind `--from` completes (it probes the
//! `--to` stack's own route, not the production path where the old replicas answer "Session not
//! found"); a `--to` stack whose OpenSearch is down aborts; metrics published 90 s late with a
//! 30 s lag leave the step unjudged, never held; another application's 502s on the shared ALB
//! do not abort while the `--to` group's own 502s do.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::alb::{moto_percentiles_env, AlbDataPlane, AlbOptions};
use crate::common::aws::{moto_stack, Aws};
use crate::common::{free_port, server_bin, wait_for_port, ChildGuard, Osmem};

const STATEFUL_TG: &str = "opensearch-mcp-tg";
const STATELESS_TG: &str = "opensearch-mcp-tg-stateless";

/// How a story's world is set up.
#[derive(Clone, Copy)]
struct Setup {
    /// Seconds after a minute ends before the data plane publishes it.
    metrics_delay: f64,
    /// The stateless replicas' OpenSearch refuses connections.
    opensearch_down: bool,
    /// A third target in the stateless group: healthy on its health path, but it drops every
    /// other request (the load balancer answers 502).
    dropping_target: bool,
    /// Another application on the ALB (`/other/*`), whose only target refuses connections.
    other_app: bool,
}

impl Default for Setup {
    fn default() -> Setup {
        Setup {
            metrics_delay: 0.0,
            opensearch_down: false,
            dropping_target: false,
            other_app: false,
        }
    }
}

/// moto with both stacks deployed, two stateful and two stateless server replicas registered
/// as their groups' targets, and the data plane in front.
struct World {
    aws: Aws,
    dir: tempfile::TempDir,
    plane: AlbDataPlane,
    _osmem: Osmem,
    _replicas: Vec<ChildGuard>,
}

/// One server replica on 127.0.0.1 (the stack's env, as ECS would run it); its port.
fn replica(stack: &str, n: usize, dns: &str, opensearch_port: u16) -> (ChildGuard, u16) {
    let port = free_port();
    let mut env = vec![
        ("MCP_HOST", "127.0.0.1".to_string()),
        ("MCP_PORT", port.to_string()),
        ("MCP_REPLICA_ID", format!("{stack}-{n}")),
        ("MCP_ALLOWED_HOSTS", format!("{dns},localhost,127.0.0.1")),
        ("OPENSEARCH_HOST", "http://127.0.0.1".into()),
        ("OPENSEARCH_PORT", opensearch_port.to_string()),
        ("OPENSEARCH_USE_SSL", "false".into()),
        ("OPENSEARCH_USE_IAM", "false".into()),
        ("OPENSEARCH_TIMEOUT", "3".into()),
    ];
    if stack == "stateful" {
        env.push(("MCP_PATH", "/ossserver/ossmcp".into()));
        env.push(("MCP_STATELESS", "false".into()));
    } else {
        env.push(("MCP_PATH", "/ossserver-stateless/ossmcp".into()));
        env.push(("MCP_STATELESS", "true".into()));
        env.push(("MCP_PATH_ALIASES", "/ossserver".into()));
    }
    let mut cmd = Command::new(server_bin());
    cmd.envs(env).stdout(Stdio::null()).stderr(Stdio::null());
    let guard = ChildGuard::spawn(&format!("{stack}-{n}"), &mut cmd);
    assert!(
        wait_for_port(port, Duration::from_secs(30)),
        "replica {stack}-{n} did not listen"
    );
    (guard, port)
}

/// A target that passes its health checks and drops every other request unanswered.
fn dropping_target() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut first = String::new();
                let _ = reader.read_line(&mut first);
                // The whole head is read first: closing with unread bytes would reset the
                // connection, and the health check would fail too.
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                // Only the group's health check is answered (production requests are
                // `/ossserver/health`, dropped like every other request).
                if first.starts_with("GET /ossserver-stateless/health ") {
                    let mut s = stream;
                    let _ = s.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    );
                }
                // Anything else: closed without an answer.
            });
        }
    });
    port
}

impl World {
    fn start(setup: Setup) -> World {
        let env = moto_percentiles_env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let aws = Aws::start_with_moto_env(&env);
        let dir = tempfile::tempdir().unwrap();
        moto_stack(dir.path(), "stateful", "");
        moto_stack(dir.path(), "stateless", "");
        aws.up_all(dir.path().to_str().unwrap(), &["stateful", "stateless"]);
        let dns = aws.shared["dns_name"].as_str().unwrap().to_string();
        let osmem = Osmem::start_with_movies();
        let down = free_port(); // nothing listens there
        let mut replicas = Vec::new();
        let mut ports = |stack: &str, os: u16| -> Vec<u16> {
            (1..=2)
                .map(|n| {
                    let (g, p) = replica(stack, n, &dns, os);
                    replicas.push(g);
                    p
                })
                .collect()
        };
        let stateful = ports("stateful", osmem.port);
        let mut stateless = ports(
            "stateless",
            if setup.opensearch_down {
                down
            } else {
                osmem.port
            },
        );
        if setup.dropping_target {
            stateless.push(dropping_target());
        }
        register(&aws, STATEFUL_TG, &stateful);
        register(&aws, STATELESS_TG, &stateless);
        if setup.other_app {
            aws.boto(&format!(
                "lb = elb.describe_load_balancers(Names=['fastmcp-alb'])['LoadBalancers'][0]\n\
                 ls = [l for l in elb.describe_listeners(LoadBalancerArn=lb['LoadBalancerArn'])['Listeners'] if l['Port'] == 80][0]\n\
                 tg = elb.create_target_group(Name='other-app-tg', Protocol='HTTP', Port=8080, VpcId=lb['VpcId'], TargetType='ip', HealthCheckPath='/other/health')['TargetGroups'][0]['TargetGroupArn']\n\
                 elb.register_targets(TargetGroupArn=tg, Targets=[{{'Id': '127.0.0.1', 'Port': {down}}}])\n\
                 elb.create_rule(ListenerArn=ls['ListenerArn'], Priority=50, Conditions=[{{'Field': 'path-pattern', 'Values': ['/other/*']}}], Actions=[{{'Type': 'forward', 'TargetGroupArn': tg}}])"
            ));
        }
        let mut opts = AlbOptions::new("fastmcp-alb");
        opts.metrics_delay = setup.metrics_delay;
        let plane = AlbDataPlane::start(&aws.moto, &opts);
        let world = World {
            aws,
            dir,
            plane,
            _osmem: osmem,
            _replicas: replicas,
        };
        world.wait_healthy("/ossserver-stateless/health");
        world.wait_healthy("/ossserver/health");
        world
    }

    /// Wait (bounded) until `path` answers 200 through the data plane.
    fn wait_healthy(&self, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while get(self.plane.port, &self.plane.dns_name, path) != 200 {
            assert!(Instant::now() < deadline, "{path} never answered 200");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `mcpctl --output json cutover --yes ARGS`, the ALB's DNS name reached through the data
    /// plane; waits (bounded) and parses the one JSON document.
    fn cutover(&self, args: &[&str], within: Duration) -> (Output, Value) {
        let mut all = vec![
            "--output",
            "json",
            "cutover",
            "--yes",
            "--stacks-dir",
            self.dir.path().to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        let proxy = self.plane.proxy_url();
        let child = self
            .aws
            .mcpctl_cmd(&all)
            .env("http_proxy", &proxy)
            .env("HTTP_PROXY", &proxy)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let deadline = Instant::now() + within;
        let waiter = std::thread::spawn(move || child.wait_with_output().unwrap());
        while !waiter.is_finished() {
            if Instant::now() > deadline {
                unsafe_kill(pid);
                panic!("cutover did not end within {within:?}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let out = waiter.join().unwrap();
        let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "no JSON document ({e}):\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out, doc)
    }

    /// The production rule's weights by target group name.
    fn weights(&self) -> Value {
        self.aws.boto(
            "lb = elb.describe_load_balancers(Names=['fastmcp-alb'])['LoadBalancers'][0]['LoadBalancerArn']\n\
             ls = [l for l in elb.describe_listeners(LoadBalancerArn=lb)['Listeners'] if l['Port'] == 80][0]\n\
             names = {t['TargetGroupArn']: t['TargetGroupName'] for t in elb.describe_target_groups()['TargetGroups']}\n\
             r = [r for r in elb.describe_rules(ListenerArn=ls['ListenerArn'])['Rules'] if r['Priority'] == '100'][0]\n\
             a = r['Actions'][0]\n\
             groups = a.get('ForwardConfig', {}).get('TargetGroups') or [{'TargetGroupArn': a['TargetGroupArn'], 'Weight': 1}]\n\
             result = {names[g['TargetGroupArn']]: g.get('Weight', 1) for g in groups}",
        )
    }

    /// Requests through the data plane to each of `paths` in turn, about 20 a second, until
    /// the returned flag is set.
    fn traffic(&self, paths: &[&'static str]) -> Arc<AtomicBool> {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let (port, dns) = (self.plane.port, self.plane.dns_name.clone());
        let paths = paths.to_vec();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(400);
            while !s.load(Ordering::SeqCst) && Instant::now() < deadline {
                for p in &paths {
                    get(port, &dns, p);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        stop
    }
}

/// Register `ports` on 127.0.0.1 as the targets of target group `name`.
fn register(aws: &Aws, name: &str, ports: &[u16]) {
    let targets: Vec<String> = ports
        .iter()
        .map(|p| format!("{{'Id': '127.0.0.1', 'Port': {p}}}"))
        .collect();
    aws.boto(&format!(
        "tg = elb.describe_target_groups(Names=['{name}'])['TargetGroups'][0]['TargetGroupArn']\n\
         elb.register_targets(TargetGroupArn=tg, Targets=[{}])",
        targets.join(", ")
    ));
}

/// `GET path` through the data plane with the ALB's DNS name as `Host`; the status (0: none).
fn get(port: u16, host: &str, path: &str) -> u16 {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return 0;
    };
    s.set_read_timeout(Some(Duration::from_secs(15))).ok();
    if write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .is_err()
    {
        return 0;
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn unsafe_kill(pid: u32) {
    let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The default probe (no `--probe-url`) with two stateful replicas behind `--from`: at 50%
/// the production path spreads one session over both stacks, so a probe there would meet the
/// old server's "Session not found"; the probe of the `--to` stack's own route passes, and
/// the cutover reaches 100%.
fn the_default_probe_judges_the_to_stack_and_completes() {
    let w = World::start(Setup::default());
    let (out, doc) = w.cutover(
        &[
            "--steps",
            "50,100",
            "--bake",
            "60s",
            "--metrics-lag",
            "0s",
            "--interval",
            "5s",
            "--probe-interval",
            "5s",
        ],
        Duration::from_secs(240),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{doc}\n{err}");
    assert_eq!(
        doc["probe_url"],
        format!("http://{}/ossserver-stateless/ossmcp", w.plane.dns_name),
        "{doc}"
    );
    for step in doc["steps"].as_array().unwrap() {
        let p = &step["last_reading"]["probe"];
        assert!(p["runs"].as_u64().unwrap() >= 2, "{doc}");
        assert_eq!(p["failures"], 0, "{doc}");
    }
    let weights = w.weights();
    assert_eq!(weights[STATELESS_TG], 100, "{weights}");
    assert_eq!(weights[STATEFUL_TG], 0, "{weights}");
}

/// A `--to` stack whose tools fail (its OpenSearch refuses connections): the probe's tool call
/// answers `isError`, the step breaches at once and the routing is restored.
fn a_to_stack_whose_tools_fail_aborts() {
    let w = World::start(Setup {
        opensearch_down: true,
        ..Setup::default()
    });
    let (out, doc) = w.cutover(
        &[
            "--steps",
            "50,100",
            "--bake",
            "60s",
            "--metrics-lag",
            "0s",
            "--interval",
            "5s",
        ],
        Duration::from_secs(120),
    );
    assert_eq!(out.status.code(), Some(4), "{doc}\n{}", stderr(&out));
    assert_eq!(doc["breach"]["gate"], "probe", "{doc}");
    assert_eq!(doc["step"], 0);
    let weights = w.weights();
    assert_eq!(weights, serde_json::json!({STATEFUL_TG: 1}), "{weights}");
}

/// Metrics published 90 s after their minute, a 60 s bake and a 30 s lag: the step's last
/// period cannot be read in time, so it is reported unjudged (with the period), never held.
fn late_metrics_are_never_held_unread() {
    let w = World::start(Setup {
        metrics_delay: 90.0,
        ..Setup::default()
    });
    let stop = w.traffic(&["/ossserver/health"]);
    let (out, doc) = w.cutover(
        &[
            "--steps",
            "100",
            "--bake",
            "60s",
            "--metrics-lag",
            "30s",
            "--interval",
            "5s",
            "--min-requests",
            "10",
        ],
        Duration::from_secs(200),
    );
    stop.store(true, Ordering::SeqCst);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{doc}\n{err}");
    let step = &doc["steps"][0];
    assert_eq!(step["judged"], false, "{doc}");
    assert!(
        !step["unread_periods"].as_array().unwrap().is_empty(),
        "{doc}"
    );
    assert!(
        step["not_judged"]
            .as_str()
            .unwrap()
            .contains("within --metrics-lag"),
        "{doc}"
    );
    assert!(err.contains("waiting for CloudWatch: period"), "{err}");
    assert!(!err.contains("every gate held"), "{err}");
}

/// Another application on the shared ALB fails (its only target refuses: ELB 502s in the
/// load balancer's `HTTPCode_ELB_5XX_Count`) while production moves: not the `--to` group's
/// failures, so the cutover completes, judged on the group's own metrics.
fn another_groups_load_balancer_errors_do_not_abort() {
    let w = World::start(Setup {
        other_app: true,
        ..Setup::default()
    });
    let stop = w.traffic(&["/ossserver/health", "/other/x"]);
    let (out, doc) = w.cutover(
        &[
            "--steps",
            "100",
            "--bake",
            "60s",
            "--metrics-lag",
            "120s",
            "--interval",
            "5s",
            "--min-requests",
            "20",
        ],
        Duration::from_secs(260),
    );
    stop.store(true, Ordering::SeqCst);
    assert_eq!(out.status.code(), Some(0), "{doc}\n{}", stderr(&out));
    let step = &doc["steps"][0];
    assert_eq!(step["judged"], true, "{doc}");
    let m = &step["last_reading"]["metrics"];
    assert!(
        m["elb_5xx"].as_f64().unwrap() > 20.0,
        "the other app's 502s were seen: {doc}"
    );
    // Not counted as the group's own: at most a stray request the starved machine let time
    // out (a 504 of the group's own), never the other app's 502s.
    let own = m["elb_failures"].as_f64().unwrap();
    assert!(
        own * 10.0 < m["elb_5xx"].as_f64().unwrap(),
        "the other app's 502s were counted as the group's: {doc}"
    );
}

/// The `--to` group's own 502s (a target that drops requests): the group's requests the load
/// balancer answered itself breach `--max-error-rate`, and the routing is restored.
fn the_to_groups_own_502s_abort() {
    let w = World::start(Setup {
        dropping_target: true,
        ..Setup::default()
    });
    let stop = w.traffic(&["/ossserver/health"]);
    let (out, doc) = w.cutover(
        &[
            "--steps",
            "100",
            "--bake",
            "60s",
            "--metrics-lag",
            "120s",
            "--interval",
            "5s",
            "--min-requests",
            "20",
            "--no-probe",
        ],
        Duration::from_secs(260),
    );
    stop.store(true, Ordering::SeqCst);
    assert_eq!(out.status.code(), Some(4), "{doc}\n{}", stderr(&out));
    assert_eq!(doc["breach"]["gate"], "load_balancer_error_rate", "{doc}");
    let weights = w.weights();
    assert_eq!(weights, serde_json::json!({STATEFUL_TG: 1}), "{weights}");
}

/// The stories side by side (each mostly waits for minutes to end); every failure is named.
#[test]
fn progressive_cutover_on_a_data_plane_that_routes_like_the_alb() {
    let stories: [(&str, fn()); 5] = [
        (
            "the_default_probe_judges_the_to_stack_and_completes",
            the_default_probe_judges_the_to_stack_and_completes,
        ),
        (
            "a_to_stack_whose_tools_fail_aborts",
            a_to_stack_whose_tools_fail_aborts,
        ),
        (
            "late_metrics_are_never_held_unread",
            late_metrics_are_never_held_unread,
        ),
        (
            "another_groups_load_balancer_errors_do_not_abort",
            another_groups_load_balancer_errors_do_not_abort,
        ),
        ("the_to_groups_own_502s_abort", the_to_groups_own_502s_abort),
    ];
    let running: Vec<_> = stories
        .iter()
        .map(|(name, story)| {
            let story = *story;
            let handle = std::thread::Builder::new()
                .name(name.to_string())
                .spawn(story)
                .unwrap();
            // Staggered starts: each sets up moto and four servers.
            std::thread::sleep(Duration::from_secs(2));
            (*name, handle)
        })
        .collect();
    let failed: Vec<&str> = running
        .into_iter()
        .filter_map(|(name, h)| h.join().is_err().then_some(name))
        .collect();
    assert!(failed.is_empty(), "stories failed: {failed:?}");
}
