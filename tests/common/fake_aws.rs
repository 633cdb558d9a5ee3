//! A fake AWS endpoint on 127.0.0.1 that accepts connections, counts them and never answers:
//! with `AWS_ENDPOINT_URL` pointing at it, a test proves that no AWS call was made (the count
//! stays 0), or that a hung endpoint is given up on after `--call-timeout`.

use std::io::Read;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The listener: `url` for `AWS_ENDPOINT_URL`, `hits` the connections accepted so far.
pub struct Counter {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// Connections accepted.
    pub hits: Arc<AtomicUsize>,
    /// The first bytes (at most 8 KiB) of each request, as text.
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Counter {
    /// Start listening on a free port (the thread lives as long as the test process).
    pub fn start() -> Counter {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (h, r) = (hits.clone(), requests.clone());
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                h.fetch_add(1, Ordering::SeqCst);
                let r = r.clone();
                let idx = r
                    .lock()
                    .map(|mut v| {
                        v.push(String::new());
                        v.len() - 1
                    })
                    .ok();
                // Read the request and hold the connection open without answering.
                std::thread::spawn(move || {
                    let mut s = s;
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        if head.len() < 8192 {
                            head.extend_from_slice(&buf[..n.min(8192 - head.len())]);
                            if let (Some(i), Ok(mut v)) = (idx, r.lock()) {
                                v[i] = String::from_utf8_lossy(&head).to_string();
                            }
                        }
                    }
                });
            }
        });
        Counter {
            url,
            hits,
            requests,
        }
    }

    /// The requests received so far (their first bytes).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Connections accepted so far.
    pub fn count(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}
