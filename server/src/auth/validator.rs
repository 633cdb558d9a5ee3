//! Access-token validation: the JWT signature against the issuer's JWKS (RS256 or ES256 only;
//! `none` and HMAC are refused before any key is looked up), `iss`, `exp` and `nbf` with a
//! 60-second leeway (jsonwebtoken), then this server's own claim rules ([`check_claims`]). A
//! token that passed is kept for a minute ([`super::verified`]).

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, decode_header, Algorithm, Validation};
use serde::Deserialize;

use super::challenge::Rejection;
use super::jwks::{Jwks, KeyError};
use super::verified::{KeyRef, Verified};
use crate::config::OAuthConfig;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECONDS: u64 = 60;

/// The claims this server reads (the signature covers the rest).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Claims {
    /// Expiry (seconds since the epoch); checked by jsonwebtoken, again on a cache hit.
    #[serde(default)]
    pub exp: Option<u64>,
    /// Not before (seconds since the epoch); checked like `exp`.
    #[serde(default)]
    pub nbf: Option<u64>,
    /// The subject: logged with each request.
    #[serde(default)]
    pub sub: Option<String>,
    /// Audience: one string or a list (RFC 7519 §4.1.3).
    #[serde(default)]
    pub aud: Option<OneOrMany>,
    /// The OAuth client the token was issued to (RFC 9068; Cognito access tokens).
    #[serde(default)]
    pub client_id: Option<String>,
    /// Cognito: `access` or `id`.
    #[serde(default)]
    pub token_use: Option<String>,
    /// Space-separated scopes (RFC 9068).
    #[serde(default)]
    pub scope: Option<String>,
    /// Scopes as some issuers send them (`scp`, a list or a string).
    #[serde(default)]
    pub scp: Option<OneOrMany>,
}

/// A claim that may be a string or a list of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One value.
    One(String),
    /// Several values.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values of a space-separated claim (`scp` as a string): one string holds several.
    fn split_values(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => s.split(' ').filter(|s| !s.is_empty()).collect(),
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }

    /// The values of `aud`: a string is one value, spaces and all (RFC 7519 §4.1.3).
    fn audiences(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// The audience, client and scope rules, on claims whose signature, issuer and times are
/// already checked:
/// - `token_use`, when present, must be `access` (a Cognito ID token is not an access token);
/// - a token with `aud` must name one of `MCP_OAUTH_AUDIENCE`;
/// - a token without `aud` must carry a `client_id` in `MCP_OAUTH_CLIENT_IDS`;
/// - with `MCP_OAUTH_CLIENT_IDS` set, a token's `client_id` must be one of them;
/// - every `MCP_OAUTH_REQUIRED_SCOPES` scope must be in `scope` (or `scp`).
pub fn check_claims(c: &Claims, cfg: &OAuthConfig) -> Result<(), Rejection> {
    if c.token_use.as_deref().is_some_and(|u| u != "access") {
        return Err(Rejection::InvalidToken("not an access token (token_use)"));
    }
    let client_ok = |id: &str| cfg.client_ids.iter().any(|c| c == id);
    match c.aud.as_ref().map(OneOrMany::audiences) {
        Some(aud) if !aud.is_empty() => {
            if !aud.iter().any(|a| cfg.audiences.iter().any(|x| x == a)) {
                return Err(Rejection::InvalidToken("the token is for another audience"));
            }
        }
        _ => {
            if !c.client_id.as_deref().is_some_and(client_ok) {
                return Err(Rejection::InvalidToken(
                    "the token has no audience and was not issued to an accepted client",
                ));
            }
        }
    }
    if !cfg.client_ids.is_empty() && c.client_id.as_deref().is_some_and(|id| !client_ok(id)) {
        return Err(Rejection::InvalidToken(
            "the token was issued to another client",
        ));
    }
    if !cfg.required_scopes.is_empty() {
        let mut have: Vec<&str> = Vec::new();
        if let Some(s) = &c.scope {
            have.extend(s.split(' ').filter(|s| !s.is_empty()));
        }
        if let Some(s) = &c.scp {
            have.extend(s.split_values());
        }
        if !cfg
            .required_scopes
            .iter()
            .all(|r| have.contains(&r.as_str()))
        {
            return Err(Rejection::InsufficientScope);
        }
    }
    Ok(())
}

/// Validates access tokens for one OAuth configuration.
pub struct Validator {
    cfg: OAuthConfig,
    jwks: Arc<Jwks>,
    verified: Verified,
}

impl Validator {
    /// A validator whose keys come from `jwks`.
    pub fn new(cfg: OAuthConfig, jwks: Arc<Jwks>) -> Validator {
        Validator {
            cfg,
            jwks,
            verified: Verified::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &OAuthConfig {
        &self.cfg
    }

    /// Check `token`; its claims if it is valid for this server.
    pub async fn validate(&self, token: &str) -> Result<Claims, Rejection> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let key_held = |k: &KeyRef| self.jwks.still_holds(k.kid.as_deref(), k.generation);
        if let Some(claims) = self.verified.get(token, now, key_held) {
            return Ok(claims);
        }
        let generation = self.jwks.generation();
        let header = decode_header(token)
            .map_err(|_| Rejection::InvalidToken("not a well-formed signed JWT"))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(Rejection::InvalidToken(
                "signature algorithm not accepted (RS256 or ES256 only)",
            ));
        }
        let key = self
            .jwks
            .key(header.kid.as_deref())
            .await
            .map_err(|e| match e {
                KeyError::Unknown => {
                    Rejection::InvalidToken("signed with a key the issuer does not list")
                }
                KeyError::Unavailable => Rejection::Unavailable,
            })?;
        if key.alg != header.alg {
            return Err(Rejection::InvalidToken(
                "the token's algorithm does not match its key",
            ));
        }
        let mut v = Validation::new(key.alg);
        v.leeway = LEEWAY_SECONDS;
        v.validate_exp = true;
        v.validate_nbf = true;
        v.validate_aud = false; // check_claims: aud or client_id
        v.set_issuer(&[&self.cfg.issuer]);
        v.set_required_spec_claims(&["exp", "iss"]);
        let data = decode::<Claims>(token, &key.key, &v).map_err(|e| {
            Rejection::InvalidToken(match e.kind() {
                ErrorKind::ExpiredSignature => "token expired",
                ErrorKind::ImmatureSignature => "token not yet valid (nbf)",
                ErrorKind::InvalidIssuer => "token from another issuer",
                ErrorKind::InvalidSignature => "bad signature",
                ErrorKind::MissingRequiredClaim(_) => "token lacks exp or iss",
                _ => "invalid token",
            })
        })?;
        check_claims(&data.claims, &self.cfg)?;
        let key_ref = KeyRef {
            kid: header.kid,
            generation,
        };
        self.verified.put(token, &data.claims, key_ref, now);
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(aud: &[&str], clients: &[&str], scopes: &[&str]) -> OAuthConfig {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect();
        OAuthConfig {
            issuer: "https://idp.example.com".into(),
            jwks_url: None,
            audiences: v(aud),
            client_ids: v(clients),
            required_scopes: v(scopes),
            resource_url: url::Url::parse("https://mcp.example.com/mcp").expect("url"),
            jwks_refresh: std::time::Duration::from_secs(60),
        }
    }

    fn claims(json: serde_json::Value) -> Claims {
        serde_json::from_value(json).expect("claims")
    }

    #[test]
    fn cognito_access_tokens_are_matched_by_client_id() {
        let c = cfg(&[], &["app1"], &[]);
        let ok = claims(serde_json::json!({"client_id": "app1", "token_use": "access"}));
        assert_eq!(check_claims(&ok, &c), Ok(()));
        let other = claims(serde_json::json!({"client_id": "app2", "token_use": "access"}));
        assert!(matches!(
            check_claims(&other, &c),
            Err(Rejection::InvalidToken(_))
        ));
        let id_token = claims(serde_json::json!({"aud": "app1", "token_use": "id"}));
        assert!(check_claims(&id_token, &c).is_err());
        assert!(check_claims(&claims(serde_json::json!({})), &c).is_err());
    }

    #[test]
    fn audiences_match_one_of_a_list() {
        let c = cfg(&["api://mcp", "other"], &[], &[]);
        for aud in [
            serde_json::json!("api://mcp"),
            serde_json::json!(["x", "other"]),
        ] {
            let t = claims(serde_json::json!({ "aud": aud }));
            assert_eq!(check_claims(&t, &c), Ok(()));
        }
        let t = claims(serde_json::json!({"aud": ["x", "y"]}));
        assert!(check_claims(&t, &c).is_err());
        // One string is one audience (RFC 7519 §4.1.3), never split on spaces.
        for aud in ["api://other api://mcp", "api://mcp other", " api://mcp"] {
            let t = claims(serde_json::json!({ "aud": aud }));
            assert!(check_claims(&t, &c).is_err(), "{aud}");
        }
        // A token with an audience never passes on client_id alone.
        let c = cfg(&[], &["app1"], &[]);
        let t = claims(serde_json::json!({"aud": "elsewhere", "client_id": "app1"}));
        assert!(check_claims(&t, &c).is_err());
        // Both set: the audience must match and the client must be listed.
        let c = cfg(&["api"], &["app1"], &[]);
        let t = claims(serde_json::json!({"aud": "api", "client_id": "app9"}));
        assert!(check_claims(&t, &c).is_err());
    }

    #[test]
    fn every_required_scope_must_be_present() {
        let c = cfg(&["api"], &[], &["mcp/read", "mcp/call"]);
        let t = claims(serde_json::json!({"aud": "api", "scope": "mcp/call openid mcp/read"}));
        assert_eq!(check_claims(&t, &c), Ok(()));
        let t = claims(serde_json::json!({"aud": "api", "scp": ["mcp/read", "mcp/call"]}));
        assert_eq!(check_claims(&t, &c), Ok(()));
        let t = claims(serde_json::json!({"aud": "api", "scope": "mcp/read"}));
        assert_eq!(check_claims(&t, &c), Err(Rejection::InsufficientScope));
        let t = claims(serde_json::json!({"aud": "api"}));
        assert_eq!(check_claims(&t, &c), Err(Rejection::InsufficientScope));
    }
}
