//! Story: `opensearch-mcp-server` as an OAuth 2.1 resource server (the MCP authorization spec).
//! Amazon Cognito in moto issues real RS256 access tokens: the server takes the configured app
//! client's token and refuses the other client's, an ID token, a tampered one, `alg: none` and
//! HS256. A test issuer on 127.0.0.1 (its keys are test-only files in tests/data) signs expired,
//! not-yet-valid, wrong-audience and scope-less tokens. The RFC 9728 metadata is checked field by
//! field, the official Python MCP SDK calls tools with a token, a flood of unknown-`kid` tokens
//! makes at most one JWKS fetch, and the cached keys keep working while the issuer is down.
//! Incomplete or contradictory settings stop the server with exit code 2.

use crate::{common, server_support};

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use common::{cognito_tokens, server_bin, venv_bin, workspace_root, Moto, Osmem};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use server_support::{initialize_request, mcp_post, Reply, Server, MCP_PATH};

const RESOURCE: &str = "https://mcp.example.test/ossserver-stateless/ossmcp";
const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

fn list_indices_call(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "list_indices", "arguments": {}}})
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn www_authenticate(http_status_and_headers: &reqwest::Response) -> String {
    http_status_and_headers
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// POST a JSON-RPC message with the given Authorization header values (zero, one or several).
async fn post_auth(url: &str, body: &Value, auth: &[&str]) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .timeout(Duration::from_secs(20))
        .body(body.to_string());
    for a in auth {
        req = req.header("authorization", *a);
    }
    req.send().await.expect("POST to the server")
}

async fn call_with(server: &Server, token: &str) -> Reply {
    let http = reqwest::Client::new();
    let bearer = format!("Bearer {token}");
    mcp_post(
        &http,
        &server.mcp_url(),
        &list_indices_call(7),
        None,
        &[("authorization", &bearer)],
    )
    .await
}

/// The JWT `token` with its payload replaced (signature kept: a tampered token).
fn tampered(token: &str, change: impl Fn(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a JWS: {token}");
    let mut payload: Value =
        serde_json::from_slice(&B64.decode(parts[1]).expect("base64 payload")).expect("json");
    change(&mut payload);
    format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(payload.to_string()),
        parts[2]
    )
}

fn unsigned(alg: &str, kid: &str, claims: &Value) -> String {
    let header = json!({"alg": alg, "typ": "JWT", "kid": kid});
    format!(
        "{}.{}.",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    )
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&B64.decode(payload).expect("base64")).expect("json")
}

/// A test issuer on 127.0.0.1: `/.well-known/openid-configuration` and `/jwks.json` (counted;
/// answers 503 while `down`), signing with the test-only keys in tests/data.
struct TestIssuer {
    base: String,
    jwks_fetches: Arc<AtomicUsize>,
    down: Arc<AtomicBool>,
    /// While set, the JWKS lists only the EC key (the RSA key is withdrawn).
    withdrawn: Arc<AtomicBool>,
    rsa: EncodingKey,
    ec: EncodingKey,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl TestIssuer {
    fn start() -> TestIssuer {
        let data = workspace_root().join("tests/data");
        let rsa = EncodingKey::from_rsa_pem(
            &std::fs::read(data.join("oauth-test-only-rsa.pem")).expect("test RSA key"),
        )
        .expect("RSA PEM");
        let ec = EncodingKey::from_ec_pem(
            &std::fs::read(data.join("oauth-test-only-ec.pem")).expect("test EC key"),
        )
        .expect("EC PEM");
        let mut rsa_jwk = Jwk::from_encoding_key(&rsa, Algorithm::RS256).expect("RSA JWK");
        rsa_jwk.common.key_id = Some("test-rsa".into());
        let mut ec_jwk = Jwk::from_encoding_key(&ec, Algorithm::ES256).expect("EC JWK");
        ec_jwk.common.key_id = Some("test-ec".into());
        let jwks = json!({ "keys": [rsa_jwk, ec_jwk] }).to_string();
        let jwks_without_rsa = json!({ "keys": [ec_jwk] }).to_string();
        let withdrawn = Arc::new(AtomicBool::new(false));
        let is_withdrawn = withdrawn.clone();

        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let jwks_fetches = Arc::new(AtomicUsize::new(0));
        let down = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let discovery =
            json!({"issuer": base, "jwks_uri": format!("{base}/jwks.json")}).to_string();
        let (fetches, is_down) = (jwks_fetches.clone(), down.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                use axum::routing::get;
                let app = axum::Router::new()
                    .route(
                        "/.well-known/openid-configuration",
                        get(move || async move { discovery }),
                    )
                    .route(
                        "/jwks.json",
                        get(move || async move {
                            fetches.fetch_add(1, Ordering::SeqCst);
                            if is_down.load(Ordering::SeqCst) {
                                (axum::http::StatusCode::SERVICE_UNAVAILABLE, String::new())
                            } else if is_withdrawn.load(Ordering::SeqCst) {
                                (axum::http::StatusCode::OK, jwks_without_rsa)
                            } else {
                                (axum::http::StatusCode::OK, jwks)
                            }
                        }),
                    );
                let l = tokio::net::TcpListener::from_std(listener).expect("listener");
                let _ = axum::serve(l, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        TestIssuer {
            base,
            jwks_fetches,
            down,
            withdrawn,
            rsa,
            ec,
            _stop: stop,
        }
    }

    fn sign(&self, alg: Algorithm, kid: &str, claims: &Value) -> String {
        let mut h = Header::new(alg);
        h.kid = Some(kid.to_string());
        let key = if alg == Algorithm::ES256 {
            &self.ec
        } else {
            &self.rsa
        };
        encode(&h, claims, key).expect("sign")
    }

    /// Valid claims for this issuer with audience `api://mcp`, changed by `f`.
    fn claims(&self, f: impl Fn(&mut Value)) -> Value {
        let mut c = json!({"iss": self.base, "sub": "user-42", "aud": "api://mcp",
            "exp": now() + 600, "iat": now(), "scope": "mcp:call openid"});
        f(&mut c);
        c
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cognito_access_tokens_from_moto_work_for_the_configured_client_only() {
    let moto = Moto::start();
    let osmem = Osmem::start_with_movies();
    let c = cognito_tokens(&moto);
    let s = |k: &str| c[k].as_str().expect(k).to_string();
    let server = Server::start(
        &osmem.url,
        &[
            ("MCP_PATH_ALIASES", "/ossserver"),
            ("MCP_OAUTH_ISSUER", &s("issuer")),
            ("MCP_OAUTH_JWKS_URL", &s("jwks_url")),
            ("MCP_OAUTH_CLIENT_IDS", &s("client_a")),
            ("MCP_RESOURCE_URL", RESOURCE),
        ],
    );
    let token = s("access_a");
    assert_eq!(claims_of(&token)["token_use"], "access");

    // The first app client's access token: initialize and a tool call.
    let r = call_with(&server, &token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let result = &r.message.as_ref().expect("JSON-RPC answer")["result"];
    assert_ne!(result["isError"], true, "{result}");
    assert!(result.to_string().contains("movies"), "{result}");
    let r = post_auth(
        &server.mcp_url(),
        &initialize_request(1),
        &[&format!("bearer {token}")],
    )
    .await;
    assert_eq!(r.status(), 200, "lower-case scheme");

    // Refused, each with 401 and error="invalid_token".
    let sub = claims_of(&token)["sub"].as_str().expect("sub").to_string();
    let refused = [
        ("the other app client's token", s("access_b")),
        ("the ID token", s("id_a")),
        (
            "a tampered token",
            tampered(&token, |p| p["sub"] = json!("admin")),
        ),
        (
            "a token with another client_id",
            tampered(&token, |p| p["client_id"] = json!(s("client_b"))),
        ),
        ("alg none", unsigned("none", "dummy", &claims_of(&token))),
        (
            "HS256 with the JWKS kid",
            encode(
                &{
                    let mut h = Header::new(Algorithm::HS256);
                    h.kid = Some("dummy".into());
                    h
                },
                &claims_of(&token),
                &EncodingKey::from_secret(b"guessable"),
            )
            .expect("HS256"),
        ),
        ("garbage", "not-a-jwt".to_string()),
    ];
    let expected_metadata = format!("https://mcp.example.test{WELL_KNOWN}{MCP_PATH}");
    for (what, bad) in &refused {
        let r = post_auth(
            &server.mcp_url(),
            &list_indices_call(2),
            &[&format!("Bearer {bad}")],
        )
        .await;
        assert_eq!(r.status(), 401, "{what}");
        let challenge = www_authenticate(&r);
        assert!(
            challenge.starts_with(&format!(
                "Bearer resource_metadata=\"{expected_metadata}\", error=\"invalid_token\""
            )),
            "{what}: {challenge}"
        );
    }

    // No token: 401 pointing at the metadata of the path asked for (alias included).
    let r = post_auth(&server.mcp_url(), &list_indices_call(3), &[]).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        www_authenticate(&r),
        format!("Bearer resource_metadata=\"{expected_metadata}\"")
    );
    let r = post_auth(&server.url("/ossserver/ossmcp"), &list_indices_call(3), &[]).await;
    assert_eq!(
        www_authenticate(&r),
        format!(
            "Bearer resource_metadata=\"https://mcp.example.test{WELL_KNOWN}/ossserver/ossmcp\""
        )
    );
    // Two Authorization headers are refused even when both carry the good token.
    let bearer = format!("Bearer {token}");
    let r = post_auth(
        &server.mcp_url(),
        &list_indices_call(4),
        &[&bearer, &bearer],
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap_or_default()
        .contains("more than one Authorization"));

    // The RFC 9728 metadata, unauthenticated, field by field, for MCP_PATH and the alias.
    for (path, resource) in [
        (MCP_PATH, RESOURCE),
        (
            "/ossserver/ossmcp",
            "https://mcp.example.test/ossserver/ossmcp",
        ),
    ] {
        let r = reqwest::get(server.url(&format!("{WELL_KNOWN}{path}")))
            .await
            .expect("GET metadata");
        assert_eq!(r.status(), 200);
        assert!(r
            .headers()
            .get("content-type")
            .is_some_and(|v| v == "application/json"));
        let doc: Value = r.json().await.expect("JSON metadata");
        assert_eq!(doc["resource"], resource);
        assert_eq!(doc["authorization_servers"], json!([s("issuer")]));
        assert_eq!(doc["scopes_supported"], json!([]));
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
        assert_eq!(doc.as_object().map(|o| o.len()), Some(4), "{doc}");
    }

    // The official Python MCP SDK calls tools with the token, and gets 401 without it.
    let out = Command::new(venv_bin("python"))
        .arg(workspace_root().join("tests/python/mcp_oauth_interop.py"))
        .arg(server.mcp_url())
        .env("MCP_TEST_TOKEN", &token)
        .output()
        .expect("run the Python MCP SDK client");
    assert!(
        out.status.success(),
        "Python MCP SDK client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("interop JSON");
    assert_eq!(v["list_indices"]["is_error"], false, "{v}");
    assert!(
        v["list_indices"]["text"].to_string().contains("movies"),
        "{v}"
    );
    assert_eq!(v["search_index"]["is_error"], false, "{v}");
    assert!(
        v["search_index"]["text"].to_string().contains("Heat"),
        "{v}"
    );
    let without = v["without_token"].as_str().unwrap_or_default();
    assert!(
        without.starts_with(&format!(
            "401 Bearer resource_metadata=\"{expected_metadata}\""
        )),
        "{without}"
    );

    // The request log names the subject and never holds a token.
    let log = server.log_text();
    assert!(log.contains(&format!("\"subject\":\"{sub}\"")), "{log}");
    for (_, bad) in &refused {
        assert!(!log.contains(bad.as_str()), "a token reached the log");
    }
    assert!(!log.contains(&token), "the token reached the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_checked_for_signature_time_audience_and_scope() {
    let osmem = Osmem::start_with_movies();
    let idp = TestIssuer::start();
    // No MCP_OAUTH_JWKS_URL: the server discovers it from the issuer's openid-configuration.
    let server = Server::start(
        &osmem.url,
        &[
            ("MCP_OAUTH_ISSUER", &idp.base),
            ("MCP_OAUTH_AUDIENCE", "api://mcp"),
            ("MCP_OAUTH_REQUIRED_SCOPES", "mcp:call"),
            ("MCP_RESOURCE_URL", RESOURCE),
        ],
    );
    let ok_rs = idp.sign(Algorithm::RS256, "test-rsa", &idp.claims(|_| {}));
    let ok_es = idp.sign(Algorithm::ES256, "test-ec", &idp.claims(|_| {}));
    let in_leeway = idp.sign(
        Algorithm::RS256,
        "test-rsa",
        &idp.claims(|c| c["exp"] = json!(now() - 20)),
    );
    for (what, t) in [
        ("RS256", &ok_rs),
        ("ES256", &ok_es),
        ("expired 20 s ago", &in_leeway),
    ] {
        let r = call_with(&server, t).await;
        assert_eq!(r.status, 200, "{what}: {}", r.body);
    }
    let bad = [
        (
            "expired",
            "token expired",
            idp.claims(|c| c["exp"] = json!(now() - 600)),
        ),
        (
            "not yet valid",
            "nbf",
            idp.claims(|c| c["nbf"] = json!(now() + 600)),
        ),
        (
            "another audience",
            "audience",
            idp.claims(|c| c["aud"] = json!("api://other")),
        ),
        (
            // Issue 24, item 5: one string is one audience (RFC 7519 §4.1.3), never split.
            "two audiences in one string",
            "audience",
            idp.claims(|c| c["aud"] = json!("api://other api://mcp")),
        ),
        (
            "another issuer",
            "issuer",
            idp.claims(|c| c["iss"] = json!("https://evil.example")),
        ),
        (
            "no exp",
            "exp",
            idp.claims(|c| {
                c.as_object_mut().map(|o| o.remove("exp"));
            }),
        ),
    ];
    for (what, reason, claims) in &bad {
        let t = idp.sign(Algorithm::RS256, "test-rsa", claims);
        let r = post_auth(
            &server.mcp_url(),
            &list_indices_call(1),
            &[&format!("Bearer {t}")],
        )
        .await;
        assert_eq!(r.status(), 401, "{what}");
        let challenge = www_authenticate(&r);
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{what}: {challenge}"
        );
        assert!(challenge.contains(reason), "{what}: {challenge}");
    }
    // An RS256 token claiming the EC key's kid, and an ES256 one claiming the RSA key's.
    let t = idp.sign(Algorithm::RS256, "test-ec", &idp.claims(|_| {}));
    assert_eq!(call_with(&server, &t).await.status, 401);
    let t = idp.sign(Algorithm::ES256, "test-rsa", &idp.claims(|_| {}));
    assert_eq!(call_with(&server, &t).await.status, 401);

    // A valid token without the required scope: 403 insufficient_scope naming it.
    let t = idp.sign(
        Algorithm::RS256,
        "test-rsa",
        &idp.claims(|c| c["scope"] = json!("openid")),
    );
    let r = post_auth(
        &server.mcp_url(),
        &list_indices_call(1),
        &[&format!("Bearer {t}")],
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        www_authenticate(&r),
        format!(
            "Bearer resource_metadata=\"https://mcp.example.test{WELL_KNOWN}{MCP_PATH}\", \
             error=\"insufficient_scope\", scope=\"mcp:call\""
        )
    );
    let r = reqwest::get(server.url(&format!("{WELL_KNOWN}{MCP_PATH}")))
        .await
        .expect("metadata");
    let doc: Value = r.json().await.expect("json");
    assert_eq!(doc["scopes_supported"], json!(["mcp:call"]));
    assert_eq!(doc["authorization_servers"], json!([idp.base]));
    assert!(server.log_text().contains("\"subject\":\"user-42\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_kids_refetch_at_most_once_and_cached_keys_survive_an_outage() {
    let osmem = Osmem::start_with_movies();
    let idp = TestIssuer::start();
    let server = Server::start(
        &osmem.url,
        &[
            ("MCP_OAUTH_ISSUER", &idp.base),
            ("MCP_OAUTH_JWKS_URL", &format!("{}/jwks.json", idp.base)),
            ("MCP_OAUTH_AUDIENCE", "api://mcp"),
            ("MCP_RESOURCE_URL", RESOURCE),
        ],
    );
    let good = idp.sign(Algorithm::RS256, "test-rsa", &idp.claims(|_| {}));
    assert_eq!(call_with(&server, &good).await.status, 200);
    let before = idp.jwks_fetches.load(Ordering::SeqCst);
    assert!((1..=2).contains(&before), "start-up fetches: {before}");

    // 300 tokens with unknown kids, 30 at a time: all 401, at most one more JWKS fetch.
    let mut refused = 0;
    for round in 0..10 {
        let calls = (0..30).map(|i| {
            let t = idp.sign(
                Algorithm::RS256,
                &format!("forged-{round}-{i}"),
                &idp.claims(|_| {}),
            );
            let url = server.mcp_url();
            async move { post_auth(&url, &list_indices_call(1), &[&format!("Bearer {t}")]).await }
        });
        for r in futures::future::join_all(calls).await {
            assert_eq!(r.status(), 401);
            refused += 1;
        }
    }
    assert_eq!(refused, 300);
    let after = idp.jwks_fetches.load(Ordering::SeqCst);
    assert!(
        after - before <= 1,
        "300 unknown-kid tokens made {} JWKS fetches",
        after - before
    );

    // The issuer goes down: the cached key still verifies; unknown kids stay 401 (not 503).
    idp.down.store(true, Ordering::SeqCst);
    assert_eq!(call_with(&server, &good).await.status, 200);
    let t = idp.sign(Algorithm::RS256, "rotated", &idp.claims(|_| {}));
    assert_eq!(call_with(&server, &t).await.status, 401);
    assert_eq!(call_with(&server, &good).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_reachable_jwks_means_503_never_open() {
    let osmem = Osmem::start_with_movies();
    let idp = TestIssuer::start();
    idp.down.store(true, Ordering::SeqCst);
    let server = Server::start(
        &osmem.url,
        &[
            ("MCP_OAUTH_ISSUER", &idp.base),
            ("MCP_OAUTH_JWKS_URL", &format!("{}/jwks.json", idp.base)),
            ("MCP_OAUTH_AUDIENCE", "api://mcp"),
            ("MCP_RESOURCE_URL", RESOURCE),
        ],
    );
    let good = idp.sign(Algorithm::RS256, "test-rsa", &idp.claims(|_| {}));
    let r = call_with(&server, &good).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("JWKS"), "{}", r.body);
    // The issuer comes back: after the short retry interval for an empty cache, tokens work.
    idp.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(call_with(&server, &good).await.status, 200);
}

/// Issue 24, item 3: an issuer that accepts the connection and never answers. With no keys held
/// and the one fetch hanging, eight concurrent requests all get 503 with `Retry-After` at once
/// (not one every 10 s), and the issuer sees one connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_issuer_gets_one_fetch_and_every_request_503_at_once() {
    let osmem = Osmem::start_with_movies();
    let idp = TestIssuer::start();
    let hang = server_support::capture::Capture::start();
    let server = Server::start(
        &osmem.url,
        &[
            ("MCP_OAUTH_ISSUER", &idp.base),
            ("MCP_OAUTH_JWKS_URL", &format!("{}/jwks.json", hang.url)),
            ("MCP_OAUTH_AUDIENCE", "api://mcp"),
            ("MCP_RESOURCE_URL", RESOURCE),
        ],
    );
    let token = idp.sign(Algorithm::RS256, "test-rsa", &idp.claims(|_| {}));
    let started = std::time::Instant::now();
    let calls = (0..8).map(|_| {
        let url = server.mcp_url();
        let bearer = format!("Bearer {token}");
        async move {
            let t = std::time::Instant::now();
            let r = post_auth(&url, &list_indices_call(1), &[&bearer]).await;
            (
                r.status().as_u16(),
                r.headers().contains_key("retry-after"),
                t.elapsed(),
            )
        }
    });
    let answers = futures::future::join_all(calls).await;
    let slowest = answers.iter().map(|a| a.2).max().unwrap_or_default();
    eprintln!("8 requests against a hanging issuer: slowest 503 after {slowest:?}");
    for (status, retry_after, took) in &answers {
        assert_eq!(*status, 503, "{answers:?}");
        assert!(*retry_after, "{answers:?}");
        assert!(*took < Duration::from_secs(3), "{answers:?}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(hang.connections(), 1, "one JWKS fetch at a time");
}

/// Issue 24, item 4: the issuer withdraws a key; with the JWKS fetched again every second
/// (`MCP_OAUTH_JWKS_REFRESH_SECONDS=1`), a token signed by it, verified and cached a moment
/// before, is refused within the refresh interval (the README promises a minute by default).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawn_key_stops_working_at_the_next_background_refresh() {
    let osmem = Osmem::start_with_movies();
    let idp = TestIssuer::start();
    let server = Server::start(
        &osmem.url,
        &[
            ("MCP_OAUTH_ISSUER", &idp.base),
            ("MCP_OAUTH_JWKS_URL", &format!("{}/jwks.json", idp.base)),
            ("MCP_OAUTH_AUDIENCE", "api://mcp"),
            ("MCP_RESOURCE_URL", RESOURCE),
            ("MCP_OAUTH_JWKS_REFRESH_SECONDS", "1"),
        ],
    );
    let rsa = idp.sign(Algorithm::RS256, "test-rsa", &idp.claims(|_| {}));
    let ec = idp.sign(Algorithm::ES256, "test-ec", &idp.claims(|_| {}));
    assert_eq!(call_with(&server, &rsa).await.status, 200);
    assert_eq!(call_with(&server, &rsa).await.status, 200, "from the cache");
    idp.withdrawn.store(true, Ordering::SeqCst);
    let withdrawn_at = std::time::Instant::now();
    loop {
        let r = call_with(&server, &rsa).await;
        if r.status == 401 {
            break;
        }
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            withdrawn_at.elapsed() < Duration::from_secs(4),
            "the withdrawn key still works after {:?}",
            withdrawn_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("withdrawn key refused after {:?}", withdrawn_at.elapsed());
    // The key still listed keeps working; the background fetches are bounded (about one a second).
    assert_eq!(call_with(&server, &ec).await.status, 200);
    let fetches = idp.jwks_fetches.load(Ordering::SeqCst);
    assert!(fetches <= 8, "{fetches} JWKS fetches in a few seconds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_static_token_takes_any_case_of_bearer_and_refuses_two_headers() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[("MCP_AUTH_TOKEN", "tok-5a4b3c2d1e")]);
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let r = post_auth(
            &server.mcp_url(),
            &list_indices_call(1),
            &[&format!("{scheme} tok-5a4b3c2d1e")],
        )
        .await;
        assert_eq!(r.status(), 200, "{scheme}");
    }
    let r = post_auth(
        &server.mcp_url(),
        &list_indices_call(1),
        &["Bearer wrong", "Bearer tok-5a4b3c2d1e"],
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = post_auth(&server.mcp_url(), &list_indices_call(1), &["Bearer wrong"]).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        www_authenticate(&r),
        "Bearer error=\"invalid_token\", error_description=\"wrong bearer token\""
    );
    // No metadata without OAuth.
    let r = reqwest::get(server.url(&format!("{WELL_KNOWN}{MCP_PATH}")))
        .await
        .expect("GET");
    assert_eq!(r.status(), 404);
}

#[test]
fn incomplete_or_contradictory_auth_settings_stop_the_server_with_exit_2() {
    let issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x";
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("MCP_AUTH_TOKEN", "")], "MCP_AUTH_TOKEN"),
        (&[("MCP_AUTH_TOKEN", "   ")], "MCP_AUTH_TOKEN"),
        (
            &[
                ("MCP_AUTH_TOKEN", "tok"),
                ("MCP_OAUTH_ISSUER", issuer),
                ("MCP_OAUTH_CLIENT_IDS", "app"),
                ("MCP_RESOURCE_URL", RESOURCE),
            ],
            "MCP_AUTH_TOKEN",
        ),
        (
            &[("MCP_OAUTH_ISSUER", issuer), ("MCP_RESOURCE_URL", RESOURCE)],
            "MCP_OAUTH_AUDIENCE",
        ),
        (
            &[
                ("MCP_OAUTH_ISSUER", issuer),
                ("MCP_OAUTH_CLIENT_IDS", "app"),
            ],
            "MCP_RESOURCE_URL",
        ),
        (&[("MCP_OAUTH_CLIENT_IDS", "app")], "MCP_OAUTH_CLIENT_IDS"),
        (
            &[
                ("MCP_OAUTH_ISSUER", "http://idp.example.com"),
                ("MCP_OAUTH_CLIENT_IDS", "app"),
                ("MCP_RESOURCE_URL", RESOURCE),
            ],
            "MCP_OAUTH_ISSUER",
        ),
    ];
    for (env, variable) in cases {
        let mut cmd = Command::new(server_bin());
        cmd.env_clear()
            .env("MCP_HOST", "127.0.0.1")
            .env("MCP_PORT", "1");
        for (k, v) in *env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run the server");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{env:?}: {stderr}");
        assert!(
            stderr.contains(&format!("configuration error: {variable}")),
            "{env:?}: {stderr}"
        );
    }
}
