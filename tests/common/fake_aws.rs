//! A fake AWS endpoint on 127.0.0.1 that accepts connections, counts them and never answers:
//! with `AWS_ENDPOINT_URL` pointing at it, a test proves that no AWS call was made (the count
//! stays 0), or that a hung endpoint is given up on after `--call-timeout`.

use std::io::Read;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The listener: `url` for `AWS_ENDPOINT_URL`, `hits` the connections accepted so far.
pub struct Counter {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// Connections accepted.
    pub hits: Arc<AtomicUsize>,
}

impl Counter {
    /// Start listening on a free port (the thread lives as long as the test process).
    pub fn start() -> Counter {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                h.fetch_add(1, Ordering::SeqCst);
                // Read the request and hold the connection open without answering.
                std::thread::spawn(move || {
                    let mut s = s;
                    let mut buf = [0u8; 4096];
                    while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
                });
            }
        });
        Counter { url, hits }
    }

    /// Connections accepted so far.
    pub fn count(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}
