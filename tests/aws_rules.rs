//! AWS rules moto does not enforce, checked through a fault-injecting proxy in front of moto
//! (`mcpctl_testkit::fault_proxy`) or on the recorded calls: paging logs past an empty page.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::aws::Aws;
use common::fault_proxy::{FaultProxy, Reply, Request};

/// FilterLogEvents may answer an empty page that still has a `nextToken`
/// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html);
/// moto never does, so the proxy answers the first call that way and the next one (with that
/// token) goes to moto without it.
#[test]
fn logs_pages_past_an_empty_page_with_a_token() {
    let aws = Aws::start();
    aws.boto(
        "import time\n\
         g = '/ecs/opensearch-mcp-server-stateless'\n\
         logs.create_log_group(logGroupName=g)\n\
         logs.create_log_stream(logGroupName=g, logStreamName='ecs/opensearch-mcp-server/task1')\n\
         now = int(time.time() * 1000)\n\
         logs.put_log_events(logGroupName=g, logStreamName='ecs/opensearch-mcp-server/task1', logEvents=[{'timestamp': now - 2000, 'message': 'first line'}, {'timestamp': now - 1000, 'message': 'second line'}])",
    );
    let empty_pages = Arc::new(AtomicUsize::new(0));
    let n = empty_pages.clone();
    let proxy = FaultProxy::start(
        aws.moto.port,
        Arc::new(move |req: &mut Request| {
            if req.operation != "FilterLogEvents" {
                return Reply::Forward;
            }
            let mut body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
            if body.get("nextToken").and_then(|t| t.as_str()) == Some("fault-proxy-page-2") {
                body.as_object_mut().map(|o| o.remove("nextToken"));
                req.body = body.to_string().into_bytes();
                return Reply::Forward;
            }
            n.fetch_add(1, Ordering::SeqCst);
            Reply::json(
                serde_json::json!({"events": [], "nextToken": "fault-proxy-page-2", "searchedLogStreams": []}),
            )
        }),
    );
    let out = aws
        .mcpctl_cmd(&["logs", "--stack", "stateless", "--since", "1h"])
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        empty_pages.load(Ordering::SeqCst),
        1,
        "the empty page was served"
    );
    assert!(
        stdout.contains("first line") && stdout.contains("second line"),
        "logs stopped at the empty page: {stdout:?}"
    );
}
