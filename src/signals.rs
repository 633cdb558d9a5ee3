//! Ctrl-C (SIGINT) and SIGTERM as one stream, for the commands that run until stopped (`local`)
//! or that must finish a step before acting on a stop (`cutover --steps`). Both are listened
//! for from [`Signals::new`] on, so a signal that arrives while nobody awaits is kept, not lost.

use tokio::signal::unix::{signal, Signal, SignalKind};

use crate::error::{Context, Result};

/// SIGINT and SIGTERM, listened for since [`Signals::new`].
pub struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    /// Start listening (the default handlers, which end the process, are replaced).
    pub fn new() -> Result<Signals> {
        let listen = |kind| {
            signal(kind).context_failed(|| "cannot listen for Ctrl-C and SIGTERM".to_string())
        };
        Ok(Signals {
            interrupt: listen(SignalKind::interrupt())?,
            terminate: listen(SignalKind::terminate())?,
        })
    }

    /// The next SIGINT or SIGTERM.
    pub async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
