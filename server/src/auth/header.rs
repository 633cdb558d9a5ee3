//! The `Authorization` request header: exactly one, scheme `Bearer` in any case (RFC 7235
//! §2.1: the scheme is case-insensitive), one or more spaces, then the credentials.

use axum::http::{header, HeaderMap};

/// Why no bearer credentials could be taken from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// No `Authorization` header at all.
    Missing,
    /// More than one `Authorization` header (refused rather than picking one).
    Duplicate,
    /// A header, but not `Bearer <credentials>` (another scheme, empty credentials, not ASCII).
    Malformed(&'static str),
}

/// The largest credentials accepted; JWTs from common issuers are 1–4 KiB.
pub const MAX_CREDENTIALS: usize = 16 * 1024;

/// The bearer credentials of the request's single `Authorization` header.
pub fn bearer(headers: &HeaderMap) -> Result<&str, HeaderError> {
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
    let value = all.next().ok_or(HeaderError::Missing)?;
    if all.next().is_some() {
        return Err(HeaderError::Duplicate);
    }
    let value = value
        .to_str()
        .map_err(|_| HeaderError::Malformed("the Authorization header is not ASCII"))?;
    parse_bearer(value)
}

/// `Bearer <credentials>` with the scheme in any case; the credentials have no spaces.
pub fn parse_bearer(value: &str) -> Result<&str, HeaderError> {
    let value = value.trim_matches([' ', '\t']);
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(HeaderError::Malformed(
            "the Authorization scheme is not Bearer: send Authorization: Bearer <token>",
        ));
    }
    let credentials = rest.trim_start_matches(' ');
    if credentials.is_empty() {
        return Err(HeaderError::Malformed(
            "the Authorization header has no token after Bearer",
        ));
    }
    if credentials.contains([' ', '\t']) {
        return Err(HeaderError::Malformed(
            "the bearer token contains spaces: send one token after Bearer",
        ));
    }
    if credentials.len() > MAX_CREDENTIALS {
        return Err(HeaderError::Malformed("the bearer token is too long"));
    }
    Ok(credentials)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_scheme_is_case_insensitive() {
        for v in [
            "Bearer abc",
            "bearer abc",
            "BEARER abc",
            "bEaReR   abc",
            " Bearer abc ",
        ] {
            assert_eq!(parse_bearer(v), Ok("abc"), "{v:?}");
        }
    }

    #[test]
    fn other_schemes_and_empty_tokens_are_malformed() {
        for v in [
            "Basic dXNlcjpwdw==",
            "Bearerabc",
            "Bearer",
            "Bearer   ",
            "abc",
            "Bearer a b",
            "",
        ] {
            assert!(
                matches!(parse_bearer(v), Err(HeaderError::Malformed(_))),
                "{v:?}"
            );
        }
        let long = format!("Bearer {}", "a".repeat(MAX_CREDENTIALS + 1));
        assert!(parse_bearer(&long).is_err());
    }

    #[test]
    fn two_authorization_headers_are_refused() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), Err(HeaderError::Missing));
        h.append(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer one"),
        );
        assert_eq!(bearer(&h), Ok("one"));
        h.append(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer one"),
        );
        assert_eq!(bearer(&h), Err(HeaderError::Duplicate));
    }

    #[test]
    fn non_ascii_values_are_malformed() {
        let mut h = HeaderMap::new();
        let v = HeaderValue::from_bytes(b"Bearer \xff\xfe").expect("opaque header bytes");
        h.insert(header::AUTHORIZATION, v);
        assert!(matches!(bearer(&h), Err(HeaderError::Malformed(_))));
    }
}
