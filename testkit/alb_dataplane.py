#!/usr/bin/env python3
"""A local data plane for one Application Load Balancer listener kept in moto (test-only).

moto stores the ALB control plane (load balancer, listener, rules, target groups, registered
targets) but routes no traffic and publishes no metrics. This program is the missing data plane
for the tests: it re-reads one listener's configuration from moto every `--refresh` seconds,
routes real HTTP requests as the ALB would, health-checks the registered targets itself and
publishes the `AWS/ApplicationELB` metrics into moto's CloudWatch, as ALB does.

It serves on 127.0.0.1 only and forwards only to targets whose Id is 127.0.0.1 or `localhost`:
any other target Id is never contacted (counted as a target connection error, answered 502), and
an absolute-form (proxy) request for any host but the ALB's DNS name is answered 403 and never
forwarded. It never sends traffic anywhere but 127.0.0.1 (and moto's endpoint).

What it follows (AWS documentation):
- Rules, priorities, conditions, actions:
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-update-rules.html
  Rules are evaluated in priority order (lowest number first), the default rule last; every
  condition of a rule must match; `path-pattern` (case-sensitive, on the path without the query
  string) and `host-header` (case-insensitive) take the wildcards `*` and `?`;
  `http-request-method` is an exact match. Actions: `forward` (one group, or a weighted
  `ForwardConfig`: each request picks a group at random in proportion to the weights, weight 0
  never; no group stickiness here) and `fixed-response`.
- Target groups, routing within a group, health checks, fail-open:
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html
  Round robin over the healthy targets; if no target is healthy, over all registered targets
  ("if all targets fail health checks at the same time ... the load balancer fails open").
  Targets start `initial`; HealthyThresholdCount consecutive passes make a target healthy,
  UnhealthyThresholdCount consecutive failures unhealthy. The check is a GET on
  HealthCheckPath, passing when the status matches Matcher.HttpCode ("200", "200-299",
  "200,302").
- Error codes the load balancer itself answers:
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html
  502 (the target refused/reset the connection or sent a malformed answer), 503 (no registered
  targets), 504 (no answer within the idle timeout, `--target-timeout`), and 403 here for a
  proxied request to a foreign host, 405 for CONNECT, 413 for a body over 10 MiB.
- Metrics:
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
  Namespace AWS/ApplicationELB, one-minute periods, each minute published once,
  `--metrics-delay` seconds after it ends, with the minute's start as Timestamp. Dimensions
  `LoadBalancer`+`TargetGroup`: RequestCount, HTTPCode_Target_{2,3,4,5}XX_Count,
  TargetConnectionErrorCount, TargetResponseTime, HealthyHostCount, UnHealthyHostCount;
  `LoadBalancer` only: RequestCount, HTTPCode_ELB_{4XX,5XX,502,503,504}_Count,
  HTTPCode_Target_*XX_Count, TargetConnectionErrorCount, TargetResponseTime. Counts are
  "reported if there are requests flowing" (only minutes with requests);
  HealthyHostCount/UnHealthyHostCount are published every minute for each group that has
  registered targets (a statistic set over one sample a second). RequestCount counts the
  requests for which a target was chosen (also those that then failed to connect or timed out).

TargetResponseTime and p99 in moto 5.2.5: moto's CloudWatch computes only SampleCount, Sum,
Minimum, Maximum and Average (`Statistics.get_statistics_for_type` in
moto/cloudwatch/models.py returns None for anything else). Any GetMetricData query with a
percentile stat (`p99`) over a period holding data of that metric -- single values,
`Values`+`Counts` arrays (stored expanded, one datum per count) or statistic sets alike --
makes moto fail to serialise the None and answer HTTP 500, failing the whole GetMetricData call.
So:
- `testkit/moto_percentiles/sitecustomize.py` (put on moto_server's PYTHONPATH; the Rust
  wrapper's `moto_percentiles_env()` gives the variable) teaches moto `pNN`: the nearest-rank
  percentile of the single values in the period (statistic sets contribute their Maximum);
- `--target-response-time auto` (default) probes moto at start with a p99 query on a private
  probe metric: if moto answers it, TargetResponseTime is published as `Values`+`Counts`
  arrays (response times to three significant digits, at most 150 distinct values per datum, as
  CloudWatch allows), from which percentiles are computed as on CloudWatch; if moto answers 500,
  TargetResponseTime is not published at all (so p99 queries answer without error and without
  data, instead of breaking every other metric in the same call). `values` and `off` force it.

moto quirk: a GetMetricData query with dimensions matches data whose sorted dimension lists are
equal, and moto's `Dimension.__lt__` is broken (it compares a value with a name), so the order
matters: data are put as [LoadBalancer, TargetGroup]; query in that order (mcpctl does).

Not emulated: HTTPS listeners, authentication actions, redirects, `query-string`/`http-header`/
`source-ip` conditions (a rule with one never matches), group stickiness, slow start,
deregistration delay, connection draining, per-AZ nodes, HTTP/2, WebSockets, access logs, the
other metrics (ActiveConnectionCount, ProcessedBytes, ...).
"""

import argparse
import datetime
import http.client
import http.server
import json
import math
import os
import random
import re
import signal
import socket
import stat
import sys
import threading
import time
import urllib.parse
import uuid

import boto3
import botocore.config
import botocore.exceptions

MAX_BODY = 10 * 1024 * 1024
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade", "content-length",
}
LOCAL_IDS = {"127.0.0.1", "localhost"}
NAMESPACE = "AWS/ApplicationELB"

ARGS = None
VERBOSE = False


def log(msg):
    sys.stderr.write(f"alb-dataplane: {msg}\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------------------------------
# Control plane snapshot (read from moto)


def wildcard(pattern, ignore_case):
    """An ALB condition value (`*` any run of characters, `?` one) as a compiled regex."""
    out = []
    for ch in pattern:
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def condition_values(cond, config_key):
    cfg = cond.get(config_key) or {}
    return list(cfg.get("Values") or cond.get("Values") or [])


class Rule:
    def __init__(self, r):
        self.priority = r.get("Priority", "default")
        self.is_default = bool(r.get("IsDefault")) or self.priority == "default"
        self.order = math.inf if self.is_default else int(self.priority)
        self.matchers = []  # (kind, [regex] or [str])
        self.unsupported = None
        for c in r.get("Conditions") or []:
            field = c.get("Field")
            if field == "path-pattern":
                self.matchers.append(("path", [wildcard(v, False) for v in condition_values(c, "PathPatternConfig")]))
            elif field == "host-header":
                self.matchers.append(("host", [wildcard(v, True) for v in condition_values(c, "HostHeaderConfig")]))
            elif field == "http-request-method":
                self.matchers.append(("method", condition_values(c, "HttpRequestMethodConfig")))
            else:
                self.unsupported = field
        self.action = None
        for a in sorted(r.get("Actions") or [], key=lambda a: a.get("Order", 0)):
            if a.get("Type") in ("forward", "fixed-response"):
                self.action = a
                break
            self.unsupported = self.unsupported or f"action {a.get('Type')}"

    def matches(self, method, host, path):
        if self.unsupported:
            return False
        for kind, values in self.matchers:
            if kind == "path" and not any(rx.fullmatch(path) for rx in values):
                return False
            if kind == "host" and not any(rx.fullmatch(host) for rx in values):
                return False
            if kind == "method" and method not in values:
                return False
        return True

    def forward_groups(self):
        """[(target group ARN, weight)] of a forward action."""
        a = self.action or {}
        groups = (a.get("ForwardConfig") or {}).get("TargetGroups") or []
        if groups:
            return [(g["TargetGroupArn"], int(g.get("Weight", 1))) for g in groups]
        if a.get("TargetGroupArn"):
            return [(a["TargetGroupArn"], 1)]
        return []


class Group:
    def __init__(self, tg, targets):
        self.arn = tg["TargetGroupArn"]
        self.name = tg["TargetGroupName"]
        self.dim = self.arn.rsplit(":", 1)[-1]  # targetgroup/NAME/ID
        self.path = tg.get("HealthCheckPath") or "/"
        self.matcher = (tg.get("Matcher") or {}).get("HttpCode") or "200"
        self.interval = float(tg.get("HealthCheckIntervalSeconds") or 30)
        self.timeout = float(tg.get("HealthCheckTimeoutSeconds") or 5)
        self.healthy_threshold = int(tg.get("HealthyThresholdCount") or 5)
        self.unhealthy_threshold = int(tg.get("UnhealthyThresholdCount") or 2)
        self.hc_port = tg.get("HealthCheckPort") or "traffic-port"
        port = tg.get("Port")
        self.targets = []  # [(id, port)]
        for d in targets:
            t = d.get("Target") or {}
            tid, tport = t.get("Id"), t.get("Port") or port
            if tid and tport:
                self.targets.append((tid, int(tport)))

    def matcher_ok(self, status):
        for part in str(self.matcher).split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = part.split("-", 1)
                if int(lo) <= status <= int(hi):
                    return True
            elif part and int(part) == status:
                return True
        return False


class Snapshot:
    def __init__(self, lb, rules, groups):
        self.lb_arn = lb["LoadBalancerArn"]
        self.lb_dim = self.lb_arn.split(":loadbalancer/", 1)[-1]  # app/NAME/ID
        self.dns_name = lb["DNSName"]
        self.rules = sorted(rules, key=lambda r: r.order)
        self.groups = groups  # arn -> Group


def read_snapshot(elb):
    lb = elb.describe_load_balancers(Names=[ARGS.load_balancer])["LoadBalancers"][0]
    listeners = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    listener = next((l for l in listeners if int(l["Port"]) == ARGS.listener_port), None)
    rules = []
    if listener:
        marker = None
        while True:
            kw = {"ListenerArn": listener["ListenerArn"]}
            if marker:
                kw["Marker"] = marker
            page = elb.describe_rules(**kw)
            rules.extend(Rule(r) for r in page["Rules"])
            marker = page.get("NextMarker")
            if not marker:
                break
    wanted = set()
    for r in rules:
        for arn, _ in r.forward_groups():
            wanted.add(arn)
    groups = {}
    tgs = []
    for page in elb.get_paginator("describe_target_groups").paginate():
        tgs.extend(page["TargetGroups"])
    for tg in tgs:
        if tg["TargetGroupArn"] in wanted or lb["LoadBalancerArn"] in (tg.get("LoadBalancerArns") or []):
            health = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
            groups[tg["TargetGroupArn"]] = Group(tg, health.get("TargetHealthDescriptions") or [])
    return Snapshot(lb, rules, groups)


SNAPSHOT = None
SNAP_LOCK = threading.Lock()


def refresher(elb):
    global SNAPSHOT
    last_error = None
    while True:
        time.sleep(ARGS.refresh)
        try:
            snap = read_snapshot(elb)
            with SNAP_LOCK:
                SNAPSHOT = snap
            last_error = None
        except Exception as e:  # keep the last good snapshot
            if str(e) != last_error:
                log(f"refresh failed (keeping the last configuration): {e}")
                last_error = str(e)


# ---------------------------------------------------------------------------------------------
# Health checks


class Health:
    def __init__(self):
        self.state = "initial"
        self.ok_run = 0
        self.fail_run = 0


HEALTH = {}  # (tg arn, id, port) -> Health
HEALTH_LOCK = threading.Lock()


def check_once(group, tid, port):
    if tid not in LOCAL_IDS:
        return False  # never contacted
    hc_port = port if group.hc_port == "traffic-port" else int(group.hc_port)
    interval = ARGS.health_interval or group.interval
    timeout = min(group.timeout, max(interval, 1.0)) if ARGS.health_interval else group.timeout
    try:
        conn = http.client.HTTPConnection("127.0.0.1", hc_port, timeout=timeout)
        try:
            conn.request("GET", group.path, headers={"User-Agent": "ELB-HealthChecker/2.0", "Connection": "close"})
            resp = conn.getresponse()
            resp.read(64 * 1024)
            return group.matcher_ok(resp.status)
        finally:
            conn.close()
    except (OSError, http.client.HTTPException):
        return False


def health_worker(key):
    arn, tid, port = key
    while True:
        with SNAP_LOCK:
            snap = SNAPSHOT
        group = snap.groups.get(arn) if snap else None
        if group is None or (tid, port) not in group.targets:
            with HEALTH_LOCK:
                HEALTH.pop(key, None)
            return
        started = time.monotonic()
        ok = check_once(group, tid, port)
        with HEALTH_LOCK:
            h = HEALTH.get(key)
            if h is None:
                return
            if ok:
                h.ok_run, h.fail_run = h.ok_run + 1, 0
                if h.state != "healthy" and h.ok_run >= group.healthy_threshold:
                    h.state = "healthy"
            else:
                h.ok_run, h.fail_run = 0, h.fail_run + 1
                if h.state != "unhealthy" and h.fail_run >= group.unhealthy_threshold:
                    h.state = "unhealthy"
        interval = ARGS.health_interval or group.interval
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


def health_supervisor():
    while True:
        with SNAP_LOCK:
            snap = SNAPSHOT
        if snap:
            for arn, g in snap.groups.items():
                for tid, port in g.targets:
                    key = (arn, tid, port)
                    with HEALTH_LOCK:
                        if key in HEALTH:
                            continue
                        HEALTH[key] = Health()
                    threading.Thread(target=health_worker, args=(key,), daemon=True).start()
        time.sleep(0.1)


def states(group):
    with HEALTH_LOCK:
        return [(t, (HEALTH.get((group.arn,) + t) or Health()).state) for t in group.targets]


RR = {}  # tg arn -> counter
RR_LOCK = threading.Lock()


def pick_target(group):
    st = states(group)
    if not st:
        return None
    healthy = [t for t, s in st if s == "healthy"]
    pool = healthy or [t for t, _ in st]  # fail open
    with RR_LOCK:
        n = RR.get(group.arn, 0)
        RR[group.arn] = n + 1
    return pool[n % len(pool)]


# ---------------------------------------------------------------------------------------------
# Metrics


class Minute:
    def __init__(self):
        self.counts = {}  # (tg dim or None, metric) -> count
        self.times = {}  # tg dim or None -> {rounded seconds: count}
        self.hosts = {}  # tg dim -> ([healthy samples], [unhealthy samples])


MINUTES = {}  # minute start (epoch seconds) -> Minute
METRICS_LOCK = threading.Lock()


def current_minute():
    return int(time.time()) // 60 * 60


def count(tg_dim, metric, n=1):
    with METRICS_LOCK:
        m = MINUTES.setdefault(current_minute(), Minute())
        m.counts[(tg_dim, metric)] = m.counts.get((tg_dim, metric), 0) + n


def record_time(tg_dim, seconds):
    v = float(f"{seconds:.3g}")  # three significant digits: local answers take well under 1 ms
    with METRICS_LOCK:
        m = MINUTES.setdefault(current_minute(), Minute())
        for key in (tg_dim, None):
            hist = m.times.setdefault(key, {})
            hist[v] = hist.get(v, 0) + 1


def sample_hosts():
    """Once a second: the healthy/unhealthy target count of each group with registered targets."""
    while True:
        with SNAP_LOCK:
            snap = SNAPSHOT
        if snap:
            samples = {}
            for g in snap.groups.values():
                if g.targets:
                    st = [s for _, s in states(g)]
                    samples[g.dim] = (st.count("healthy"), st.count("unhealthy"))
            with METRICS_LOCK:
                m = MINUTES.setdefault(current_minute(), Minute())
                for dim, (h, u) in samples.items():
                    hs, us = m.hosts.setdefault(dim, ([], []))
                    hs.append(h)
                    us.append(u)
        time.sleep(1.0)


def stat_set(values):
    return {"SampleCount": float(len(values)), "Sum": float(sum(values)),
            "Minimum": float(min(values)), "Maximum": float(max(values))}


def minute_data(snap, start, m):
    ts = datetime.datetime.fromtimestamp(start, datetime.timezone.utc)
    lb = [{"Name": "LoadBalancer", "Value": snap.lb_dim}]
    out = []

    def dims(tg_dim):
        return lb if tg_dim is None else lb + [{"Name": "TargetGroup", "Value": tg_dim}]

    for (tg_dim, metric), n in sorted(m.counts.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        # A count is the sum of that many 1s: SampleCount n, Sum n, Minimum/Maximum 1.
        out.append({"MetricName": metric, "Dimensions": dims(tg_dim), "Timestamp": ts, "Unit": "Count",
                    "StatisticValues": {"SampleCount": float(n), "Sum": float(n), "Minimum": 1.0, "Maximum": 1.0}})
    if RESPONSE_TIMES:
        for tg_dim, hist in m.times.items():
            items = sorted(hist.items())
            for i in range(0, len(items), 150):
                chunk = items[i:i + 150]
                out.append({"MetricName": "TargetResponseTime", "Dimensions": dims(tg_dim), "Timestamp": ts,
                            "Unit": "Seconds", "Values": [v for v, _ in chunk], "Counts": [float(c) for _, c in chunk]})
    for tg_dim, (hs, us) in m.hosts.items():
        out.append({"MetricName": "HealthyHostCount", "Dimensions": dims(tg_dim), "Timestamp": ts,
                    "Unit": "Count", "StatisticValues": stat_set(hs)})
        out.append({"MetricName": "UnHealthyHostCount", "Dimensions": dims(tg_dim), "Timestamp": ts,
                    "Unit": "Count", "StatisticValues": stat_set(us)})
    return out


def publisher(cw):
    while True:
        time.sleep(0.2)
        now = time.time()
        with METRICS_LOCK:
            due = sorted(s for s in MINUTES if s + 60 + ARGS.metrics_delay <= now)
            ready = [(s, MINUTES.pop(s)) for s in due]
        with SNAP_LOCK:
            snap = SNAPSHOT
        for start, m in ready:
            data = minute_data(snap, start, m)
            for i in range(0, len(data), 20):
                try:
                    cw.put_metric_data(Namespace=NAMESPACE, MetricData=data[i:i + 20])
                except Exception as e:
                    log(f"PutMetricData for the minute at {start} failed: {e}")
            if VERBOSE:
                log(f"published {len(data)} data points for the minute at {start}")


RESPONSE_TIMES = True


def moto_answers_percentiles(endpoint, region):
    """Probe: a p99 GetMetricData on a private metric far in the past (see the module doc)."""
    cw = boto3.client("cloudwatch", endpoint_url=endpoint, region_name=region,
                      config=botocore.config.Config(retries={"max_attempts": 1}))
    t = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)
    dims = [{"Name": "Probe", "Value": uuid.uuid4().hex}]
    cw.put_metric_data(Namespace="mcpctl-testkit/alb-dataplane-probe",
                       MetricData=[{"MetricName": "Probe", "Dimensions": dims, "Timestamp": t, "Values": [0.1], "Counts": [1.0]}])
    try:
        r = cw.get_metric_data(
            MetricDataQueries=[{"Id": "p", "MetricStat": {"Metric": {"Namespace": "mcpctl-testkit/alb-dataplane-probe",
                                                                     "MetricName": "Probe", "Dimensions": dims},
                                                          "Period": 60, "Stat": "p99"}}],
            StartTime=t, EndTime=t + datetime.timedelta(minutes=2))
        return bool(r["MetricDataResults"][0]["Values"])
    except botocore.exceptions.ClientError:
        return False


# ---------------------------------------------------------------------------------------------
# The listener


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "awselb/2.0"
    timeout = 60  # the load balancer's client idle timeout (its default, 60 s)
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def simple(self, status, body=b"", content_type="text/html", elb_count=True):
        if elb_count:
            count(None, f"HTTPCode_ELB_{status // 100}XX_Count")
            if status in (502, 503, 504):
                count(None, f"HTTPCode_ELB_{status}_Count")
        if isinstance(body, str):
            body = body.encode()
        if not body and status >= 400:
            body = f"<html><body><center><h1>{status} {self.responses.get(status, ('',))[0]}</h1></center></body></html>\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def read_body(self):
        """The request body, or None after answering 413/400."""
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    self.close_connection = True
                    self.simple(400)
                    return None
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    self.close_connection = True
                    self.simple(413)
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            n = int(length)
        except ValueError:
            self.close_connection = True
            self.simple(400)
            return None
        if n > MAX_BODY or n < 0:
            self.close_connection = True
            self.simple(413)
            return None
        return self.rfile.read(n)

    def do_CONNECT(self):
        self.close_connection = True
        self.simple(405, elb_count=True)

    def handle_any(self):
        with SNAP_LOCK:
            snap = SNAPSHOT
        target = self.path
        host = self.headers.get("Host") or ""
        if not target.startswith("/"):  # absolute form: we are the client's HTTP proxy
            u = urllib.parse.urlsplit(target)
            authority = u.netloc.rsplit("@", 1)[-1].lower()
            name, _, port = authority.partition(":")
            if u.scheme.lower() != "http" or name != snap.dns_name.lower() or port not in ("", str(ARGS.listener_port)):
                if VERBOSE:
                    log(f"{self.command} {target} -> 403 (not this load balancer)")
                return self.simple(403)
            target = (u.path or "/") + (f"?{u.query}" if u.query else "")
            host = host or u.netloc
        body = self.read_body()
        if body is None:
            return
        path = target.split("?", 1)[0]
        host_name = host.rsplit("@", 1)[-1].split(":", 1)[0].lower()
        rule = next((r for r in snap.rules if r.matches(self.command, host_name, path)), None)
        if rule is None or rule.action is None:
            return self.simple(503)
        action = rule.action
        if action["Type"] == "fixed-response":
            cfg = action.get("FixedResponseConfig") or {}
            status = int(cfg.get("StatusCode") or 200)
            if status >= 400:
                count(None, f"HTTPCode_ELB_{status // 100}XX_Count")
            return self.simple(status, cfg.get("MessageBody") or "", cfg.get("ContentType") or "text/plain",
                               elb_count=False)
        choices = [(arn, w) for arn, w in rule.forward_groups() if w > 0]
        if not choices:
            return self.simple(503)
        arn = random.choices([a for a, _ in choices], weights=[w for _, w in choices])[0]
        group = snap.groups.get(arn)
        picked = pick_target(group) if group else None
        if picked is None:
            if VERBOSE:
                log(f"{self.command} {target} -> {group.name if group else arn} (no targets) 503")
            return self.simple(503)
        self.forward(group, picked, target, host, body)

    def forward(self, group, picked, target, host, body):
        tid, port = picked
        count(group.dim, "RequestCount")
        count(None, "RequestCount")

        def conn_error():
            count(group.dim, "TargetConnectionErrorCount")
            count(None, "TargetConnectionErrorCount")
            if VERBOSE:
                log(f"{self.command} {target} -> {group.name} {tid}:{port} 502 (connection error)")
            self.simple(502)

        if tid not in LOCAL_IDS:
            return conn_error()  # never contacted: only 127.0.0.1 is
        headers = {}
        for k, v in self.headers.items():
            low = k.lower()
            # Host and Content-Length are set below, once: a header name is case-insensitive,
            # so a client's `host` and our `Host` would otherwise both be sent.
            if low in HOP_BY_HOP or low.startswith("x-forwarded-") or low in ("host", "content-length"):
                continue
            headers[k] = v
        xff = self.headers.get("X-Forwarded-For")
        headers["Host"] = host
        headers["X-Forwarded-For"] = f"{xff}, {self.client_address[0]}" if xff else self.client_address[0]
        headers["X-Forwarded-Proto"] = "http"
        headers["X-Forwarded-Port"] = str(ARGS.listener_port)
        headers["X-Amzn-Trace-Id"] = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        headers["Connection"] = "close"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=ARGS.target_timeout)
        try:
            started = time.monotonic()
            try:
                conn.connect()
            except socket.timeout:
                return conn_error()
            except OSError:
                return conn_error()
            try:
                conn.putrequest(self.command, target, skip_host=True, skip_accept_encoding=True)
                for k, v in headers.items():
                    conn.putheader(k, v)
                conn.endheaders(body if body else None)
                resp = conn.getresponse()
            except socket.timeout:
                if VERBOSE:
                    log(f"{self.command} {target} -> {group.name} {tid}:{port} 504 (timeout)")
                return self.simple(504)
            except (OSError, http.client.HTTPException):
                if VERBOSE:
                    log(f"{self.command} {target} -> {group.name} {tid}:{port} 502 (bad answer)")
                return self.simple(502)
            elapsed = time.monotonic() - started
            record_time(group.dim, elapsed)
            status = resp.status
            count(group.dim, f"HTTPCode_Target_{status // 100}XX_Count")
            count(None, f"HTTPCode_Target_{status // 100}XX_Count")
            if VERBOSE:
                log(f"{self.command} {target} -> {group.name} {tid}:{port} {status}")
            self.relay(resp)
        finally:
            conn.close()

    def relay(self, resp):
        """Stream the target's answer to the client, chunk by chunk (SSE keeps working)."""
        self.send_response_only(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        no_body = self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
        length = resp.getheader("Content-Length")
        chunked = False
        if no_body:
            if length is not None:
                self.send_header("Content-Length", length)
        elif length is not None:
            self.send_header("Content-Length", length)
        elif self.request_version == "HTTP/1.1":
            self.send_header("Transfer-Encoding", "chunked")
            chunked = True
        else:
            self.close_connection = True
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()
        if no_body:
            return
        try:
            while True:
                data = resp.read1(64 * 1024)
                if not data:
                    break
                if chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                else:
                    self.wfile.write(data)
                self.wfile.flush()
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
        except (OSError, http.client.HTTPException):
            self.close_connection = True  # the target went away mid-answer: cut the client off

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any


# ---------------------------------------------------------------------------------------------


def watch_parent():
    parent = os.getppid()
    stdin_is_pipe = False
    try:
        stdin_is_pipe = stat.S_ISFIFO(os.fstat(0).st_mode)
    except OSError:
        pass
    if stdin_is_pipe:
        def stdin_eof():
            try:
                while os.read(0, 4096):
                    pass
            except OSError:
                pass
            os._exit(0)
        threading.Thread(target=stdin_eof, daemon=True).start()
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def main():
    global ARGS, VERBOSE, SNAPSHOT, RESPONSE_TIMES
    p = argparse.ArgumentParser(description="A local ALB data plane for one listener kept in moto (test-only).")
    p.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL"), help="moto's URL")
    p.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")
    p.add_argument("--load-balancer", required=True, metavar="NAME")
    p.add_argument("--listener-port", type=int, default=80)
    p.add_argument("--listen-port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    p.add_argument("--metrics-delay", type=float, default=60.0)
    p.add_argument("--health-interval", type=float, default=None, help="overrides HealthCheckIntervalSeconds")
    p.add_argument("--target-timeout", type=float, default=10.0, help="the idle timeout after which 504")
    p.add_argument("--refresh", type=float, default=0.5)
    p.add_argument("--target-response-time", choices=["auto", "values", "off"], default="auto")
    p.add_argument("--verbose", action="store_true")
    ARGS = p.parse_args()
    VERBOSE = ARGS.verbose
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Thread(target=watch_parent, daemon=True).start()

    kw = {"region_name": ARGS.region}
    if ARGS.endpoint:
        kw["endpoint_url"] = ARGS.endpoint
    elb = boto3.client("elbv2", **kw)
    cw = boto3.client("cloudwatch", **kw)
    deadline = time.monotonic() + 60
    while True:
        try:
            SNAPSHOT = read_snapshot(elb)
            break
        except Exception as e:
            if time.monotonic() > deadline:
                log(f"could not read load balancer {ARGS.load_balancer}: {e}")
                sys.exit(1)
            time.sleep(0.2)
    if ARGS.target_response_time == "auto":
        RESPONSE_TIMES = moto_answers_percentiles(ARGS.endpoint, ARGS.region)
        if not RESPONSE_TIMES:
            log("moto answers percentile statistics with HTTP 500: TargetResponseTime is not published "
                "(start moto with testkit/moto_percentiles on PYTHONPATH to have it)")
    else:
        RESPONSE_TIMES = ARGS.target_response_time == "values"

    server = Server(("127.0.0.1", ARGS.listen_port), Handler)
    for target, args in ((refresher, (elb,)), (health_supervisor, ()), (sample_hosts, ()), (publisher, (cw,))):
        threading.Thread(target=target, args=args, daemon=True).start()
    print(json.dumps({"ready": True, "port": server.server_address[1], "dns_name": SNAPSHOT.dns_name,
                      "load_balancer": SNAPSHOT.lb_dim, "target_response_time": RESPONSE_TIMES}), flush=True)
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
