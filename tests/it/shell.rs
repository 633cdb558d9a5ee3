//! `mcpctl shell` against a real `opensearch-mcp-server` and osmem: every command through a
//! piped stdin (plain text, exit code 1 when a command fails), and once on a pseudo-terminal
//! (tab completion of a tool name, line editing, Ctrl-C not ending the shell).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::common::*;
use crate::server_support::*;

/// Run `mcpctl shell ARGS` with `input` on stdin (not a terminal).
fn shell(args: &[&str], input: &str, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(mcpctl_bin());
    cmd.arg("shell")
        .args(args)
        .env_remove("MCP_AUTH_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start mcpctl shell");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out: Output = child.wait_with_output().expect("mcpctl shell output");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn every_command_runs_from_stdin_and_a_failing_one_sets_the_exit_code() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[("MCP_REPLICA_ID", "solo-1")]);
    let url = server.mcp_url();

    let script = "\
# a comment, then every command
health
tools
list
describe count
call count {\"index\": \"movies\"}
session
stress 20
replicas
help
quit
list
";
    let (code, out, err) = shell(&[&url], script, &[]);
    assert_eq!(code, Some(0), "stdout:\n{out}\nstderr:\n{err}");
    // health: the user's server's values.
    assert!(
        out.contains(
            "HTTP 200, OpenSearch MCP Server healthy, OpenSearch connected (cluster osmem"
        ),
        "{out}"
    );
    // tools, list, describe, call
    assert!(
        out.contains("16 tools:") && out.contains("\n  search_index "),
        "{out}"
    );
    assert!(
        out.contains("index   docs.count  docs.deleted") && out.contains("\nmovies  12          0"),
        "{out}"
    );
    assert!(
        out.contains("input schema:") && out.contains("\"readOnlyHint\": true"),
        "{out}"
    );
    assert!(out.contains("\"count\": 12"), "{out}");
    // session: stateless, so no session id.
    assert!(out.contains("server: OpenSearch MCP Server"), "{out}");
    assert!(out.contains("protocol version: 2025-06-18"), "{out}");
    assert!(
        out.contains("session id: none (the server is stateless"),
        "{out}"
    );
    assert!(out.contains("initialize answered by: solo-1"), "{out}");
    // stress: N/N successful, Session not found apart, the replica and the verdict.
    assert!(out.contains("20/20 successful"), "{out}");
    assert!(out.contains("\nSession not found: 0"), "{out}");
    assert!(out.contains("served by: solo-1 20 (100%)"), "{out}");
    assert!(
        out.contains(
            "verdict: OK: no session or scaling problem (all answered by one replica); stateless"
        ),
        "{out}"
    );
    assert!(out.contains("came from 1 replica(s): solo-1"), "{out}");
    assert!(out.contains("commands:\n  health"), "{out}");
    // quit stops reading: the list after it did not run.
    assert_eq!(out.matches("\nmovies  12").count(), 1, "{out}");
    assert!(err.is_empty(), "{err}");

    // A failing command (a required argument missing with nobody to ask), an unknown tool and a
    // typo: reported on stderr, the rest still runs, exit code 1.
    let script = "call explain {\"index\": \"movies\"}\ncall no_such_tool\nfrobnicate\nlist\n";
    let (code, out, err) = shell(&[&url], script, &[]);
    assert_eq!(code, Some(1), "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("explain needs the argument \"id\" (string)"),
        "{err}"
    );
    assert!(
        err.contains("the server has no tool \"no_such_tool\""),
        "{err}"
    );
    assert!(err.contains("unknown command \"frobnicate\""), "{err}");
    assert!(err.contains("3 of 4 shell commands failed"), "{err}");
    assert!(
        out.contains("\nmovies  12"),
        "the list after the failures ran: {out}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn health_fails_when_opensearch_is_gone_and_a_dead_url_is_a_clear_error() {
    let mut osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[]);
    osmem.stop();
    // The server's health answers from a probe at most one second old: let it expire.
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let (code, out, err) = shell(&[&server.mcp_url()], "health\n", &[]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(err.contains("OpenSearch error:"), "{err}");

    let (code, _out, err) = shell(&["http://127.0.0.1:1/mcp"], "list\n", &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("initialize: connection errors"), "{err}");
}

#[test]
fn on_a_terminal_tool_names_complete_with_tab_and_ctrl_c_keeps_the_shell() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[]);
    let state = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(mcpctl_bin());
    cmd.arg("shell")
        .arg(server.mcp_url())
        .env("XDG_STATE_HOME", state.path())
        .env("TERM", "xterm")
        .env_remove("MCP_AUTH_TOKEN");
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).expect("spawn on a pty");
    p.exp_string("Type help for the commands.").expect("banner");
    p.exp_string("mcp> ").expect("prompt");
    // "describe get_index_ma" + TAB completes to the one tool with that prefix.
    p.send("describe get_index_ma").unwrap();
    p.send("\t").unwrap();
    p.flush().unwrap();
    // Wait for the completed line on the screen before Enter, as a person would.
    p.exp_string("get_index_mapping ")
        .expect("the tool name completed");
    p.send("\r").unwrap();
    p.flush().unwrap();
    p.exp_string("get_index_mapping\r\n  Get the mapping")
        .expect("the completed tool name was described");
    p.exp_string("input schema:").unwrap();
    p.exp_string("mcp> ").unwrap();
    // Ctrl-C on the line being typed drops the line, not the shell.
    p.send("list").unwrap();
    p.send_control('c').unwrap();
    p.exp_string("mcp> ").unwrap();
    // call with a required argument missing: asked for on the terminal.
    p.send_line("call msearch").unwrap();
    p.exp_string("searches (array, required")
        .expect("asked for searches");
    p.send_line("not json").unwrap();
    p.exp_string("expected a JSON array")
        .expect("a bad answer is asked again");
    p.send_line(r#"[{"index": "movies", "size": 1}]"#).unwrap();
    p.exp_string("\"responses\"").expect("the msearch result");
    p.exp_string("mcp> ").unwrap();
    p.send_line("quit").unwrap();
    p.exp_eof().expect("the shell ended");
    let history =
        std::fs::read_to_string(state.path().join("mcpctl/shell_history")).expect("history saved");
    assert!(history.contains("describe get_index_mapping"), "{history}");
}
