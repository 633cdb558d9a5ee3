//! Unit tests of typed request paths: the attacks, and a property test over arbitrary
//! arguments.

use super::*;
use proptest::prelude::*;

fn base() -> Url {
    Url::parse("https://search.example.com:443/").unwrap()
}

fn pattern(s: &str) -> Result<IndexExpr, PathError> {
    IndexExpr::parse(s, IndexRule::Pattern)
}

#[test]
fn index_names_follow_opensearch_rules() {
    for bad in [
        "",
        ".",
        "..",
        "../_cluster",
        "a/b",
        "a?b",
        "_all",
        "-x",
        "+x",
        "a b",
        "x#y",
        "%2e",
        "Movies",
        "a\\b",
        "a\"b",
        "a<b",
        "a>b",
        "a|b",
        "http:127.0.0.1:1",
        "HTTP:x",
        "ftp:x",
        "a,,b",
        ",a",
        "a\u{0}b",
        "a\tb",
    ] {
        assert!(pattern(bad).is_err(), "{bad:?} accepted");
    }
    assert!(pattern(&"a".repeat(256)).is_err());
    assert!(pattern(&"a".repeat(255)).is_ok());
    for ok in [
        "movies",
        "logs-*",
        "a,b",
        ".kibana",
        "movies-2024.01",
        "logs-*,-logs-old",
        "éa",
        "*",
    ] {
        assert!(pattern(ok).is_ok(), "{ok:?} refused");
    }
    // Single: no lists, no wildcards.
    assert!(IndexExpr::parse("a,b", IndexRule::Single).is_err());
    assert!(IndexExpr::parse("a*", IndexRule::Single).is_err());
    assert!(IndexExpr::parse("movies", IndexRule::Single).is_ok());
    let e = pattern("Movies").unwrap_err().to_string();
    assert!(
        e.contains("upper-case") && e.contains("comma-separated"),
        "{e}"
    );
}

#[test]
fn ids_nodes_and_metrics_refuse_dot_segments() {
    for bad in ["", ".", ".."] {
        assert!(DocId::parse(bad).is_err(), "{bad:?}");
        assert!(NodeIds::parse(bad).is_err(), "{bad:?}");
        assert!(Metrics::parse(bad).is_err(), "{bad:?}");
    }
    assert!(NodeIds::parse("a,..").is_err());
    assert!(Metrics::parse("os,jvm").is_ok());
    assert!(Metrics::parse("os/../x").is_err());
    assert!(NodeIds::parse("_local,10.0.0.1,role:data").is_ok());
    assert!(DocId::parse(&"x".repeat(513)).is_err());
    // Any other id is encoded, so it stays one segment.
    for id in ["%2e%2e", "a/b", "?x", "#", "http://evil/", "..."] {
        let p = RequestPath::index(&pattern("movies").unwrap())
            .then("_explain")
            .with_id(&DocId::parse(id).unwrap());
        let url = p.url(&base()).unwrap();
        assert_eq!(url.host_str(), Some("search.example.com"));
        assert!(url.path().starts_with("/movies/_explain/"), "{url}");
        assert_eq!(url.path_segments().unwrap().count(), 3, "{url}");
    }
}

#[test]
fn encoded_paths_keep_their_shape() {
    let p = RequestPath::api("_cat/indices").with_index(&pattern("logs-*,a").unwrap());
    assert_eq!(p.encoded(), "/_cat/indices/logs-*,a");
    assert_eq!(p.shape(), "/_cat/indices/{}");
    let id = DocId::parse("a/b?c#d%2e:e f").unwrap();
    let p = RequestPath::index(&pattern("m").unwrap())
        .then("_explain")
        .with_id(&id);
    assert_eq!(p.encoded(), "/m/_explain/a%2Fb%3Fc%23d%252e%3Ae%20f");
    assert_eq!(RequestPath::api("").encoded(), "/");
    assert_eq!(
        RequestPath::api("").url(&base()).unwrap().as_str(),
        "https://search.example.com/"
    );
    assert_eq!(
        RequestPath::from("_cluster/health")
            .url(&base())
            .unwrap()
            .as_str(),
        "https://search.example.com/_cluster/health"
    );
}

#[test]
fn a_path_that_changes_shape_is_refused() {
    // Bypass validation on purpose: the URL check still refuses a dot segment.
    let p = RequestPath {
        segments: vec![Segment::Fixed("_nodes"), Segment::Arg("..".into())],
    };
    let e = p.url(&base()).unwrap_err();
    assert!(matches!(e, PathError::Escape { .. }), "{e}");
}

proptest! {
    /// Any string as a document id, node list, metric list or index: refused, or the URL has
    /// the configured origin, the fixed words in place, and the argument as exactly one segment.
    #[test]
    fn arbitrary_arguments_never_leave_the_api(s in any::<String>(), t in "[a-zA-Z0-9:./%?#_,*-]{0,12}") {
        for arg in [&s, &t] {
            let mut paths = Vec::new();
            if let Ok(i) = pattern(arg) {
                paths.push(RequestPath::index(&i).then("_search"));
                paths.push(RequestPath::api("_cat/shards").with_index(&i));
            }
            if let Ok(id) = DocId::parse(arg) {
                paths.push(RequestPath::index(&pattern("m").unwrap()).then("_explain").with_id(&id));
            }
            if let Ok(n) = NodeIds::parse(arg) {
                paths.push(RequestPath::api("_nodes").with_nodes(&n));
            }
            if let Ok(m) = Metrics::parse(arg) {
                paths.push(RequestPath::api("_nodes/_all").with_metrics(&m));
            }
            for p in paths {
                let url = p.url(&base()).expect("a validated argument builds a URL");
                prop_assert_eq!(url.origin(), base().origin());
                prop_assert!(url.query().is_none() && url.fragment().is_none());
                prop_assert!(p.matches(&base(), &url));
            }
        }
    }
}
