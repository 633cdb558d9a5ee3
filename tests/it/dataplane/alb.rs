//! The testkit's ALB data plane (`testkit/alb_dataplane.py`, `mcpctl_testkit::alb`) against
//! moto: a listener's rules and target groups made with boto3, small local HTTP servers as
//! targets, real requests through the data plane (origin form, and absolute form as a proxy
//! for the ALB's DNS name), and the `AWS/ApplicationELB` metrics it publishes read back with
//! `GetMetricData`, `p99` of `TargetResponseTime` included.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::alb::{moto_percentiles_env, AlbDataPlane, AlbOptions};
use crate::common::aws::Aws;
use serde_json::Value;

/// A target on 127.0.0.1: answers `GET /health` at once, anything else with 200 and
/// `NAME host=HOST` (after `delay` for `/slow`); counts the requests other than health checks.
fn target(name: &'static str, delay: Duration) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let (mut first, mut host, mut length) = (String::new(), String::new(), 0usize);
                if reader.read_line(&mut first).is_err() {
                    return;
                }
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    let (k, v) = line.split_once(':').unwrap_or((&line, ""));
                    match k.trim().to_ascii_lowercase().as_str() {
                        "host" => host = v.trim().to_string(),
                        "content-length" => length = v.trim().parse().unwrap_or(0),
                        _ => {}
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let path = first.split_whitespace().nth(1).unwrap_or("");
                if path != "/health" {
                    counter.fetch_add(1, Ordering::SeqCst);
                    if path.starts_with("/slow") {
                        std::thread::sleep(delay);
                    }
                }
                let text = format!("{name} host={host}");
                let mut s = stream;
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
            });
        }
    });
    (port, hits)
}

/// One request to the data plane (`target` in origin or absolute form); (status, body).
fn send(port: u16, target: &str, host: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
    (status, body.unwrap_or_default())
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

#[test]
fn routes_weighted_answers_as_alb_and_publishes_metrics() {
    let env = moto_percentiles_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let aws = Aws::start_with_moto_env(&env);
    let started = now_secs() / 60 * 60;

    let (port_a, hits_a) = target("alpha", Duration::ZERO);
    let (port_b, hits_b) = target("beta", Duration::ZERO);
    let (port_z, hits_z) = target("zero", Duration::ZERO);
    let (port_s, _) = target("slow", Duration::from_secs(4));

    // Target groups and rules on the shared ALB's HTTP:80 listener (its default action: a
    // fixed 404). Port 1 on 127.0.0.1: nothing listens (connection refused); 10.0.0.5: not
    // local, never contacted.
    let arns = aws.boto(&format!(
        "vpc = '{vpc}'\n\
         lb = elb.describe_load_balancers(Names=['fastmcp-alb'])['LoadBalancers'][0]['LoadBalancerArn']\n\
         ls = [l for l in elb.describe_listeners(LoadBalancerArn=lb)['Listeners'] if l['Port'] == 80][0]['ListenerArn']\n\
         def tg(name, targets):\n\
         \x20   arn = elb.create_target_group(Name=name, Protocol='HTTP', Port=8080, VpcId=vpc, TargetType='ip', HealthCheckPath='/health', Matcher={{'HttpCode': '200-299'}}, HealthyThresholdCount=2, UnhealthyThresholdCount=2)['TargetGroups'][0]['TargetGroupArn']\n\
         \x20   if targets: elb.register_targets(TargetGroupArn=arn, Targets=[{{'Id': i, 'Port': p}} for i, p in targets])\n\
         \x20   return arn\n\
         a = tg('dp-alpha', [('127.0.0.1', {port_a})]); b = tg('dp-beta', [('127.0.0.1', {port_b})]); z = tg('dp-zero', [('127.0.0.1', {port_z})])\n\
         dead = tg('dp-dead', [('127.0.0.1', 1)]); empty = tg('dp-empty', []); slow = tg('dp-slow', [('127.0.0.1', {port_s})]); far = tg('dp-far', [('10.0.0.5', 8080)])\n\
         def rule(prio, path, actions):\n\
         \x20   elb.create_rule(ListenerArn=ls, Priority=prio, Conditions=[{{'Field': 'path-pattern', 'PathPatternConfig': {{'Values': [path]}}}}], Actions=actions)\n\
         rule(10, '/w*', [{{'Type': 'forward', 'ForwardConfig': {{'TargetGroups': [{{'TargetGroupArn': a, 'Weight': 50}}, {{'TargetGroupArn': b, 'Weight': 50}}, {{'TargetGroupArn': z, 'Weight': 0}}]}}}}])\n\
         for prio, path, arn in [(20, '/dead', dead), (30, '/empty', empty), (40, '/slow', slow), (50, '/far', far)]:\n\
         \x20   rule(prio, path, [{{'Type': 'forward', 'TargetGroupArn': arn}}])\n\
         result = {{n: v.rsplit(':', 1)[-1] for n, v in dict(a=a, b=b, z=z, dead=dead, slow=slow, far=far).items()}}",
        vpc = aws.shared["vpc"].as_str().expect("vpc"),
    ));

    let mut opts = AlbOptions::new("fastmcp-alb");
    opts.metrics_delay = 0.0;
    opts.health_interval = Some(0.3);
    opts.target_timeout = 1.0;
    opts.refresh = 0.3;
    let dp = AlbDataPlane::start(&aws.moto, &opts);
    assert!(
        dp.response_times,
        "moto with percentiles: TargetResponseTime is published"
    );
    let dns = dp.dns_name.clone();

    // 200 requests, half in origin form, half through the data plane as the client's proxy.
    let mut bodies = Vec::new();
    for i in 0..200 {
        let (status, body) = if i % 2 == 0 {
            send(dp.port, &format!("/w/{i}?q=1"), &dns)
        } else {
            send(dp.port, &format!("http://{dns}/w/{i}"), &dns)
        };
        assert_eq!(status, 200, "request {i}: {body}");
        assert!(body.ends_with(&format!("host={dns}")), "Host kept: {body}");
        bodies.push(body);
    }
    let (a, b) = (hits_a.load(Ordering::SeqCst), hits_b.load(Ordering::SeqCst));
    assert_eq!(a + b, 200);
    assert!((60..=140).contains(&a), "alpha got {a} of 200, beta {b}");
    assert_eq!(hits_z.load(Ordering::SeqCst), 0, "weight 0 gets nothing");
    assert_eq!(
        bodies.iter().filter(|b| b.starts_with("alpha")).count(),
        a,
        "answers come from the target that got the request"
    );

    // A proxied request for another host: 403, forwarded nowhere.
    let (status, _) = send(dp.port, "http://example.com/w/1", "example.com");
    assert_eq!(status, 403);
    assert_eq!(
        hits_a.load(Ordering::SeqCst) + hits_b.load(Ordering::SeqCst),
        200
    );
    // The load balancer's own answers.
    assert_eq!(send(dp.port, "/dead", &dns).0, 502, "connection refused");
    assert_eq!(send(dp.port, "/far", &dns).0, 502, "non-local target");
    assert_eq!(send(dp.port, "/empty", &dns).0, 503, "no targets");
    assert_eq!(send(dp.port, "/slow", &dns).0, 504, "past the idle timeout");
    assert_eq!(
        send(dp.port, "/nothing", &dns).0,
        404,
        "default fixed response"
    );
    let last = now_secs();

    // Metrics: every minute with requests published once it ends (delay 0).
    let dims = |tg: Option<&str>| -> String {
        let mut d = format!(
            "[{{'Name': 'LoadBalancer', 'Value': '{}'}}",
            dp.lb_dimension
        );
        if let Some(tg) = tg {
            d.push_str(&format!(", {{'Name': 'TargetGroup', 'Value': '{tg}'}}"));
        }
        d + "]"
    };
    let tg = |n: &str| arns[n].as_str().expect("arn").to_string();
    let queries = [
        ("lb_requests", "RequestCount", "Sum", dims(None)),
        ("a_requests", "RequestCount", "Sum", dims(Some(&tg("a")))),
        ("b_requests", "RequestCount", "Sum", dims(Some(&tg("b")))),
        ("z_requests", "RequestCount", "Sum", dims(Some(&tg("z")))),
        (
            "dead_errors",
            "TargetConnectionErrorCount",
            "Sum",
            dims(Some(&tg("dead"))),
        ),
        (
            "far_errors",
            "TargetConnectionErrorCount",
            "Sum",
            dims(Some(&tg("far"))),
        ),
        (
            "slow_requests",
            "RequestCount",
            "Sum",
            dims(Some(&tg("slow"))),
        ),
        (
            "a_2xx",
            "HTTPCode_Target_2XX_Count",
            "Sum",
            dims(Some(&tg("a"))),
        ),
        ("elb_502", "HTTPCode_ELB_502_Count", "Sum", dims(None)),
        ("elb_503", "HTTPCode_ELB_503_Count", "Sum", dims(None)),
        ("elb_504", "HTTPCode_ELB_504_Count", "Sum", dims(None)),
        ("elb_5xx", "HTTPCode_ELB_5XX_Count", "Sum", dims(None)),
        ("elb_4xx", "HTTPCode_ELB_4XX_Count", "Sum", dims(None)),
        (
            "a_healthy",
            "HealthyHostCount",
            "Maximum",
            dims(Some(&tg("a"))),
        ),
        (
            "dead_unhealthy",
            "UnHealthyHostCount",
            "Maximum",
            dims(Some(&tg("dead"))),
        ),
        ("a_p99", "TargetResponseTime", "p99", dims(Some(&tg("a")))),
        ("lb_p99", "TargetResponseTime", "p99", dims(None)),
    ];
    let list: Vec<String> = queries
        .iter()
        .map(|(id, metric, stat, dims)| {
            format!("{{'Id': '{id}', 'MetricStat': {{'Metric': {{'Namespace': 'AWS/ApplicationELB', 'MetricName': '{metric}', 'Dimensions': {dims}}}, 'Period': 60, 'Stat': '{stat}'}}}}")
        })
        .collect();
    let read = format!(
        "cw = boto3.client('cloudwatch')\n\
         t0 = datetime.datetime.fromtimestamp({start}, datetime.timezone.utc)\n\
         r = cw.get_metric_data(MetricDataQueries=[{q}], StartTime=t0, EndTime=t0 + datetime.timedelta(minutes=10))\n\
         result = {{m['Id']: m['Values'] for m in r['MetricDataResults']}}",
        start = started - 60,
        q = list.join(", "),
    );
    let sum = |m: &Value, id: &str| -> f64 {
        m[id]
            .as_array()
            .map_or(0.0, |v| v.iter().filter_map(Value::as_f64).sum())
    };
    let max = |m: &Value, id: &str| -> f64 {
        m[id].as_array().map_or(0.0, |v| {
            v.iter().filter_map(Value::as_f64).fold(0.0, f64::max)
        })
    };
    // The last minute with requests ends at most 60 s from now; then it is published within a
    // fraction of a second. Bounded: 30 s more for a loaded machine.
    let minute_end = (last / 60 + 1) * 60;
    std::thread::sleep(Duration::from_secs(minute_end.saturating_sub(now_secs())));
    let deadline = minute_end + 30;
    let m = loop {
        let m = aws.boto(&read);
        // 200 weighted + dead + far + slow: requests for which a target was chosen.
        if sum(&m, "lb_requests") >= 203.0 || now_secs() > deadline {
            break m;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(sum(&m, "lb_requests"), 203.0, "{m}");
    assert_eq!(sum(&m, "a_requests"), a as f64, "{m}");
    assert_eq!(sum(&m, "b_requests"), b as f64, "{m}");
    assert_eq!(sum(&m, "a_2xx"), a as f64, "{m}");
    assert_eq!(sum(&m, "z_requests"), 0.0, "{m}");
    assert_eq!(sum(&m, "dead_errors"), 1.0, "{m}");
    assert_eq!(sum(&m, "far_errors"), 1.0, "{m}");
    assert_eq!(sum(&m, "slow_requests"), 1.0, "{m}");
    assert_eq!(sum(&m, "elb_502"), 2.0, "{m}");
    assert_eq!(sum(&m, "elb_503"), 1.0, "{m}");
    assert_eq!(sum(&m, "elb_504"), 1.0, "{m}");
    assert_eq!(sum(&m, "elb_5xx"), 4.0, "{m}");
    assert_eq!(sum(&m, "elb_4xx"), 2.0, "403 and the fixed 404: {m}");
    assert_eq!(max(&m, "a_healthy"), 1.0, "{m}");
    assert_eq!(max(&m, "dead_unhealthy"), 1.0, "{m}");
    let p99 = max(&m, "a_p99");
    assert!(p99 > 0.0 && p99 < 1.0, "p99 of alpha's response times: {m}");
    assert!(max(&m, "lb_p99") > 0.0, "{m}");
}
