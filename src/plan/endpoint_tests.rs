//! The listener plan and the endpoint settings of the desired state, on stacks loaded from
//! text (HTTP and HTTPS, with and without `auth:`).

use super::*;
use crate::plan::observed::{Alb, Listener, Shared};
use crate::plan::{plan, Desired, Observed};

const CERT: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666";
const DNS: &str = "fastmcp-alb-1.us-east-1.elb.amazonaws.com";

fn stateless(extra: &str) -> Stack {
    crate::stack::stateless_for_test(extra).unwrap()
}

fn shared(listeners: &[(u16, &str)], certificate: Option<Certificate>) -> Shared {
    let l = |port: u16, protocol: &str| Listener {
        arn: format!("listener/{port}"),
        port,
        protocol: protocol.into(),
        certificates: if protocol == "HTTPS" {
            vec![CERT.to_string()]
        } else {
            Vec::new()
        },
    };
    Shared {
        alb: Alb {
            arn: "alb/1".into(),
            name: "fastmcp-alb".into(),
            dns_name: DNS.into(),
            vpc_id: "vpc-1".into(),
            subnets: vec!["subnet-a".into()],
            security_groups: vec!["sg-1".into()],
        },
        listener: listeners
            .iter()
            .find(|(p, _)| *p == 443)
            .map(|(p, pr)| l(*p, pr)),
        http_listener: listeners
            .iter()
            .find(|(p, _)| *p == 80)
            .map(|(p, pr)| l(*p, pr)),
        certificate,
        ..Default::default()
    }
}

fn issued(names: &[&str]) -> Option<Certificate> {
    Some(Certificate {
        arn: CERT.into(),
        status: "ISSUED".into(),
        domain_names: names.iter().map(|n| n.to_string()).collect(),
    })
}

const HTTPS: &str = "load_balancer:\n  listener_protocol: HTTPS\n  certificate_arn: arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666\n";

fn env_of(d: &Desired, k: &str) -> Option<String> {
    d.task_definition
        .env
        .iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.clone())
}

#[test]
fn https_on_a_new_alb_creates_the_listener_with_its_certificate_and_a_redirect() {
    let s = stateless(HTTPS);
    assert_eq!(s.load_balancer.listener_port, 443);
    let sh = shared(&[], issued(&["mcp.example.com"]));
    let d = Desired::new(&s, &sh, Some("img".into()));
    let p = plan(
        &d,
        &Observed {
            shared: sh,
            ..Default::default()
        },
    );
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(
        p.steps.listener.own,
        ListenerStep::Create {
            alb_arn: "alb/1".into(),
            listener: ListenerSpec {
                port: 443,
                protocol: ListenerProtocol::Https,
                certificate_arn: Some(CERT.into()),
            },
        }
    );
    assert_eq!(
        p.steps.listener.redirect,
        Some(RedirectListener {
            alb_arn: "alb/1".into(),
            port: 80,
            to_port: 443
        })
    );
    let rows: Vec<(Kind, &str, Action)> = p
        .changes
        .iter()
        .take(2)
        .map(|c| (c.kind, c.name.as_str(), c.action))
        .collect();
    assert_eq!(
        rows,
        vec![
            (Kind::Listener, "HTTPS:443", Action::Create),
            (Kind::RedirectListener, "HTTP:80", Action::Create)
        ]
    );
    assert!(p.changes[0].note.as_deref().unwrap().contains(TLS_POLICY));
    // The certificate's name is what clients send in Host.
    assert_eq!(
        env_of(&d, "MCP_ALLOWED_HOSTS").unwrap(),
        format!("mcp.example.com,{DNS},localhost,127.0.0.1")
    );
}

#[test]
fn an_existing_port_80_listener_is_left_alone_and_a_wrong_protocol_is_a_problem() {
    let s = stateless(HTTPS);
    let sh = shared(&[(80, "HTTP"), (443, "HTTPS")], issued(&["a.example.com"]));
    let d = Desired::new(&s, &sh, Some("img".into()));
    let o = Observed {
        shared: sh,
        ..Default::default()
    };
    let p = plan(&d, &o);
    assert_eq!(p.steps.listener.redirect, None);
    assert_eq!(
        p.steps.listener.own,
        ListenerStep::Keep {
            arn: "listener/443".into()
        }
    );
    assert!(p.problems.is_empty(), "{:?}", p.problems);

    let sh = shared(&[(443, "HTTP")], issued(&["a.example.com"]));
    let o = Observed {
        shared: sh,
        ..Default::default()
    };
    let p = plan(&d, &o);
    assert!(
        p.problems
            .iter()
            .any(|m| m.contains("port 443") && m.contains("is HTTP")),
        "{:?}",
        p.problems
    );
}

#[test]
fn a_missing_or_unissued_certificate_stops_up_before_any_change() {
    let s = stateless(HTTPS);
    for (cert, want) in [
        (None, "was not found"),
        (
            Some(Certificate {
                arn: CERT.into(),
                status: "PENDING_VALIDATION".into(),
                domain_names: vec!["mcp.example.com".into()],
            }),
            "is PENDING_VALIDATION",
        ),
    ] {
        let sh = shared(&[], cert);
        let d = Desired::new(&s, &sh, Some("img".into()));
        let p = plan(
            &d,
            &Observed {
                shared: sh,
                ..Default::default()
            },
        );
        assert!(
            p.problems.iter().any(|m| m.contains(want)),
            "{want}: {:?}",
            p.problems
        );
    }
}

#[test]
fn auth_becomes_the_servers_oauth_env_and_routes_the_metadata_path() {
    let s = stateless(&format!(
        "{HTTPS}  domain_names: [mcp.example.com]\nauth:\n  issuer: https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC\n  client_ids: [client-a]\n  scopes: [mcp/read]\n"
    ));
    // The stack's names win over the certificate's (a wildcard certificate names no host).
    let sh = shared(&[(443, "HTTPS")], issued(&["*.example.com"]));
    let d = Desired::new(&s, &sh, Some("img".into()));
    assert_eq!(
        env_of(&d, "MCP_RESOURCE_URL").unwrap(),
        "https://mcp.example.com/ossserver-stateless/ossmcp"
    );
    assert_eq!(
        env_of(&d, "MCP_OAUTH_ISSUER").unwrap(),
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC"
    );
    assert_eq!(env_of(&d, "MCP_OAUTH_CLIENT_IDS").unwrap(), "client-a");
    assert_eq!(env_of(&d, "MCP_OAUTH_REQUIRED_SCOPES").unwrap(), "mcp/read");
    assert_eq!(env_of(&d, "MCP_OAUTH_AUDIENCE"), None);
    assert_eq!(
        d.rule.path_patterns,
        vec![
            "/ossserver-stateless/*".to_string(),
            "/.well-known/oauth-protected-resource/ossserver-stateless/*".to_string()
        ]
    );
    // cutover, rollback and cleanup find the rule by the same patterns.
    assert_eq!(s.rule_path_patterns(), d.rule.path_patterns);
    assert_eq!(
        stateless("").rule_path_patterns(),
        vec!["/ossserver-stateless/*".to_string()]
    );
    assert!(env_of(&d, "MCP_ALLOWED_HOSTS")
        .unwrap()
        .starts_with("mcp.example.com,"));
}

#[test]
fn without_https_the_plan_is_as_before() {
    let s = stateless("");
    let sh = shared(&[(80, "HTTP")], None);
    let d = Desired::new(&s, &sh, Some("img".into()));
    assert_eq!(d.listener.protocol, ListenerProtocol::Http);
    assert_eq!(
        env_of(&d, "MCP_ALLOWED_HOSTS").unwrap(),
        format!("{DNS},localhost,127.0.0.1")
    );
    assert!(env_of(&d, "MCP_OAUTH_ISSUER").is_none());
}

#[test]
fn the_origin_leaves_out_the_default_port() {
    let spec = |protocol, port| ListenerSpec {
        port,
        protocol,
        certificate_arn: None,
    };
    let https = spec(ListenerProtocol::Https, 443);
    let names = vec!["mcp.example.com".to_string()];
    assert_eq!(
        origin(&https, &names, "alb.example"),
        "https://mcp.example.com"
    );
    assert_eq!(origin(&https, &[], "alb.example"), "https://alb.example");
    let http = spec(ListenerProtocol::Http, 8080);
    assert_eq!(origin(&http, &[], "alb.example"), "http://alb.example:8080");
    assert!(spec(ListenerProtocol::Https, 443).wants_redirect());
    assert!(!spec(ListenerProtocol::Https, 80).wants_redirect());
    assert!(!spec(ListenerProtocol::Http, 80).wants_redirect());
}

#[test]
fn the_metrics_service_dimension_defaults_to_the_ecs_service() {
    let s = stateless("env:\n  MCP_METRICS_NAMESPACE: OpenSearchMCP\n");
    let sh = shared(&[(80, "HTTP")], None);
    let d = Desired::new(&s, &sh, Some("img".into()));
    assert_eq!(
        env_of(&d, "MCP_METRICS_SERVICE").unwrap(),
        "opensearch-mcp-server-stateless"
    );
    let s =
        stateless("env:\n  MCP_METRICS_NAMESPACE: OpenSearchMCP\n  MCP_METRICS_SERVICE: mine\n");
    let d = Desired::new(&s, &sh, Some("img".into()));
    assert_eq!(env_of(&d, "MCP_METRICS_SERVICE").unwrap(), "mine");
    assert!(env_of(&stateless_plain(), "MCP_METRICS_SERVICE").is_none());
}

fn stateless_plain() -> Desired {
    Desired::new(
        &stateless(""),
        &shared(&[(80, "HTTP")], None),
        Some("img".into()),
    )
}

#[test]
fn a_wildcard_only_certificate_without_domain_names_is_a_problem_naming_the_fix() {
    let s = stateless(HTTPS);
    let p = wildcard_only(&s, issued(&["*.example.com"]).as_ref()).unwrap();
    assert!(
        p.contains("names only wildcard names (*.example.com)")
            && p.contains("`load_balancer.domain_names: [mcp.example.com]`"),
        "{p}"
    );
    // A name besides the wildcard, or the stack's own domain_names: clients have a host.
    assert_eq!(
        wildcard_only(&s, issued(&["*.example.com", "mcp.example.com"]).as_ref()),
        None
    );
    let named = stateless(&format!("{HTTPS}  domain_names: [mcp.example.com]\n"));
    assert_eq!(
        wildcard_only(&named, issued(&["*.example.com"]).as_ref()),
        None
    );
    // Plain HTTP has no certificate to check.
    assert_eq!(
        wildcard_only(&stateless(""), issued(&["*.example.com"]).as_ref()),
        None
    );
}

#[test]
fn an_existing_https_listener_without_the_stacks_certificate_is_reported_with_the_fix() {
    let s = stateless(HTTPS);
    let mut sh = shared(&[(443, "HTTPS")], issued(&["mcp.example.com"]));
    let other = "arn:aws:acm:us-east-1:123456789012:certificate/other";
    sh.listener.as_mut().unwrap().certificates = vec![other.to_string()];
    let d = Desired::new(&s, &sh, Some("img".into()));
    let p = plan(
        &d,
        &Observed {
            shared: sh.clone(),
            ..Default::default()
        },
    );
    assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
    assert!(
        p.problems[0].contains(&format!(
            "serves {other}, not the stack's certificate {CERT}"
        )) && p.problems[0].contains("add-listener-certificates --listener-arn listener/443"),
        "{}",
        p.problems[0]
    );
    // Among its certificates (e.g. added for SNI): nothing to say.
    sh.listener
        .as_mut()
        .unwrap()
        .certificates
        .push(CERT.to_string());
    let p = plan(
        &d,
        &Observed {
            shared: sh,
            ..Default::default()
        },
    );
    assert!(p.problems.is_empty(), "{:?}", p.problems);
}

#[test]
fn a_new_listener_says_which_security_group_check_to_run() {
    let s = stateless(HTTPS);
    let sh = shared(&[], issued(&["mcp.example.com"]));
    let d = Desired::new(&s, &sh, Some("img".into()));
    let p = plan(
        &d,
        &Observed {
            shared: sh,
            ..Default::default()
        },
    );
    let w = p
        .warnings
        .iter()
        .find(|w| w.contains("security groups"))
        .unwrap_or_else(|| panic!("{:?}", p.warnings));
    assert!(
        w.contains("inbound TCP 443") && w.contains("--group-ids sg-1"),
        "{w}"
    );
}
