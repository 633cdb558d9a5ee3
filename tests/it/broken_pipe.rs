//! A reader that goes away (`mcpctl plan | head -1`, `mcpctl logs --follow | head`) ends
//! `mcpctl` quietly with exit code 0, as ripgrep does: no panic, no error message.

use std::process::Stdio;

use crate::common::aws::{Aws, IMAGE};

/// Run `mcpctl ARGS` with stdout a pipe whose reading end is closed before anything is
/// written; returns (exit code, stderr).
fn run_with_closed_stdout(aws: &Aws, args: &[&str]) -> (Option<i32>, String) {
    let mut child = aws
        .mcpctl_cmd(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mcpctl");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for mcpctl");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_ends_plan_quietly_with_exit_0() {
    let aws = Aws::start();
    // The same command with a reader prints the plan and succeeds.
    let ok = aws.mcpctl(&["plan", "--stack", "stateless", "--image", IMAGE]);
    assert!(
        ok.status.success() && !ok.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    for args in [
        &["plan", "--stack", "stateless", "--image", IMAGE][..],
        &[
            "--output",
            "json",
            "plan",
            "--stack",
            "stateless",
            "--image",
            IMAGE,
        ][..],
    ] {
        let (code, stderr) = run_with_closed_stdout(&aws, args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error"),
            "{args:?} must stop quietly: {stderr}"
        );
    }
}
