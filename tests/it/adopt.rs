//! `mcpctl adopt` on the deployment the user's 00-05 scripts left (built in moto with boto3 by
//! `scripts/emulator-routing-deployment.py`, with its real names and settings): the written
//! stack extends shared.yaml, `plan` shows only mcpctl's tags to add, and `up` makes only
//! tagging calls — same task definition revision, image, port, environment, container health
//! check, target group health check and role policy.

use crate::common::aws::{mutating, Aws};
use crate::common::workspace_root;

const SERVICE: &str = "opensearch-mcp-server-routing";

/// Everything that runs, read back with boto3 (independently of mcpctl).
fn running(aws: &Aws) -> serde_json::Value {
    aws.boto(
        "s = ecs.describe_services(cluster='fastmcp-time-server-cluster', services=['opensearch-mcp-server-routing'])['services'][0]\n\
         td = ecs.describe_task_definition(taskDefinition=s['taskDefinition'])['taskDefinition']\n\
         c = td['containerDefinitions'][0]\n\
         tg = elb.describe_target_groups(Names=['opensearch-mcp-routing-tg'])['TargetGroups'][0]\n\
         result = {\n\
         \x20 'task_definition': s['taskDefinition'], 'desired': s['desiredCount'],\n\
         \x20 'deployment': s['deploymentConfiguration'], 'exec': s.get('enableExecuteCommand'),\n\
         \x20 'revisions': ecs.list_task_definitions(familyPrefix='opensearch-mcp-server-routing')['taskDefinitionArns'],\n\
         \x20 'image': c['image'], 'port': c['portMappings'][0]['containerPort'],\n\
         \x20 'env': sorted((e['name'], e['value']) for e in c['environment']),\n\
         \x20 'container_health': c.get('healthCheck'), 'cpu': td['cpu'], 'memory': td['memory'],\n\
         \x20 'tg_health': [tg['HealthCheckPath'], tg['HealthCheckTimeoutSeconds'], tg['HealthCheckIntervalSeconds']],\n\
         \x20 'policy': iam.get_role_policy(RoleName='ecsTaskRole', PolicyName='OpenSearchAccess')['PolicyDocument'],\n\
         \x20 'retention': logs.describe_log_groups(logGroupNamePrefix='/ecs/opensearch-mcp-server-routing')['logGroups'][0].get('retentionInDays'),\n\
         }",
    )
}

#[test]
fn adopt_then_up_changes_nothing_that_runs() {
    let aws = Aws::start();
    aws.scripts_deployment();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    std::fs::copy(
        workspace_root().join("stacks/shared.yaml"),
        dir.join("shared.yaml"),
    )
    .unwrap();
    let stacks = dir.display().to_string();
    let before = running(&aws);
    assert_eq!(
        before["container_health"]["command"][1],
        "curl -f http://localhost:9898/ossserver/health || exit 1"
    );

    let out = aws.mcpctl_json(&[
        "--stacks-dir",
        &stacks,
        "adopt",
        "--stack",
        "stateful",
        "--service",
        SERVICE,
    ]);
    assert_eq!(mutating(&out), Vec::<String>::new(), "adopt only reads");
    let text = std::fs::read_to_string(dir.join("stateful.yaml")).unwrap();
    assert!(text.contains("extends: shared.yaml"), "{text}");
    // Only what differs: the shared cluster, ALB and execution role are not repeated.
    for same in ["cluster:", "load_balancer:", "execution_role_arn"] {
        assert!(!text.contains(same), "{same} repeated:\n{text}");
    }
    for differs in [
        "task_role_arn: \"arn:aws:iam::123456789012:role/ecsTaskRole\"",
        "curl -f http://localhost:9898/ossserver/health || exit 1",
        "target_group: \"opensearch-mcp-routing-tg\"",
        "MCP_PORT: ~",
        "MCP_HOST: ~",
        "timeout_seconds: 10",
        "cpu: 256",
    ] {
        assert!(text.contains(differs), "{differs} missing:\n{text}");
    }

    // plan: nothing but adding tags.
    let plan = aws.mcpctl_json(&["--stacks-dir", &stacks, "plan", "--stack", "stateful"]);
    for c in plan["plan"]["changes"].as_array().unwrap() {
        assert_ne!(c["action"], "create", "{c}");
        for f in c["fields"].as_array().unwrap() {
            assert!(f["field"].as_str().unwrap().starts_with("tag "), "{c}");
        }
    }

    // up: only tagging calls; what runs is what ran.
    let up = aws.mcpctl_json(&[
        "--stacks-dir",
        &stacks,
        "up",
        "--stack",
        "stateful",
        "--no-wait",
    ]);
    let calls = mutating(&up);
    assert!(!calls.is_empty(), "up tags the adopted resources");
    for c in &calls {
        assert!(
            ["TagResource", "AddTags"].contains(&c.as_str()),
            "up made a changing call that is not tagging: {c} (all: {calls:?})"
        );
    }
    assert_eq!(running(&aws), before, "what runs changed");
    // Alongside: a stack whose managed task role is production's role may not rewrite its
    // policy (it would drop ESHttpPut/Delete from the running service).
    std::fs::copy(
        workspace_root().join("stacks/stateless.yaml"),
        dir.join("stateless.yaml"),
    )
    .unwrap();
    let side = aws.mcpctl(&[
        "--stacks-dir",
        &stacks,
        "up",
        "--stack",
        "stateless",
        "--image",
        crate::common::aws::IMAGE,
        "--no-wait",
    ]);
    let err = String::from_utf8_lossy(&side.stderr);
    assert_eq!(side.status.code(), Some(2), "{err}");
    assert!(
        err.contains("IAM task role `ecsTaskRole` is the role ECS service(s) opensearch-mcp-server-routing run as"),
        "{err}"
    );
    assert_eq!(running(&aws), before, "the refused up changed what runs");
    // A second adopt does not overwrite the file; --force does, to the same text.
    let again = aws.mcpctl(&[
        "--stacks-dir",
        &stacks,
        "adopt",
        "--stack",
        "stateful",
        "--service",
        SERVICE,
    ]);
    assert_eq!(
        again.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    aws.mcpctl_json(&[
        "--stacks-dir",
        &stacks,
        "adopt",
        "--stack",
        "stateful",
        "--service",
        SERVICE,
        "--force",
    ]);
    assert_eq!(
        std::fs::read_to_string(dir.join("stateful.yaml")).unwrap(),
        text
    );
}
