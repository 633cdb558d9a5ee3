//! Bounded stateful sessions: rmcp's in-memory session manager with a cap (`MCP_MAX_SESSIONS`)
//! and an idle expiry (`MCP_SESSION_IDLE_SECONDS`).
//!
//! At the cap a new `initialize` is refused with HTTP 503, a JSON-RPC error and `Retry-After`;
//! sessions already open are never closed to make room. Evicting the least recently used
//! session instead would let anyone who can reach the endpoint end other users' sessions, calls
//! in flight included, simply by opening new ones, and a flood would keep doing so silently. A
//! refusal is visible (503s in the log and the ALB metrics), hurts only new sessions, and ends by
//! itself as idle sessions expire or clients `DELETE` theirs.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use futures::Stream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError, SessionConfig,
};
use rmcp::transport::streamable_http_server::session::{
    ServerSseMessage, SessionId, SessionManager,
};

use super::jsonrpc::jsonrpc_error;
use super::log::Throttle;
use crate::config::Limits;

/// Text in the error rmcp turns into its 500 when `create_session` is refused.
pub(super) const LIMIT_MARKER: &str = "MCP_MAX_SESSIONS reached";

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BoundedError {
    /// The cap is reached.
    #[error("{LIMIT_MARKER}: {0} sessions are open")]
    Full(usize),
    /// rmcp's own error.
    #[error(transparent)]
    Local(#[from] LocalSessionManagerError),
}

/// rmcp's `LocalSessionManager` with at most `max` sessions.
pub struct BoundedSessions {
    inner: LocalSessionManager,
    max: usize,
    /// Serialises "count, then create" so concurrent `initialize`s cannot pass the cap.
    create: tokio::sync::Mutex<()>,
}

impl BoundedSessions {
    /// A session manager for `limits`.
    pub fn new(limits: &Limits) -> BoundedSessions {
        let mut inner = LocalSessionManager::default();
        let mut session_config = SessionConfig::default();
        session_config.keep_alive = Some(limits.session_idle);
        inner.session_config = session_config;
        BoundedSessions {
            inner,
            max: limits.max_sessions,
            create: tokio::sync::Mutex::new(()),
        }
    }

    /// Sessions open now.
    pub async fn len(&self) -> usize {
        self.inner.sessions.read().await.len()
    }

    /// The 503 answer for an `initialize` over the cap.
    pub(super) fn full_response(&self, id: Option<&str>) -> Response {
        let mut r = jsonrpc_error(
            StatusCode::SERVICE_UNAVAILABLE,
            id,
            -32000,
            format!(
                "Server busy: {} sessions are open (MCP_MAX_SESSIONS); retry later, and end \
                 sessions you no longer need with DELETE",
                self.max
            ),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        r
    }

    /// Before an `initialize`: `Err(503 response)` when the cap is reached.
    pub(super) async fn admit(&self, id: Option<&str>) -> Result<(), Response> {
        if self.len().await >= self.max {
            static WARN: Throttle = Throttle::new();
            if WARN.allow() {
                tracing::warn!(
                    message = "initialize refused: MCP_MAX_SESSIONS reached",
                    max_sessions = self.max
                );
            }
            return Err(self.full_response(id));
        }
        Ok(())
    }
}

impl SessionManager for BoundedSessions {
    type Error = BoundedError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        let _one_at_a_time = self.create.lock().await;
        let open = self.len().await;
        if open >= self.max {
            return Err(BoundedError::Full(open));
        }
        Ok(self.inner.create_session().await?)
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        Ok(self.inner.initialize_session(id, message).await?)
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        Ok(self.inner.has_session(id).await?)
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        Ok(self.inner.close_session(id).await?)
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.create_stream(id, message).await?)
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        Ok(self.inner.accept_message(id, message).await?)
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.create_standalone_stream(id).await?)
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.resume(id, last_event_id).await?)
    }
}
