//! Each gate on recorded windows: the minimum-requests rule, each threshold just under and just
//! over, the ELB 5XX share on the load balancer's requests, p99 from recorded answers (moto does
//! not compute percentiles), unhealthy hosts and probes judged at once.

use super::*;

fn window(requests: f64, target_5xx: f64) -> AlbMetrics {
    AlbMetrics {
        requests,
        target_5xx,
        target_2xx: requests - target_5xx,
        lb_requests: requests * 2.0,
        ..Default::default()
    }
}

fn gate(v: Verdict) -> Option<Gate> {
    match v {
        Verdict::Breached(b) => Some(b.gate),
        Verdict::Holding { .. } => None,
    }
}

#[test]
fn rates_wait_for_the_minimum_requests() {
    let t = Thresholds::default();
    // 25% errors, but only 8 requests: not judged yet.
    assert_eq!(
        judge(&window(8.0, 2.0), None, &t),
        Verdict::Holding { judged: false }
    );
    // The same share over 200 requests: breached, with the numbers.
    match judge(&window(200.0, 50.0), None, &t) {
        Verdict::Breached(b) => {
            assert_eq!(b.gate, Gate::ErrorRate);
            assert_eq!(b.observed, 25.0);
            assert_eq!(b.message, "25.00% target 5XX (50 of 200 requests) > 1%");
        }
        v => panic!("{v:?}"),
    }
    assert_eq!(
        judge(&window(200.0, 2.0), None, &t),
        Verdict::Holding { judged: true }
    );
    assert_eq!(
        gate(judge(&window(200.0, 3.0), None, &t)),
        Some(Gate::ErrorRate)
    );
}

#[test]
fn each_threshold_is_its_own_gate() {
    let t = Thresholds::default();
    let mut m = window(1000.0, 0.0);
    m.target_4xx = 50.0;
    assert_eq!(
        gate(judge(&m, None, &t)),
        None,
        "5% is the limit, not over it"
    );
    m.target_4xx = 51.0;
    assert_eq!(gate(judge(&m, None, &t)), Some(Gate::ClientErrorRate));
    let mut m = window(1000.0, 0.0);
    m.target_2xx = 985.0; // 15 of the group's 1000 requests got no answer from a target: 1.5%
    match judge(&m, None, &t) {
        Verdict::Breached(b) => {
            assert_eq!(b.gate, Gate::LoadBalancerErrorRate);
            assert_eq!(b.observed, 1.5);
        }
        v => panic!("{v:?}"),
    }
    // Connection errors count even when the difference hides them.
    let mut m = window(1000.0, 0.0);
    m.connection_errors = 20.0;
    assert_eq!(gate(judge(&m, None, &t)), Some(Gate::LoadBalancerErrorRate));
    let mut m = window(1000.0, 0.0);
    m.p99_seconds = Some(1.0);
    assert_eq!(gate(judge(&m, None, &t)), None);
    m.p99_seconds = Some(1.25);
    assert_eq!(gate(judge(&m, None, &t)), Some(Gate::P99));
}

#[test]
fn another_applications_load_balancer_5xx_never_gates() {
    // HTTPCode_ELB_5XX_Count has no TargetGroup dimension: 900 503s of another target group on
    // the shared ALB are information, not a breach of the --to group.
    let mut m = window(1000.0, 0.0);
    m.elb_5xx = 900.0;
    m.lb_requests = 2000.0;
    assert_eq!(
        judge(&m, None, &Thresholds::default()),
        Verdict::Holding { judged: true }
    );
}

#[test]
fn unhealthy_hosts_and_probes_are_judged_at_once() {
    let t = Thresholds::default();
    let mut m = window(0.0, 0.0);
    m.unhealthy_hosts = Some(1.0);
    assert_eq!(gate(judge(&m, None, &t)), Some(Gate::UnhealthyHosts));
    let quiet = window(0.0, 0.0);
    let probe = |failures, snf| ProbeReading {
        runs: 3,
        failures,
        session_not_found: snf,
        last_error: Some("HTTP 404 Session not found".into()),
    };
    assert_eq!(gate(judge(&quiet, Some(&probe(0, 0)), &t)), None);
    assert_eq!(
        gate(judge(&quiet, Some(&probe(1, 1)), &t)),
        Some(Gate::SessionNotFound)
    );
    assert_eq!(
        gate(judge(&quiet, Some(&probe(2, 0)), &t)),
        Some(Gate::Probe)
    );
}
