//! The corpus of broken stack files under `tests/data/stack-mistakes/`: one directory per
//! mistake, holding `stack.yaml` (the file under test; other `.yaml` files beside it are the
//! other stacks of its directory) and `expected` (the first line is the first line of the
//! error; any further lines must also appear in it). `plan` and `up` must both exit 2 with that
//! message and make no AWS call (`AWS_ENDPOINT_URL` points at a listener that counts).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::fake_aws::Counter;

const CORPUS: &str = "tests/data/stack-mistakes";

fn run(counter: &Counter, cmd: &str, case: &Path) -> (Option<i32>, String) {
    let out = Command::new(crate::common::mcpctl_bin())
        .args([
            cmd,
            "--stack",
            case.to_str().unwrap(),
            "--call-timeout",
            "5s",
        ])
        .current_dir(crate::common::workspace_root())
        .env("AWS_ENDPOINT_URL", &counter.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCOUNT_ID", "123456789012")
        .env_remove("AWS_PROFILE")
        .env_remove("MCPCTL_IMAGE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let prefix = format!("{}/", case.display());
    let err = String::from_utf8_lossy(&out.stderr).replace(&prefix, "");
    (out.status.code(), err)
}

#[test]
fn every_broken_stack_file_is_refused_at_load_with_its_place_and_no_aws_call() {
    let root = crate::common::workspace_root();
    let mut cases: Vec<_> = std::fs::read_dir(root.join(CORPUS))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 14, "the corpus has {} cases", cases.len());
    let counter = Counter::start();
    let mut failures = Vec::new();
    for case in &cases {
        let rel = case.strip_prefix(&root).unwrap();
        let expected = std::fs::read_to_string(case.join("expected")).unwrap();
        let mut lines = expected.lines();
        let first = lines.next().unwrap();
        for cmd in ["plan", "up"] {
            let (code, err) = run(&counter, cmd, rel);
            let got = err.lines().next().unwrap_or_default();
            if code != Some(2) || got != format!("error: {first}") {
                failures.push(format!(
                    "{} {cmd}: exit {code:?}\n  want: error: {first}\n  got:  {got}",
                    rel.display()
                ));
            }
            for also in lines.clone() {
                if !err.contains(also) {
                    failures.push(format!(
                        "{} {cmd}: missing {also:?} in\n{err}",
                        rel.display()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(counter.count(), 0, "no AWS call may be made");
}
