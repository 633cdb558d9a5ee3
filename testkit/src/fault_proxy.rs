//! An HTTP proxy in front of an AWS emulator that can answer, change or pass on each request,
//! so a test can make AWS's timing behaviour happen where moto has none: IAM's eventual
//! consistency (PassRole refused for the first seconds after CreateRole), a service that stays
//! DRAINING, a `FilterLogEvents` page that is empty but has a `nextToken`.
//!
//! Each request is read whole (headers and `Content-Length` body, both bounded), its AWS
//! operation named (`X-Amz-Target: …​.RegisterTaskDefinition` or `Action=CreateRole` in a form
//! body), and handed to the test's rule, which returns what to do. Forwarded requests go to the
//! upstream on a fresh connection with `Connection: close`. Only 127.0.0.1. Stops when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Most bytes of headers or body the proxy reads from one request or response.
const MAX_BYTES: usize = 16 * 1024 * 1024;

/// One request as the proxy read it (the rule may change `body` before it is forwarded).
#[derive(Debug, Clone)]
pub struct Request {
    /// `POST`, `GET`, ...
    pub method: String,
    /// The request target (`/`).
    pub path: String,
    /// Headers in order (names as sent).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The AWS operation (`RegisterTaskDefinition`, `CreateRole`), or "".
    pub operation: String,
}

impl Request {
    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the proxy does with a request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Send it on to the emulator (with the rule's changes).
    Forward,
    /// Answer it without the emulator.
    Respond {
        /// HTTP status.
        status: u16,
        /// `Content-Type`.
        content_type: String,
        /// Body.
        body: String,
    },
}

impl Reply {
    /// An AWS JSON-protocol error (ECS, CloudWatch Logs): `{"__type": code, "message": …}`.
    pub fn json_error(status: u16, code: &str, message: &str) -> Reply {
        Reply::Respond {
            status,
            content_type: "application/x-amz-json-1.1".into(),
            body: serde_json::json!({"__type": code, "message": message}).to_string(),
        }
    }

    /// An AWS JSON-protocol answer.
    pub fn json(body: serde_json::Value) -> Reply {
        Reply::Respond {
            status: 200,
            content_type: "application/x-amz-json-1.1".into(),
            body: body.to_string(),
        }
    }
}

/// The test's decision for each request.
pub type Rule = dyn Fn(&mut Request) -> Reply + Send + Sync;

/// The running proxy.
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub endpoint: String,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Start a proxy to `127.0.0.1:upstream_port` deciding with `rule`.
    pub fn start(upstream_port: u16, rule: Arc<Rule>) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        let port = listener.local_addr().expect("local address").port();
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let rule = rule.clone();
                        std::thread::spawn(move || serve(client, upstream_port, &*rule));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FaultProxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            stop,
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// An HTTP message: start line, headers, body.
type Message = (String, Vec<(String, String)>, Vec<u8>);

/// Read one HTTP/1.1 message head and `Content-Length` body; `None` at end of stream.
fn read_message(r: &mut BufReader<TcpStream>) -> Option<Message> {
    let mut start = String::new();
    if r.read_line(&mut start).ok()? == 0 {
        return None;
    }
    let mut headers = Vec::new();
    let mut total = start.len();
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line).ok()?;
        total += n;
        if n == 0 || total > MAX_BYTES {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    if len > MAX_BYTES {
        return None;
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).ok()?;
    Some((start.trim_end().to_string(), headers, body))
}

fn operation(headers: &[(String, String)], body: &[u8]) -> String {
    if let Some((_, target)) = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-target"))
    {
        return target.rsplit('.').next().unwrap_or_default().to_string();
    }
    String::from_utf8_lossy(body)
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .unwrap_or_default()
        .to_string()
}

fn serve(client: TcpStream, upstream_port: u16, rule: &Rule) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(mut out) = client.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(client);
    while let Some((start, headers, body)) = read_message(&mut reader) {
        let mut parts = start.splitn(3, ' ');
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or("/").to_string();
        let mut req = Request {
            operation: operation(&headers, &body),
            method,
            path,
            headers,
            body,
        };
        let response = match rule(&mut req) {
            Reply::Respond {
                status,
                content_type,
                body,
            } => format!(
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nx-amzn-RequestId: fault-proxy\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
            Reply::Forward => match forward(&req, upstream_port) {
                Some(r) => r,
                None => return,
            },
        };
        if out.write_all(&response).is_err() {
            return;
        }
    }
}

/// Send `req` to the upstream and return its whole response, re-framed for keep-alive.
fn forward(req: &Request, upstream_port: u16) -> Option<Vec<u8>> {
    let mut up = TcpStream::connect(("127.0.0.1", upstream_port)).ok()?;
    let _ = up.set_read_timeout(Some(Duration::from_secs(60)));
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.path);
    for (k, v) in &req.headers {
        if ["content-length", "connection"]
            .iter()
            .any(|h| k.eq_ignore_ascii_case(h))
        {
            continue;
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        req.body.len()
    ));
    up.write_all(head.as_bytes()).ok()?;
    up.write_all(&req.body).ok()?;
    let mut reader = BufReader::new(up);
    let (status, headers, body) = read_message(&mut reader)?;
    let mut resp = format!("{status}\r\n");
    for (k, v) in headers {
        if ["content-length", "connection", "transfer-encoding"]
            .iter()
            .any(|h| k.eq_ignore_ascii_case(h))
        {
            continue;
        }
        resp.push_str(&format!("{k}: {v}\r\n"));
    }
    resp.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = resp.into_bytes();
    bytes.extend_from_slice(&body);
    Some(bytes)
}
