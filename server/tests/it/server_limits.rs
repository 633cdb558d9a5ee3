//! Story: `opensearch-mcp-server` on a public load balancer holds bounded memory and connections
//! whatever clients do: a flood of never-closed stateful sessions is capped (503 past
//! `MCP_MAX_SESSIONS`, idle sessions expire), slowloris headers and never-ending bodies are cut,
//! idle keep-alive connections outlive the ALB's idle timeout but not forever, health still
//! answers at `MCP_MAX_CONNECTIONS`, SIGTERM in stateful mode drains a call whose answer is still
//! streaming, and a bad `RUST_LOG` stops start-up.

use crate::{common, server_support};

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{server_bin, Osmem};
use serde_json::{json, Value};
use server_support::{initialize_request, mcp_post, Server, HEALTH_PATH, USER_PROTOCOL};

/// VmRSS and VmHWM of a process, in MB.
fn rss_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_never_closed_sessions_is_capped_and_memory_stays_bounded() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[("MCP_STATELESS", "false")]);
    let url = server.mcp_url();
    let (rss0, _) = rss_mb(server.guard.pid());
    let http = reqwest::Client::new();
    let start = Instant::now();
    const TOTAL: usize = 20_000;
    const WORKERS: usize = 32;
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let (http, url) = (http.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut busy, mut sessions) = (0usize, 0usize, Vec::new());
            for i in (w..TOTAL).step_by(WORKERS) {
                let r = mcp_post(&http, &url, &initialize_request(i as u64), None, &[]).await;
                match r.status {
                    200 => {
                        ok += 1;
                        sessions.push(r.session.expect("a session id"));
                    }
                    503 => {
                        let m = r.message.expect("a JSON-RPC error");
                        assert_eq!(m["error"]["code"], -32000, "{}", r.body);
                        assert_eq!(m["id"], i as u64, "{}", r.body);
                        assert!(r.body.contains("MCP_MAX_SESSIONS"), "{}", r.body);
                        busy += 1;
                    }
                    s => panic!("initialize {i}: HTTP {s}: {}", r.body),
                }
            }
            (ok, busy, sessions)
        }));
    }
    let (mut ok, mut busy, mut sessions) = (0, 0, Vec::new());
    for t in tasks {
        let (o, b, s) = t.await.unwrap();
        ok += o;
        busy += b;
        sessions.extend(s);
    }
    let took = start.elapsed();
    let (rss, hwm) = rss_mb(server.guard.pid());
    println!(
        "{TOTAL} initialize in {took:?}: {ok} sessions, {busy} refused; RSS {rss0:.1} -> {rss:.1} MB, peak {hwm:.1} MB"
    );
    assert_eq!(ok, 1000, "exactly MCP_MAX_SESSIONS sessions open");
    assert_eq!(busy, TOTAL - 1000);
    assert!(hwm < 200.0, "peak RSS {hwm:.1} MB");
    assert!(took < Duration::from_secs(180), "took {took:?}");

    // Open sessions keep working; ending one makes room for a new one.
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    let r = mcp_post(&http, &url, &list, Some(&sessions[0]), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = http
        .delete(&url)
        .header("mcp-session-id", &sessions[1])
        .header("mcp-protocol-version", USER_PROTOCOL)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = mcp_post(&http, &url, &initialize_request(1), None, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_expire_and_free_their_slot() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(
        &osmem.url,
        &[
            ("MCP_STATELESS", "false"),
            ("MCP_MAX_SESSIONS", "2"),
            ("MCP_SESSION_IDLE_SECONDS", "1.5"),
        ],
    );
    let http = reqwest::Client::new();
    let url = server.mcp_url();
    for id in 1..=2 {
        let r = mcp_post(&http, &url, &initialize_request(id), None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = mcp_post(&http, &url, &initialize_request(3), None, &[]).await;
    assert_eq!(r.status, 503, "{}", r.body);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let r = mcp_post(&http, &url, &initialize_request(4), None, &[]).await;
        if r.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "no session expired: {}", r.body);
    }
}

/// A raw HTTP/1.1 connection to the server.
fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s
}

/// Read until the server closes the connection (or 60 s pass); what it sent.
fn read_until_closed(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn slow_headers_slow_bodies_and_idle_connections_are_cut() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[]);
    let port = server.port;

    // Slowloris: one header line every 3 s. Closed within the 10 s header deadline (+ slack).
    let slowloris = std::thread::spawn(move || {
        let mut s = connect(port);
        let start = Instant::now();
        s.write_all(format!("GET {HEALTH_PATH} HTTP/1.1\r\n").as_bytes())
            .unwrap();
        let mut n = 0;
        while start.elapsed() < Duration::from_secs(40) {
            std::thread::sleep(Duration::from_secs(3));
            n += 1;
            if s.write_all(format!("x-slow-{n}: y\r\n").as_bytes())
                .is_err()
            {
                break;
            }
            let mut probe = [0u8; 1];
            s.set_nonblocking(true).unwrap();
            let closed = matches!(s.read(&mut probe), Ok(0));
            s.set_nonblocking(false).unwrap();
            if closed {
                break;
            }
        }
        start.elapsed()
    });

    // A chunked body that never ends, one small chunk a second: cut at the body deadline (30 s).
    let trickle = std::thread::spawn(move || {
        let mut s = connect(port);
        let start = Instant::now();
        s.write_all(
            format!(
                "POST {} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
                server_support::MCP_PATH
            )
            .as_bytes(),
        )
        .unwrap();
        let mut reader = s.try_clone().unwrap();
        let reply = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let n = reader.read(&mut buf).unwrap_or(0);
            (
                start.elapsed(),
                String::from_utf8_lossy(&buf[..n]).into_owned(),
            )
        });
        while start.elapsed() < Duration::from_secs(50) {
            if s.write_all(b"1\r\n \r\n").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
            if reply.is_finished() {
                break;
            }
        }
        let _ = s.shutdown(std::net::Shutdown::Both);
        reply.join().unwrap()
    });

    // A fast endless chunked body: cut by size.
    let mut s = connect(port);
    s.write_all(
        format!(
            "POST {} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
            server_support::MCP_PATH
        )
        .as_bytes(),
    )
    .unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let chunk = format!("10000\r\n{}\r\n", " ".repeat(0x10000));
    let flood_start = Instant::now();
    let mut sent = 0usize;
    while flood_start.elapsed() < Duration::from_secs(20) {
        if s.write_all(chunk.as_bytes()).is_err() {
            break;
        }
        sent += 0x10000;
    }
    assert!(
        sent <= 64 * 1024 * 1024,
        "the server read {sent} bytes of one body"
    );
    assert!(
        flood_start.elapsed() < Duration::from_secs(20),
        "an endless body was never cut"
    );

    // An idle keep-alive connection outlives the header deadline (the ALB keeps its connections
    // 60 s and must not find them closed), while answering requests.
    let mut idle = connect(port);
    let get = format!("GET {HEALTH_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    idle.write_all(get.as_bytes()).unwrap();
    let mut buf = [0u8; 4096];
    assert!(idle.read(&mut buf).unwrap() > 0);
    std::thread::sleep(Duration::from_secs(13));
    idle.write_all(get.as_bytes()).unwrap();
    let n = idle.read(&mut buf).unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
        "the idle connection was closed after 13 s"
    );

    let took = slowloris.join().unwrap();
    assert!(
        took >= Duration::from_secs(9) && took < Duration::from_secs(30),
        "slowloris connection lasted {took:?}"
    );
    let (took, reply) = trickle.join().unwrap();
    assert!(
        took >= Duration::from_secs(29) && took < Duration::from_secs(35),
        "trickled body lasted {took:?}: {reply}"
    );
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("-32600"), "{reply}");

    // Still serving.
    let (status, _) = common::http_send("GET", &server.url(HEALTH_PATH), b"", "text/plain");
    assert_eq!(status, 200);
}

#[test]
fn an_idle_keepalive_connection_is_closed_after_mcp_keepalive_timeout() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[("MCP_KEEPALIVE_TIMEOUT", "2")]);
    let mut s = connect(server.port);
    let get = format!(
        "GET {HEALTH_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
        server.port
    );
    s.write_all(get.as_bytes()).unwrap();
    let mut buf = [0u8; 4096];
    assert!(s.read(&mut buf).unwrap() > 0);
    let start = Instant::now();
    let rest = read_until_closed(&mut s);
    let took = start.elapsed();
    assert!(rest.is_empty(), "{rest}");
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(5),
        "closed after {took:?}"
    );
}

/// Send one request on `s` and read the status line (the server closes or keeps the connection).
fn status_of(s: &mut TcpStream, request: &str) -> String {
    s.write_all(request.as_bytes()).unwrap();
    let mut buf = [0u8; 4096];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// `n` connections, each proven to hold one of the `MCP_MAX_CONNECTIONS` slots: it answers
/// health twice (a reserve connection is closed after one request). The readiness check's
/// connection keeps its slot until the server has seen it close, so a connection made before
/// that lands in the reserve; it is replaced, a bounded number of times.
fn hold_the_cap(port: u16, n: usize, health: &str) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for _ in 0..50 {
        let mut s = connect(port);
        let answered = |s: &mut TcpStream| {
            s.write_all(health.as_bytes()).is_ok() && status_of(s, "").contains("200")
        };
        if answered(&mut s) && answered(&mut s) {
            held.push(s);
            if held.len() == n {
                return held;
            }
        } else {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    panic!("only {} of {n} connections were kept alive", held.len());
}

/// Hold all 16 reserve slots with half-sent requests, each proven held: the server has not
/// answered it. An earlier connection's slot is freed just after its socket closes, so a
/// connection made in that gap is refused (503 and closed) and is replaced, a bounded number of
/// times.
fn fill_health_reserve(port: u16) -> Vec<TcpStream> {
    let mut held: Vec<TcpStream> = Vec::new();
    for _ in 0..20 {
        while held.len() < 16 {
            let mut s = connect(port);
            s.write_all(b"GET / HTTP/1.1\r\n").unwrap();
            held.push(s);
        }
        std::thread::sleep(Duration::from_millis(300));
        held.retain(|s| {
            s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
            let pending = matches!(
                (&*s).read(&mut [0u8; 64]),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
            );
            s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
            pending
        });
        if held.len() == 16 {
            return held;
        }
    }
    panic!(
        "the health reserve never held 16 connections ({} held)",
        held.len()
    );
}

#[test]
fn health_still_answers_at_the_connection_cap() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[("MCP_MAX_CONNECTIONS", "4")]);
    let port = server.port;
    let health = format!("GET {HEALTH_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    // Without a body: a reserve connection is answered and closed without reading one, and
    // unread bytes would make the kernel reset the connection, sometimes before the client has
    // read the 503.
    let mcp = format!(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\naccept: application/json, text/event-stream\r\n\r\n",
        server_support::MCP_PATH
    );
    // Four connections take the cap (each proves it is served and kept alive).
    let mut held = hold_the_cap(port, 4, &health);
    // The fifth: health answers, anything else is 503; one request, then closed.
    let mut s = connect(port);
    assert!(status_of(&mut s, &health).contains("200"));
    let mut s = connect(port);
    let status = status_of(&mut s, &mcp);
    assert!(status.contains("503"), "{status:?}");
    let start = Instant::now();
    read_until_closed(&mut s);
    // Closed after its one answer, not kept alive (the keep-alive and header-read timeouts are
    // over a minute); 10 s leaves room for a CI machine starved by parallel builds.
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "a reserve connection stays open"
    );
    // Fill the health reserve with half-sent requests; the next connection is refused at once.
    let mut reserve = fill_health_reserve(port);
    let mut over = connect(port);
    let start = Instant::now();
    let text = read_until_closed(&mut over);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    // Freed connections serve MCP again (within 10 s: the server frees a slot when it sees the
    // client's close, which a starved CI machine may take a moment to get to).
    held.clear();
    reserve.clear();
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string();
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nmcp-protocol-version: {USER_PROTOCOL}\r\ncontent-length: {}\r\n\r\n{list}",
        server_support::MCP_PATH,
        list.len()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut status = String::new();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(300));
        status = status_of(&mut connect(port), &request);
        if status.contains("200") {
            return;
        }
    }
    panic!("no slot was freed: {status:?}");
}

/// An "OpenSearch" that accepts connections and never answers (a hung cluster).
fn black_hole() -> (String, TcpListener) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    (
        format!("http://{}", listener.local_addr().unwrap()),
        listener,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_in_stateful_mode_drains_a_call_whose_answer_is_streaming() {
    let (url, _hole) = black_hole();
    let mut server = Server::start(
        &url,
        &[
            ("MCP_STATELESS", "false"),
            ("OPENSEARCH_TIMEOUT", "3"),
            ("MCP_SHUTDOWN_TIMEOUT", "15"),
        ],
    );
    let http = reqwest::Client::new();
    let mcp = server.mcp_url();
    let init = mcp_post(&http, &mcp, &initialize_request(1), None, &[]).await;
    let session = init.session.expect("a session");
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    mcp_post(&http, &mcp, &note, Some(&session), &[]).await;
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "list_indices", "arguments": {}}});
    let in_flight = {
        let (http, mcp, session) = (http.clone(), mcp.clone(), session.clone());
        tokio::spawn(async move { mcp_post(&http, &mcp, &call, Some(&session), &[]).await })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    let signalled = Instant::now();
    let ok = Command::new("kill")
        .args(["-TERM", &server.guard.pid().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let reply = in_flight.await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let result = &reply.message.as_ref().expect("the answer arrived")["result"];
    assert_eq!(result["isError"], true, "{}", reply.body);
    assert!(
        signalled.elapsed() >= Duration::from_secs(1),
        "the call was cut short"
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let code = loop {
        if let Some(status) = server.guard.child.try_wait().unwrap() {
            break status.code();
        }
        assert!(Instant::now() < deadline, "no exit: {}", server.log_text());
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(code, Some(0));
    let log = server.log_text();
    let lines: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let started = lines
        .iter()
        .find(|v| v["message"] == "shutdown started")
        .expect("shutdown started");
    assert_eq!(started["in_flight"], 1, "{log}");
    let call_line = lines
        .iter()
        .find(|v| v["message"] == "request" && v["rpc_method"] == "tools/call")
        .unwrap_or_else(|| panic!("no log line for the call: {log}"));
    assert_eq!(call_line["outcome"], "error", "{log}");
    assert_eq!(call_line["tool"], "list_indices");
    assert!(
        call_line["duration_ms"].as_f64().unwrap() >= 2500.0,
        "duration_ms covers the streamed answer: {call_line}"
    );
    assert!(log.contains("\"shutdown complete\""), "{log}");
}

#[test]
fn a_bad_rust_log_stops_startup_naming_the_variable() {
    let out = Command::new(server_bin())
        .env_clear()
        .env("RUST_LOG", "info,rmcp=loud")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("configuration error") && err.contains("RUST_LOG") && err.contains("loud"),
        "{err}"
    );
}
