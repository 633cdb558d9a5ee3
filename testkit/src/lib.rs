//! Test-only helpers shared by the integration tests of both workspace packages (`tests/` for
//! `mcpctl`, `server/tests/` for `opensearch-mcp-server`): real emulators (moto, osmem-server)
//! and child processes, started on 127.0.0.1 on ports they pick themselves and stopped on drop.
//!
//! The Python tools come from the venv that `scripts/test` creates (`.venv`, or `MCPCTL_VENV`).
//! Nothing here is shipped: the crate is `publish = false` and only a dev-dependency.

pub mod alb;
pub mod emf;
pub mod fault_proxy;
mod moto_template;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace root (this crate lives in `testkit/` directly under it).
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(Path::to_path_buf).unwrap_or(here)
}

/// The venv holding moto, osmem-server and the MCP Python SDK.
pub fn venv() -> PathBuf {
    std::env::var_os("MCPCTL_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv"))
}

/// A program inside the venv's `bin/`.
pub fn venv_bin(name: &str) -> PathBuf {
    let p = venv().join("bin").join(name);
    assert!(
        p.exists(),
        "{} is missing: run scripts/test (it creates the venv with moto, osmem-server and mcp)",
        p.display()
    );
    p
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Wait (bounded) until something accepts TCP connections on 127.0.0.1:port.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        // A connection to itself (TCP simultaneous open, possible when nothing listens yet on
        // a port in the ephemeral range) is not a listener.
        if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            if s.local_addr().ok() != s.peer_addr().ok() {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}

/// The first line from a child's pipe that satisfies `wanted`, waiting at most `timeout`; the
/// pipe is drained afterwards (in a thread) so the child never blocks on a full pipe.
pub fn first_line_matching(
    pipe: impl std::io::Read + Send + 'static,
    timeout: Duration,
    wanted: impl Fn(&str) -> bool + Send + 'static,
) -> Option<String> {
    use std::io::{BufRead, BufReader};
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if !sent && wanted(&line) {
                sent = tx.send(line).is_ok();
            }
        }
    });
    rx.recv_timeout(timeout).ok()
}

/// A child process killed (and reaped) on drop.
pub struct ChildGuard {
    /// The process.
    pub child: Child,
    /// What it is, for messages.
    pub name: String,
}

impl ChildGuard {
    /// Spawn `cmd` and guard it.
    pub fn spawn(name: &str, cmd: &mut Command) -> ChildGuard {
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {name}: {e}"));
        ChildGuard {
            child,
            name: name.to_string(),
        }
    }

    /// Kill the process now.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A moto server (AWS emulator) on 127.0.0.1.
pub struct Moto {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    /// The port.
    pub port: u16,
    _process: MotoProcess,
}

/// How a [`Moto`] runs; either way it is stopped on drop.
enum MotoProcess {
    /// Its own `moto_server` process (started with extra environment).
    Spawned(#[allow(dead_code)] ChildGuard),
    /// A child of a template (see `moto_template`).
    Forked(#[allow(dead_code)] moto_template::Forked),
}

impl Moto {
    /// A moto of its own, as `moto_server` starts, with every service loaded: forked from this
    /// test binary's template (`moto_template` says why), so it answers at once.
    pub fn start() -> Moto {
        Self::from_template(&[], None).0
    }

    /// A moto of its own with environment `env` (e.g. `MOTO_ECS_SERVICE_RUNNING=2`) in which
    /// `scripts/emulator-shared-resources.py args` has run (the user's shared resources), and
    /// what that script printed. Forked from a template that ran the script once for this test
    /// binary, except for moto enforcing IAM (`INITIAL_NO_AUTH_ACTION_COUNT`): it counts requests
    /// from its start, so it is started and set up on its own.
    pub fn start_prepared(env: &[(&str, &str)], args: &[&str]) -> (Moto, serde_json::Value) {
        if !env
            .iter()
            .any(|(k, _)| *k == "INITIAL_NO_AUTH_ACTION_COUNT")
        {
            return Self::from_template(env, Some(args));
        }
        let moto = Self::start_with_env(env);
        let out = Command::new(venv_bin("python"))
            .arg(workspace_root().join("scripts/emulator-shared-resources.py"))
            .args(args)
            .envs(moto.aws_env())
            .output()
            .expect("run emulator-shared-resources.py");
        assert!(
            out.status.success(),
            "shared resources setup failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let shared = serde_json::from_slice(&out.stdout).expect("setup prints JSON");
        (moto, shared)
    }

    fn from_template(env: &[(&str, &str)], setup: Option<&[&str]>) -> (Moto, serde_json::Value) {
        let (forked, shared) = moto_template::fork(env, setup);
        let moto = Moto {
            endpoint: format!("http://127.0.0.1:{}", forked.port),
            port: forked.port,
            _process: MotoProcess::Forked(forked),
        };
        (moto, shared)
    }

    /// Start a `moto_server` process of its own with extra environment variables (read when
    /// moto starts, so not forked from a template).
    pub fn start_with_env(env: &[(&str, &str)]) -> Moto {
        // Port 0: moto picks a free port itself and prints it, so no other process can take
        // the port between our choosing it and moto binding it.
        let mut cmd = Command::new(venv_bin("moto_server"));
        cmd.args(["-H", "127.0.0.1", "-p", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut guard = ChildGuard::spawn("moto_server", &mut cmd);
        let stderr = guard.child.stderr.take().expect("piped stderr");
        const PREFIX: &str = "Running on http://127.0.0.1:";
        let line = first_line_matching(stderr, Duration::from_secs(30), |l| l.contains(PREFIX))
            .expect("moto_server did not say where it listens within 30s");
        let port: u16 = line[line.find(PREFIX).unwrap_or(0) + PREFIX.len()..]
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("no port in moto_server's line {line:?}: {e}"));
        assert!(
            wait_for_port(port, Duration::from_secs(30)),
            "moto_server did not listen on 127.0.0.1:{port} within 30s"
        );
        Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            _process: MotoProcess::Spawned(guard),
        }
    }

    /// Environment for an AWS SDK client (ours or boto3) pointed at this moto.
    pub fn aws_env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
            ("AWS_SESSION_TOKEN".into(), "testing".into()),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            ("AWS_CONFIG_FILE".into(), "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE".into(), "/dev/null".into()),
        ]
    }
}

/// Environment for `moto_server` that checks a SigV4 signature over a form body the way AWS
/// does, so calls from the Rust SDK with a space in a parameter pass moto's IAM enforcement
/// (`testkit/moto_sigv4_form/sitecustomize.py` says why).
pub fn moto_sigv4_form_env() -> Vec<(String, String)> {
    let dir = workspace_root().join("testkit/moto_sigv4_form");
    vec![("PYTHONPATH".into(), dir.display().to_string())]
}

/// An osmem-server (in-memory OpenSearch) on 127.0.0.1.
pub struct Osmem {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The port.
    pub port: u16,
    guard: ChildGuard,
}

impl Osmem {
    /// Start osmem-server on a free port, empty.
    pub fn start() -> Osmem {
        let bin = venv()
            .join("lib")
            .read_dir()
            .ok()
            .and_then(|mut d| d.find_map(|e| e.ok()))
            .map(|py| {
                py.path()
                    .join("site-packages/osmem_server/bin/osmem-server")
            })
            .filter(|p| p.exists())
            .expect("osmem-server is not installed in the venv: run scripts/test");
        Self::start_bin(&bin)
    }

    /// Start osmem-server on a port it picks itself (`-addr 127.0.0.1:0`) and read the URL from
    /// its first stdout line, so no other process can take the port in between.
    fn start_bin(bin: &Path) -> Osmem {
        let mut cmd = Command::new(bin);
        cmd.args(["-addr", "127.0.0.1:0", "-no-stdin-watch"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut guard = ChildGuard::spawn("osmem-server", &mut cmd);
        let stdout = guard.child.stdout.take().expect("piped stdout");
        let first = first_line_matching(stdout, Duration::from_secs(30), |_| true)
            .expect("osmem-server printed no start-up line within 30s");
        let info: serde_json::Value = serde_json::from_str(&first)
            .unwrap_or_else(|e| panic!("osmem-server start-up line {first:?}: {e}"));
        let url = info["url"]
            .as_str()
            .unwrap_or_else(|| panic!("no url in osmem-server start-up line {first:?}"))
            .to_string();
        let port = url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {url}"));
        assert!(
            wait_for_port(port, Duration::from_secs(30)),
            "osmem-server did not listen on {url} within 30s"
        );
        Osmem { url, port, guard }
    }

    /// Start osmem-server seeded with the sample `movies` index (see `seed_movies`).
    pub fn start_with_movies() -> Osmem {
        let o = Self::start();
        o.seed_movies();
        o
    }

    /// Create the `movies` index (a few MovieLens-like documents) with a mapping.
    pub fn seed_movies(&self) {
        let file = workspace_root().join("tests/data/movies.ndjson");
        let body = std::fs::read(&file).expect("tests/data/movies.ndjson");
        let mapping = std::fs::read(workspace_root().join("tests/data/movies.mapping.json"))
            .expect("tests/data/movies.mapping.json");
        http_send(
            "PUT",
            &format!("{}/movies", self.url),
            &mapping,
            "application/json",
        );
        http_send(
            "POST",
            &format!("{}/_bulk?refresh=true", self.url),
            &body,
            "application/x-ndjson",
        );
    }

    /// Stop the server (to test "OpenSearch went away").
    pub fn stop(&mut self) {
        self.guard.kill();
    }
}

/// A minimal blocking HTTP/1.1 request with `curl`-free std networking; returns (status, body).
pub fn http_send(method: &str, url: &str, body: &[u8], content_type: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url
        .strip_prefix("http://")
        .expect("only http:// URLs on 127.0.0.1");
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut s = std::net::TcpStream::connect(authority).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("write");
    s.write_all(body).expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// An Amazon Cognito user pool in `moto` with two app clients and a user, made by
/// `tests/python/cognito_tokens.py`: its `issuer`, `jwks_url`, `client_a`, `client_b`, the
/// user's access tokens through each client (`access_a`, `access_b`) and client a's ID token.
pub fn cognito_tokens(moto: &Moto) -> serde_json::Value {
    let out = Command::new(venv_bin("python"))
        .arg(workspace_root().join("tests/python/cognito_tokens.py"))
        .arg(&moto.endpoint)
        .output()
        .expect("run cognito_tokens.py");
    assert!(
        out.status.success(),
        "cognito_tokens.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cognito_tokens.py prints JSON")
}
