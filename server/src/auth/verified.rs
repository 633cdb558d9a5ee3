//! Tokens already verified, so a client that sends the same access token on every request
//! pays for the RSA/ECDSA signature check once a minute instead of on every call. Only tokens
//! that passed every check are kept, keyed by their exact text (a different byte is a different
//! token); `exp` and `nbf` are checked again on every hit, and so is the signing key: a hit
//! counts only while the issuer's key set still lists the token's `kid`, so a key the issuer
//! withdraws stops working with the next JWKS refresh; an entry lives at most [`MAX_AGE`]; and
//! the cache is bounded ([`MAX_ENTRIES`] tokens of at most [`MAX_TOKEN_BYTES`] each).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::validator::{Claims, LEEWAY_SECONDS};

/// Tokens kept at most.
pub const MAX_ENTRIES: usize = 1024;
/// Longer tokens are never kept.
pub const MAX_TOKEN_BYTES: usize = 4096;
/// An entry is verified again after this long.
pub const MAX_AGE: Duration = Duration::from_secs(60);

struct Entry {
    claims: Claims,
    stored: Instant,
    /// The signing key's `kid` and the key-set generation it was verified under.
    key: KeyRef,
}

/// Which key verified a token: its `kid`, and the generation of the key set it was found in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRef {
    /// The token's `kid`.
    pub kid: Option<String>,
    /// The key set's generation ([`super::jwks::Jwks::generation`]).
    pub generation: u64,
}

/// The cache of verified tokens.
#[derive(Default)]
pub struct Verified(Mutex<HashMap<String, Entry>>);

/// `exp` and `nbf` of `claims` hold at `now` (seconds since the epoch), with the leeway the
/// full check uses.
fn in_time(claims: &Claims, now: u64) -> bool {
    let exp_ok = claims
        .exp
        .is_some_and(|exp| exp.saturating_add(LEEWAY_SECONDS) >= now);
    let nbf_ok = claims
        .nbf
        .is_none_or(|nbf| nbf <= now.saturating_add(LEEWAY_SECONDS));
    exp_ok && nbf_ok
}

impl Verified {
    /// The claims of `token` if it was verified less than [`MAX_AGE`] ago, is still in time,
    /// and `key_held` says its key is still held.
    pub fn get(&self, token: &str, now: u64, key_held: impl Fn(&KeyRef) -> bool) -> Option<Claims> {
        let mut map = self.0.lock().ok()?;
        let fresh = match map.get(token) {
            None => return None,
            Some(e) => e.stored.elapsed() < MAX_AGE && in_time(&e.claims, now) && key_held(&e.key),
        };
        if fresh {
            map.get(token).map(|e| e.claims.clone())
        } else {
            map.remove(token);
            None
        }
    }

    /// Keep `token`, just verified, with its claims.
    pub fn put(&self, token: &str, claims: &Claims, key: KeyRef, now: u64) {
        if token.len() > MAX_TOKEN_BYTES {
            return;
        }
        let Ok(mut map) = self.0.lock() else { return };
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, e| e.stored.elapsed() < MAX_AGE && in_time(&e.claims, now));
        }
        if map.len() >= MAX_ENTRIES {
            // Still full of live tokens: make room by dropping one (any one).
            if let Some(k) = map.keys().next().cloned() {
                map.remove(&k);
            }
        }
        map.insert(
            token.to_string(),
            Entry {
                claims: claims.clone(),
                stored: Instant::now(),
                key,
            },
        );
    }

    /// How many tokens are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.0.lock().map(|m| m.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64, nbf: Option<u64>) -> Claims {
        Claims {
            sub: Some("alice".into()),
            exp: Some(exp),
            nbf,
            ..Default::default()
        }
    }

    #[test]
    fn a_kept_token_answers_until_it_expires() {
        let v = Verified::default();
        let now = 1_800_000_000;
        v.put("tok", &claims(now + 10, None), KeyRef::default(), now);
        assert_eq!(
            v.get("tok", now, |_| true).and_then(|c| c.sub),
            Some("alice".into())
        );
        assert!(
            v.get("tok2", now, |_| true).is_none(),
            "another token is another entry"
        );
        // Past exp and the leeway: gone, and removed.
        assert!(v
            .get("tok", now + 10 + LEEWAY_SECONDS + 1, |_| true)
            .is_none());
        assert_eq!(v.len(), 0);
        // Not yet valid beyond the leeway.
        v.put(
            "early",
            &claims(now + 1000, Some(now + 500)),
            KeyRef::default(),
            now,
        );
        assert!(v.get("early", now, |_| true).is_none());
    }

    #[test]
    fn a_token_whose_key_was_withdrawn_is_not_answered_from_the_cache() {
        let v = Verified::default();
        let now = 1_800_000_000;
        let key = KeyRef {
            kid: Some("k1".into()),
            generation: 3,
        };
        v.put("tok", &claims(now + 100, None), key.clone(), now);
        assert!(v.get("tok", now, |k| *k == key).is_some());
        assert!(v.get("tok", now, |_| false).is_none());
        assert_eq!(v.len(), 0);
    }

    #[test]
    fn the_cache_is_bounded() {
        let v = Verified::default();
        let now = 1_800_000_000;
        for i in 0..(MAX_ENTRIES + 50) {
            v.put(
                &format!("t{i}"),
                &claims(now + 100, None),
                KeyRef::default(),
                now,
            );
        }
        assert_eq!(v.len(), MAX_ENTRIES);
        v.put(
            &"x".repeat(MAX_TOKEN_BYTES + 1),
            &claims(now + 100, None),
            KeyRef::default(),
            now,
        );
        assert!(v
            .get(&"x".repeat(MAX_TOKEN_BYTES + 1), now, |_| true)
            .is_none());
        // Expired entries make room before live ones are dropped.
        let w = Verified::default();
        for i in 0..MAX_ENTRIES {
            w.put(
                &format!("old{i}"),
                &claims(now - 1000, None),
                KeyRef::default(),
                now - 2000,
            );
        }
        w.put("new", &claims(now + 100, None), KeyRef::default(), now);
        assert_eq!(w.len(), 1);
    }
}
