//! The table against the code (every SDK call the source makes is listed) and against the
//! Service Authorization Reference (each action's resource type).

use crate::layers::rust_files;
use std::collections::BTreeSet;
use std::path::Path;

use super::scope::Scope;
use super::table::{NEEDS, NEEDS_NO_PERMISSION};
use super::{actions, document, CommandName, Selection};

/// The `Clients` fields and the IAM prefix of their service.
const CLIENTS: [(&str, &str); 9] = [
    ("acm", "acm"),
    ("autoscaling", "application-autoscaling"),
    ("cloudwatch", "cloudwatch"),
    ("ecr", "ecr"),
    ("ecs", "ecs"),
    ("elb", "elasticloadbalancing"),
    ("logs", "logs"),
    ("iam", "iam"),
    ("sts", "sts"),
];

/// Methods of std types that share a field name with a client (`stack.service.autoscaling`,
/// `paths.logs`): not SDK operations.
const NOT_OPERATIONS: [&str; 8] = [
    "as_mut",
    "as_ref",
    "clone",
    "display",
    "is_none",
    "is_some",
    "join",
    "to_path_buf",
];

/// `describe_target_groups` → `DescribeTargetGroups`.
fn camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Every `CLIENT.operation()` in `text` (whitespace allowed around the dots, as rustfmt
/// breaks a builder chain), as `prefix:Operation`.
fn sdk_calls(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let bytes = text.as_bytes();
    for (field, prefix) in CLIENTS {
        let needle = format!(".{field}");
        let mut from = 0;
        while let Some(i) = text[from..].find(&needle) {
            let mut j = from + i + needle.len();
            from = j;
            if bytes
                .get(j)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
            {
                continue;
            }
            while bytes.get(j).is_some_and(|b| b.is_ascii_whitespace()) {
                j += 1;
            }
            if bytes.get(j) != Some(&b'.') {
                continue;
            }
            j += 1;
            let start = j;
            while bytes
                .get(j)
                .is_some_and(|b| b.is_ascii_lowercase() || *b == b'_')
            {
                j += 1;
            }
            let op = &text[start..j];
            if !op.is_empty() && text[j..].starts_with("()") && !NOT_OPERATIONS.contains(&op) {
                found.insert(format!("{prefix}:{}", camel(op)));
            }
        }
    }
    found
}

#[test]
fn every_sdk_call_in_the_source_is_in_the_table() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let listed: BTreeSet<&str> = NEEDS.iter().map(|n| n.action).collect();
    let mut calls = BTreeSet::new();
    for f in files {
        calls.extend(sdk_calls(&std::fs::read_to_string(&f).unwrap()));
    }
    // The scan finds the calls (a scan that found nothing would prove nothing).
    assert!(calls.len() > 60, "{calls:?}");
    assert!(calls.contains("elasticloadbalancing:SetRulePriorities"));
    let missing: Vec<&String> = calls
        .iter()
        .filter(|c| !listed.contains(c.as_str()) && !NEEDS_NO_PERMISSION.contains(&c.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "SDK calls missing from the table: {missing:?}"
    );
}

#[test]
fn the_scanner_reads_builder_chains_across_lines() {
    let text = "c.elb\n        .set_rule_priorities()\n .send(); x.ecs.describe_services().a; c.ecs_other.x()";
    let found = sdk_calls(text);
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        [
            "ecs:DescribeServices",
            "elasticloadbalancing:SetRulePriorities"
        ]
    );
}

/// The resource type the Service Authorization Reference gives each action ("" where its
/// Resource types column is empty, so only `"*"` works).
const REFERENCE: &[(&str, &str)] = &[
    ("acm:DescribeCertificate", "certificate"),
    ("application-autoscaling:DescribeScalableTargets", ""),
    ("application-autoscaling:DescribeScalingActivities", ""),
    ("application-autoscaling:DescribeScalingPolicies", ""),
    ("cloudwatch:GetMetricData", ""),
    ("cloudwatch:DescribeAlarms", "alarm"),
    ("cloudwatch:PutMetricAlarm", "alarm"),
    ("cloudwatch:DeleteAlarms", "alarm"),
    ("ecr:GetAuthorizationToken", ""),
    ("ecr:DescribeRepositories", "repository"),
    ("ecr:CreateRepository", "repository"),
    ("ecr:PutImage", "repository"),
    ("ecs:DescribeClusters", "cluster"),
    ("ecs:ListServices", ""),
    ("ecs:CreateService", "service"),
    ("ecs:UpdateService", "service"),
    ("ecs:DeleteService", "service"),
    ("ecs:DescribeServices", "service"),
    ("ecs:RegisterTaskDefinition", ""),
    ("ecs:DeregisterTaskDefinition", ""),
    ("ecs:DescribeTaskDefinition", ""),
    ("ecs:ListTaskDefinitions", ""),
    ("elasticloadbalancing:DescribeRules", ""),
    ("elasticloadbalancing:DescribeTargetHealth", ""),
    ("elasticloadbalancing:CreateTargetGroup", "targetgroup"),
    ("elasticloadbalancing:DeleteTargetGroup", "targetgroup"),
    ("elasticloadbalancing:CreateListener", "loadbalancer/app"),
    ("elasticloadbalancing:CreateRule", "listener/app"),
    ("elasticloadbalancing:ModifyRule", "listener-rule/app"),
    (
        "elasticloadbalancing:SetRulePriorities",
        "listener-rule/app",
    ),
    ("elasticloadbalancing:DeleteRule", "listener-rule/app"),
    ("iam:PassRole", "role"),
    ("iam:GetRole", "role"),
    ("iam:CreateRole", "role"),
    ("iam:CreateServiceLinkedRole", "role"),
    ("logs:CreateLogGroup", "log-group"),
    ("logs:DescribeLogGroups", "log-group"),
    ("logs:FilterLogEvents", "log-group"),
    ("logs:DeleteLogGroup", "log-group"),
];

fn resource_type(scope: Scope) -> &'static str {
    match scope {
        Scope::Any | Scope::ServicesOfCluster => "",
        Scope::Cluster => "cluster",
        Scope::Service => "service",
        Scope::TaskDefinitions => "task-definition",
        Scope::TargetGroup => "targetgroup",
        Scope::LoadBalancer => "loadbalancer/app",
        Scope::Listeners => "listener/app",
        Scope::ListenerRules => "listener-rule/app",
        Scope::LogGroup | Scope::LogGroups => "log-group",
        Scope::Repository => "repository",
        Scope::PassedRoles
        | Scope::Roles
        | Scope::ManagedTaskRole
        | Scope::AutoscalingServiceLinkedRole => "role",
        Scope::Alarms => "alarm",
        Scope::Certificate => "certificate",
    }
}

#[test]
fn scopes_follow_the_service_authorization_reference() {
    for (action, expected) in REFERENCE {
        let needs: Vec<_> = NEEDS.iter().filter(|n| n.action == *action).collect();
        assert!(!needs.is_empty(), "{action} is not in the table");
        for n in needs {
            assert_eq!(resource_type(n.scope), *expected, "{action}");
        }
    }
    // `"*"` only where the reference lists no resource type: every write that names a
    // resource of the stack is scoped.
    for n in NEEDS.iter().filter(|n| n.scope == Scope::Any) {
        let op = n.action.split_once(':').unwrap().1;
        let read = ["Describe", "List", "Get"]
            .iter()
            .any(|p| op.starts_with(p));
        assert!(
            read || n.action.starts_with("application-autoscaling:")
                || n.action.ends_with("TaskDefinition"),
            "{} is unscoped",
            n.action
        );
    }
}

fn stacks() -> Vec<crate::stack::Stack> {
    vec![crate::stack::stateless_for_test("").unwrap()]
}

#[test]
fn a_read_only_selection_has_no_write_and_no_service_wildcard() {
    let stacks = stacks();
    let sel = Selection {
        stacks: &stacks,
        commands: [CommandName::Plan, CommandName::Status]
            .into_iter()
            .collect(),
        account: "123456789012".into(),
    };
    let acts = actions(&sel);
    assert!(acts.contains(&"ecs:DescribeServices"), "{acts:?}");
    for a in &acts {
        let op = a.split_once(':').unwrap().1;
        assert!(!op.contains('*'), "{a}");
        assert!(
            ["Describe", "List", "Get", "BatchGet"]
                .iter()
                .any(|p| op.starts_with(p)),
            "plan and status need only reads: {a}"
        );
    }
}

#[test]
fn features_add_their_actions_only_to_stacks_that_use_them() {
    let plain = stacks();
    let everything = Selection {
        stacks: &plain,
        commands: BTreeSet::new(),
        account: "123456789012".into(),
    };
    let acts = actions(&everything);
    assert!(!acts.contains(&"application-autoscaling:PutScalingPolicy"));
    assert!(!acts.contains(&"acm:DescribeCertificate"));
    let scaled = vec![crate::stack::stateless_for_test(
        "service:\n  autoscaling:\n    min: 2\n    max: 4\n    cpu_percent: 60\n",
    )
    .unwrap()];
    let sel = Selection {
        stacks: &scaled,
        ..everything.clone()
    };
    let acts = actions(&sel);
    assert!(
        acts.contains(&"application-autoscaling:PutScalingPolicy"),
        "{acts:?}"
    );
    assert!(acts.contains(&"iam:CreateServiceLinkedRole"), "{acts:?}");
}

#[test]
fn the_document_scopes_pass_role_and_names_each_resource() {
    let stacks = stacks();
    let sel = Selection {
        stacks: &stacks,
        commands: [CommandName::Up].into_iter().collect(),
        account: "123456789012".into(),
    };
    let doc = serde_json::to_value(document(&sel)).unwrap();
    assert_eq!(doc["Version"], "2012-10-17");
    let statements = doc["Statement"].as_array().unwrap();
    let pass = statements
        .iter()
        .find(|s| {
            s["Action"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == "iam:PassRole")
        })
        .unwrap();
    assert_eq!(
        pass["Condition"]["StringEquals"]["iam:PassedToService"],
        "ecs-tasks.amazonaws.com"
    );
    assert!(pass["Resource"].as_array().unwrap().iter().all(|r| r
        .as_str()
        .unwrap()
        .starts_with("arn:aws:iam::123456789012:role/")));
    // Sids are unique; `"*"` appears in statements of reads and task definitions only.
    let sids: BTreeSet<&str> = statements
        .iter()
        .map(|s| s["Sid"].as_str().unwrap())
        .collect();
    assert_eq!(sids.len(), statements.len());
    for s in statements {
        for a in s["Action"].as_array().unwrap() {
            assert!(
                !a.as_str().unwrap().contains('*'),
                "a service wildcard: {a}"
            );
        }
    }
}
