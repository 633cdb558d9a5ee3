//! The OpenSearch request path of each tool, built from its raw arguments (pure, no I/O).
//!
//! Index arguments accept OpenSearch multi-index expressions ([`IndexRule::Pattern`]: comma
//! lists, `*` wildcards, `-` exclusions after the first item), except `explain`, which names
//! one index ([`IndexRule::Single`]). Document ids, node ids and metrics are single encoded
//! segments; `.` and `..` are refused everywhere.

use crate::opensearch::path::{DocId, IndexExpr, IndexRule, Metrics, NodeIds, PathError};
use crate::opensearch::RequestPath;

/// An index argument of a tool that accepts patterns.
pub fn index(value: &str) -> Result<IndexExpr, PathError> {
    IndexExpr::parse(value, IndexRule::Pattern)
}

/// `_cat/{api}[/{index}]` (list_indices, get_shards, get_segments).
pub fn cat(api: &'static str, index: Option<&str>) -> Result<RequestPath, PathError> {
    let path = RequestPath::api("_cat").then(api);
    Ok(match index {
        Some(i) => path.with_index(&self::index(i)?),
        None => path,
    })
}

/// `{index}` (get_index_info).
pub fn index_info(index: &str) -> Result<RequestPath, PathError> {
    Ok(RequestPath::index(&self::index(index)?))
}

/// `{index}/{api}` (get_index_mapping `_mapping`, search_index and count `_search`).
pub fn on_index(index: &str, api: &'static str) -> Result<RequestPath, PathError> {
    Ok(RequestPath::index(&self::index(index)?).then(api))
}

/// `{index}/_stats[/{metric}]` (get_index_stats).
pub fn index_stats(index: &str, metric: Option<&str>) -> Result<RequestPath, PathError> {
    let path = on_index(index, "_stats")?;
    Ok(match metric {
        Some(m) => path.with_metrics(&Metrics::parse(m)?),
        None => path,
    })
}

/// `{index}/_explain/{id}` (explain: one index, no pattern).
pub fn explain(index: &str, id: &str) -> Result<RequestPath, PathError> {
    let index = IndexExpr::parse(index, IndexRule::Single)?;
    Ok(RequestPath::index(&index)
        .then("_explain")
        .with_id(&DocId::parse(id)?))
}

/// `_cluster/health[/{index}]` (cluster_health).
pub fn cluster_health(index: Option<&str>) -> Result<RequestPath, PathError> {
    let path = RequestPath::api("_cluster/health");
    Ok(match index {
        Some(i) => path.with_index(&self::index(i)?),
        None => path,
    })
}

/// `_cluster/state[/{metric}[/{index}]]` (get_cluster_state); an index alone uses `_all`.
pub fn cluster_state(metric: Option<&str>, index: Option<&str>) -> Result<RequestPath, PathError> {
    let path = RequestPath::api("_cluster/state");
    Ok(match (metric, index) {
        (None, None) => path,
        (Some(m), None) => path.with_metrics(&Metrics::parse(m)?),
        (m, Some(i)) => path
            .with_metrics(&Metrics::parse(m.unwrap_or("_all"))?)
            .with_index(&self::index(i)?),
    })
}

/// `_nodes/{node_id or _all}[/{metric}]` (get_nodes): without a node id, `_all`, so a metric
/// is never read as a node id.
pub fn nodes(node_id: Option<&str>, metric: Option<&str>) -> Result<RequestPath, PathError> {
    let path = RequestPath::api("_nodes").with_nodes(&NodeIds::parse(node_id.unwrap_or("_all"))?);
    Ok(match metric {
        Some(m) => path.with_metrics(&Metrics::parse(m)?),
        None => path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use url::Url;

    fn base() -> Url {
        Url::parse("https://127.0.0.1:1/").unwrap()
    }

    /// `url` is on the base origin and its path is `template` with `{}` standing for exactly
    /// one argument segment (never `.` or `..`).
    fn assert_shape(path: &RequestPath, template: &str) -> Result<(), TestCaseError> {
        let url = path
            .url(&base())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(url.origin(), base().origin());
        prop_assert!(url.query().is_none() && url.fragment().is_none());
        let got: Vec<&str> = url.path_segments().unwrap().collect();
        let want: Vec<&str> = template.trim_start_matches('/').split('/').collect();
        prop_assert_eq!(got.len(), want.len(), "{} vs {}", url, template);
        for (g, w) in got.iter().zip(&want) {
            if *w == "{}" {
                prop_assert!(*g != "." && *g != ".." && !g.is_empty(), "{}", url);
            } else {
                prop_assert_eq!(g, w, "{}", url);
            }
        }
        Ok(())
    }

    #[test]
    fn the_issues_attacks_are_refused() {
        for scheme in ["http:", "HTTP:", "https:", "ftp:"] {
            let i = format!("{scheme}127.0.0.1:9");
            assert!(index_info(&i).is_err(), "{i}");
            assert!(on_index(&i, "_search").is_err(), "{i}");
            assert!(explain(&i, "1").is_err(), "{i}");
            assert!(index_stats(&i, None).is_err(), "{i}");
        }
        assert!(nodes(Some(".."), Some("_refresh")).is_err());
        assert!(index_stats("movies", Some("..")).is_err());
        assert!(explain("movies", "..").is_err());
        // "%2e%2e" is a valid id: it is sent encoded as one segment (%252e%252e).
        let p = explain("movies", "%2e%2e").unwrap();
        assert_eq!(p.encoded(), "/movies/_explain/%252e%252e");
        assert_eq!(
            nodes(None, Some("os")).unwrap().encoded(),
            "/_nodes/_all/os"
        );
        assert_eq!(
            cluster_state(None, Some("movies")).unwrap().encoded(),
            "/_cluster/state/_all/movies"
        );
    }

    proptest! {
        /// Arbitrary strings in every argument that reaches a path: refused, or the URL has
        /// the configured origin and the tool's API shape.
        #[test]
        fn every_tool_path_keeps_its_origin_and_shape(
            a in prop_oneof![any::<String>(), "[a-z0-9:./%?#_,*+-]{0,10}", Just("..".to_string())],
            b in prop_oneof![any::<String>(), "[a-z0-9:./%?#_,*+-]{0,10}", Just(".".to_string())],
        ) {
            if let Ok(p) = cat("indices", Some(&a)) { assert_shape(&p, "/_cat/indices/{}")?; }
            if let Ok(p) = cat("shards", Some(&a)) { assert_shape(&p, "/_cat/shards/{}")?; }
            if let Ok(p) = cat("segments", Some(&a)) { assert_shape(&p, "/_cat/segments/{}")?; }
            if let Ok(p) = index_info(&a) { assert_shape(&p, "/{}")?; }
            if let Ok(p) = on_index(&a, "_mapping") { assert_shape(&p, "/{}/_mapping")?; }
            if let Ok(p) = on_index(&a, "_search") { assert_shape(&p, "/{}/_search")?; }
            if let Ok(p) = index_stats(&a, None) { assert_shape(&p, "/{}/_stats")?; }
            if let Ok(p) = index_stats(&a, Some(&b)) { assert_shape(&p, "/{}/_stats/{}")?; }
            if let Ok(p) = explain(&a, &b) { assert_shape(&p, "/{}/_explain/{}")?; }
            if let Ok(p) = explain("movies", &b) { assert_shape(&p, "/movies/_explain/{}")?; }
            if let Ok(p) = cluster_health(Some(&a)) { assert_shape(&p, "/_cluster/health/{}")?; }
            if let Ok(p) = cluster_state(Some(&a), None) { assert_shape(&p, "/_cluster/state/{}")?; }
            if let Ok(p) = cluster_state(Some(&a), Some(&b)) { assert_shape(&p, "/_cluster/state/{}/{}")?; }
            if let Ok(p) = nodes(Some(&a), None) { assert_shape(&p, "/_nodes/{}")?; }
            if let Ok(p) = nodes(Some(&a), Some(&b)) { assert_shape(&p, "/_nodes/{}/{}")?; }
            if let Ok(p) = nodes(None, Some(&b)) { assert_shape(&p, "/_nodes/_all/{}")?; }
        }
    }
}
