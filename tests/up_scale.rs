//! Autoscaling and alarm rollback against moto (server mode, 127.0.0.1): `up` creates the
//! scalable target, the target-tracking policies and the 5XX alarm; a re-run changes nothing; a
//! min/max edit is one call; a count moved by hand (as the autoscaler would) survives `up`;
//! `cleanup` removes them. moto stores scalable targets, policies and alarms but not
//! `deploymentConfiguration.alarms`, so that is read from the recorded `CreateService` request
//! in `up --output json`'s call log. Everything else is read back with boto3.

mod common;

use common::aws::{moto_stack, mutating, Aws, IMAGE};
use serde_json::Value;

const SERVICE: &str = "opensearch-mcp-server-stateless";
const RESOURCE: &str = "service/fastmcp-time-server-cluster/opensearch-mcp-server-stateless";

fn up(aws: &Aws, stack: &str, dir: &str) -> Value {
    aws.mcpctl_json(&[
        "up",
        "--stack",
        stack,
        "--image",
        IMAGE,
        "--no-wait",
        "--stacks-dir",
        dir,
    ])
}

fn scaling(min: i32, max: i32) -> String {
    format!("  autoscaling:\n    min: {min}\n    max: {max}\n    requests_per_target: 100\n    cpu_percent: 60\n    scale_in_cooldown: 120\n")
}

/// The scalable target, the policies (name, metric, label, target, cooldowns) and the ALB/TG
/// ARNs, through boto3.
fn scaling_state(aws: &Aws) -> Value {
    aws.boto(&format!(
        "aas = boto3.client('application-autoscaling')\n\
         t = aas.describe_scalable_targets(ServiceNamespace='ecs', ResourceIds=['{RESOURCE}'])['ScalableTargets']\n\
         ps = aas.describe_scaling_policies(ServiceNamespace='ecs', ResourceId='{RESOURCE}')['ScalingPolicies']\n\
         lb = elb.describe_load_balancers(Names=['fastmcp-alb'])['LoadBalancers'][0]['LoadBalancerArn']\n\
         tg = [g['TargetGroupArn'] for g in elb.describe_target_groups()['TargetGroups'] if g['TargetGroupName'] == 'opensearch-mcp-tg-stateless']\n\
         result = {{'targets': [[x['MinCapacity'], x['MaxCapacity']] for x in t], 'lb': lb, 'tg': tg[0] if tg else None,\n\
           'policies': sorted([[p['PolicyName'], p['TargetTrackingScalingPolicyConfiguration']['PredefinedMetricSpecification']['PredefinedMetricType'], p['TargetTrackingScalingPolicyConfiguration']['PredefinedMetricSpecification'].get('ResourceLabel'), p['TargetTrackingScalingPolicyConfiguration']['TargetValue'], p['TargetTrackingScalingPolicyConfiguration'].get('ScaleInCooldown')] for p in ps])}}"
    ))
}

fn desired_count(aws: &Aws) -> i64 {
    aws.boto(&format!(
        "result = ecs.describe_services(cluster='fastmcp-time-server-cluster', services=['{SERVICE}'])['services'][0]['desiredCount']"
    ))
    .as_i64()
    .unwrap()
}

#[test]
fn autoscaling_is_created_idempotent_keeps_the_autoscalers_count_and_cleanup_removes_it() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let stack = moto_stack(dir.path(), "stateless", &scaling(1, 4));
    let stack = stack.to_str().unwrap();

    let first = up(&aws, stack, d);
    let calls = mutating(&first);
    assert!(
        calls.contains(&"RegisterScalableTarget".to_string()),
        "{calls:?}"
    );
    assert_eq!(
        calls.iter().filter(|c| *c == "PutScalingPolicy").count(),
        2,
        "{calls:?}"
    );
    let s = scaling_state(&aws);
    assert_eq!(s["targets"], serde_json::json!([[1, 4]]));
    let lb = s["lb"].as_str().unwrap();
    let tg = s["tg"].as_str().unwrap();
    let label = format!(
        "{}/{}",
        lb.split_once(":loadbalancer/").unwrap().1,
        format_args!("targetgroup/{}", tg.split_once(":targetgroup/").unwrap().1)
    );
    assert!(label.starts_with("app/fastmcp-alb/"), "{label}");
    assert_eq!(
        s["policies"],
        serde_json::json!([
            [
                format!("{SERVICE}-cpu"),
                "ECSServiceAverageCPUUtilization",
                null,
                60.0,
                120
            ],
            [
                format!("{SERVICE}-requests-per-target"),
                "ALBRequestCountPerTarget",
                label,
                100.0,
                120
            ],
        ])
    );
    // Created with the stack's count (2, inside 1..4).
    assert_eq!(desired_count(&aws), 2);

    // A re-run makes no changing call.
    let second = up(&aws, stack, d);
    assert_eq!(mutating(&second), Vec::<String>::new(), "{second:#}");

    // The autoscaler moves the count (here: by hand, the same UpdateService it makes): `up`
    // leaves it.
    aws.boto(&format!(
        "ecs.update_service(cluster='fastmcp-time-server-cluster', service='{SERVICE}', desiredCount=3)"
    ));
    let third = up(&aws, stack, d);
    assert_eq!(mutating(&third), Vec::<String>::new(), "{third:#}");
    assert_eq!(desired_count(&aws), 3);

    // A min/max edit is one RegisterScalableTarget, nothing else.
    moto_stack(dir.path(), "stateless", &scaling(1, 6));
    let fourth = up(&aws, stack, d);
    assert_eq!(
        mutating(&fourth),
        vec!["RegisterScalableTarget".to_string()],
        "{fourth:#}"
    );
    assert_eq!(scaling_state(&aws)["targets"], serde_json::json!([[1, 6]]));
    assert_eq!(desired_count(&aws), 3);

    // `cleanup` removes the scalable target and its policies.
    let o = aws.mcpctl(&[
        "cleanup",
        "--stack",
        stack,
        "--yes",
        "--force",
        "--stacks-dir",
        d,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = scaling_state(&aws);
    assert_eq!(s["targets"], serde_json::json!([]));
    assert_eq!(s["policies"], serde_json::json!([]));
}
