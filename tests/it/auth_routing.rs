//! `auth:` on both stacks: `up` gives their listener rules the RFC 9728 metadata paths too
//! (`/.well-known/oauth-protected-resource/ossserver/*`), and `cutover`, `rollback` and
//! `cleanup`'s hand-over still find the production rule by those patterns.

use crate::common::aws::{moto_stack, Aws};

/// `auth:` for a stack whose MCP path is `path` (TLS ends in front of the ALB in this test, so
/// the resource URL is given as https).
fn auth(path: &str) -> String {
    format!("auth:\n  issuer: https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC\n  client_ids: [client-a]\n  scopes: [mcp/read]\n  resource_url: https://mcp.example.com{path}\n")
}
const METADATA: &str = "/.well-known/oauth-protected-resource/ossserver/*";

fn ok(out: &std::process::Output, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The production rule (priority 100): its paths and target group names with weights.
fn production(aws: &Aws) -> serde_json::Value {
    aws.boto(
        "lb = elb.describe_load_balancers(Names=['fastmcp-alb'])['LoadBalancers'][0]['LoadBalancerArn']\n\
         ls = [l for l in elb.describe_listeners(LoadBalancerArn=lb)['Listeners'] if l['Port'] == 80][0]\n\
         names = {t['TargetGroupArn']: t['TargetGroupName'] for t in elb.describe_target_groups()['TargetGroups']}\n\
         r = [r for r in elb.describe_rules(ListenerArn=ls['ListenerArn'])['Rules'] if r['Priority'] == '100'][0]\n\
         a = r['Actions'][0]\n\
         groups = a.get('ForwardConfig', {}).get('TargetGroups') or [{'TargetGroupArn': a['TargetGroupArn'], 'Weight': 1}]\n\
         paths = [v for c in r['Conditions'] if c['Field'] == 'path-pattern' for v in (c.get('PathPatternConfig', {}).get('Values') or c.get('Values', []))]\n\
         result = {'paths': sorted(paths), 'weights': {names.get(g['TargetGroupArn'], '?'): g.get('Weight', 1) for g in groups}}",
    )
}

#[test]
fn cutover_rollback_and_cleanup_find_rules_that_carry_the_metadata_paths() {
    let aws = Aws::start();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    moto_stack(dir, "stateful", &auth("/ossserver/ossmcp"));
    moto_stack(dir, "stateless", &auth("/ossserver-stateless/ossmcp"));
    let d = dir.to_str().unwrap();
    aws.up_all(d, &["stateful", "stateless"]);
    aws.register_target("opensearch-mcp-tg-stateless", "10.0.1.10");
    let p = production(&aws);
    assert_eq!(
        p["paths"],
        serde_json::json!([METADATA, "/ossserver/*"]),
        "{p}"
    );
    ok(
        &aws.mcpctl(&["cutover", "--yes", "--stacks-dir", d]),
        "cutover",
    );
    assert_eq!(
        production(&aws)["weights"]["opensearch-mcp-tg-stateless"],
        100
    );
    ok(
        &aws.mcpctl(&["rollback", "--yes", "--stacks-dir", d]),
        "rollback",
    );
    assert_eq!(
        production(&aws)["weights"],
        serde_json::json!({"opensearch-mcp-tg": 1})
    );
    ok(
        &aws.mcpctl(&["cutover", "--yes", "--stacks-dir", d]),
        "cutover again",
    );
    ok(
        &aws.mcpctl(&["cleanup", "--stack", "stateful", "--yes", "--stacks-dir", d]),
        "cleanup",
    );
    // The production rule, metadata path and all, now belongs to the stateless group alone.
    let p = production(&aws);
    let groups: Vec<&String> = p["weights"].as_object().unwrap().keys().collect();
    assert_eq!(groups, ["opensearch-mcp-tg-stateless"], "{p}");
    assert_eq!(p["paths"], serde_json::json!([METADATA, "/ossserver/*"]));
}
