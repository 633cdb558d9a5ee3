//! Child processes of `mcpctl local`: started in their own process groups, logs to files, and
//! stopped together (SIGTERM, then SIGKILL after a deadline). On Linux each child also gets
//! `PR_SET_PDEATHSIG`, so even a `kill -9` of mcpctl leaves nothing running.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::process::{Child, Command};

/// How a child ended, reported once.
pub type OnExit = Box<dyn FnOnce(String) + Send>;

/// The children started so far.
#[derive(Debug, Default, Clone)]
pub struct Supervisor {
    children: Arc<Mutex<Vec<Running>>>,
}

#[derive(Debug)]
struct Running {
    name: String,
    pid: u32,
    done: tokio::sync::watch::Receiver<bool>,
}

/// What to start.
#[derive(Debug, Clone)]
pub struct ChildSpec {
    /// A name for messages (`stateless-2`, `osmem-server`).
    pub name: String,
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Environment added to mcpctl's own.
    pub env: Vec<(String, String)>,
    /// File that receives its stdout and stderr (appended).
    pub log: PathBuf,
    /// Give it a stdin pipe (returned in [`Started`]) instead of /dev/null.
    pub keep_stdin: bool,
}

/// A started child: its pid, and (for osmem) the stdin it watches.
#[derive(Debug)]
pub struct Started {
    /// Process id (also its process group id).
    pub pid: u32,
    /// Its stdin, when asked for: closing it tells osmem-server to exit.
    pub stdin: Option<tokio::process::ChildStdin>,
}

impl Supervisor {
    /// Start a child in its own process group, output appended to its log. `on_exit` runs
    /// when the process ends, with how it ended.
    pub fn spawn(&self, spec: &ChildSpec, on_exit: OnExit) -> Result<Started, String> {
        let ChildSpec {
            name,
            program,
            args,
            env,
            log,
            keep_stdin,
        } = spec;
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("cannot open log file {}: {e}", log.display()))?;
        let log_err = log_file
            .try_clone()
            .map_err(|e| format!("cannot open log file {}: {e}", log.display()))?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(if *keep_stdin {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(log_file)
            .stderr(log_err)
            .kill_on_drop(true)
            .process_group(0);
        die_with_parent(&mut cmd);
        let mut child: Child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name} ({}): {e}", program.display()))?;
        let pid = child.id().unwrap_or(0);
        let stdin = child.stdin.take();
        let (tx, rx) = tokio::sync::watch::channel(false);
        self.lock().push(Running {
            name: name.clone(),
            pid,
            done: rx,
        });
        tokio::spawn(async move {
            let how = match child.wait().await {
                Ok(status) => describe_exit(status),
                Err(e) => format!("could not wait for it: {e}"),
            };
            on_exit(how);
            let _ = tx.send(true);
        });
        Ok(Started { pid, stdin })
    }

    /// Stop every child: SIGTERM to each process group, then SIGKILL to whatever still runs
    /// after `grace`. Returns the names of those that had to be killed.
    pub async fn stop_all(&self, grace: Duration) -> Vec<String> {
        let running: Vec<(String, u32, tokio::sync::watch::Receiver<bool>)> = self
            .lock()
            .iter()
            .map(|r| (r.name.clone(), r.pid, r.done.clone()))
            .collect();
        for (_, pid, done) in &running {
            if !*done.borrow() {
                signal_group(*pid, libc::SIGTERM);
            }
        }
        let mut killed = Vec::new();
        for (name, pid, mut done) in running {
            let exited = tokio::time::timeout(grace, done.wait_for(|d| *d))
                .await
                .is_ok();
            if !exited {
                signal_group(pid, libc::SIGKILL);
                let _ = tokio::time::timeout(Duration::from_secs(5), done.wait_for(|d| *d)).await;
                killed.push(name);
            }
        }
        killed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Running>> {
        self.children.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Send `signal` to the process group led by `pid`.
fn signal_group(pid: u32, signal: i32) {
    if pid == 0 {
        return;
    }
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is touched.
    unsafe {
        libc::kill(-(pid as i32), signal);
    }
}

/// On Linux, have the kernel SIGKILL the child when mcpctl dies (even by SIGKILL).
#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec and only calls prctl(2) and
    // getppid(2), both async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() == 1 {
                // The parent died before prctl took effect.
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_cmd: &mut Command) {}

fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => "exited".to_string(),
    }
}

/// The last `lines` lines of a log file (for start-up errors).
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A fresh directory for this run's logs under the system temp dir.
pub fn logs_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("mcpctl-local-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn children_are_stopped_and_exits_reported() {
        let dir = tempfile::tempdir().unwrap();
        let sup = Supervisor::default();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spec = |name: &str, script: &str, log: &str| ChildSpec {
            name: name.into(),
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![("GREETING".into(), "started".into())],
            log: dir.path().join(log),
            keep_stdin: false,
        };
        let started = sup
            .spawn(
                &spec("sleeper", "echo $GREETING; exec sleep 30", "s.log"),
                Box::new(move |how| {
                    let _ = tx.send(how);
                }),
            )
            .unwrap();
        assert!(started.pid > 0);
        // A shell that ignores SIGTERM has to be killed.
        let (tx2, rx2) = tokio::sync::oneshot::channel();
        sup.spawn(
            &spec("stubborn", "trap '' TERM; sleep 30 & wait", "t.log"),
            Box::new(move |how| {
                let _ = tx2.send(how);
            }),
        )
        .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let killed = sup.stop_all(Duration::from_millis(500)).await;
        assert_eq!(killed, ["stubborn"]);
        assert_eq!(rx.await.unwrap(), "killed by signal 15");
        assert_eq!(rx2.await.unwrap(), "killed by signal 9");
        assert_eq!(log_tail(&dir.path().join("s.log"), 5), "started");
    }
}
