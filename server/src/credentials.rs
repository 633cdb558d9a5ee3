//! Caching in front of the AWS credential chain for SigV4 signing.
//!
//! The `opensearch` crate asks its credentials provider on every request, and aws-config's
//! chain (ECS task role, IMDS, web identity...) does not cache by itself: AWS SDK clients put an
//! identity cache in front of it, which the `opensearch` crate does not use. This wrapper keeps the
//! last credentials and asks the chain again only when they are within five minutes of expiring,
//! so temporary credentials rotate without restarting or rebuilding the client (the Python server
//! rebuilt its whole client every five minutes instead).

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{
    error::CredentialsError, future, ProvideCredentials, SharedCredentialsProvider,
};
use aws_credential_types::Credentials;
use tokio::sync::RwLock;

/// Refresh this long before expiry (the AWS SDKs' default buffer).
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

/// Credentials from `inner`, cached until shortly before they expire.
#[derive(Debug)]
pub struct CachedCredentials {
    inner: SharedCredentialsProvider,
    cached: RwLock<Option<Credentials>>,
}

impl CachedCredentials {
    /// Wrap `inner` and share it as the provider the SigV4 signer uses.
    pub fn shared(inner: SharedCredentialsProvider) -> SharedCredentialsProvider {
        SharedCredentialsProvider::new(CachedCredentials {
            inner,
            cached: RwLock::new(None),
        })
    }

    fn fresh(c: &Credentials, now: SystemTime) -> bool {
        match c.expiry() {
            None => true,
            Some(exp) => exp
                .duration_since(now)
                .map(|left| left > REFRESH_BEFORE_EXPIRY)
                .unwrap_or(false),
        }
    }

    async fn get(&self) -> Result<Credentials, CredentialsError> {
        let now = SystemTime::now();
        if let Some(c) = self.cached.read().await.as_ref() {
            if Self::fresh(c, now) {
                return Ok(c.clone());
            }
        }
        let mut slot = self.cached.write().await;
        // Another request may have refreshed while we waited for the lock.
        if let Some(c) = slot.as_ref() {
            if Self::fresh(c, now) {
                return Ok(c.clone());
            }
        }
        match self.inner.provide_credentials().await {
            Ok(c) => {
                *slot = Some(c.clone());
                Ok(c)
            }
            Err(e) => match slot.as_ref() {
                // Still valid, just inside the refresh window: keep signing with it.
                Some(c) if c.expiry().is_none_or(|exp| exp > now) => {
                    tracing::warn!(error = %e, "refreshing AWS credentials failed; using the current ones until they expire");
                    Ok(c.clone())
                }
                _ => Err(e),
            },
        }
    }
}

impl ProvideCredentials for CachedCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[derive(Debug)]
    struct Counting {
        calls: Arc<AtomicUsize>,
        lifetime: Duration,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            future::ProvideCredentials::ready(Ok(Credentials::new(
                format!("AKIA{n}"),
                "secret",
                Some("token".into()),
                Some(SystemTime::now() + self.lifetime),
                "test",
            )))
        }
    }

    fn provider(lifetime: Duration) -> (SharedCredentialsProvider, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let inner = SharedCredentialsProvider::new(Counting {
            calls: calls.clone(),
            lifetime,
        });
        (CachedCredentials::shared(inner), calls)
    }

    #[tokio::test]
    async fn long_lived_credentials_are_fetched_once() {
        let (p, calls) = provider(Duration::from_secs(3600));
        for _ in 0..50 {
            let c = p.provide_credentials().await.unwrap();
            assert_eq!(c.access_key_id(), "AKIA0");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn credentials_near_expiry_are_refreshed() {
        // Two minutes left is inside the five-minute refresh window: every call refreshes.
        let (p, calls) = provider(Duration::from_secs(120));
        let a = p.provide_credentials().await.unwrap();
        let b = p.provide_credentials().await.unwrap();
        assert_ne!(a.access_key_id(), b.access_key_id());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
