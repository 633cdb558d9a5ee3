//! The EMF members of a request line, checked against the specification (testkit's checker).

use super::*;
use mcpctl_testkit::emf::check;

fn emf() -> Emf {
    Emf::new(
        &MetricsConfig {
            namespace: "OpenSearchMCP".into(),
            service: "opensearch-mcp-server-stateless".into(),
        },
        ["search_index".to_string(), "list_indices".to_string()],
    )
}

fn line(rpc_method: &str, tool: Option<&str>, outcome: &str) -> Value {
    let mut m = Map::new();
    m.insert("message".into(), json!("request"));
    emf().annotate(&mut m, rpc_method, tool, outcome, 12.5, 1_764_640_000_000);
    Value::Object(m)
}

#[test]
fn a_tool_call_line_is_a_valid_emf_document() {
    let l = line("tools/call", Some("search_index"), "ok");
    check(&l).unwrap();
    assert_eq!(
        l["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "OpenSearchMCP"
    );
    assert_eq!(
        l["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        json!([["service"], ["service", "tool", "outcome"]])
    );
    assert_eq!(l["service"], "opensearch-mcp-server-stateless");
    assert_eq!(l["tool"], "search_index");
    assert_eq!(l["outcome"], "ok");
    assert_eq!(l["Latency"], 12.5);
    assert_eq!(l["Calls"], 1);
    assert_eq!(l["_aws"]["Timestamp"], 1_764_640_000_000u64);
}

#[test]
fn caller_chosen_names_cannot_mint_metrics() {
    assert_eq!(
        line("tools/call", Some("x".repeat(5000).as_str()), "rpc_error")["tool"],
        "unknown"
    );
    assert_eq!(line("tools/call", None, "rpc_error")["tool"], "unknown");
    assert_eq!(line("tools/list", None, "ok")["tool"], "tools/list");
    assert_eq!(line("made/up", None, "ok")["tool"], "other");
    assert_eq!(
        line("tools/call", Some("list_indices"), "weird")["outcome"],
        "http_error"
    );
    for l in [
        line("made/up", None, "ok"),
        line("initialize", None, "aborted"),
    ] {
        check(&l).unwrap();
    }
}

#[test]
fn the_checker_rejects_what_the_spec_forbids() {
    let good = line("tools/call", Some("search_index"), "ok");
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        check(&v).unwrap_err()
    };
    broken(&|v| v["_aws"]["Timestamp"] = json!("now"));
    broken(&|v| v["_aws"]["Timestamp"] = json!(1_764_640_000));
    broken(&|v| v["Latency"] = json!("12"));
    broken(&|v| v["tool"] = json!(3));
    broken(&|v| {
        v.as_object_mut().unwrap().remove("service");
    });
    broken(&|v| v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("ms"));
    broken(&|v| v["_aws"]["CloudWatchMetrics"][0]["Extra"] = json!(1));
}
