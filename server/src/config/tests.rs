//! Unit tests of the environment parsing.

use super::*;
use std::collections::HashMap;

fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn defaults_match_the_python_server() {
    let c = load(&[]).unwrap();
    assert_eq!(c.host.to_string(), "0.0.0.0");
    assert_eq!(c.port, 9898);
    assert_eq!(c.mcp_path, "/ossserver-stateless/ossmcp");
    assert_eq!(c.health_path, "/ossserver-stateless/health");
    assert!(c.stateless);
    assert_eq!(c.opensearch.url(), "http://localhost:9200");
    assert_eq!(c.opensearch.auth, OpenSearchAuth::None);
    assert_eq!(c.opensearch.max_results, 100);
}

#[test]
fn aliases_serve_the_same_endpoint_names() {
    let c = load(&[("MCP_PATH_ALIASES", "/ossserver, /legacy/")]).unwrap();
    assert_eq!(c.path_aliases, vec!["/ossserver", "/legacy"]);
    assert_eq!(
        c.alias_paths(&c.mcp_path),
        vec!["/ossserver/ossmcp", "/legacy/ossmcp"]
    );
    assert_eq!(
        c.alias_paths(&c.health_path),
        vec!["/ossserver/health", "/legacy/health"]
    );
}

#[test]
fn host_with_scheme_and_port() {
    let c = load(&[("OPENSEARCH_HOST", "https://search-x.es.amazonaws.com")]).unwrap();
    assert_eq!(c.opensearch.url(), "https://search-x.es.amazonaws.com:443");
    let c = load(&[("OPENSEARCH_HOST", "http://127.0.0.1:9201/")]).unwrap();
    assert_eq!(c.opensearch.url(), "http://127.0.0.1:9201");
    let c = load(&[
        ("OPENSEARCH_HOST", "os.local"),
        ("OPENSEARCH_USE_SSL", "true"),
    ])
    .unwrap();
    assert_eq!(c.opensearch.url(), "https://os.local:443");
}

#[test]
fn every_bad_value_names_its_variable() {
    let cases: &[(&str, &str)] = &[
        ("MCP_PORT", "abc"),
        ("MCP_PORT", "0"),
        ("MCP_HOST", "not an ip"),
        ("MCP_PATH", "ossmcp"),
        ("MCP_STATELESS", "maybe"),
        ("MCP_MAX_BODY_BYTES", "-5"),
        ("MCP_ALLOWED_HOSTS", "a b"),
        ("MCP_ALLOWED_ORIGINS", "example.com"),
        ("MCP_SHUTDOWN_TIMEOUT", "soon"),
        ("OPENSEARCH_HOST", "ftp://x"),
        ("OPENSEARCH_PORT", "99999"),
        ("OPENSEARCH_USE_SSL", "sure"),
        ("OPENSEARCH_SSL_VERIFY", "2"),
        ("OPENSEARCH_USE_IAM", "y e s"),
        ("OPENSEARCH_TIMEOUT", "-1"),
        ("OPENSEARCH_MAX_RETRIES", "many"),
        ("OPENSEARCH_MAX_RESULTS", "0"),
        ("OPENSEARCH_SERVICE", "s3"),
        ("OPENSEARCH_HOST", "localhost:notaport"),
        ("OPENSEARCH_HOST", "localhost:"),
        ("OPENSEARCH_HOST", "localhost:0"),
        ("OPENSEARCH_HOST", "http://localhost:99999"),
        ("OPENSEARCH_DEFAULT_INDEX", "../_cluster"),
        ("OPENSEARCH_DEFAULT_INDEX", "http:evil"),
        ("OPENSEARCH_DEFAULT_INDEX", "Movies"),
        ("MCP_MAX_RESPONSE_BYTES", "lots"),
        ("MCP_MAX_RESPONSE_BYTES", "10"),
        ("OPENSEARCH_ALLOW_SCRIPTS", "perhaps"),
    ];
    for (var, value) in cases {
        let err = load(&[(var, value)]).unwrap_err();
        assert_eq!(err.variable, *var, "{var}={value} gave {err}");
        assert!(err.to_string().starts_with(var), "{err}");
    }
}

#[test]
fn auth_conflicts_are_refused() {
    let e = load(&[("OPENSEARCH_USERNAME", "admin")]).unwrap_err();
    assert_eq!(e.variable, "OPENSEARCH_PASSWORD");
    let e = load(&[
        ("OPENSEARCH_USE_IAM", "true"),
        ("OPENSEARCH_USERNAME", "a"),
        ("OPENSEARCH_PASSWORD", "b"),
    ])
    .unwrap_err();
    assert_eq!(e.variable, "OPENSEARCH_USE_IAM");
    let e = load(&[
        ("OPENSEARCH_HOST", "https://x"),
        ("OPENSEARCH_USE_SSL", "false"),
    ])
    .unwrap_err();
    assert_eq!(e.variable, "OPENSEARCH_USE_SSL");
    let e = load(&[("OPENSEARCH_HOST", "x:9201"), ("OPENSEARCH_PORT", "9200")]).unwrap_err();
    assert_eq!(e.variable, "OPENSEARCH_PORT");
}

#[test]
fn password_never_shows_in_debug_output() {
    let c = load(&[
        ("OPENSEARCH_USERNAME", "admin"),
        ("OPENSEARCH_PASSWORD", "s3cret-pw"),
        ("MCP_AUTH_TOKEN", "tok-XYZ-123"),
    ])
    .unwrap();
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("s3cret-pw"), "{dbg}");
    assert!(!dbg.contains("tok-XYZ-123"), "{dbg}");
    assert!(dbg.contains("basic"));
}

#[test]
fn iam_uses_the_chosen_service() {
    let c = load(&[
        ("OPENSEARCH_USE_IAM", "true"),
        ("OPENSEARCH_SERVICE", "aoss"),
    ])
    .unwrap();
    assert_eq!(
        c.opensearch.auth,
        OpenSearchAuth::Iam {
            service: "aoss".into()
        }
    );
}

#[test]
fn response_budget_and_scripts_defaults() {
    let c = load(&[]).unwrap();
    assert_eq!(c.opensearch.max_response_bytes, 2 * 1024 * 1024);
    assert!(!c.opensearch.allow_scripts);
    let c = load(&[
        ("MCP_MAX_RESPONSE_BYTES", "65536"),
        ("OPENSEARCH_ALLOW_SCRIPTS", "true"),
        ("OPENSEARCH_DEFAULT_INDEX", "logs-*"),
        ("OPENSEARCH_HOST", "[::1]:9201"),
    ])
    .unwrap();
    assert_eq!(c.opensearch.max_response_bytes, 65536);
    assert!(c.opensearch.allow_scripts);
    assert_eq!(c.opensearch.default_index.as_deref(), Some("logs-*"));
    assert_eq!(c.opensearch.url(), "http://[::1]:9201");
}

#[test]
fn served_by_is_on_by_default_and_checks_the_replica_id() {
    use crate::served_by::ServedBy;
    let cfg = load;
    assert_eq!(cfg(&[]).unwrap().served_by, ServedBy::Auto);
    assert_eq!(
        cfg(&[("MCP_SERVED_BY", "false"), ("MCP_REPLICA_ID", "r1")])
            .unwrap()
            .served_by,
        ServedBy::Off
    );
    assert_eq!(
        cfg(&[("MCP_REPLICA_ID", "stateless-2")]).unwrap().served_by,
        ServedBy::Id("stateless-2".into())
    );
    let e = cfg(&[("MCP_REPLICA_ID", "a\r\nSet-Cookie: x")]).unwrap_err();
    assert_eq!(e.variable, "MCP_REPLICA_ID");
    assert_eq!(
        cfg(&[("MCP_SERVED_BY", "maybe")]).unwrap_err().variable,
        "MCP_SERVED_BY"
    );
}
