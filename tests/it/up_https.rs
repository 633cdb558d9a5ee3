//! An HTTPS endpoint in moto: an ACM certificate (`RequestCertificate`), a stack with
//! `listener_protocol: HTTPS` and `auth:`; `up` creates the 443 listener with the certificate and
//! the TLS policy, the HTTP:80 redirect, the rule on 443 (with the RFC 9728 metadata path), and
//! the server's env (certificate names in `MCP_ALLOWED_HOSTS`, `MCP_OAUTH_*`). A re-run changes
//! nothing; `status` prints the `https://<domain>` URL. A pending certificate stops `up` before
//! any change (moto issues certificates after `MOTO_ACM_VALIDATION_WAIT` seconds; AWS only once
//! DNS validation passes — an HTTPS listener needs an issued certificate:
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/https-listener-certificates.html>).

use std::collections::HashMap;

use crate::common::aws::{moto_stack, mutating, Aws, IMAGE};
use serde_json::Value;

const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123";

fn request_certificate(aws: &Aws) -> String {
    aws.boto(
        "acm = boto3.client('acm')\n\
         result = acm.request_certificate(DomainName='mcp.example.com',\n\
           SubjectAlternativeNames=['mcp.example.com', '*.example.com', 'mcp2.example.com'],\n\
           ValidationMethod='DNS')['CertificateArn']",
    )
    .as_str()
    .unwrap()
    .to_string()
}

fn https_stack(dir: &std::path::Path, cert: &str) -> String {
    let extra = format!(
        "load_balancer:\n  listener_protocol: HTTPS\n  certificate_arn: {cert}\n\
         auth:\n  issuer: {ISSUER}\n  client_ids: [client-a]\n  scopes: [mcp/read]\n"
    );
    moto_stack(dir, "stateless", &extra).display().to_string()
}

fn listeners(aws: &Aws) -> Value {
    aws.boto(
        "lb = elb.describe_load_balancers(Names=['fastmcp-alb'])['LoadBalancers'][0]['LoadBalancerArn']\n\
         ls = elb.describe_listeners(LoadBalancerArn=lb)['Listeners']\n\
         result = {str(l['Port']): {'l': l, 'rules': [r for r in elb.describe_rules(ListenerArn=l['ListenerArn'])['Rules'] if not r['IsDefault']]} for l in ls}",
    )
}

#[test]
fn an_https_stack_gets_its_certificate_listener_redirect_rule_and_oauth_env() {
    let aws = Aws::start_with_options(&[("MOTO_ACM_VALIDATION_WAIT", "0")], &["--no-listener"]);
    let cert = request_certificate(&aws);
    let dir = tempfile::tempdir().unwrap();
    let stack = https_stack(dir.path(), &cert);

    let out = aws.mcpctl_json(&["up", "--stack", &stack, "--image", IMAGE, "--no-wait"]);
    let done: Vec<String> = out["applied"]["done"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d["kind"].as_str().unwrap(),
                d["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(done[0], "listener HTTPS:443", "{done:?}");
    assert_eq!(done[1], "redirect_listener HTTP:80", "{done:?}");

    let ls = listeners(&aws);
    let https = &ls["443"]["l"];
    assert_eq!(https["Protocol"], "HTTPS");
    assert_eq!(https["Certificates"][0]["CertificateArn"], cert.as_str());
    assert_eq!(https["SslPolicy"], "ELBSecurityPolicy-TLS13-1-2-2021-06");
    assert_eq!(
        https["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"],
        "404"
    );
    let redirect = &ls["80"]["l"]["DefaultActions"][0];
    assert_eq!(redirect["Type"], "redirect");
    assert_eq!(redirect["RedirectConfig"]["Protocol"], "HTTPS");
    assert_eq!(redirect["RedirectConfig"]["Port"], "443");
    assert_eq!(redirect["RedirectConfig"]["StatusCode"], "HTTP_301");
    assert_eq!(ls["80"]["rules"].as_array().unwrap().len(), 0);

    // The stack's rule is on the HTTPS listener and also routes the metadata path.
    let rules = ls["443"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "{rules:?}");
    let mut paths: Vec<String> = rules[0]["Conditions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            c["PathPatternConfig"]["Values"]
                .as_array()
                .or(c["Values"].as_array())
                .cloned()
                .unwrap_or_default()
        })
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        vec![
            "/.well-known/oauth-protected-resource/ossserver-stateless/*",
            "/ossserver-stateless/*"
        ]
    );

    let td = aws.boto(
        "result = ecs.describe_task_definition(taskDefinition='opensearch-mcp-server-stateless')['taskDefinition']['containerDefinitions'][0]['environment']",
    );
    let env: HashMap<String, String> = td
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| {
            (
                kv["name"].as_str().unwrap().into(),
                kv["value"].as_str().unwrap().into(),
            )
        })
        .collect();
    let dns = aws.shared["dns_name"].as_str().unwrap();
    // The certificate's names (its wildcard left out), then the ALB's, then the loopback names.
    assert_eq!(
        env["MCP_ALLOWED_HOSTS"],
        format!("mcp.example.com,mcp2.example.com,{dns},localhost,127.0.0.1")
    );
    assert_eq!(env["MCP_OAUTH_ISSUER"], ISSUER);
    assert_eq!(env["MCP_OAUTH_CLIENT_IDS"], "client-a");
    assert_eq!(env["MCP_OAUTH_REQUIRED_SCOPES"], "mcp/read");
    assert_eq!(
        env["MCP_RESOURCE_URL"],
        "https://mcp.example.com/ossserver-stateless/ossmcp"
    );

    // A re-run plans nothing and makes no changing call.
    let again = aws.mcpctl_json(&["up", "--stack", &stack, "--image", IMAGE, "--no-wait"]);
    assert_eq!(mutating(&again), Vec::<String>::new(), "{again:#}");

    // `status` gives the URL clients use.
    let st = aws.mcpctl_json(&["status", "--stack", &stack]);
    assert_eq!(
        st["url"], "https://mcp.example.com/ossserver-stateless/ossmcp",
        "{st:#}"
    );
}

#[test]
fn a_pending_certificate_stops_up_before_any_change() {
    // moto's default: certificates stay PENDING_VALIDATION for 60 s.
    let aws = Aws::start_without_listener();
    let cert = request_certificate(&aws);
    let dir = tempfile::tempdir().unwrap();
    let stack = https_stack(dir.path(), &cert);
    let out = aws.mcpctl(&["up", "--stack", &stack, "--image", IMAGE, "--no-wait"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("PENDING_VALIDATION"), "{stderr}");
    assert_eq!(listeners(&aws).as_object().unwrap().len(), 0);
}

#[test]
fn cutover_and_rollback_work_on_the_https_listener() {
    let aws = Aws::start_with_options(&[("MOTO_ACM_VALIDATION_WAIT", "0")], &["--no-listener"]);
    let cert = request_certificate(&aws);
    let dir = tempfile::tempdir().unwrap();
    https_stack(dir.path(), &cert);
    moto_stack(
        dir.path(),
        "stateful",
        &format!("load_balancer:\n  listener_protocol: HTTPS\n  certificate_arn: {cert}\n"),
    );
    let d = dir.path().to_str().unwrap();
    aws.up_all(d, &["stateful", "stateless"]);
    // moto registers no tasks: put healthy targets in the stateless group, as ECS would.
    aws.register_target("opensearch-mcp-tg-stateless", "10.0.1.10");
    let weights = || -> Vec<(String, i64)> {
        let r = listeners(&aws);
        let rule = r["443"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["Priority"] == "100")
            .cloned()
            .expect("the production rule on 443");
        let mut w: Vec<(String, i64)> = rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|t| {
                let arn = t["TargetGroupArn"].as_str().unwrap();
                let name = arn.split('/').nth(1).unwrap().to_string();
                (name, t["Weight"].as_i64().unwrap_or(1))
            })
            .collect();
        w.sort();
        w
    };
    let out = aws.mcpctl(&["cutover", "--weight", "50", "--yes", "--stacks-dir", d]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        weights(),
        vec![
            ("opensearch-mcp-tg".to_string(), 50),
            ("opensearch-mcp-tg-stateless".to_string(), 50)
        ]
    );
    let out = aws.mcpctl(&["rollback", "--yes", "--stacks-dir", d]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let w = weights();
    assert!(
        w.iter().all(|(n, wt)| n == "opensearch-mcp-tg" || *wt == 0),
        "all traffic back on the stateful group: {w:?}"
    );
}
