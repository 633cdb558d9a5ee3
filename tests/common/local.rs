//! `mcpctl local` run by a test: real server replicas behind the round-robin router, started
//! from the repository's stacks, stopped with SIGTERM when dropped.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::*;

/// A running `mcpctl local`, stopped with SIGTERM on drop (SIGKILL if it does not stop).
pub struct Local {
    /// The `mcpctl local` process.
    pub child: Child,
    /// Its ready document.
    pub ready: Value,
    _dir: tempfile::TempDir,
}

impl Local {
    /// Start `mcpctl local` with the repository's `stacks` (3 replicas each), wait until ready.
    pub fn start(stacks: &[&str]) -> Local {
        let dir = tempfile::tempdir().unwrap();
        let ready_file = dir.path().join("ready.json");
        let mut cmd = Command::new(mcpctl_bin());
        cmd.arg("--stacks-dir")
            .arg(workspace_root().join("stacks"))
            .arg("local");
        for s in stacks {
            cmd.args(["--stack", s]);
        }
        cmd.args([
            "--replicas",
            "3",
            "--port",
            "0",
            "--health-interval",
            "200ms",
        ])
        .arg("--server-bin")
        .arg(server_bin())
        .arg("--ready-file")
        .arg(&ready_file)
        .arg("--logs-dir")
        .arg(dir.path().join("logs"))
        .env("MCPCTL_VENV", venv())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("stderr.log")).unwrap());
        let child = cmd.spawn().expect("start mcpctl local");
        let mut local = Local {
            child,
            ready: Value::Null,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(90);
        while !ready_file.exists() {
            if let Ok(Some(status)) = local.child.try_wait() {
                let stderr = std::fs::read_to_string(local._dir.path().join("stderr.log"));
                panic!(
                    "mcpctl local exited before it was ready: {status}; its stderr:\n{}",
                    stderr.unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "mcpctl local not ready within 90s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        local.ready = serde_json::from_str(&std::fs::read_to_string(&ready_file).unwrap()).unwrap();
        local
    }

    /// Stack `name` in the ready document.
    pub fn stack(&self, name: &str) -> &Value {
        self.ready["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no stack {name} in {}", self.ready))
    }

    /// The MCP URL of stack `name` behind the router.
    pub fn mcp_url(&self, name: &str) -> String {
        self.stack(name)["mcp_url"].as_str().unwrap().to_string()
    }

    /// The replicas' process IDs.
    pub fn replica_pids(&self, name: &str) -> Vec<i32> {
        self.stack(name)["replicas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["pid"].as_i64().unwrap() as i32)
            .collect()
    }

    /// The router's view of a stack's replicas: (pid, health, requests).
    pub fn targets(&self, name: &str) -> Vec<(i32, String, u64)> {
        let url = self.ready["status_url"].as_str().unwrap();
        let (code, body) = http_send("GET", url, b"", "application/json");
        assert_eq!(code, 200, "{body}");
        let status: Value = serde_json::from_str(&body).unwrap();
        status["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stack"] == name)
            .unwrap()["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["pid"].as_i64().unwrap() as i32,
                    t["health"].as_str().unwrap().to_string(),
                    t["requests"].as_u64().unwrap(),
                )
            })
            .collect()
    }

    /// Wait until replica `pid` of `stack` has `health` in the router's view.
    pub fn wait_for_health(&self, stack: &str, pid: i32, health: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let t = self.targets(stack);
            if t.iter().any(|(p, h, _)| *p == pid && h == health) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "replica {pid} not {health} within {within:?}: {t:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Send `sig` (SIGTERM, or SIGINT as Ctrl-C does), and the exit status (bounded wait).
    pub fn stop(&mut self, sig: i32) -> std::process::ExitStatus {
        signal(self.child.id() as i32, sig);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "mcpctl local did not stop within 30s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            signal(self.child.id() as i32, libc::SIGTERM);
            for _ in 0..300 {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Send `sig` to `pid`.
pub fn signal(pid: i32, sig: i32) {
    // SAFETY: kill(2) on a pid this test started (or one of its replicas).
    unsafe {
        libc::kill(pid, sig);
    }
}

/// True when `pid` runs (and is not a zombie).
pub fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let exists = unsafe { libc::kill(pid, 0) } == 0;
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split_whitespace().nth(2) == Some("Z"))
        .unwrap_or(false);
    exists && !zombie
}
