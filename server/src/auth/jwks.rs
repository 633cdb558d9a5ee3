//! The issuer's signing keys (JWKS), cached. A token with an unknown `kid` makes the cache fetch
//! again, at most once per [`Jwks::min_refetch`], so a flood of forged tokens cannot flood the
//! issuer; a failed fetch keeps the keys already held, so tokens keep working while the issuer
//! is briefly unreachable. Fetches are bounded (timeouts, no redirects, a size limit) and only go
//! to https URLs (or loopback http for tests). Without `MCP_OAUTH_JWKS_URL`, the URL is the
//! `jwks_uri` of `{issuer}/.well-known/openid-configuration`, looked up on the first fetch.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
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
}

struct FetchState {
    last_attempt: Option<Instant>,
    jwks_url: Option<Url>,
}

/// Why no key could be found for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// The issuer does not list this key (or its algorithm differs).
    Unknown,
    /// No keys at all: the JWKS could not be fetched yet.
    Unavailable,
}

/// The JWKS cache of one issuer.
pub struct Jwks {
    /// The HTTP client, or why it could not be built (then every fetch fails: fail closed).
    http: Result<reqwest::Client, String>,
    issuer: String,
    keys: RwLock<Arc<KeySet>>,
    fetch: tokio::sync::Mutex<FetchState>,
    /// Fewest seconds between two fetches while keys are held.
    pub min_refetch: Duration,
    /// Fewest seconds between two fetches while no keys are held yet.
    pub min_retry_empty: Duration,
    /// Keys older than this are fetched again in the background.
    pub max_age: Duration,
}

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
            fetch: tokio::sync::Mutex::new(FetchState {
                last_attempt: None,
                jwks_url,
            }),
            min_refetch: Duration::from_secs(30),
            min_retry_empty: Duration::from_secs(2),
            max_age: Duration::from_secs(3600),
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

    /// The key for a token's `kid` (fetching the JWKS again if it is unknown and the last
    /// fetch is old enough).
    pub async fn key(self: &Arc<Self>, kid: Option<&str>) -> Result<Arc<Key>, KeyError> {
        let set = self.current();
        if let Some(k) = Self::find(&set, kid) {
            if set.fetched_at.is_some_and(|t| t.elapsed() > self.max_age) {
                let me = self.clone();
                tokio::spawn(async move { me.refresh(false).await });
            }
            return Ok(k);
        }
        self.refresh(true).await;
        let set = self.current();
        match Self::find(&set, kid) {
            Some(k) => Ok(k),
            None if set.fetched_at.is_none() => Err(KeyError::Unavailable),
            None => Err(KeyError::Unknown),
        }
    }

    /// Fetch the JWKS unless a fetch happened within the minimum interval. `wait`: queue behind
    /// a fetch in progress (a request needs the result) rather than skip.
    pub async fn refresh(&self, wait: bool) {
        let mut st = if wait {
            self.fetch.lock().await
        } else {
            match self.fetch.try_lock() {
                Ok(g) => g,
                Err(_) => return,
            }
        };
        let have_keys = self.current().fetched_at.is_some();
        let interval = if have_keys {
            self.min_refetch
        } else {
            self.min_retry_empty
        };
        if st.last_attempt.is_some_and(|t| t.elapsed() < interval) {
            return;
        }
        st.last_attempt = Some(Instant::now());
        match self.fetch_keys(&mut st).await {
            Ok(set) => {
                tracing::info!(
                    message = "fetched the issuer's signing keys",
                    keys = set.by_kid.len(),
                );
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

    async fn fetch_keys(&self, st: &mut FetchState) -> Result<KeySet, FetchError> {
        let url = match &st.jwks_url {
            Some(u) => u.clone(),
            None => {
                let u = self.discover().await?;
                st.jwks_url = Some(u.clone());
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
