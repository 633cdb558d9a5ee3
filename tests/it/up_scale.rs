//! Autoscaling and alarm rollback against moto (server mode, 127.0.0.1): `up` creates the
//! scalable target, the target-tracking policies and the 5XX alarm; a re-run changes nothing; a
//! min/max edit is one call; a count moved by hand (as the autoscaler would) survives `up`;
//! `cleanup` removes them. moto stores scalable targets, policies and alarms but not
//! `deploymentConfiguration.alarms`, so that is read from the recorded `CreateService` request
//! in `up --output json`'s call log. Everything else is read back with boto3.

use crate::common::aws::{moto_stack, mutating, Aws, IMAGE};
use serde_json::Value;

const SERVICE: &str = "opensearch-mcp-server-stateless";
const RESOURCE: &str = "service/fastmcp-time-server-cluster/opensearch-mcp-server-stateless";

fn up(aws: &Aws, stack: &str, dir: &str) -> Value {
    aws.up(dir, stack)
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

    // `status` shows the range, the current count and the policies. moto 5.2.5 does not
    // implement DescribeScalingActivities: status says it could not read them, and the rest.
    let st = aws.mcpctl_json(&["status", "--stack", stack, "--stacks-dir", d]);
    let sc = &st["scaling"];
    assert_eq!(
        (
            sc["min"].as_i64(),
            sc["max"].as_i64(),
            sc["current"].as_i64()
        ),
        (Some(1), Some(4), Some(2)),
        "{st:#}"
    );
    assert_eq!(sc["policies"].as_array().unwrap().len(), 2);
    assert!(
        sc["activities_error"]
            .as_str()
            .unwrap()
            .contains("DescribeScalingActivities"),
        "{sc:#}"
    );

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

    // `plan` shows the scaling resources like every other.
    let plan = aws.mcpctl(&[
        "plan",
        "--stack",
        stack,
        "--image",
        IMAGE,
        "--stacks-dir",
        d,
    ]);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        text.contains(&format!(
            "unchanged scalable target  {RESOURCE}  [1 .. 6 tasks]"
        )),
        "{text}"
    );
    assert!(text.ends_with("No changes.\n"), "{text}");

    // `cleanup --dry-run` lists the deregistration first, before the service is scaled down.
    let dry = aws.mcpctl_json(&[
        "cleanup",
        "--stack",
        stack,
        "--dry-run",
        "--force",
        "--stacks-dir",
        d,
    ]);
    let actions: Vec<&str> = dry["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["action"].as_str())
        .collect();
    assert_eq!(
        actions[..2],
        [
            "application-autoscaling:DeregisterScalableTarget",
            "ecs:UpdateService"
        ],
        "{actions:?}"
    );

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

fn alarms(aws: &Aws) -> Value {
    aws.boto(
        "cw = boto3.client('cloudwatch')\n\
         result = [{'name': a['AlarmName'], 'threshold': a['Threshold'], 'metrics': a.get('Metrics', [])} for a in cw.describe_alarms()['MetricAlarms'] if not a['AlarmName'].startswith('TargetTracking-')]",
    )
}

/// The recorded `deploymentConfiguration.alarms` of each `op` call in `up --output json`.
fn recorded_alarms(out: &Value, op: &str) -> Vec<Value> {
    out["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["operation"] == op)
        .map(|c| c["params"]["deploymentConfiguration"]["alarms"].clone())
        .collect()
}

#[test]
fn alarm_rollback_creates_the_5xx_alarm_names_it_in_the_deployment_and_cleanup_removes_it() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let stack = moto_stack(dir.path(), "stateless", "  alarm_rollback: true\n");
    let stack = stack.to_str().unwrap();
    let name = format!("{SERVICE}-5xx-rollback");

    let first = up(&aws, stack, d);
    let calls = mutating(&first);
    let put = calls
        .iter()
        .position(|c| c == "PutMetricAlarm")
        .expect("PutMetricAlarm");
    let create = calls
        .iter()
        .position(|c| c == "CreateService")
        .expect("CreateService");
    assert!(
        put < create,
        "the alarm exists before the service names it: {calls:?}"
    );
    assert_eq!(
        recorded_alarms(&first, "CreateService"),
        vec![serde_json::json!({"alarmNames": [name], "enable": true, "rollback": true})]
    );

    // The alarm: the 5XX share of the stack's target group's requests, as metric math.
    let a = alarms(&aws);
    assert_eq!(a.as_array().unwrap().len(), 1, "{a:#}");
    assert_eq!(a[0]["name"], name.as_str());
    assert_eq!(a[0]["threshold"], 5.0);
    let metrics = a[0]["metrics"].as_array().unwrap();
    let expr = metrics
        .iter()
        .find_map(|m| m["Expression"].as_str())
        .unwrap();
    assert_eq!(expr, "IF(m2 > 0, 100 * FILL(m1, 0) / m2, 0)");
    let names: Vec<&str> = metrics
        .iter()
        .filter_map(|m| m["MetricStat"]["Metric"]["MetricName"].as_str())
        .collect();
    assert_eq!(names, vec!["HTTPCode_Target_5XX_Count", "RequestCount"]);
    let dims = &metrics[2]["MetricStat"]["Metric"]["Dimensions"];
    let tg = dims
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["Name"] == "TargetGroup")
        .unwrap();
    assert!(
        tg["Value"]
            .as_str()
            .unwrap()
            .starts_with("targetgroup/opensearch-mcp-tg-stateless/"),
        "{dims}"
    );

    // A re-run puts no alarm again. moto does not keep deploymentConfiguration.alarms, so the
    // service reads back without them and `up` sends them again (on AWS this run changes
    // nothing); the recorded request shows exactly what is sent.
    let second = up(&aws, stack, d);
    assert_eq!(
        mutating(&second),
        vec!["UpdateService".to_string()],
        "{second:#}"
    );
    assert_eq!(
        recorded_alarms(&second, "UpdateService"),
        vec![serde_json::json!({"alarmNames": [name], "enable": true, "rollback": true})]
    );

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
    assert_eq!(alarms(&aws), serde_json::json!([]));
}

#[test]
fn dropping_alarm_rollback_deletes_the_alarm_after_the_service_stops_naming_it() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let stack = moto_stack(dir.path(), "stateless", "  alarm_rollback: true\n");
    let stack = stack.to_str().unwrap();
    up(&aws, stack, d);
    moto_stack(dir.path(), "stateless", "");
    let out = up(&aws, stack, d);
    // moto kept no alarms on the service, so there is nothing to switch off there.
    assert_eq!(mutating(&out), vec!["DeleteAlarms".to_string()], "{out:#}");
    assert_eq!(alarms(&aws), serde_json::json!([]));
}

#[test]
fn a_scalable_target_made_by_hand_is_mentioned_then_adopted_by_name() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let stack = moto_stack(dir.path(), "stateless", "");
    let stack = stack.to_str().unwrap();
    up(&aws, stack, d);
    aws.boto(&format!(
        "aas = boto3.client('application-autoscaling')\n\
         aas.register_scalable_target(ServiceNamespace='ecs', ResourceId='{RESOURCE}', ScalableDimension='ecs:service:DesiredCount', MinCapacity=1, MaxCapacity=4)"
    ));
    // Without `service.autoscaling`: left alone, with a warning.
    let out = up(&aws, stack, d);
    assert_eq!(mutating(&out), Vec::<String>::new(), "{out:#}");
    let warnings = out["plan"]["warnings"].to_string();
    assert!(
        warnings.contains("scalable target mcpctl did not make (1 .. 4 tasks)"),
        "{warnings}"
    );

    // With it (same range): the target is taken over as it is; only the policies are added.
    moto_stack(dir.path(), "stateless", &scaling(1, 4));
    let out = up(&aws, stack, d);
    assert_eq!(
        mutating(&out),
        vec![
            "PutScalingPolicy".to_string(),
            "PutScalingPolicy".to_string()
        ],
        "{out:#}"
    );
    let target = out["plan"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "scalable_target")
        .unwrap()
        .clone();
    assert_eq!(
        (target["action"].as_str(), target["adopt"].as_bool()),
        (Some("unchanged"), Some(true)),
        "{target:#}"
    );
    assert_eq!(scaling_state(&aws)["targets"], serde_json::json!([[1, 4]]));
}
