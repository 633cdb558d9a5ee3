//! The issuer's signing keys (JWKS), cached and fetched again in the background every
//! `MCP_OAUTH_JWKS_REFRESH_SECONDS` ([`Jwks::keep_fresh`]), so a key the issuer withdraws stops
//! working that soon. A token with an unknown `kid` makes the cache fetch again, at most once
//! per [`Jwks::min_refetch`], so a flood of forged tokens cannot flood the issuer. One fetch
//! runs at a time, in its own task, and serves every request waiting for it; with no keys held
//! and a fetch running, requests get 503 at once rather than queue behind a hanging issuer. A
//! failed fetch keeps the keys already held, so tokens keep working while the issuer is
//! briefly unreachable. Fetches are bounded (timeouts, no redirects, a size limit) and only go
//! to https URLs (or loopback http for tests). Without `MCP_OAUTH_JWKS_URL`, the URL is the
//! `jwks_uri` of `{issuer}/.well-known/openid-configuration`, looked up on the first fetch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use tokio::sync::watch;
use url::Url;

use crate::config::auth::is_allowed_fetch_url;

/// The largest JWKS or discovery document read.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// The most keys taken from one JWKS.
const MAX_KEYS: usize = 64;

/// A verification key and the one algorithm it is used with.
pub struct Key {
    /// The key.
    pub key: DecodingKey,
    /// RS256 for RSA keys, ES256 for P-256 keys.
    pub alg: Algorithm,
}

#[derive(Default)]
struct KeySet {
    by_kid: HashMap<String, Arc<Key>>,
    /// The only key, when the set has exactly one (tokens without `kid` may use it).
    single: Option<Arc<Key>>,
    fetched_at: Option<Instant>,
    /// Counts the sets fetched, so a verified token without `kid` is checked again after one.
    generation: u64,
}

struct FetchState {
    last_attempt: Option<Instant>,
    /// The fetch in progress (its receiver turns `true` when done), if any.
    running: Option<watch::Receiver<bool>>,
    generation: u64,
}

/// Why no key could be found for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// The issuer does not list this key (or its algorithm differs).
    Unknown,
    /// No keys at all (the JWKS could not be fetched yet), or a fetch that would tell is
    /// still running: answer 503 with `Retry-After`.
    Unavailable,
}

/// The JWKS cache of one issuer.
pub struct Jwks {
    /// The HTTP client, or why it could not be built (then every fetch fails: fail closed).
    http: Result<reqwest::Client, String>,
    issuer: String,
    keys: RwLock<Arc<KeySet>>,
    fetch: Mutex<FetchState>,
    /// The JWKS URL: configured, or discovered on the first fetch.
    jwks_url: Mutex<Option<Url>>,
    /// Fewest seconds between two fetches for unknown `kid`s while keys are held.
    pub min_refetch: Duration,
    /// Fewest seconds between two fetches while no keys are held yet.
    pub min_retry_empty: Duration,
}

/// How long a request that started a fetch waits for it before answering 503.
pub const WAIT_FOR_FETCH: Duration = Duration::from_secs(2);

/// An error of one JWKS or discovery fetch (logged, never shown to callers).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Connection, timeout or TLS failure.
    #[error("cannot fetch {url}: {source}")]
    Http {
        /// What was fetched.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// A non-200 answer, an oversize or unparseable body, or a bad `jwks_uri`.
    #[error("{url}: {why}")]
    Bad {
        /// What was fetched.
        url: String,
        /// What was wrong.
        why: String,
    },
}

/// A lock that a panic elsewhere does not make unusable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Jwks {
    /// A cache for `issuer`'s keys at `jwks_url` (or discovered from the issuer when `None`).
    pub fn new(issuer: &str, jwks_url: Option<Url>) -> Jwks {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("opensearch-mcp-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"));
        Jwks {
            http,
            issuer: issuer.to_string(),
            keys: RwLock::new(Arc::new(KeySet::default())),
            fetch: Mutex::new(FetchState {
                last_attempt: None,
                running: None,
                generation: 0,
            }),
            jwks_url: Mutex::new(jwks_url),
            min_refetch: Duration::from_secs(30),
            min_retry_empty: Duration::from_secs(2),
        }
    }

    fn current(&self) -> Arc<KeySet> {
        match self.keys.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn find(set: &KeySet, kid: Option<&str>) -> Option<Arc<Key>> {
        match kid {
            Some(k) => set.by_kid.get(k).cloned(),
            None => set.single.clone(),
        }
    }

    /// The generation of the key set held now (for [`Jwks::still_holds`]).
    pub fn generation(&self) -> u64 {
        self.current().generation
    }

    /// Whether a token verified with the key `kid` under key-set `generation` may still pass
    /// without a new signature check: its `kid` is still listed (a token without `kid`: the
    /// set has not changed since).
    pub fn still_holds(&self, kid: Option<&str>, generation: u64) -> bool {
        let set = self.current();
        match kid {
            Some(k) => set.by_kid.contains_key(k),
            None => set.generation == generation && set.single.is_some(),
        }
    }

    /// The key for a token's `kid`. An unknown `kid` starts a fetch (at most one at a time, at
    /// most once per [`Jwks::min_refetch`]); with no keys held and a fetch already running the
    /// answer is [`KeyError::Unavailable`] at once, and a request that started a fetch waits
    /// for it at most [`WAIT_FOR_FETCH`].
    pub async fn key(self: &Arc<Self>, kid: Option<&str>) -> Result<Arc<Key>, KeyError> {
        let set = self.current();
        if let Some(k) = Self::find(&set, kid) {
            return Ok(k);
        }
        let have_keys = set.fetched_at.is_some();
        let mut still_running = false;
        if let Some((mut done, started)) = self.begin_fetch(false) {
            if !have_keys && !started {
                return Err(KeyError::Unavailable);
            }
            still_running = tokio::time::timeout(WAIT_FOR_FETCH, done.wait_for(|d| *d))
                .await
                .is_err();
        }
        let set = self.current();
        match Self::find(&set, kid) {
            Some(k) => Ok(k),
            None if set.fetched_at.is_none() || still_running => Err(KeyError::Unavailable),
            None => Err(KeyError::Unknown),
        }
    }

    /// Start a fetch in its own task, unless one is running (then: that one, not started
    /// here) or, without `force`, one started within the minimum interval (then `None`).
    /// Returns a receiver that turns `true` when the fetch is done, and whether it was started
    /// by this call.
    fn begin_fetch(self: &Arc<Self>, force: bool) -> Option<(watch::Receiver<bool>, bool)> {
        let have_keys = self.current().fetched_at.is_some();
        let mut st = lock(&self.fetch);
        if let Some(rx) = &st.running {
            // A sender dropped without saying done (a panic) is no fetch in progress.
            if !*rx.borrow() && rx.has_changed().is_ok() {
                return Some((rx.clone(), false));
            }
        }
        let interval = if have_keys {
            self.min_refetch
        } else {
            self.min_retry_empty
        };
        if !force && st.last_attempt.is_some_and(|t| t.elapsed() < interval) {
            return None;
        }
        st.last_attempt = Some(Instant::now());
        st.generation += 1;
        let generation = st.generation;
        let (tx, rx) = watch::channel(false);
        st.running = Some(rx.clone());
        drop(st);
        let me = self.clone();
        tokio::spawn(async move {
            me.fetch_and_keep(have_keys, generation).await;
            let _ = tx.send(true);
        });
        Some((rx, true))
    }

    /// Fetch now (unless a fetch is running, then wait for that one) and wait until done.
    pub async fn refresh(self: &Arc<Self>) {
        if let Some((mut done, _)) = self.begin_fetch(true) {
            let _ = done.wait_for(|d| *d).await;
        }
    }

    /// Fetch at once, then again every `every` (every [`Jwks::min_retry_empty`] while no keys
    /// are held), one fetch at a time, for as long as the process runs.
    pub fn keep_fresh(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                me.refresh().await;
                let have_keys = me.current().fetched_at.is_some();
                let pause = if have_keys {
                    every
                } else {
                    me.min_retry_empty.min(every)
                };
                tokio::time::sleep(pause).await;
            }
        })
    }

    /// One fetch; the new keys replace the old ones, a failure keeps them.
    async fn fetch_and_keep(&self, have_keys: bool, generation: u64) {
        match self.fetch_keys().await {
            Ok(mut set) => {
                tracing::info!(
                    message = "fetched the issuer's signing keys",
                    keys = set.by_kid.len(),
                );
                set.generation = generation;
                let mut g = match self.keys.write() {
                    Ok(g) => g,
                    Err(poisoned) => poisoned.into_inner(),
                };
                *g = Arc::new(set);
            }
            Err(e) => tracing::warn!(
                message = "cannot fetch the issuer's signing keys (MCP_OAUTH_JWKS_URL / \
                           MCP_OAUTH_ISSUER); keeping the keys already held",
                error = %e,
                keys_held = have_keys,
            ),
        }
    }

    async fn fetch_keys(&self) -> Result<KeySet, FetchError> {
        let known = lock(&self.jwks_url).clone();
        let url = match known {
            Some(u) => u,
            None => {
                let u = self.discover().await?;
                *lock(&self.jwks_url) = Some(u.clone());
                u
            }
        };
        let body = self.get(&url).await?;
        let set = parse_jwks(&body).map_err(|why| FetchError::Bad {
            url: url.to_string(),
            why,
        })?;
        Ok(set)
    }

    /// `jwks_uri` from `{issuer}/.well-known/openid-configuration` (whose `issuer` must match).
    async fn discover(&self) -> Result<Url, FetchError> {
        let doc_url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let bad = |why: String| FetchError::Bad {
            url: doc_url.clone(),
            why,
        };
        let parsed = Url::parse(&doc_url).map_err(|e| bad(e.to_string()))?;
        let body = self.get(&parsed).await?;
        #[derive(Deserialize)]
        struct Discovery {
            issuer: Option<String>,
            jwks_uri: Option<String>,
        }
        let d: Discovery = serde_json::from_slice(&body)
            .map_err(|e| bad(format!("not an OpenID configuration ({e})")))?;
        if d.issuer.as_deref() != Some(self.issuer.as_str()) {
            return Err(bad(format!(
                "its issuer {:?} is not MCP_OAUTH_ISSUER ({}); set MCP_OAUTH_JWKS_URL or fix \
                 the issuer",
                d.issuer, self.issuer
            )));
        }
        let jwks = d
            .jwks_uri
            .ok_or_else(|| bad("no jwks_uri; set MCP_OAUTH_JWKS_URL".into()))?;
        let u = Url::parse(&jwks).map_err(|e| bad(format!("jwks_uri {jwks:?}: {e}")))?;
        if !is_allowed_fetch_url(&u) {
            return Err(bad(format!("jwks_uri {jwks:?} is not https")));
        }
        Ok(u)
    }

    /// GET `url`: 200 and at most [`MAX_DOCUMENT_BYTES`].
    async fn get(&self, url: &Url) -> Result<Vec<u8>, FetchError> {
        let http_err = |source| FetchError::Http {
            url: url.to_string(),
            source,
        };
        let http = self.http.as_ref().map_err(|why| FetchError::Bad {
            url: url.to_string(),
            why: why.clone(),
        })?;
        let mut resp = http
            .get(url.clone())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(http_err)?;
        if resp.status() != reqwest::StatusCode::OK {
            return Err(FetchError::Bad {
                url: url.to_string(),
                why: format!("answered HTTP {}", resp.status()),
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(http_err)? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(FetchError::Bad {
                    url: url.to_string(),
                    why: format!("larger than {MAX_DOCUMENT_BYTES} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// The usable keys of a JWKS document: RSA (RS256) and P-256 (ES256) signing keys. Symmetric
/// (`oct`) keys and every other algorithm are skipped, so an HMAC key can never verify a token.
fn parse_jwks(body: &[u8]) -> Result<KeySet, String> {
    #[derive(Deserialize)]
    struct Doc {
        keys: Vec<serde_json::Value>,
    }
    let doc: Doc = serde_json::from_slice(body).map_err(|e| format!("not a JWKS ({e})"))?;
    let mut set = KeySet {
        fetched_at: Some(Instant::now()),
        ..KeySet::default()
    };
    let mut usable = Vec::new();
    for raw in doc.keys.into_iter().take(MAX_KEYS) {
        let Ok(jwk) = serde_json::from_value::<Jwk>(raw) else {
            continue;
        };
        if let Some(key) = usable_key(&jwk) {
            let key = Arc::new(key);
            if let Some(kid) = &jwk.common.key_id {
                set.by_kid.insert(kid.clone(), key.clone());
            }
            usable.push(key);
        }
    }
    if usable.is_empty() {
        return Err("no RS256 or ES256 signing key in the JWKS".into());
    }
    if usable.len() == 1 {
        set.single = usable.pop();
    }
    Ok(set)
}

fn usable_key(jwk: &Jwk) -> Option<Key> {
    if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
        return None;
    }
    let (alg, want) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (Algorithm::RS256, KeyAlgorithm::RS256),
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            (Algorithm::ES256, KeyAlgorithm::ES256)
        }
        _ => return None,
    };
    if jwk.common.key_algorithm.is_some_and(|a| a != want) {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(Key { key, alg })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA_N: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";

    #[test]
    fn rsa_and_p256_keys_are_taken_and_hmac_keys_skipped() {
        let doc = serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "r1", "alg": "RS256", "use": "sig", "n": RSA_N, "e": "AQAB"},
            {"kty": "oct", "kid": "h1", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": RSA_N, "e": "AQAB"},
            {"kty": "RSA", "kid": "ps", "alg": "PS256", "n": RSA_N, "e": "AQAB"},
            {"kty": "EC", "kid": "e1", "crv": "P-256",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "EC", "kid": "e3", "crv": "P-384", "x": "AA", "y": "AA"},
            {"kty": "weird"}
        ]});
        let set = parse_jwks(doc.to_string().as_bytes()).expect("usable keys");
        let mut kids: Vec<_> = set.by_kid.keys().cloned().collect();
        kids.sort();
        assert_eq!(kids, vec!["e1", "r1"]);
        assert_eq!(set.by_kid["r1"].alg, Algorithm::RS256);
        assert_eq!(set.by_kid["e1"].alg, Algorithm::ES256);
        assert!(set.single.is_none());
    }

    #[test]
    fn a_jwks_without_usable_keys_is_an_error() {
        assert!(parse_jwks(br#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#).is_err());
        assert!(parse_jwks(b"not json").is_err());
        let one = format!(r#"{{"keys": [{{"kty": "RSA", "n": "{RSA_N}", "e": "AQAB"}}]}}"#);
        assert!(parse_jwks(one.as_bytes())
            .expect("one key")
            .single
            .is_some());
    }
}
