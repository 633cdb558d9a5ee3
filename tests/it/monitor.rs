//! `mcpctl monitor` against moto: both stacks deployed, the stateless target group's ALB
//! metrics put into CloudWatch as the ALB would (moto stores `PutMetricData` and answers
//! `GetMetricData` with Sum, Minimum and Maximum), and the production rule's weights moved by a
//! cutover: one JSON line per reading with each stack's requests, error counts, hosts and share.

use crate::common::aws::{moto_stack, Aws};
use serde_json::Value;

#[test]
fn monitor_reads_both_stacks_metrics_and_production_shares() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    moto_stack(dir.path(), "stateful", "");
    moto_stack(
        dir.path(),
        "stateless",
        "env:\n  MCP_METRICS_NAMESPACE: OpenSearchMCP\n",
    );
    let d = dir.path().to_str().unwrap();
    aws.up_all(d, &["stateful", "stateless"]);
    aws.register_target("opensearch-mcp-tg-stateless", "10.0.1.10");
    let out = aws.mcpctl(&["cutover", "--weight", "10", "--yes", "--stacks-dir", d]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The ALB's data points for the stateless group (and the server's own EMF metric).
    aws.boto(
        "cw = boto3.client('cloudwatch')\n\
         lb = elb.describe_load_balancers(Names=['fastmcp-alb'])['LoadBalancers'][0]['LoadBalancerArn'].split(':loadbalancer/')[1]\n\
         tg = elb.describe_target_groups(Names=['opensearch-mcp-tg-stateless'])['TargetGroups'][0]['TargetGroupArn'].split(':')[-1]\n\
         now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=30)\n\
         dims = [{'Name': 'LoadBalancer', 'Value': lb}, {'Name': 'TargetGroup', 'Value': tg}]\n\
         put = lambda name, v, d: cw.put_metric_data(Namespace='AWS/ApplicationELB', MetricData=[{'MetricName': name, 'Dimensions': d, 'Timestamp': now, 'Value': v, 'Unit': 'Count'}])\n\
         put('RequestCount', 200, dims)\n\
         put('HTTPCode_Target_5XX_Count', 50, dims)\n\
         put('UnHealthyHostCount', 0, dims)\n\
         put('HealthyHostCount', 2, dims)\n\
         put('RequestCount', 2000, [{'Name': 'LoadBalancer', 'Value': lb}])\n\
         cw.put_metric_data(Namespace='OpenSearchMCP', MetricData=[{'MetricName': 'Calls', 'Dimensions': [{'Name': 'service', 'Value': 'opensearch-mcp-server-stateless'}], 'Timestamp': now, 'Value': 7, 'Unit': 'Count'}])\n\
         result = [lb, tg]",
    );

    let out = aws.mcpctl(&[
        "--output",
        "json",
        "monitor",
        "--stack",
        "stateful",
        "--stack",
        "stateless",
        "--count",
        "1",
        "--stacks-dir",
        d,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON line per reading: {stdout}");
    let v: Value = serde_json::from_str(lines[0]).unwrap();
    let stacks = v["stacks"].as_array().unwrap();
    assert_eq!(stacks[0]["stack"], "stateful");
    assert_eq!(stacks[0]["production_percent"], 90);
    assert_eq!(stacks[0]["alb"]["requests"], 0.0);
    let sl = &stacks[1];
    assert_eq!(sl["production_percent"], 10);
    assert_eq!(sl["alb"]["requests"], 200.0);
    assert_eq!(sl["alb"]["target_5xx"], 50.0);
    assert_eq!(sl["alb"]["healthy_hosts"], 2.0);
    assert_eq!(sl["alb"]["unhealthy_hosts"], 0.0);
    assert_eq!(sl["alb"]["lb_requests"], 2000.0);
    assert_eq!(sl["server"]["calls"], 7.0);
    // 50 of 200 requests answered 5XX: the cutover's error-rate gate is breached.
    assert_eq!(sl["gates"]["verdict"], "breached", "{sl}");
    assert_eq!(sl["gates"]["gate"], "error_rate");
    assert_eq!(sl["gates"]["observed"], 25.0);
    assert!(stacks[0]["gates"].is_null());
    assert!(v["production_rule"]
        .as_str()
        .unwrap()
        .contains("/ossserver/*"));

    // The text form: a header and a line per stack.
    let out = aws.mcpctl(&["monitor", "--count", "1", "--stacks-dir", d]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("stateless") && l.contains("25.00%")),
        "{text}"
    );
    assert!(
        text.contains("gates stateless: BREACHED: 25.00% target 5XX (50 of 200 requests) > 1%"),
        "{text}"
    );
    // Flags out of range or not durations: exit 2 with the flag named, before any AWS call.
    for (args, want) in [
        (vec!["--max-error-rate", "150"], "--max-error-rate"),
        (vec!["--max-4xx-rate=-1"], "--max-4xx-rate"),
        (vec!["--window", "30s"], "--window"),
        (vec!["--interval", "0s"], "--interval"),
        (vec!["--max-p99", "soon"], "--max-p99"),
    ] {
        let mut all = vec!["monitor", "--stacks-dir", d];
        all.extend(args.iter().copied());
        let out = aws.mcpctl(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
}
