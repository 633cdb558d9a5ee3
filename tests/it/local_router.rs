//! `mcpctl local` as users and the quickstart drive it: real `opensearch-mcp-server` replicas
//! behind the round-robin router, a real osmem-server, load from `mcpctl verify`, the official
//! Python MCP SDK client, and replicas killed or frozen mid-run.
//!
//! The tests in this file run one at a time (each drives thousands of requests on a 2-core box).

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::common::local::{alive, signal, Local};
use crate::common::*;
use serde_json::Value;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

fn verify_load(url: &str, requests: u32, concurrency: u32) -> (Output, Value) {
    let out = Command::new(mcpctl_bin())
        .args(["--output", "json", "verify", url, "--requests"])
        .arg(requests.to_string())
        .arg("--concurrency")
        .arg(concurrency.to_string())
        .output()
        .expect("run mcpctl verify");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "verify printed no JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, report)
}

#[test]
fn stateless_has_zero_failures_and_stateful_shows_session_not_found_through_the_router() {
    let _one = serial();
    let mut local = Local::start(&["stateless", "stateful"]);

    let (out, report) = verify_load(&local.mcp_url("stateless"), 5000, 32);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert_eq!(report["outcomes"]["success"], 5000, "{report}");
    assert_eq!(report["failed"], 0, "zero failures of any kind: {report}");
    assert_eq!(report["sessions_issued"], 0, "{report}");
    // Round robin with no affinity: every replica took its share.
    let targets = local.targets("stateless");
    let total: u64 = targets.iter().map(|t| t.2).sum();
    assert!(total >= 5000 + 32, "{targets:?}");
    for (pid, health, requests) in &targets {
        assert_eq!(health, "healthy");
        assert!(
            *requests >= total / 3 - 5,
            "replica {pid} got {requests} of {total}"
        );
    }

    let (out, report) = verify_load(&local.mcp_url("stateful"), 5000, 32);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report["outcomes"]["session_not_found"].as_u64().unwrap() > 1000,
        "{report}"
    );
    assert!(report["sessions_issued"].as_u64().unwrap() > 0, "{report}");
    assert!(stderr.contains("calls failed"), "{stderr}");

    // SIGTERM stops every child: nothing is left running.
    let mut pids = local.replica_pids("stateless");
    pids.extend(local.replica_pids("stateful"));
    assert!(pids.iter().all(|p| alive(*p)));
    let status = local.stop(libc::SIGTERM);
    assert_eq!(status.code(), Some(0), "{status}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|p| alive(*p)) {
        assert!(
            Instant::now() < deadline,
            "replicas still running after mcpctl local stopped"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let osmem_port = local.ready["opensearch"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    assert!(
        std::net::TcpStream::connect(format!("127.0.0.1:{osmem_port}")).is_err(),
        "osmem-server still listening"
    );
}

#[test]
fn a_killed_replica_costs_only_its_in_flight_requests() {
    let _one = serial();
    let local = Local::start(&["stateless"]);
    let url = local.mcp_url("stateless");
    let victim = local.replica_pids("stateless")[1];

    let load = Command::new(mcpctl_bin())
        .args([
            "--output",
            "json",
            "verify",
            &url,
            "--requests",
            "6000",
            "--concurrency",
            "32",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Kill it once the load is well under way.
    let deadline = Instant::now() + Duration::from_secs(60);
    while local.targets("stateless").iter().map(|t| t.2).sum::<u64>() < 1000 {
        assert!(Instant::now() < deadline, "load did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(victim, libc::SIGKILL);
    local.wait_for_health("stateless", victim, "stopped", Duration::from_secs(5));
    let after_kill = local.targets("stateless");
    let victim_requests = after_kill.iter().find(|t| t.0 == victim).unwrap().2;

    let out = load.wait_with_output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The run completes: every call has an outcome.
    let success = report["outcomes"]["success"].as_u64().unwrap();
    let failed = report["failed"].as_u64().unwrap();
    assert_eq!(success + failed, 6000, "{report}");
    eprintln!(
        "killed replica: {failed} of 6000 calls failed: {}",
        report["outcomes"]
    );
    // At most the requests in flight on it (32 clients, a third of them on each replica).
    assert!(failed <= 32, "{failed} failures: {report}");
    for kind in [
        "session_not_found",
        "jsonrpc_error",
        "tool_error",
        "timeout",
    ] {
        assert_eq!(report["outcomes"][kind], 0, "{kind}: {report}");
    }
    assert_eq!(
        out.status.code(),
        Some(if failed == 0 { 0 } else { 1 }),
        "{report}"
    );
    // The router sent it nothing after it went away; the others took the rest.
    let end = local.targets("stateless");
    assert_eq!(
        end.iter().find(|t| t.0 == victim).unwrap().2,
        victim_requests,
        "{end:?}"
    );
    for ((pid, _, before), (_, health, now)) in after_kill.iter().zip(&end) {
        if *pid != victim {
            assert_eq!(health, "healthy");
            assert!(now > before, "replica {pid} took no more traffic: {end:?}");
        }
    }
}

#[test]
fn an_unhealthy_replica_gets_no_traffic_until_it_recovers() {
    let _one = serial();
    let local = Local::start(&["stateless"]);
    let url = local.mcp_url("stateless");
    let frozen = local.replica_pids("stateless")[2];

    // Frozen (SIGSTOP): the process is alive but its health checks time out.
    signal(frozen, libc::SIGSTOP);
    struct Thaw(i32);
    impl Drop for Thaw {
        fn drop(&mut self) {
            signal(self.0, libc::SIGCONT);
        }
    }
    let thaw = Thaw(frozen);
    local.wait_for_health("stateless", frozen, "unhealthy", Duration::from_secs(30));
    let before = local.targets("stateless");
    let (out, report) = verify_load(&url, 300, 8);
    assert_eq!(out.status.code(), Some(0), "{report}");
    let during = local.targets("stateless");
    let count = |t: &[(i32, String, u64)]| t.iter().find(|t| t.0 == frozen).unwrap().2;
    assert_eq!(
        count(&during),
        count(&before),
        "an unhealthy replica got traffic: {during:?}"
    );

    // Thawed: after the healthy threshold it is back in the rotation.
    drop(thaw);
    local.wait_for_health("stateless", frozen, "healthy", Duration::from_secs(15));
    let (out, report) = verify_load(&url, 300, 8);
    assert_eq!(out.status.code(), Some(0), "{report}");
    let after = local.targets("stateless");
    assert!(
        count(&after) > count(&during),
        "recovered replica got no traffic: {after:?}"
    );
}

#[test]
fn the_official_python_sdk_client_works_through_the_router_when_stateless() {
    let _one = serial();
    let mut local = Local::start(&["stateless", "stateful"]);
    let script: PathBuf = workspace_root().join("tests/data/sdk_client_rounds.py");
    let rounds = |url: &str, n: &str| -> (Option<i32>, Value) {
        let out = Command::new(venv_bin("python"))
            .arg(&script)
            .args([url, n])
            .output()
            .expect("run the Python SDK client");
        let summary = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "no JSON summary ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code(), summary)
    };

    let (code, summary) = rounds(&local.mcp_url("stateless"), "60");
    assert_eq!(code, Some(0), "{summary}");
    assert_eq!(summary["ok"], 60, "{summary}");

    // The same client against the stateful stack: the user's original failure.
    let (code, summary) = rounds(&local.mcp_url("stateful"), "10");
    assert_eq!(code, Some(1), "{summary}");
    assert!(summary["ok"].as_u64().unwrap() < 10, "{summary}");

    // Ctrl-C (SIGINT) stops everything too.
    let mut pids = local.replica_pids("stateless");
    pids.extend(local.replica_pids("stateful"));
    let status = local.stop(libc::SIGINT);
    assert_eq!(status.code(), Some(0), "{status}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|p| alive(*p)) {
        assert!(
            Instant::now() < deadline,
            "replicas still running after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn x_served_by_shows_calls_spread_over_the_three_replicas() {
    let _one = serial();
    let local = Local::start(&["stateless"]);
    let url = local.mcp_url("stateless");

    // verify's load report: calls per replica id (MCP_REPLICA_ID, set by `mcpctl local`).
    let (out, report) = verify_load(&url, 600, 6);
    assert_eq!(out.status.code(), Some(0), "{report}");
    let spread = report["served_by"].as_object().expect("served_by");
    let mut ids: Vec<&str> = spread.keys().map(String::as_str).collect();
    ids.sort();
    assert_eq!(
        ids,
        ["stateless-1", "stateless-2", "stateless-3"],
        "{report}"
    );
    for (id, n) in spread {
        let n = n.as_u64().unwrap();
        assert!((170..=230).contains(&n), "{id} took {n} of 600: {report}");
    }
    println!("verify served_by over 3 replicas: {}", report["served_by"]);

    // The shell's stress and replicas commands show the same spread.
    let mut child = Command::new(mcpctl_bin())
        .args(["shell", &url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mcpctl shell");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"stress 90\nreplicas\n").unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("90/90 successful"), "{stdout}");
    assert!(
        stdout.contains(
            "verdict: OK: no session or scaling problem (spread over 3 replicas); stateless"
        ),
        "{stdout}"
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("served by: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    for id in ["stateless-1", "stateless-2", "stateless-3"] {
        assert!(line.contains(&format!("{id} ")), "{line}");
    }
    assert!(stdout.contains("came from 3 replica(s)"), "{stdout}");
    println!("shell stress 90: {line}");
}
