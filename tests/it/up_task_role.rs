//! The task role `up` manages instead of `00-setup-iam-roles.sh`, and secrets, against moto's
//! IAM: created with the ECS trust policy and exactly the least-privilege inline policy, left
//! alone on a re-run, one policy update when the domain changes, never touched when referenced
//! by ARN; `secrets:` in the task definition's `secrets`; a warning for credentials in `env`.

use crate::common::aws::{mutating, repo_stack, stack_file, Aws, ACCOUNT, IMAGE};
use serde_json::{json, Value};

/// The stateless stack with service settings moto's CreateService stores (see up_deploy.rs),
/// and a task role named `role` for domain `domain`.
fn stack(dir: &std::path::Path, role: &str, domain: &str, extra: &str) -> String {
    let text = format!(
        "extends: {}\nservice:\n  circuit_breaker_rollback: false\n  enable_execute_command: false\n  health_check_grace_period_seconds: 0\n\
         roles:\n  task_role:\n    name: {role}\n    opensearch_domain_arn: arn:aws:es:us-east-1:{ACCOUNT}:domain/{domain}\n{extra}",
        repo_stack("stateless")
    );
    stack_file(dir, "stateless", &text).display().to_string()
}

fn role(aws: &Aws, name: &str) -> Value {
    aws.boto(&format!(
        "r = iam.get_role(RoleName='{name}')['Role']\n\
         p = iam.get_role_policy(RoleName='{name}', PolicyName='OpenSearchAccess')['PolicyDocument']\n\
         result = {{'trust': r['AssumeRolePolicyDocument'], 'policy': p, 'tags': {{t['Key']: t['Value'] for t in r.get('Tags', [])}},\n\
           'policies': iam.list_role_policies(RoleName='{name}')['PolicyNames']}}"
    ))
}

#[test]
fn up_creates_the_role_with_the_exact_policy_then_leaves_it_alone_then_updates_only_the_policy() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let file = stack(dir.path(), "mcpServerRole", "movies", "");
    let first = aws.mcpctl_json(&["up", "--stack", &file, "--image", IMAGE, "--no-wait"]);
    let ops = mutating(&first);
    // FGAC is on by default: the role-mapping step names the role to map.
    let mapping = first["role_mapping"].as_str().unwrap();
    assert!(
        mapping.contains(&format!(
            "backend role: arn:aws:iam::{ACCOUNT}:role/mcpServerRole"
        )),
        "{mapping}"
    );
    assert!(mapping.contains("_plugins/_security/api/rolesmapping/readall"));
    assert!(
        ops.contains(&"CreateRole".to_string()) && ops.contains(&"PutRolePolicy".to_string()),
        "{ops:?}"
    );

    let r = role(&aws, "mcpServerRole");
    assert_eq!(
        r["trust"],
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    );
    assert_eq!(
        r["policy"],
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"],
            "Resource": [format!("arn:aws:es:us-east-1:{ACCOUNT}:domain/movies"), format!("arn:aws:es:us-east-1:{ACCOUNT}:domain/movies/*")]
        }]})
    );
    assert_eq!(r["policies"], json!(["OpenSearchAccess"]));
    assert_eq!(r["tags"]["mcpctl:managed"], "true");
    let td_role = aws.boto("result = ecs.describe_task_definition(taskDefinition='opensearch-mcp-server-stateless')['taskDefinition']['taskRoleArn']");
    assert_eq!(
        td_role,
        json!(format!("arn:aws:iam::{ACCOUNT}:role/mcpServerRole"))
    );

    let second = aws.mcpctl_json(&["up", "--stack", &file, "--image", IMAGE, "--no-wait"]);
    assert_eq!(mutating(&second), Vec::<String>::new(), "{second:#}");

    stack(dir.path(), "mcpServerRole", "movies-and-more", "");
    let plan = aws.mcpctl_json(&["plan", "--stack", &file, "--image", IMAGE]);
    let role_change = plan["plan"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "task_role")
        .unwrap()
        .clone();
    assert_eq!(role_change["action"], "update");
    assert_eq!(role_change["fields"][0]["field"], "policy OpenSearchAccess");
    assert!(role_change["fields"][0]["to"]
        .as_str()
        .unwrap()
        .contains("domain/movies-and-more/*"));
    let third = aws.mcpctl_json(&["up", "--stack", &file, "--image", IMAGE, "--no-wait"]);
    assert_eq!(mutating(&third), vec!["PutRolePolicy"], "{third:#}");
    let r = role(&aws, "mcpServerRole");
    assert_eq!(
        r["policy"]["Statement"][0]["Resource"][0],
        format!("arn:aws:es:us-east-1:{ACCOUNT}:domain/movies-and-more")
    );
}

#[test]
fn a_role_referenced_by_arn_is_never_modified() {
    let aws = Aws::start();
    aws.boto(
        "iam.put_role_policy(RoleName='ecsTaskRole', PolicyName='HandMade', PolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': 'es:*', 'Resource': '*'}]}))",
    );
    let before = aws.boto("result = [iam.get_role(RoleName='ecsTaskRole')['Role'], iam.list_role_policies(RoleName='ecsTaskRole')['PolicyNames']]");
    let dir = tempfile::tempdir().unwrap();
    let file = stack_file(
        dir.path(),
        "stateless",
        &format!(
            "extends: {}\nroles:\n  task_role_arn: arn:aws:iam::{ACCOUNT}:role/ecsTaskRole\n",
            repo_stack("stateless")
        ),
    );
    let out = aws.mcpctl_json(&[
        "up",
        "--stack",
        file.to_str().unwrap(),
        "--image",
        IMAGE,
        "--no-wait",
    ]);
    let iam_calls: Vec<String> = out["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["service"] == "IAM")
        .map(|c| c["operation"].as_str().unwrap().to_string())
        .collect();
    assert!(iam_calls.iter().all(|op| op == "GetRole"), "{iam_calls:?}");
    assert!(out["plan"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["kind"] != "task_role"));
    let after = aws.boto("result = [iam.get_role(RoleName='ecsTaskRole')['Role'], iam.list_role_policies(RoleName='ecsTaskRole')['PolicyNames']]");
    assert_eq!(before, after);
    let td_role = aws.boto("result = ecs.describe_task_definition(taskDefinition='opensearch-mcp-server-stateless')['taskDefinition']['taskRoleArn']");
    assert_eq!(
        td_role,
        json!(format!("arn:aws:iam::{ACCOUNT}:role/ecsTaskRole"))
    );
}

#[test]
fn secrets_go_to_the_task_definition_secrets_and_credentials_in_env_are_warned_about() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let secret =
        format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:opensearch-password-AbCdEf");
    let file = stack(
        dir.path(),
        "ecsTaskRole",
        "movies",
        &format!(
            "secrets:\n  OPENSEARCH_PASSWORD: {secret}\nenv:\n  MCP_AUTH_TOKEN: plain-text-token\n"
        ),
    );
    let plan = aws.mcpctl_json(&["plan", "--stack", &file, "--image", IMAGE]);
    let warnings = plan["plan"]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .starts_with("env MCP_AUTH_TOKEN looks like a credential"),
        "{warnings:?}"
    );
    let text = aws.mcpctl(&["plan", "--stack", &file, "--image", IMAGE]);
    assert!(String::from_utf8_lossy(&text.stdout)
        .contains("warning: env MCP_AUTH_TOKEN looks like a credential"));

    aws.mcpctl_json(&["up", "--stack", &file, "--image", IMAGE, "--no-wait"]);
    let c = aws.boto("result = ecs.describe_task_definition(taskDefinition='opensearch-mcp-server-stateless')['taskDefinition']['containerDefinitions'][0]");
    assert_eq!(
        c["secrets"],
        json!([{"name": "OPENSEARCH_PASSWORD", "valueFrom": secret}])
    );
    let env_names: Vec<&str> = c["environment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(!env_names.contains(&"OPENSEARCH_PASSWORD"), "{env_names:?}");
}

#[test]
fn the_services_using_a_role_are_found_so_cleanup_can_refuse_to_delete_it() {
    let aws = Aws::start();
    aws.mcpctl_json(&["up", "--stack", "stateful", "--image", IMAGE, "--no-wait"]);
    aws.mcpctl_json(&["up", "--stack", "stateless", "--image", IMAGE, "--no-wait"]);
    let endpoint = aws.moto.endpoint.clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let users = rt.block_on(async move {
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_ecs::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .load()
            .await;
        let c = mcpctl::aws::Clients::from_config(&conf);
        mcpctl::aws::iam_role::users(
            &c,
            "fastmcp-time-server-cluster",
            &format!("arn:aws:iam::{ACCOUNT}:role/ecsTaskRole"),
        )
        .await
        .unwrap()
    });
    assert_eq!(
        users,
        vec!["opensearch-mcp-server", "opensearch-mcp-server-stateless"]
    );
}
