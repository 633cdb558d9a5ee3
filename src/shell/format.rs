//! Text for people: tool results (JSON pretty-printed), the health summary, the indices table.

use std::fmt::Write;

use serde_json::Value;

use crate::probe::check::one_line;

/// A tool result for people: each text block, pretty-printed when it is JSON.
pub fn result_text(result: &Value) -> String {
    let blocks: Vec<String> = result
        .get("content")
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .map(|t| match serde_json::from_str::<Value>(t) {
                    Ok(v) if v.is_object() || v.is_array() => {
                        serde_json::to_string_pretty(&v).unwrap_or_else(|_| t.to_string())
                    }
                    _ => t.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    if blocks.is_empty() {
        return result
            .get("structuredContent")
            .map(|s| s.to_string())
            .unwrap_or_default();
    }
    blocks.join("\n")
}

/// `health`'s one-line summary of the body.
pub fn health_summary(v: &Value) -> String {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("?");
    let cluster = match s("/opensearch/status") {
        "error" => format!(
            "OpenSearch error: {}",
            one_line(s("/opensearch/error"), 200)
        ),
        status => format!(
            "OpenSearch {status} (cluster {}, version {}, health {})",
            s("/opensearch/cluster_name"),
            s("/opensearch/version"),
            s("/opensearch/health")
        ),
    };
    format!(", {} {}, {cluster}", s("/service"), s("/status"))
}

/// The `_cat/indices` rows as a table.
pub fn indices_table(rows: &[Value]) -> String {
    const COLUMNS: [&str; 6] = [
        "index",
        "docs.count",
        "docs.deleted",
        "store.size",
        "health",
        "status",
    ];
    let cell = |r: &Value, c: &str| match r.get(c) {
        Some(Value::String(s)) => one_line(s, 60),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let widths: Vec<usize> = COLUMNS
        .iter()
        .map(|c| {
            rows.iter()
                .map(|r| cell(r, c).chars().count())
                .chain([c.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!("{} indices", rows.len());
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let _ = write!(
        out,
        "\n{}",
        line(COLUMNS.iter().map(|c| c.to_string()).collect())
    );
    for r in rows {
        let _ = write!(
            out,
            "\n{}",
            line(COLUMNS.iter().map(|c| cell(r, c)).collect())
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn indices_are_a_table_and_results_are_pretty() {
        let t = indices_table(&[
            json!({"index": "movies", "docs.count": "12", "docs.deleted": "0",
            "store.size": "1kb", "health": "yellow", "status": "open"}),
        ]);
        assert_eq!(
            t,
            "1 indices\nindex   docs.count  docs.deleted  store.size  health  status\n\
             movies  12          0             1kb         yellow  open"
        );
        let r = json!({"content": [{"type": "text", "text": "{\"count\":12}"}]});
        assert_eq!(result_text(&r), "{\n  \"count\": 12\n}");
        let r = json!({"content": [], "structuredContent": {"a": 1}});
        assert_eq!(result_text(&r), "{\"a\":1}");
    }

    #[test]
    fn health_summary_reads_the_user_servers_values() {
        let ok = json!({"status": "healthy", "service": "OpenSearch MCP Server",
            "opensearch": {"status": "connected", "cluster_name": "osmem", "version": "3.8.0", "health": "yellow"}});
        assert_eq!(
            health_summary(&ok),
            ", OpenSearch MCP Server healthy, OpenSearch connected (cluster osmem, version 3.8.0, health yellow)"
        );
        let down = json!({"status": "healthy", "service": "s", "opensearch": {"status": "error", "error": "refused"}});
        assert!(health_summary(&down).ends_with("OpenSearch error: refused"));
    }
}
