//! Where a deployed stack answers: `verify --stack NAME` reads the ALB's DNS name, the
//! listener's protocol and port, and the listener rule that routes the stack's MCP path.

use serde::Serialize;

use crate::aws::listener_rule;
use crate::aws::{certificate, load_balancer, Clients};
use crate::error::{Error, Result};
use crate::model::rule::routing as routing_rule;
use crate::stack::{Stack, MCP_PATH_ENV};

/// A stack's endpoint through the ALB.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackEndpoint {
    /// The stack's name.
    pub stack: String,
    /// `http(s)://DNS[:port]/MCP_PATH`.
    pub mcp_url: String,
    /// `http(s)://DNS[:port]/health path`.
    pub health_url: String,
    /// The target groups the matching rule forwards to (by name), for "who answers".
    pub routed_to: Vec<String>,
}

/// Find the stack's endpoint in AWS. Errors say what is missing and which command creates it.
pub async fn endpoint(c: &Clients, stack: &Stack) -> Result<StackEndpoint> {
    let mcp_path = stack.mcp_path().map(str::to_string).ok_or_else(|| {
        Error::bad_input(format!(
            "stack {} has no {MCP_PATH_ENV} in its env",
            stack.name
        ))
    })?;
    let alb = load_balancer::require(c, &stack.load_balancer.reference).await?;
    let port = stack.load_balancer.listener_port;
    let listener = load_balancer::listener(c, &alb.arn, port)
        .await?
        .ok_or_else(|| {
            Error::failed(format!(
                "load balancer {} has no listener on port {port}; run `mcpctl up --stack {}`",
                alb.name, stack.name
            ))
        })?;
    let rules = listener_rule::rules(c, &listener.arn).await?;
    let rule = routing_rule(&rules, &mcp_path).ok_or_else(|| {
        Error::failed(format!(
            "no listener rule on port {port} of {} routes {mcp_path}; run `mcpctl up --stack {}`",
            alb.name, stack.name
        ))
    })?;
    if !listener
        .protocol
        .eq_ignore_ascii_case(stack.load_balancer.listener_protocol.as_str())
    {
        return Err(Error::bad_input(format!(
            "the listener on port {port} of {} is {}, and stack {} says `listener_protocol: {}`; fix the stack",
            alb.name, listener.protocol, stack.name, stack.load_balancer.listener_protocol
        )));
    }
    // HTTPS: the certificate's names, not the ALB's DNS name, pass the client's TLS check.
    let origin = certificate::client_origin(c, stack, &alb.dns_name).await?;
    Ok(StackEndpoint {
        stack: stack.name.clone(),
        mcp_url: format!("{origin}{mcp_path}"),
        health_url: format!("{origin}{}", stack.health_check.path),
        // Who answers: a group kept at weight 0 (the `--from` stack of a full cutover) does not.
        routed_to: rule
            .forwards()
            .iter()
            .flat_map(|f| f.groups.iter().filter(|g| f.sends_traffic_to(&g.arn)))
            .map(|g| g.name().to_string())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::forward::{target_group_name, Forward};
    use crate::model::ListenerRule;

    fn rule(priority: Option<i32>, patterns: &[&str], tg: &str) -> ListenerRule {
        ListenerRule {
            arn: format!("rule-{tg}"),
            priority,
            path_patterns: patterns.iter().map(|p| p.to_string()).collect(),
            actions: vec![crate::model::RuleAction::forward(Forward::single(format!(
                "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/{tg}/abc"
            )))],
            tags: Vec::new(),
        }
    }

    #[test]
    fn the_first_matching_rule_by_priority_routes_the_path() {
        let rules = vec![
            rule(
                Some(110),
                &["/ossserver-stateless/*"],
                "opensearch-mcp-tg-stateless",
            ),
            rule(Some(100), &["/ossserver/*"], "opensearch-mcp-tg"),
            rule(Some(5), &["/ossserver/ossmcp"], "override"),
            rule(None, &[], "default"),
        ];
        let r = routing_rule(&rules, "/ossserver/ossmcp").unwrap();
        assert_eq!(r.forwards()[0].groups[0].name(), "override");
        let r = routing_rule(&rules, "/ossserver-stateless/ossmcp").unwrap();
        assert_eq!(r.priority, Some(110));
        assert!(routing_rule(&rules, "/other").is_none());
        assert_eq!(target_group_name("not-an-arn"), "not-an-arn");
    }
}
