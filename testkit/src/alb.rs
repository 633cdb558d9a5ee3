//! A local data plane for an Application Load Balancer kept in moto: `testkit/alb_dataplane.py`
//! run as a child process on 127.0.0.1.
//!
//! moto keeps the control plane (load balancer, listener, rules, target groups, registered
//! targets) but routes no request and publishes no metric. [`AlbDataPlane`] follows one listener
//! of one load balancer in moto (re-read every `refresh`) and:
//!
//! - routes real HTTP requests as the ALB does: rules in priority order, the default rule last;
//!   `path-pattern`, `host-header` (wildcards `*`/`?`) and `http-request-method` conditions;
//!   `forward` to one group or weighted groups (a random pick per request in proportion to the
//!   weights, weight 0 never, no stickiness) and `fixed-response`; round robin over a group's
//!   healthy targets, over all of them when none is healthy (fail open);
//! - health-checks the targets itself (GET on the group's `HealthCheckPath`, `Matcher`,
//!   healthy/unhealthy thresholds; the interval can be shortened for tests);
//! - answers as the load balancer: 502 when a target refuses or resets the connection, 503 with
//!   no registered targets, 504 past `target_timeout`, 403 for a proxied request to a host other
//!   than the ALB's DNS name (never forwarded), 405 for `CONNECT`, 413 over 10 MiB;
//! - publishes `AWS/ApplicationELB` metrics into moto's CloudWatch per one-minute period,
//!   `metrics_delay` after the minute ends, with `LoadBalancer`+`TargetGroup` and
//!   `LoadBalancer`-only dimensions (request and code counts only for minutes with requests,
//!   host counts every minute).
//!
//! It takes requests in origin form (`GET /mcp` to [`AlbDataPlane::url`]) and in absolute form
//! as an HTTP proxy (`GET http://<dns_name>/mcp`, e.g. a client with
//! `http_proxy=`[`AlbDataPlane::proxy_url`]), so a program that calls the ALB's DNS name reaches
//! it without DNS. It only ever connects to 127.0.0.1 (and moto): a target whose Id is not
//! `127.0.0.1`/`localhost` is never contacted, it is a connection error (502).
//!
//! Not emulated: HTTPS listeners, authentication and redirect actions, `query-string`,
//! `http-header` and `source-ip` conditions (a rule with one never matches), stickiness, slow
//! start, deregistration delay, HTTP/2, WebSockets, access logs, metrics other than those above.
//!
//! **`p99` in moto.** moto 5.2.5 computes no percentile: for `p99` its
//! `Statistics.get_statistics_for_type` returns None, and `GetMetricData` answers HTTP 500 as
//! soon as the period holds data of the metric, whether put as single values, `Values`+`Counts`
//! arrays (stored expanded) or statistic sets, and that 500 fails every query of the call. So
//! start moto with [`moto_percentiles_env`] (`testkit/moto_percentiles/sitecustomize.py`,
//! nearest-rank percentiles over the period's values) and the data plane publishes
//! `TargetResponseTime` as `Values`+`Counts` (three significant digits), from which `p99`
//! answers a real value; against a moto without it, the data plane finds out at start (a probe
//! query) and leaves `TargetResponseTime` out, so `p99` answers with no data instead of 500.
//!
//! Query the `LoadBalancer`+`TargetGroup` metrics with the dimensions in that order: moto's
//! dimension sort is broken (`Dimension.__lt__` compares a value with a name), so the other order
//! may find nothing.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::{first_line_matching, venv_bin, wait_for_port, workspace_root, ChildGuard, Moto};

/// Environment for `moto_server` (e.g. `Moto::start_with_env`) that makes it answer percentile
/// statistics (`p99`) in `GetMetricData` (see the module documentation).
pub fn moto_percentiles_env() -> Vec<(String, String)> {
    let dir = workspace_root().join("testkit/moto_percentiles");
    vec![("PYTHONPATH".into(), dir.display().to_string())]
}

/// The data plane's settings (see `testkit/alb_dataplane.py --help`).
#[derive(Debug, Clone)]
pub struct AlbOptions {
    /// The load balancer's name in moto.
    pub load_balancer: String,
    /// The listener port followed (80).
    pub listener_port: u16,
    /// Seconds after a minute ends before its metrics are published (ALB: about 60).
    pub metrics_delay: f64,
    /// Health-check interval in seconds instead of the target groups' own (`None`: theirs).
    pub health_interval: Option<f64>,
    /// The idle timeout in seconds after which the load balancer answers 504.
    pub target_timeout: f64,
    /// How often the configuration is re-read from moto, in seconds.
    pub refresh: f64,
    /// Log each routed request to the test's stderr.
    pub verbose: bool,
}

impl AlbOptions {
    /// Defaults for tests: listener 80, metrics 60 s late, health checks every 0.5 s, 10 s
    /// idle timeout, configuration re-read every 0.5 s.
    pub fn new(load_balancer: &str) -> AlbOptions {
        AlbOptions {
            load_balancer: load_balancer.to_string(),
            listener_port: 80,
            metrics_delay: 60.0,
            health_interval: Some(0.5),
            target_timeout: 10.0,
            refresh: 0.5,
            verbose: false,
        }
    }
}

/// The running data plane; stopped (killed) on drop.
pub struct AlbDataPlane {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// `http://127.0.0.1:PORT` (origin-form requests).
    pub url: String,
    /// The load balancer's DNS name in moto (absolute-form requests name it).
    pub dns_name: String,
    /// The `LoadBalancer` dimension value (`app/NAME/ID`).
    pub lb_dimension: String,
    /// Whether `TargetResponseTime` is published (moto answers percentiles).
    pub response_times: bool,
    guard: ChildGuard,
}

impl AlbDataPlane {
    /// Start the data plane for `opts` against `moto` and wait (at most 60 s) until it has read
    /// the configuration and listens.
    pub fn start(moto: &Moto, opts: &AlbOptions) -> AlbDataPlane {
        let script: PathBuf = workspace_root().join("testkit/alb_dataplane.py");
        let mut cmd = Command::new(venv_bin("python"));
        cmd.arg(&script)
            .args(["--endpoint", &moto.endpoint, "--region", "us-east-1"])
            .args(["--load-balancer", &opts.load_balancer])
            .args(["--listener-port", &opts.listener_port.to_string()])
            .args(["--listen-port", "0"])
            .args(["--metrics-delay", &opts.metrics_delay.to_string()])
            .args(["--target-timeout", &opts.target_timeout.to_string()])
            .args(["--refresh", &opts.refresh.to_string()])
            .envs(moto.aws_env())
            // Kept open: the data plane exits when it closes (when the test process dies).
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if opts.verbose {
                Stdio::inherit()
            } else {
                Stdio::null()
            });
        if let Some(i) = opts.health_interval {
            cmd.args(["--health-interval", &i.to_string()]);
        }
        if opts.verbose {
            cmd.arg("--verbose");
        }
        let mut guard = ChildGuard::spawn("alb_dataplane.py", &mut cmd);
        let stdout = guard.child.stdout.take().expect("piped stdout");
        let line =
            first_line_matching(stdout, Duration::from_secs(60), |l| l.contains("\"ready\""))
                .expect(
                "alb_dataplane.py did not report ready within 60s (run with verbose to see why)",
            );
        let ready: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("alb_dataplane.py ready line {line:?}: {e}"));
        let port = ready["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        assert!(
            wait_for_port(port, Duration::from_secs(10)),
            "alb_dataplane.py does not listen on 127.0.0.1:{port}"
        );
        AlbDataPlane {
            port,
            url: format!("http://127.0.0.1:{port}"),
            dns_name: ready["dns_name"].as_str().unwrap_or_default().to_string(),
            lb_dimension: ready["load_balancer"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            response_times: ready["target_response_time"].as_bool().unwrap_or(false),
            guard,
        }
    }

    /// The value for `http_proxy`/`HTTP_PROXY` that sends a client's requests for
    /// `http://<dns_name>/...` here (same as [`AlbDataPlane::url`]).
    pub fn proxy_url(&self) -> String {
        self.url.clone()
    }

    /// `http://<dns_name>` (the URL a client behind [`AlbDataPlane::proxy_url`] calls).
    pub fn alb_url(&self) -> String {
        format!("http://{}", self.dns_name)
    }

    /// Stop it now.
    pub fn stop(&mut self) {
        self.guard.kill();
    }
}
