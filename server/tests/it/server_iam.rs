//! Story: OPENSEARCH_USE_IAM signs every OpenSearch request with SigV4 using the standard AWS
//! credential chain, and temporary credentials rotate without a restart: the server asks the
//! chain again only when its credentials near expiry.
//!
//! osmem ignores authentication, so a byte-for-byte TCP relay in front of it records what the
//! server sends; requests still reach the real osmem and the tools return its data.

use crate::{common, server_support};

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use common::Osmem;
use serde_json::json;
use server_support::{call, ok_json, rmcp_client, Server};

/// A TCP relay to `target` that keeps a copy of everything clients send.
struct Recorder {
    url: String,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl Recorder {
    fn start(target_port: u16) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let sent = Arc::new(Mutex::new(Vec::new()));
        let record = sent.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", target_port)) else {
                    return;
                };
                let (mut client_r, mut upstream_w) =
                    (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                let record = record.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 8192];
                    while let Ok(n) = client_r.read(&mut buf) {
                        if n == 0 || upstream_w.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        record.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut upstream, &mut client);
                });
            }
        });
        Recorder { url, sent }
    }

    /// Every `authorization` header value sent so far, in order.
    fn authorizations(&self) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.sent.lock().unwrap()).to_string();
        text.lines()
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("authorization")
                    .then(|| v.trim().to_string())
            })
            .collect()
    }

    fn sent_text(&self) -> String {
        String::from_utf8_lossy(&self.sent.lock().unwrap()).to_string()
    }
}

/// Environment for the standard chain with no instance metadata and no real files.
fn aws_env(dir: &std::path::Path) -> Vec<(String, String)> {
    vec![
        ("OPENSEARCH_USE_IAM".into(), "true".into()),
        ("AWS_REGION".into(), "eu-west-1".into()),
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        (
            "AWS_SHARED_CREDENTIALS_FILE".into(),
            dir.join("none").display().to_string(),
        ),
        ("HOME".into(), dir.display().to_string()),
    ]
}

fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_signed_with_keys_from_the_environment() {
    let osmem = Osmem::start_with_movies();
    let relay = Recorder::start(osmem.port);
    let dir = tempfile::tempdir().unwrap();
    let mut env = aws_env(dir.path());
    env.extend([
        (
            "AWS_ACCESS_KEY_ID".to_string(),
            "AKIDSTATICEXAMPLE".to_string(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY".to_string(),
            "static-secret-value".to_string(),
        ),
        (
            "AWS_SESSION_TOKEN".to_string(),
            "static-session-token".to_string(),
        ),
        (
            "AWS_CONFIG_FILE".to_string(),
            dir.path().join("none").display().to_string(),
        ),
        ("OPENSEARCH_SERVICE".to_string(), "aoss".to_string()),
    ]);
    let server = Server::start(&relay.url, &as_refs(&env));
    let client = rmcp_client(&server.mcp_url()).await;
    let v = ok_json(&call(&client, "count", json!({"index": "movies"})).await);
    assert_eq!(v["count"], 12);
    client.cancel().await.ok();

    let auths = relay.authorizations();
    assert!(
        !auths.is_empty(),
        "nothing was signed:\n{}",
        relay.sent_text()
    );
    for a in &auths {
        assert!(
            a.starts_with("AWS4-HMAC-SHA256 Credential=AKIDSTATICEXAMPLE/"),
            "{a}"
        );
        assert!(a.contains("/eu-west-1/aoss/aws4_request"), "{a}");
    }
    let sent = relay.sent_text().to_ascii_lowercase();
    assert!(sent.contains("x-amz-security-token: static-session-token"));
    assert!(
        sent.contains("x-amz-content-sha256:"),
        "aoss needs the payload hash"
    );
    let log = server.log_text();
    assert!(!log.contains("static-secret-value") && !log.contains("static-session-token"));
}

/// A `credential_process` that hands out a new key each time it runs, valid for `minutes`.
fn rotating_profile(dir: &std::path::Path, minutes: u32) -> std::path::PathBuf {
    let script = dir.join("issue-credentials.sh");
    let counter = dir.join("issued");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nn=$(( $(cat '{c}' 2>/dev/null || echo 0) + 1 ))\necho $n > '{c}'\n\
             exp=$(date -u -d '+{minutes} min' +%Y-%m-%dT%H:%M:%SZ)\n\
             printf '{{\"Version\":1,\"AccessKeyId\":\"AKIDROTATING%04d\",\"SecretAccessKey\":\"s%d\",\"SessionToken\":\"t%d\",\"Expiration\":\"%s\"}}' $n $n $n $exp\n",
            c = counter.display()
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["+x", &script.display().to_string()])
        .status()
        .unwrap();
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!(
            "[default]\nregion = eu-west-1\ncredential_process = {}\n",
            script.display()
        ),
    )
    .unwrap();
    config
}

async fn keys_used(minutes: u32, calls: usize) -> (Vec<String>, usize) {
    let osmem = Osmem::start_with_movies();
    let relay = Recorder::start(osmem.port);
    let dir = tempfile::tempdir().unwrap();
    let config = rotating_profile(dir.path(), minutes);
    let mut env = aws_env(dir.path());
    env.push(("AWS_CONFIG_FILE".into(), config.display().to_string()));
    env.push(("PATH".into(), "/usr/bin:/bin".into()));
    let server = Server::start(&relay.url, &as_refs(&env));
    let client = rmcp_client(&server.mcp_url()).await;
    for _ in 0..calls {
        let v = ok_json(&call(&client, "count", json!({"index": "movies"})).await);
        assert_eq!(v["count"], 12);
    }
    client.cancel().await.ok();
    let keys: Vec<String> = relay
        .authorizations()
        .iter()
        .map(|a| {
            a.split("Credential=")
                .nth(1)
                .unwrap()
                .split('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    let issued = std::fs::read_to_string(dir.path().join("issued"))
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or(0);
    (keys, issued)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_lived_credentials_are_fetched_once_and_reused() {
    // Valid for an hour: the process runs once; every request (health probes included) reuses it.
    let (keys, issued) = keys_used(60, 5).await;
    assert_eq!(issued, 1, "credential_process ran {issued} times");
    assert!(keys.len() >= 5, "{keys:?}");
    assert!(keys.iter().all(|k| k == "AKIDROTATING0001"), "{keys:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_near_expiry_are_refreshed_without_a_restart() {
    // Valid for only four minutes (inside the five-minute refresh window): each signing asks the
    // chain again, so the same running server signs with new keys as they are issued.
    let (keys, issued) = keys_used(4, 3).await;
    assert!(issued >= 3, "credential_process ran {issued} times");
    let mut distinct = keys.clone();
    distinct.dedup();
    assert!(distinct.len() >= 3, "the keys did not rotate: {keys:?}");
}
