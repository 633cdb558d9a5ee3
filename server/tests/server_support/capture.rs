//! A TCP listener on 127.0.0.1 that counts every connection made to it and keeps what clients
//! send; optionally relays each connection to a target (osmem), so requests still get answers,
//! or answers every request with one fixed JSON body (a large OpenSearch answer, cheaply).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The listener; stops accepting when dropped.
pub struct Capture {
    /// The port it listens on.
    pub port: u16,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    connections: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
    answering: Arc<AtomicUsize>,
    sent: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
}

impl Capture {
    /// A listener that answers nothing (the SSRF target: nothing may reach it).
    pub fn start() -> Capture {
        Self::start_relay(None)
    }

    /// A listener relaying to 127.0.0.1:`target` (or answering nothing when `None`).
    pub fn start_relay(target: Option<u16>) -> Capture {
        Self::start_with(target, None)
    }

    /// A listener answering every request with `200` and `body` (JSON), keeping the connection.
    pub fn start_answering(body: Vec<u8>) -> Capture {
        Self::start_with(None, Some(Arc::new(body)))
    }

    fn start_with(target: Option<u16>, answer: Option<Arc<Vec<u8>>>) -> Capture {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("local addr").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        let answering = Arc::new(AtomicUsize::new(0));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, record, halt) = (connections.clone(), sent.clone(), stop.clone());
        let open_now = open.clone();
        let answering_now = answering.clone();
        std::thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                count.fetch_add(1, Ordering::SeqCst);
                open_now.fetch_add(1, Ordering::SeqCst);
                let _ = client.set_nonblocking(false);
                let (record, open_now, answer) = (record.clone(), open_now.clone(), answer.clone());
                let answering = answering_now.clone();
                std::thread::spawn(move || {
                    match answer {
                        Some(body) => answer_all(client, &body, &answering),
                        None => relay(client, target, record),
                    }
                    open_now.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Capture {
            port,
            url: format!("http://127.0.0.1:{port}"),
            connections,
            open,
            answering,
            sent,
            stop,
        }
    }

    /// How many connections were accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// How many connections are open now (the server has not closed them).
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// How many requests are being answered now (read whole, answer not yet fully written):
    /// idle kept-alive connections do not count.
    pub fn answering(&self) -> usize {
        self.answering.load(Ordering::SeqCst)
    }

    /// Everything clients sent so far, as text.
    pub fn sent_text(&self) -> String {
        String::from_utf8_lossy(&self.sent.lock().unwrap()).to_string()
    }

    /// The request lines (`METHOD /path HTTP/1.1`) sent so far, in order.
    pub fn request_lines(&self) -> Vec<String> {
        self.sent_text()
            .lines()
            .filter(|l| l.ends_with(" HTTP/1.1") && l.contains(" /"))
            // On a kept-alive connection a body without a line end runs into the next request
            // line: keep the request line from its method on.
            .map(|l| {
                ["GET /", "POST /", "PUT /", "HEAD /", "DELETE /"]
                    .iter()
                    .filter_map(|m| l.rfind(m))
                    .max()
                    .map_or(l, |i| &l[i..])
                    .to_string()
            })
            .collect()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Copy `client` → target (recording it) and target → `client`; without a target, record
/// what arrives (for at most 5 s) and close.
fn relay(mut client: TcpStream, target: Option<u16>, record: Arc<Mutex<Vec<u8>>>) {
    if target.is_none() {
        let _ = client.set_read_timeout(Some(Duration::from_secs(5)));
    }
    let upstream = target.and_then(|p| TcpStream::connect(("127.0.0.1", p)).ok());
    let mut upstream_w = upstream.as_ref().and_then(|u| u.try_clone().ok());
    if let (Some(mut up), Ok(mut back)) = (upstream, client.try_clone()) {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut up, &mut back);
        });
    }
    let mut buf = [0u8; 16384];
    while let Ok(n) = client.read(&mut buf) {
        if n == 0 {
            break;
        }
        record.lock().unwrap().extend_from_slice(&buf[..n]);
        if let Some(w) = upstream_w.as_mut() {
            if w.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    }
    let _ = client.shutdown(std::net::Shutdown::Both);
    if let Some(w) = upstream_w {
        let _ = w.shutdown(std::net::Shutdown::Both);
    }
}

/// Answer each request on `client` (headers, then `Content-Length` bytes of body) with `body`,
/// until the client closes or goes quiet for 5 s.
fn answer_all(mut client: TcpStream, body: &[u8], answering: &AtomicUsize) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = client.set_write_timeout(Some(Duration::from_secs(30)));
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        // One whole request: headers and the body its Content-Length announces.
        let complete = pending
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|end| {
                let headers = String::from_utf8_lossy(&pending[..end]).to_ascii_lowercase();
                let len = headers
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                end + 4 + len
            })
            .filter(|&total| pending.len() >= total);
        if let Some(total) = complete {
            pending.drain(..total);
            answering.fetch_add(1, Ordering::SeqCst);
            let written =
                client.write_all(head.as_bytes()).is_ok() && client.write_all(body).is_ok();
            answering.fetch_sub(1, Ordering::SeqCst);
            if !written {
                return;
            }
            continue;
        }
        match client.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
}
