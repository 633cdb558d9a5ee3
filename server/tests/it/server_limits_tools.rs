//! Story (issue 9, items 3 and 9): an OpenSearch answer larger than MCP_MAX_RESPONSE_BYTES is a
//! tool error that says how to narrow it, and memory stays bounded while eight such answers are
//! refused at once; searches carry a server-side timeout, `from + size` is capped and scripts
//! are refused unless OPENSEARCH_ALLOW_SCRIPTS=true.

use crate::{common, server_support};

use std::time::{Duration, Instant};

use common::{http_send, Osmem};
use serde_json::{json, Value};
use server_support::capture::Capture;
use server_support::{call, err_text, ok_json, rmcp_client, text, Server};

/// Documents of `big`: 100 of 2 MB each, as in the issue.
const BIG_DOCS: usize = 100;
const DOC_BYTES: usize = 2_000_000;

/// Load `big` into osmem in bulk requests of ten documents (20 MB each).
fn seed_big(osmem: &Osmem) {
    let payload = "x".repeat(DOC_BYTES);
    for batch in 0..BIG_DOCS / 10 {
        let mut bulk = String::with_capacity(10 * (DOC_BYTES + 64));
        for n in 0..10 {
            let id = batch * 10 + n;
            bulk.push_str(&format!(
                "{{\"index\":{{\"_index\":\"big\",\"_id\":\"{id}\"}}}}\n"
            ));
            bulk.push_str(&format!("{{\"n\":{id},\"blob\":\"{payload}\"}}\n"));
        }
        let (status, body) = http_send(
            "POST",
            &format!("{}/_bulk?refresh=true", osmem.url),
            bulk.as_bytes(),
            "application/x-ndjson",
        );
        assert_eq!(status, 200, "bulk load: {}", &body[..body.len().min(300)]);
    }
}

/// Peak resident memory (VmHWM) of a process, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmHWM in /proc/PID/status");
    kb * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oversized_answers_are_refused_with_bounded_memory() {
    let osmem = Osmem::start();
    seed_big(&osmem);
    let server = Server::start(&osmem.url, &[("OPENSEARCH_TIMEOUT", "60")]);
    let url = server.mcp_url();

    // Eight 200 MB answers at once, bounded in time.
    let calls = (0..8).map(|_| {
        let url = url.clone();
        tokio::spawn(async move {
            let client = rmcp_client(&url).await;
            let r = call(
                &client,
                "search_index",
                json!({"index": "big", "size": 100}),
            )
            .await;
            client.cancel().await.ok();
            r
        })
    });
    let started = Instant::now();
    let results = tokio::time::timeout(Duration::from_secs(120), futures::future::join_all(calls))
        .await
        .expect("eight oversized searches finish within 120 s");
    for r in results {
        let msg = err_text(&r.expect("task"));
        assert!(msg.contains("too large"), "{msg}");
        assert!(msg.contains("bytes") && msg.contains("2097152"), "{msg}");
        for hint in ["`size`", "`_source`", "`count`"] {
            assert!(msg.contains(hint), "no {hint} hint: {msg}");
        }
    }
    let peak = peak_rss(server.guard.pid());
    eprintln!(
        "8 oversized searches in {:?}; server peak RSS {} MB",
        started.elapsed(),
        peak / (1024 * 1024)
    );
    assert!(
        peak < 150 * 1024 * 1024,
        "peak RSS {} MB is over 150 MB",
        peak / (1024 * 1024)
    );

    // Narrowed the way the message says, the same data comes back.
    let client = rmcp_client(&url).await;
    let v = ok_json(
        &call(
            &client,
            "search_index",
            json!({"index": "big", "query": {"query": {"match_all": {}}, "_source": ["n"]}, "size": 100}),
        )
        .await,
    );
    assert_eq!(v["hits"]["hits"].as_array().unwrap().len(), 100);
    let v = ok_json(&call(&client, "search_index", json!({"index": "big", "size": 1})).await);
    assert_eq!(
        v["hits"]["hits"][0]["_source"]["blob"]
            .as_str()
            .unwrap()
            .len(),
        DOC_BYTES
    );
    let v = ok_json(&call(&client, "count", json!({"index": "big"})).await);
    assert_eq!(v["count"], BIG_DOCS);
    client.cancel().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_budget_cuts_large_answers_and_lets_small_ones_pass() {
    let osmem = Osmem::start_with_movies();
    // 1 KiB, the smallest budget accepted: the 12 movies (about 2 KB as hits) are over it.
    let server = Server::start(&osmem.url, &[("MCP_MAX_RESPONSE_BYTES", "1024")]);
    let client = rmcp_client(&server.mcp_url()).await;
    let msg = err_text(&call(&client, "search_index", json!({"index": "movies"})).await);
    assert!(msg.contains("too large") && msg.contains("1024"), "{msg}");
    let msg = err_text(
        &call(
            &client,
            "msearch",
            json!({"searches": [{"index": "movies"}, {"index": "movies"}]}),
        )
        .await,
    );
    assert!(msg.contains("too large"), "{msg}");
    // Small answers still pass.
    let v = ok_json(&call(&client, "count", json!({"index": "movies"})).await);
    assert_eq!(v["count"], 12);
    client.cancel().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_carry_a_timeout_and_a_capped_window() {
    let osmem = Osmem::start_with_movies();
    let relay = Capture::start_relay(Some(osmem.port));
    // Server::spawn sets OPENSEARCH_TIMEOUT=5: the server-side timeout is 90% of it.
    let server = Server::start(&relay.url, &[]);
    let client = rmcp_client(&server.mcp_url()).await;

    let v = ok_json(
        &call(
            &client,
            "search_index",
            json!({"index": "movies", "size": 2}),
        )
        .await,
    );
    assert_eq!(v["hits"]["hits"].as_array().unwrap().len(), 2);
    let v = ok_json(
        &call(
            &client,
            "count",
            json!({"index": "movies", "query": {"term": {"genres": "Comedy"}}}),
        )
        .await,
    );
    assert_eq!(v["count"], 4);
    assert!(v["_shards"]["total"].as_u64().is_some(), "{v}");
    let v = ok_json(
        &call(
            &client,
            "msearch",
            json!({"index": "movies", "searches": [{"query": {"match_all": {}}, "size": 1}]}),
        )
        .await,
    );
    assert_eq!(v["responses"].as_array().unwrap().len(), 1);
    let sent = relay.sent_text();
    assert_eq!(
        sent.matches("\"timeout\":\"4500ms\"").count(),
        3,
        "search, count and msearch each carry the timeout:\n{sent}"
    );

    // from + size beyond 10000: refused before any request.
    let before = relay.request_lines().len();
    for args in [
        json!({"index": "movies", "from": 9999, "size": 2}),
        json!({"index": "movies", "query": {"query": {"match_all": {}}, "from": 10000}, "size": 1}),
    ] {
        let msg = err_text(&call(&client, "search_index", args).await);
        assert!(
            msg.contains("10000") && msg.contains("search_after"),
            "{msg}"
        );
    }
    let msg = err_text(
        &call(
            &client,
            "msearch",
            json!({"index": "movies", "searches": [{"query": {"from": 20000, "query": {"match_all": {}}}}]}),
        )
        .await,
    );
    assert!(msg.contains("search 0") && msg.contains("10000"), "{msg}");
    assert_eq!(relay.request_lines().len(), before);
    // At the edge it goes through.
    let v = ok_json(
        &call(
            &client,
            "search_index",
            json!({"index": "movies", "from": 9995, "size": 5}),
        )
        .await,
    );
    assert_eq!(v["hits"]["hits"].as_array().unwrap().len(), 0);
    client.cancel().await.ok();
}

/// Script-bearing arguments for every search tool.
fn script_calls() -> Vec<(&'static str, Value)> {
    let script = json!({"source": "doc['year'].value > 1990"});
    vec![
        (
            "search_index",
            json!({"index": "movies", "query": {"script": {"script": script}}}),
        ),
        (
            "search_index",
            json!({"index": "movies", "query": {"bool": {"filter": [{"match_all": {}}, {"function_score": {"script_score": {"script": script}}}]}}}),
        ),
        (
            "search_index",
            json!({"index": "movies", "query": {"query": {"match_all": {}}, "script_fields": {"x": {"script": script}}}}),
        ),
        (
            "search_index",
            json!({"index": "movies", "query": {"query": {"match_all": {}}, "runtime_mappings": {"y": {"type": "long"}}}}),
        ),
        (
            "search_index",
            json!({"index": "movies", "query": {"query": {"match_all": {}}, "sort": [{"_script": {"type": "number", "script": script}}]}}),
        ),
        (
            "count",
            json!({"index": "movies", "query": {"script": {"script": script}}}),
        ),
        (
            "explain",
            json!({"index": "movies", "id": "1", "query": {"script": {"script": script}}}),
        ),
        (
            "msearch",
            json!({"index": "movies", "searches": [{"query": {"match_all": {}}}, {"query": {"query": {"match_all": {}}, "aggs": {"a": {"scripted_metric": {}}}}}]}),
        ),
    ]
    .into_iter()
    .chain(reference_script_calls())
    .collect()
}

/// Issue 24, item 1: every place OpenSearch's reference runs a script or template, each reached
/// through the tools the attack used (search_index, count, explain, msearch).
fn reference_script_calls() -> Vec<(&'static str, Value)> {
    let script = json!({"source": "doc['year'].value > 1990"});
    // `{"script": {"script": ...}}` in base64, as the attack sent it.
    let hidden = "eyJzY3JpcHQiOnsic2NyaXB0Ijp7InNvdXJjZSI6InRydWUifX19";
    let q = |clause: Value| json!({"index": "movies", "query": clause});
    vec![
        // https://opensearch.org/docs/latest/query-dsl/specialized/wrapper/
        ("search_index", q(json!({"wrapper": {"query": hidden}}))),
        (
            "count",
            q(json!({"bool": {"must": [{"wrapper": {"query": hidden}}]}})),
        ),
        (
            "explain",
            json!({"index": "movies", "id": "1", "query": {"wrapper": {"query": hidden}}}),
        ),
        (
            "msearch",
            json!({"index": "movies", "searches": [{"query": {"wrapper": {"query": hidden}}}]}),
        ),
        // https://opensearch.org/docs/latest/query-dsl/term/terms-set/
        (
            "search_index",
            q(
                json!({"terms_set": {"genre": {"terms": ["a"], "minimum_should_match_script": script}}}),
            ),
        ),
        // https://opensearch.org/docs/latest/query-dsl/specialized/script-score/ (camelCase too)
        (
            "count",
            q(json!({"scriptScore": {"query": {"match_all": {}}, "script": script}})),
        ),
        ("search_index", q(json!({"SCRIPT": {"script": script}}))),
        // https://opensearch.org/docs/latest/query-dsl/compound/function-score/
        (
            "search_index",
            q(json!({"function_score": {"functions": [{"script_score": {"script": script}}]}})),
        ),
        // https://opensearch.org/docs/latest/query-dsl/full-text/intervals/ (a `script` filter)
        (
            "search_index",
            q(
                json!({"intervals": {"title": {"match": {"query": "a", "filter": {"script": script}}}}}),
            ),
        ),
        // Stored scripts by id: https://opensearch.org/docs/latest/api-reference/script-apis/exec-stored-script/
        (
            "search_index",
            q(json!({"script": {"script": {"id": "stored-one"}}})),
        ),
        // https://opensearch.org/docs/latest/aggregations/metric/scripted-metric/
        (
            "search_index",
            q(
                json!({"query": {"match_all": {}}, "aggs": {"a": {"scripted_metric": {"init_script": "state.x=[]", "map_script": "1", "combine_script": "1", "reduce_script": "1"}}}}),
            ),
        ),
        // https://opensearch.org/docs/latest/aggregations/pipeline/bucket-script/ and bucket-selector/
        (
            "search_index",
            q(
                json!({"query": {"match_all": {}}, "aggs": {"h": {"histogram": {"field": "year", "interval": 10}, "aggs": {"b": {"bucket_script": {"buckets_path": {"c": "_count"}, "script": "params.c"}}}}}}),
            ),
        ),
        (
            "msearch",
            json!({"index": "movies", "searches": [{"query": {"aggs": {"h": {"histogram": {"field": "year", "interval": 10}, "aggs": {"s": {"bucket_selector": {"buckets_path": {"c": "_count"}}}}}}}}]}),
        ),
        // A metric aggregation on a script: https://opensearch.org/docs/latest/aggregations/metric/average/
        (
            "search_index",
            q(json!({"query": {"match_all": {}}, "aggs": {"a": {"avg": {"script": script}}}})),
        ),
        // https://opensearch.org/docs/latest/aggregations/bucket/significant-terms/ (`script_heuristic`)
        (
            "search_index",
            q(
                json!({"query": {"match_all": {}}, "aggs": {"s": {"significant_terms": {"field": "genre", "script_heuristic": {"script": script}}}}}),
            ),
        ),
        // Derived fields: https://opensearch.org/docs/latest/field-types/supported-field-types/derived/
        (
            "search_index",
            q(
                json!({"query": {"match_all": {}}, "derived": {"d": {"type": "long", "script": script}}}),
            ),
        ),
        // Search templates: https://opensearch.org/docs/latest/api-reference/search-template/
        (
            "search_index",
            q(json!({"template": {"id": "stored-template"}})),
        ),
        // Phrase suggester `collate` (a mustache template): https://opensearch.org/docs/latest/search-plugins/searching-data/did-you-mean/
        (
            "search_index",
            q(
                json!({"query": {"match_all": {}}, "suggest": {"s": {"text": "a", "phrase": {"field": "title", "collate": {"query": {"source": "{}"}}}}}}),
            ),
        ),
        // An ad hoc search pipeline with a script processor: https://opensearch.org/docs/latest/search-plugins/search-pipelines/script-processor/
        (
            "search_index",
            q(
                json!({"query": {"match_all": {}}, "search_pipeline": {"request_processors": [{"script": script}]}}),
            ),
        ),
    ]
}

/// A field whose name only contains the letters of "script" is no script.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_names_that_only_contain_script_are_searchable() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[]);
    let client = rmcp_client(&server.mcp_url()).await;
    for clause in [
        json!({"match": {"transcript": "heat"}}),
        json!({"exists": {"field": "description"}}),
    ] {
        let r = call(
            &client,
            "search_index",
            json!({"index": "movies", "query": clause}),
        )
        .await;
        assert!(
            !text(&r).contains("scripts are not allowed"),
            "{clause}: {}",
            text(&r)
        );
    }
    client.cancel().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_are_refused_unless_allowed() {
    let osmem = Osmem::start_with_movies();
    let relay = Capture::start_relay(Some(osmem.port));
    let server = Server::start(&relay.url, &[]);
    let client = rmcp_client(&server.mcp_url()).await;
    let before = relay.request_lines().len();
    for (tool, args) in script_calls() {
        let msg = err_text(&call(&client, tool, args.clone()).await);
        assert!(
            msg.contains("scripts are not allowed") && msg.contains("OPENSEARCH_ALLOW_SCRIPTS"),
            "{tool} {args}: {msg}"
        );
    }
    assert_eq!(relay.request_lines().len(), before, "a script was sent");
    client.cancel().await.ok();

    // Allowed: the requests go to OpenSearch (osmem answers what it supports).
    let relay = Capture::start_relay(Some(osmem.port));
    let server = Server::start(&relay.url, &[("OPENSEARCH_ALLOW_SCRIPTS", "true")]);
    let client = rmcp_client(&server.mcp_url()).await;
    let before = relay.request_lines().len();
    for (tool, args) in script_calls() {
        let r = call(&client, tool, args.clone()).await;
        let t = text(&r);
        assert!(!t.contains("scripts are not allowed"), "{tool} {args}: {t}");
    }
    assert_eq!(relay.request_lines().len(), before + script_calls().len());
    client.cancel().await.ok();
}

/// Issue 24, item 2: a search answer as the attack made it (a `histogram` with
/// `min_doc_count: 0` over `extended_bounds` 0..60000 on a 3-document index): `n` empty buckets,
/// about 1.8 MB for 60 000.
fn histogram_answer(n: usize) -> Vec<u8> {
    let mut out = String::from(
        r#"{"took":3,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"total":{"value":3,"relation":"eq"},"max_score":null,"hits":[]},"aggregations":{"h":{"buckets":["#,
    );
    for k in 0..n {
        if k > 0 {
            out.push(',');
        }
        out.push_str(&format!(r#"{{"key":{k}.0,"doc_count":0}}"#));
    }
    out.push_str("]}}}");
    out.into_bytes()
}

/// Send one stateless `tools/call` of `search_index` on a raw socket (id `id`) and return the
/// socket without reading, so the caller can read the answer or hang up.
fn raw_search(port: u16, id: u64) -> std::net::TcpStream {
    use std::io::Write;
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
        "name": "search_index", "arguments": {"index": "movies", "size": 0}}})
    .to_string();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to the server");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-06-18\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        server_support::MCP_PATH,
        body.len()
    )
    .expect("send the call");
    s
}

/// Read a raw answer to its end: the status and the whole text (headers and body).
fn read_answer(mut s: std::net::TcpStream) -> (u16, String) {
    use std::io::Read;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Wait (at most `within`) until `f` holds; whether it did.
fn eventually(within: Duration, f: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    f()
}

/// Issue 24, item 2: with every slot taken a call is answered at once (503, `Retry-After`, a
/// JSON-RPC error saying to retry, with its id); a call whose client hangs up is dropped with
/// its OpenSearch request (a listener acting as OpenSearch that never answers counts the open
/// connections), and its slot is free again.
#[test]
fn in_flight_calls_are_capped_and_dropped_when_their_client_hangs_up() {
    let hang = Capture::start();
    let server = Server::start(
        &hang.url,
        &[
            ("MCP_MAX_INFLIGHT_CALLS", "4"),
            ("OPENSEARCH_TIMEOUT", "30"),
        ],
    );
    // The start-up health probe (2 s at most) is done first.
    assert!(eventually(Duration::from_secs(4), || hang.open() == 0));
    let before = hang.connections();
    let clients: Vec<_> = (0..4).map(|i| raw_search(server.port, i)).collect();
    assert!(
        eventually(Duration::from_secs(5), || hang.open() == 4),
        "four calls reach OpenSearch: {} open",
        hang.open()
    );

    let started = Instant::now();
    let (status, text) = read_answer(raw_search(server.port, 99));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status, 503, "{text}");
    let lower = text.to_ascii_lowercase();
    assert!(lower.contains("retry-after: 1"), "{text}");
    assert!(
        text.contains(r#""id":99"#)
            && text.contains("MCP_MAX_INFLIGHT_CALLS")
            && text.contains("retry"),
        "{text}"
    );
    assert_eq!(
        hang.connections(),
        before + 4,
        "the refused call reached OpenSearch"
    );

    // The clients hang up: their OpenSearch requests are dropped at once (the listener would
    // close them itself only after 5 s).
    let hung_up = Instant::now();
    drop(clients);
    assert!(
        eventually(Duration::from_secs(3), || hang.open() == 0),
        "{} OpenSearch requests still open {:?} after their clients hung up",
        hang.open(),
        hung_up.elapsed()
    );
    // Their slots are free: the next call reaches OpenSearch.
    let next = raw_search(server.port, 100);
    assert!(
        eventually(Duration::from_secs(3), || hang.connections() == before + 5),
        "{}",
        hang.connections()
    );
    drop(next);
}

/// Issue 24, item 2: 200 calls at once, each answered with 1.8 MB of histogram buckets, then 200
/// whose clients hang up at once: peak RSS (VmHWM) stays within what the slots allow. Measured
/// on a debug build: 8 slots peak at about 153 MB; with 1000 slots (no limit in effect) the
/// 200 readers alone peaked at 571 MB (2.3 MB a call, as the issue found).
#[test]
fn memory_stays_bounded_by_the_in_flight_limit() {
    let answer = histogram_answer(60_000);
    assert!(answer.len() > 1_700_000, "{}", answer.len());
    let backend = Capture::start_answering(answer);
    let server = Server::start(
        &backend.url,
        &[
            ("MCP_MAX_INFLIGHT_CALLS", "8"),
            ("OPENSEARCH_TIMEOUT", "30"),
        ],
    );
    let pid = server.guard.child.id();
    let fresh = peak_rss(pid);
    let (status, text) = read_answer(raw_search(server.port, 1));
    assert_eq!(status, 200, "{}", &text[..text.len().min(300)]);
    let idle = peak_rss(pid);

    let started = Instant::now();
    let readers: Vec<_> = (0..200)
        .map(|i| {
            let port = server.port;
            std::thread::spawn(move || read_answer(raw_search(port, i)).0)
        })
        .collect();
    let statuses: Vec<u16> = readers.into_iter().map(|t| t.join().unwrap()).collect();
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let busy = statuses.iter().filter(|s| **s == 503).count();
    assert_eq!(ok + busy, 200, "{statuses:?}");
    assert!(ok >= 8, "{ok} answered");
    // Hung up at once.
    let hung: Vec<_> = (0..200)
        .map(|i| raw_search(server.port, 1000 + i))
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    drop(hung);
    // Every call is over: no OpenSearch answer is still being written (the server's pool may
    // keep idle connections open; those hold no call).
    assert!(
        eventually(Duration::from_secs(10), || backend.answering() == 0),
        "{} OpenSearch answers still being read, {} connections open",
        backend.answering(),
        backend.open()
    );
    let peak = peak_rss(pid);
    eprintln!(
        "peak RSS: {} MB fresh, {} MB after one call, {} MB after 200 calls ({ok} answered, {busy} told to retry) and 200 hung up, in {:?}",
        fresh >> 20,
        idle >> 20,
        peak >> 20,
        started.elapsed()
    );
    // 8 slots × (4 × 2 MiB + 256 KiB) over the idle peak, with room for allocator slack.
    assert!(
        peak < idle + 8 * (8 << 20) + (48 << 20),
        "peak RSS {} MB (idle {} MB)",
        peak >> 20,
        idle >> 20
    );
}

/// Issue 24, item 6: aggregations do not side-step OPENSEARCH_MAX_RESULTS. The attack's
/// `terms` (size 100) + `top_hits` (size 100) with the cap at 5 is refused; with fewer buckets
/// `top_hits` is cut so buckets × size stays within the cap; the `histogram` with
/// `min_doc_count: 0` over `extended_bounds` 0..60000 is refused before anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregations_stay_within_the_result_cap() {
    let osmem = Osmem::start_with_movies();
    let relay = Capture::start_relay(Some(osmem.port));
    let server = Server::start(&relay.url, &[("OPENSEARCH_MAX_RESULTS", "5")]);
    let client = rmcp_client(&server.mcp_url()).await;
    let before = relay.request_lines().len();
    let refused = [
        json!({"size": 0, "aggs": {"g": {"terms": {"field": "genre", "size": 100},
            "aggs": {"h": {"top_hits": {"size": 100}}}}}}),
        json!({"size": 0, "aggs": {"h": {"histogram": {"field": "year", "interval": 1,
            "min_doc_count": 0, "extended_bounds": {"min": 0, "max": 60000}}}}}),
        json!({"size": 0, "aggs": {"h": {"date_histogram": {"field": "released", "fixed_interval": "1d"},
            "aggs": {"t": {"top_hits": {"size": 1}}}}}}),
    ];
    for q in refused {
        let msg = err_text(
            &call(
                &client,
                "search_index",
                json!({"index": "movies", "query": q}),
            )
            .await,
        );
        assert!(
            msg.contains("OPENSEARCH_MAX_RESULTS") || msg.contains("extended_bounds"),
            "{q}: {msg}"
        );
    }
    assert_eq!(
        relay.request_lines().len(),
        before,
        "a refused aggregation was sent"
    );
    // Two buckets × top_hits cut to 2 (5 / 2): what OpenSearch gets.
    let q = json!({"size": 0, "aggs": {"g": {"terms": {"field": "genre", "size": 2},
        "aggs": {"h": {"top_hits": {"size": 100}}}}}});
    let _ = call(
        &client,
        "search_index",
        json!({"index": "movies", "query": q}),
    )
    .await;
    let sent = relay.sent_text();
    assert!(sent.contains(r#""top_hits":{"size":2}"#), "{sent}");
    client.cancel().await.ok();
}
