//! The client connection options of `verify`, `call`, `verify --compare` and `shell`
//! (`--header 'NAME: VALUE'`, `--bearer-token-env VAR`) against a server with a static
//! `MCP_AUTH_TOKEN`, 401/403 counted as their own load outcome, and the server's
//! `X-Served-By` header (on by default, `MCP_REPLICA_ID`, off with `MCP_SERVED_BY=false`).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::common::*;
use crate::server_support::*;
use serde_json::Value;

const TOKEN: &str = "test-token-5b1f0c";

fn mcpctl(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(mcpctl_bin());
    cmd.args(args).env_remove("MCP_AUTH_TOKEN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run mcpctl")
}

fn texts(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

#[test]
fn the_bearer_token_from_an_env_var_passes_and_its_absence_is_counted_as_unauthorized() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[("MCP_AUTH_TOKEN", TOKEN)]);
    let url = server.mcp_url();
    let with_token = [("MY_MCP_TOKEN", TOKEN)];

    // verify (functional probe) passes with the token from the variable.
    let out = mcpctl(
        &["verify", &url, "--bearer-token-env", "MY_MCP_TOKEN"],
        &with_token,
    );
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("passed:"), "{stdout}");
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "the token is never printed"
    );

    // Without it: initialize fails with a hint, exit 1.
    let out = mcpctl(&["verify", &url], &[]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("HTTP 401/403 unauthorized (HTTP 401)"),
        "{stdout}"
    );
    assert!(stdout.contains("--bearer-token-env"), "{stdout}");

    // Load test: with the token every call succeeds; without it each is counted as unauthorized.
    let load = |extra: &[&str], env: &[(&str, &str)]| -> (Option<i32>, Value) {
        let mut args = vec![
            "verify",
            &url,
            "--requests",
            "40",
            "--concurrency",
            "4",
            "--output",
            "json",
        ];
        args.extend_from_slice(extra);
        let out = mcpctl(&args, env);
        let (stdout, stderr) = texts(&out);
        let v: Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
        (out.status.code(), v)
    };
    let (code, v) = load(&["--bearer-token-env", "MY_MCP_TOKEN"], &with_token);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["outcomes"]["success"], 40, "{v}");
    let (code, v) = load(&[], &[]);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["outcomes"]["unauthorized"], 40, "{v}");
    assert_eq!(v["outcomes"]["http_error"], 0, "{v}");
    let (_, v) = load(&["--header", "Authorization: Bearer wrong"], &[]);
    assert_eq!(v["outcomes"]["unauthorized"], 40, "{v}");

    // --compare: the same options for every endpoint; the table has the unauthorized row.
    let out = mcpctl(
        &[
            "verify",
            "--compare",
            &url,
            &url,
            "--requests",
            "10",
            "--concurrency",
            "2",
        ],
        &[],
    );
    let (stdout, _) = texts(&out);
    let row = stdout
        .lines()
        .find(|l| l.contains("HTTP 401/403 unauthorized"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let counts: Vec<&str> = row.split_whitespace().rev().take(2).collect();
    assert_eq!(counts, ["10", "10"], "{row}");

    // call: with --header carrying the token, and with the variable.
    let header = format!("Authorization: Bearer {TOKEN}");
    let out = mcpctl(
        &[
            "call",
            &url,
            "count",
            r#"{"index":"movies"}"#,
            "--header",
            &header,
        ],
        &[],
    );
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("\"count\":12"), "{stdout}");
    let out = mcpctl(
        &[
            "call",
            &url,
            "list_indices",
            "--bearer-token-env",
            "MY_MCP_TOKEN",
        ],
        &with_token,
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));

    // Bad options are refused before any request, naming the header but not the value.
    let out = mcpctl(
        &["call", &url, "count", "--bearer-token-env", "UNSET_VAR_X"],
        &[],
    );
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("UNSET_VAR_X is not set"), "{stderr}");
    let out = mcpctl(&["verify", &url, "--header", "Mcp-Session-Id: x"], &[]);
    assert_eq!(out.status.code(), Some(2), "{:?}", texts(&out));

    // shell: the same options.
    let mut child = Command::new(mcpctl_bin())
        .args(["shell", &url, "--bearer-token-env", "MY_MCP_TOKEN"])
        .env_remove("MCP_AUTH_TOKEN")
        .env("MY_MCP_TOKEN", TOKEN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"list\nstress 5\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("5/5 successful"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_served_by_names_the_replica_and_can_be_turned_off() {
    let osmem = Osmem::start_with_movies();
    let named = Server::start(&osmem.url, &[("MCP_REPLICA_ID", "blue-7")]);
    let off = Server::start(
        &osmem.url,
        &[("MCP_SERVED_BY", "false"), ("MCP_REPLICA_ID", "x")],
    );
    let auto = Server::start(&osmem.url, &[]);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string();

    let served_by = |server: &Server| -> Value {
        let out = mcpctl(
            &[
                "verify",
                &server.mcp_url(),
                "--requests",
                "12",
                "--concurrency",
                "3",
                "--output",
                "json",
            ],
            &[],
        );
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
        serde_json::from_str::<Value>(&stdout).unwrap()["served_by"].clone()
    };
    assert_eq!(served_by(&named), serde_json::json!({"blue-7": 12}));
    assert_eq!(served_by(&off), serde_json::json!({}));
    // Outside ECS and without MCP_REPLICA_ID: the host name.
    assert_eq!(served_by(&auto)[&host], 12, "host {host}");

    // On the health endpoint too; never on the server that turned it off.
    for (server, expected) in [(&named, Some("blue-7")), (&off, None)] {
        let resp = reqwest::get(server.url(HEALTH_PATH)).await.unwrap();
        let header = resp
            .headers()
            .get("x-served-by")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(header.as_deref(), expected);
    }

    // A replica id that could split the header is refused at start-up.
    let mut bad = Server::spawn(&osmem.url, &[("MCP_REPLICA_ID", "a b")]);
    assert!(!bad.wait_healthy(std::time::Duration::from_secs(5)));
    assert!(
        bad.stderr_text().contains("MCP_REPLICA_ID"),
        "{}",
        bad.stderr_text()
    );
}
