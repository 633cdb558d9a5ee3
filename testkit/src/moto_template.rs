//! Moto servers forked from a prepared template, one per test.
//!
//! A fresh `moto_server` costs about 2.5 s of CPU before it answers its first calls quickly:
//! 0.4 s to start, then loading each service's backend on its first call (ECS 1.3 s, EC2 0.6 s)
//! and, for the `up` tests, the shared-resources set-up script (boto3, about 0.7 s more). With
//! some 50 such starts per test run on a 2-core CI machine, that was minutes.
//!
//! So each test binary starts one template process per kind of moto (`moto_template.py`): it
//! loads every backend once and runs the set-up once, then forks a child per test. A child is a
//! separate moto process with its own copy of that state, on its own port: tests still share
//! nothing, may keep fixed resource names, and a test's calls are never seen by another. A
//! template runs with the moto environment it was asked for (one template per environment and
//! set-up). Only moto enforcing IAM (`INITIAL_NO_AUTH_ACTION_COUNT`) is spawned as before: it
//! counts requests from its start, and the template's own calls would use them up.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::{venv_bin, workspace_root, ChildGuard};

/// One template process and the pipes to talk to it.
struct Template {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// What the set-up script printed (`null` without one).
    shared: serde_json::Value,
    /// The last lines of its stderr, for messages.
    stderr: Arc<Mutex<Vec<String>>>,
    _guard: ChildGuard,
}

/// A moto child forked from a template: its port, and its template to kill it through.
pub(crate) struct Forked {
    pub port: u16,
    pub pid: u32,
    key: Vec<String>,
}

impl Drop for Forked {
    fn drop(&mut self) {
        // The template kills and reaps only its own children; a lost template has taken its
        // children with it (PR_SET_PDEATHSIG).
        let mut all = templates().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = all.get_mut(&self.key) {
            let _ = writeln!(t.stdin, "kill {}", self.pid);
            let _ = t.stdin.flush();
        }
    }
}

fn templates() -> &'static Mutex<HashMap<Vec<String>, Template>> {
    static TEMPLATES: OnceLock<Mutex<HashMap<Vec<String>, Template>>> = OnceLock::new();
    TEMPLATES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Fork a moto from the template for `env` (moto's environment) and `setup` (`None`: moto as it
/// starts; `Some(args)`: after `scripts/emulator-shared-resources.py args`), starting that
/// template on first use. Returns the child and what the set-up printed.
pub(crate) fn fork(env: &[(&str, &str)], setup: Option<&[&str]>) -> (Forked, serde_json::Value) {
    let mut key: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    key.sort();
    match setup {
        None => key.push("bare".into()),
        Some(args) => {
            key.push("setup".into());
            key.extend(args.iter().map(|a| a.to_string()));
        }
    }
    let mut all = templates().lock().unwrap_or_else(|e| e.into_inner());
    if !all.contains_key(&key) {
        all.insert(key.clone(), Template::start(env, setup));
    }
    let t = all.get_mut(&key).expect("inserted above");
    let mut line = String::new();
    let answered = writeln!(t.stdin, "fork")
        .and_then(|_| t.stdin.flush())
        .is_ok()
        && t.stdout.read_line(&mut line).unwrap_or(0) > 0;
    let parsed = line
        .split_once(' ')
        .and_then(|(pid, port)| Some((pid.parse().ok()?, port.trim().parse().ok()?)));
    let Some((pid, port)) = parsed.filter(|_| answered) else {
        panic!(
            "the moto template did not fork (answer {line:?}); its stderr ends:\n{}",
            t.stderr_tail()
        );
    };
    let shared = t.shared.clone();
    drop(all);
    // The template listens on the port before it forks, so it takes connections at once.
    (Forked { port, pid, key }, shared)
}

impl Template {
    /// Start `moto_template.py` and wait (bounded) for its `READY` line.
    fn start(env: &[(&str, &str)], setup: Option<&[&str]>) -> Template {
        let root = workspace_root();
        let mut cmd = Command::new(venv_bin("python"));
        cmd.arg(root.join("testkit/moto_template.py"))
            .envs(env.iter().copied());
        if let Some(args) = setup {
            cmd.arg("--setup")
                .arg(root.join("scripts/emulator-shared-resources.py"))
                .args(args);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut guard = ChildGuard::spawn("moto template", &mut cmd);
        let stdin = guard.child.stdin.take().expect("piped stdin");
        let stdout = guard.child.stdout.take().expect("piped stdout");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        keep_tail(guard.child.stderr.take().expect("piped stderr"), &stderr);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send((reader, line));
        });
        let Ok((stdout, ready)) = rx.recv_timeout(Duration::from_secs(120)) else {
            panic!(
                "the moto template was not ready within 120 s; stderr:\n{}",
                lines(&stderr)
            );
        };
        let Some(json) = ready.strip_prefix("READY ") else {
            panic!(
                "the moto template failed ({ready:?}); stderr:\n{}",
                lines(&stderr)
            );
        };
        let shared = serde_json::from_str(json.trim())
            .unwrap_or_else(|e| panic!("the moto template's READY line {ready:?}: {e}"));
        Template {
            stdin,
            stdout,
            shared,
            stderr,
            _guard: guard,
        }
    }

    fn stderr_tail(&self) -> String {
        lines(&self.stderr)
    }
}

/// The kept lines, joined.
fn lines(tail: &Mutex<Vec<String>>) -> String {
    tail.lock().map(|l| l.join("\n")).unwrap_or_default()
}

/// Drain `pipe` in a thread, keeping its last 40 lines in `tail`.
fn keep_tail(pipe: impl std::io::Read + Send + 'static, tail: &Arc<Mutex<Vec<String>>>) {
    let tail = tail.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Ok(mut t) = tail.lock() {
                if t.len() == 40 {
                    t.remove(0);
                }
                t.push(line);
            }
        }
    });
}
