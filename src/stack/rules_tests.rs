//! Tests of the AWS naming and value rules.
use super::*;

#[test]
fn names_aws_accepts_and_rejects() {
    assert!(ecs_name("opensearch-mcp-server-stateless").is_ok());
    assert!(ecs_name("bad name").is_err());
    assert!(ecr_repository("opensearch-mcp-server-stateless").is_ok());
    assert!(ecr_repository("team/opensearch-mcp").is_ok());
    let e = ecr_repository("OpenSearch_MCP").unwrap_err();
    assert!(e.contains("`opensearch_mcp`"), "{e}");
    assert!(elb_name("opensearch-mcp-tg-stateless", "target group").is_ok());
    let e = elb_name("opensearch-mcp-target-group-stateless", "target group").unwrap_err();
    assert!(e.contains("1-32"), "{e}");
    assert!(elb_name("-x", "target group").is_err());
    assert!(log_group("/ecs/opensearch-mcp-server").is_ok());
    assert!(log_group("/ecs/bad name").is_err());
}

#[test]
fn fargate_pairs() {
    assert!(fargate_pair(512, 1024).is_ok());
    assert!(fargate_pair(256, 512).is_ok());
    assert!(fargate_pair(4096, 30720).is_ok());
    let (field, msg) = fargate_pair(512, 512).unwrap_err();
    assert_eq!(field, "memory");
    assert!(msg.contains("1024, 2048, 3072, 4096"), "{msg}");
    let (field, msg) = fargate_pair(300, 1024).unwrap_err();
    assert_eq!(field, "cpu");
    assert!(msg.contains("256, 512"), "{msg}");
    assert!(fargate_pair(1024, 9216)
        .unwrap_err()
        .1
        .contains("2048 to 8192 in steps of 1024"));
}

#[test]
fn values() {
    assert!(priority(1).is_ok() && priority(50000).is_ok());
    assert!(priority(0).is_err() && priority(50001).is_err());
    assert!(path("/ossserver/*").is_ok());
    assert_eq!(
        path("ossserver/*").unwrap_err(),
        "`ossserver/*` must start with `/`: write `/ossserver/*`"
    );
    assert!(role_arn("arn:aws:iam::123456789012:role/ecsTaskExecutionRole").is_ok());
    assert!(role_arn("arn:aws:iam::1234:role/x").is_err());
    assert!(role_arn("ecsTaskExecutionRole").is_err());
    assert!(resource_id("subnet-0abc", "subnet").is_ok());
    assert!(resource_id("sg-xyz", "sg").is_err());
    assert!(env_name("MCP_PATH").is_ok());
    assert!(env_name("mcp-path").unwrap_err().contains("MCP_PATH"));
    assert!(region("us-east-1").is_ok() && region("useast1").is_err());
    assert!(region("").unwrap_err().contains("`region` is empty"));
    assert!(rule_wildcards(["/a/*", "/b/*"].into_iter()).is_ok());
    assert!(rule_wildcards(["/a/*?*", "/b/**", "/c?"].into_iter())
        .unwrap_err()
        .contains("6 wildcards"));
    assert!(env_value("A", &"x".repeat(40_000))
        .unwrap_err()
        .contains("40000 bytes"));
    assert!(load_balancer_arn("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/fastmcp-alb/50dc6c495c0c9188").is_ok());
}

#[test]
fn did_you_mean() {
    assert_eq!(
        closest("helth_check", &["health_check", "routing"]),
        Some("health_check")
    );
    assert_eq!(closest("zzzzzzzzzz", &["env", "names"]), None);
}
