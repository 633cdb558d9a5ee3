//! `mcpctl up` against moto (server mode, 127.0.0.1): from nothing, re-runs, one change,
//! side by side with hand-made resources adopted, killed halfway, preflight, status and logs.
//! Everything is read back through the AWS API with boto3, not from mcpctl's output.
//!
//! moto facts these tests live with: services never reach running = desired (so `--no-wait`;
//! the waiter is tested on recorded states in `src/aws/wait/tests.rs`), and moto 5.2.5's
//! `CreateService` ignores `enableExecuteCommand`, `healthCheckGracePeriodSeconds` and
//! `deploymentConfiguration` (it stores them only on `UpdateService`) — the first test shows
//! exactly that gap; the re-run tests use a stack whose service settings are moto's defaults.

use std::io::Read;
use std::time::Duration;

use crate::common::aws::{mutating, repo_stack, stack_file, Aws, FreezingProxy, IMAGE};
use serde_json::Value;

fn up(aws: &Aws, stack: &str) -> Value {
    aws.mcpctl_json(&["up", "--stack", stack, "--image", IMAGE, "--no-wait"])
}

/// The stateless stack with the service settings moto's CreateService can store.
fn moto_stateless(dir: &std::path::Path, extra: &str) -> String {
    let text = format!(
        "extends: {}\nservice:\n  circuit_breaker_rollback: false\n  enable_execute_command: false\n  health_check_grace_period_seconds: 0\n{extra}",
        repo_stack("stateless")
    );
    stack_file(dir, "stateless", &text).display().to_string()
}

#[test]
fn up_from_nothing_creates_every_resource_with_the_right_names_tags_and_settings() {
    let aws = Aws::start_without_listener();
    let out = up(&aws, "stateless");
    // Listener, repository, log group, task role (made by the set-up script, adopted), task
    // definition, target group, rule, service.
    assert_eq!(
        out["applied"]["done"].as_array().unwrap().len(),
        8,
        "{out:#}"
    );

    // Listener created because the ALB had none: HTTP:80, fixed 404.
    let l = aws.boto(
        "lb = elb.describe_load_balancers(Names=['fastmcp-alb'])['LoadBalancers'][0]['LoadBalancerArn']\n\
         result = elb.describe_listeners(LoadBalancerArn=lb)['Listeners']",
    );
    assert_eq!(l.as_array().unwrap().len(), 1);
    assert_eq!(l[0]["Port"], 80);
    assert_eq!(l[0]["Protocol"], "HTTP");
    assert_eq!(
        l[0]["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"],
        "404"
    );

    let repo = aws.boto(
        "r = ecr.describe_repositories(repositoryNames=['opensearch-mcp-server-stateless'])['repositories'][0]\n\
         result = {'scan': r['imageScanningConfiguration']['scanOnPush'],\n\
          'policy': json.loads(ecr.get_lifecycle_policy(repositoryName='opensearch-mcp-server-stateless')['lifecyclePolicyText']),\n\
          'tags': {t['Key']: t['Value'] for t in ecr.list_tags_for_resource(resourceArn=r['repositoryArn'])['tags']}}",
    );
    assert_eq!(repo["scan"], true);
    assert_eq!(repo["policy"]["rules"][0]["selection"]["countNumber"], 10);
    assert_eq!(repo["tags"]["mcpctl:stack"], "stateless");

    let lg = aws.boto(
        "g = [g for g in logs.describe_log_groups(logGroupNamePrefix='/ecs/opensearch-mcp-server-stateless')['logGroups']][0]\n\
         result = {'name': g['logGroupName'], 'retention': g.get('retentionInDays'),\n\
          'tags': logs.list_tags_log_group(logGroupName=g['logGroupName'])['tags']}",
    );
    assert_eq!(lg["retention"], 30);
    assert_eq!(lg["tags"]["mcpctl:stack"], "stateless");

    let td = aws.boto(
        "result = ecs.describe_task_definition(taskDefinition='opensearch-mcp-server-stateless', include=['TAGS'])",
    );
    let t = &td["taskDefinition"];
    assert_eq!(t["revision"], 1);
    assert_eq!(t["cpu"], "512");
    assert_eq!(t["memory"], "1024");
    assert_eq!(t["networkMode"], "awsvpc");
    assert_eq!(t["requiresCompatibilities"][0], "FARGATE");
    assert_eq!(
        t["executionRoleArn"],
        "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
    );
    let c = &t["containerDefinitions"][0];
    assert_eq!(c["image"], IMAGE);
    assert_eq!(c["portMappings"][0]["containerPort"], 9898);
    assert_eq!(
        c["healthCheck"]["command"],
        serde_json::json!(["CMD", "opensearch-mcp-server", "--check-health"])
    );
    assert_eq!(
        c["logConfiguration"]["options"]["awslogs-group"],
        "/ecs/opensearch-mcp-server-stateless"
    );
    let env: std::collections::HashMap<String, String> = c["environment"]
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
    assert_eq!(env["MCP_PATH"], "/ossserver-stateless/ossmcp");
    assert_eq!(env["MCP_STATELESS"], "true");
    assert_eq!(env["MCP_PATH_ALIASES"], "/ossserver");
    assert_eq!(env["MCP_PORT"], "9898");
    assert_eq!(td["tags"][0]["key"], "mcpctl:stack");

    let tg = aws.boto(
        "t = elb.describe_target_groups(Names=['opensearch-mcp-tg-stateless'])['TargetGroups'][0]\n\
         a = {x['Key']: x['Value'] for x in elb.describe_target_group_attributes(TargetGroupArn=t['TargetGroupArn'])['Attributes']}\n\
         result = {'tg': t, 'delay': a['deregistration_delay.timeout_seconds'],\n\
          'tags': {x['Key']: x['Value'] for x in elb.describe_tags(ResourceArns=[t['TargetGroupArn']])['TagDescriptions'][0]['Tags']}}",
    );
    assert_eq!(tg["tg"]["Port"], 9898);
    assert_eq!(tg["tg"]["TargetType"], "ip");
    assert_eq!(tg["tg"]["HealthCheckPath"], "/ossserver-stateless/health");
    assert_eq!(tg["tg"]["VpcId"], aws.shared["vpc"]);
    assert_eq!(tg["delay"], "30");
    assert_eq!(tg["tags"]["mcpctl:stack"], "stateless");

    let rules = aws.rules();
    assert_eq!(rules.as_array().unwrap().len(), 1);
    assert_eq!(rules[0]["priority"], 110);
    assert_eq!(
        rules[0]["paths"],
        serde_json::json!(["/ossserver-stateless/*"])
    );
    assert_eq!(rules[0]["target_groups"][0], tg["tg"]["TargetGroupArn"]);
    assert_eq!(rules[0]["tags"]["mcpctl:stack"], "stateless");

    let svc = aws.boto(
        "result = ecs.describe_services(cluster='fastmcp-time-server-cluster', services=['opensearch-mcp-server-stateless'], include=['TAGS'])['services'][0]",
    );
    assert_eq!(svc["status"], "ACTIVE");
    assert_eq!(svc["desiredCount"], 2);
    assert_eq!(svc["launchType"], "FARGATE");
    assert!(svc["taskDefinition"]
        .as_str()
        .unwrap()
        .ends_with("opensearch-mcp-server-stateless:1"));
    assert_eq!(
        svc["loadBalancers"][0]["targetGroupArn"],
        tg["tg"]["TargetGroupArn"]
    );
    assert_eq!(svc["loadBalancers"][0]["containerPort"], 9898);
    let vpc = &svc["networkConfiguration"]["awsvpcConfiguration"];
    let mut subnets: Vec<String> = serde_json::from_value(vpc["subnets"].clone()).unwrap();
    subnets.sort();
    assert_eq!(
        serde_json::json!(subnets),
        aws.shared["subnets"],
        "tasks run in the ALB's subnets"
    );
    assert_eq!(vpc["securityGroups"][0], aws.shared["security_group"]);
    assert_eq!(svc["tags"][0]["key"], "mcpctl:stack");

    // The moto gap, shown exactly: the plan sees only what CreateService did not store.
    let plan = aws.mcpctl_json(&["plan", "--stack", "stateless", "--image", IMAGE]);
    let changed: Vec<&Value> = plan["plan"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "unchanged")
        .collect();
    assert_eq!(changed.len(), 1, "{plan:#}");
    assert_eq!(changed[0]["kind"], "service");
    let fields: Vec<&str> = changed[0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec![
            "circuit_breaker_rollback",
            "enable_execute_command",
            "health_check_grace_period_seconds"
        ]
    );
}

#[test]
fn a_second_up_plans_no_changes_and_makes_no_mutating_call() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let stack = moto_stateless(dir.path(), "");
    let first = up(&aws, &stack);
    assert!(mutating(&first).contains(&"CreateService".to_string()));
    let rules_before = aws.rules();
    let tgs_before = aws.target_group_names();

    let second = up(&aws, &stack);
    assert_eq!(mutating(&second), Vec::<String>::new(), "{second:#}");
    assert_eq!(second["mutating_calls"], 0);
    assert!(second["applied"].is_null());
    assert!(second["plan"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["action"] == "unchanged"));
    // And AWS agrees: same revision, same rule ARNs and count, same target groups.
    assert_eq!(aws.revisions("opensearch-mcp-server-stateless"), vec![1]);
    assert_eq!(aws.rules(), rules_before);
    assert_eq!(aws.target_group_names(), tgs_before);
    let plan_text = aws.mcpctl(&["plan", "--stack", &stack, "--image", IMAGE]);
    assert!(String::from_utf8_lossy(&plan_text.stdout).ends_with("No changes.\n"));

    // The image is checked in the stack's repository: IMAGE was never pushed there...
    let plan = aws.mcpctl_json(&["plan", "--stack", &stack, "--image", IMAGE]);
    let warnings = plan["plan"]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0]
        .as_str()
        .unwrap()
        .contains("is not in ECR repository opensearch-mcp-server-stateless"));
    // ...and an image that was pushed passes.
    let digest = aws.boto(
        "m = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.docker.distribution.manifest.v2+json', 'config': {'mediaType': 'application/vnd.docker.container.image.v1+json', 'size': 1, 'digest': 'sha256:' + 'c' * 64}, 'layers': []})\n\
         result = ecr.put_image(repositoryName='opensearch-mcp-server-stateless', imageManifest=m, imageTag='v1')['image']['imageId']['imageDigest']",
    );
    let pushed = format!(
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/opensearch-mcp-server-stateless@{}",
        digest.as_str().unwrap()
    );
    let plan = aws.mcpctl_json(&["plan", "--stack", &stack, "--image", &pushed]);
    assert_eq!(plan["plan"]["warnings"], serde_json::json!([]));
}

#[test]
fn one_env_change_gives_one_new_revision_and_one_service_update() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let stack = moto_stateless(dir.path(), "");
    up(&aws, &stack);
    let rules_before = aws.rules();
    moto_stateless(
        dir.path(),
        "env:\n  MCP_ALLOWED_HOSTS: fastmcp-alb-1.us-east-1.elb.amazonaws.com\n",
    );
    let out = up(&aws, &stack);
    assert_eq!(
        mutating(&out),
        vec!["RegisterTaskDefinition", "UpdateService"],
        "{out:#}"
    );
    let td = out["plan"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "task_definition")
        .unwrap()
        .clone();
    assert_eq!(td["fields"].as_array().unwrap().len(), 1);
    assert_eq!(td["fields"][0]["field"], "env MCP_ALLOWED_HOSTS");
    assert_eq!(aws.revisions("opensearch-mcp-server-stateless"), vec![1, 2]);
    let svc = aws.boto("result = ecs.describe_services(cluster='fastmcp-time-server-cluster', services=['opensearch-mcp-server-stateless'])['services'][0]['taskDefinition']");
    assert!(svc.as_str().unwrap().ends_with(":2"), "{svc}");
    let env = aws.boto("result = {e['name']: e['value'] for e in ecs.describe_task_definition(taskDefinition='opensearch-mcp-server-stateless:2')['taskDefinition']['containerDefinitions'][0]['environment']}");
    assert_eq!(
        env["MCP_ALLOWED_HOSTS"],
        "fastmcp-alb-1.us-east-1.elb.amazonaws.com"
    );
    assert_eq!(aws.rules(), rules_before, "the rule is untouched");
}

#[test]
fn stateful_made_by_hand_is_adopted_and_stateless_runs_beside_it() {
    let aws = Aws::start();
    // What the old scripts made by hand: same names, no tags.
    aws.boto(
        "ecr.create_repository(repositoryName='opensearch-mcp-server')\n\
         logs.create_log_group(logGroupName='/ecs/opensearch-mcp-server')\n\
         vpc = ec2.describe_vpcs(Filters=[{'Name': 'isDefault', 'Values': ['true']}])['Vpcs'][0]['VpcId']\n\
         tg = elb.create_target_group(Name='opensearch-mcp-tg', Protocol='HTTP', Port=9898, VpcId=vpc, TargetType='ip', HealthCheckPath='/ossserver/health')['TargetGroups'][0]['TargetGroupArn']\n\
         lb = elb.describe_load_balancers(Names=['fastmcp-alb'])['LoadBalancers'][0]['LoadBalancerArn']\n\
         l = elb.describe_listeners(LoadBalancerArn=lb)['Listeners'][0]['ListenerArn']\n\
         elb.create_rule(ListenerArn=l, Priority=100, Conditions=[{'Field': 'path-pattern', 'Values': ['/ossserver/*']}], Actions=[{'Type': 'forward', 'TargetGroupArn': tg}])\n\
         td = ecs.register_task_definition(family='opensearch-mcp-server', networkMode='awsvpc', requiresCompatibilities=['FARGATE'], cpu='512', memory='1024',\n\
           executionRoleArn='arn:aws:iam::123456789012:role/ecsTaskExecutionRole',\n\
           containerDefinitions=[{'name': 'opensearch-mcp-server', 'image': 'old:latest', 'portMappings': [{'containerPort': 9898}], 'environment': [{'name': 'MCP_PATH', 'value': '/ossserver/ossmcp'}]}])['taskDefinition']['taskDefinitionArn']\n\
         sn = [s['SubnetId'] for s in ec2.describe_subnets(Filters=[{'Name': 'vpc-id', 'Values': [vpc]}])['Subnets']][:1]\n\
         sg = ec2.describe_security_groups(Filters=[{'Name': 'group-name', 'Values': ['default']}, {'Name': 'vpc-id', 'Values': [vpc]}])['SecurityGroups'][0]['GroupId']\n\
         ecs.create_service(cluster='fastmcp-time-server-cluster', serviceName='opensearch-mcp-server', taskDefinition=td, desiredCount=1, launchType='FARGATE',\n\
           loadBalancers=[{'targetGroupArn': tg, 'containerName': 'opensearch-mcp-server', 'containerPort': 9898}],\n\
           networkConfiguration={'awsvpcConfiguration': {'subnets': sn, 'securityGroups': [sg], 'assignPublicIp': 'ENABLED'}})",
    );
    let plan = aws.mcpctl_json(&["plan", "--stack", "stateful", "--image", IMAGE]);
    let changes = plan["plan"]["changes"].as_array().unwrap();
    let action = |kind: &str| changes.iter().find(|c| c["kind"] == kind).unwrap().clone();
    for kind in [
        "repository",
        "log_group",
        "target_group",
        "listener_rule",
        "service",
    ] {
        let c = action(kind);
        assert_eq!(c["action"], "update", "{kind}: {c:#}");
        assert_eq!(c["adopt"], true, "{kind}");
    }
    assert_eq!(action("task_definition")["action"], "update");

    let out = up(&aws, "stateful");
    let creates: Vec<&Value> = out["applied"]["done"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["action"] == "create")
        .collect();
    assert_eq!(creates.len(), 0, "adopted, nothing duplicated: {out:#}");
    assert_eq!(aws.target_group_names(), vec!["opensearch-mcp-tg"]);
    let rules = aws.rules();
    assert_eq!(rules.as_array().unwrap().len(), 1);
    assert_eq!(rules[0]["priority"], 100);
    assert_eq!(rules[0]["tags"]["mcpctl:stack"], "stateful");
    assert_eq!(aws.revisions("opensearch-mcp-server"), vec![1, 2]);
    let svc = aws.boto("result = ecs.describe_services(cluster='fastmcp-time-server-cluster', services=['opensearch-mcp-server'], include=['TAGS'])['services'][0]");
    assert_eq!(svc["tags"][0]["value"], "stateful");
    assert_eq!(svc["desiredCount"], 2);

    up(&aws, "stateless");
    assert_eq!(
        aws.target_group_names(),
        vec!["opensearch-mcp-tg", "opensearch-mcp-tg-stateless"]
    );
    let rules = aws.rules();
    let summary: Vec<(i64, String, String)> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["priority"].as_i64().unwrap(),
                r["paths"][0].as_str().unwrap().to_string(),
                r["tags"]["mcpctl:stack"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (100, "/ossserver/*".into(), "stateful".into()),
            (110, "/ossserver-stateless/*".into(), "stateless".into())
        ]
    );
    assert_ne!(rules[0]["target_groups"], rules[1]["target_groups"]);
    let services = aws.boto("result = sorted(a.rsplit('/', 1)[1] for a in ecs.list_services(cluster='fastmcp-time-server-cluster')['serviceArns'])");
    assert_eq!(
        services,
        serde_json::json!(["opensearch-mcp-server", "opensearch-mcp-server-stateless"])
    );
}

#[test]
fn an_up_killed_after_the_target_group_exists_converges_when_run_again() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let stack = moto_stateless(dir.path(), "");
    let proxy = FreezingProxy::start(aws.moto.port, "Action=CreateRule");
    let mut cmd = aws.mcpctl_cmd(&["up", "--stack", &stack, "--image", IMAGE, "--no-wait"]);
    cmd.env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = crate::common::ChildGuard::spawn("mcpctl up", &mut cmd);
    assert!(
        proxy.wait_frozen(Duration::from_secs(60)),
        "up never reached CreateRule"
    );
    child.kill();
    // Halfway: target group and task definition exist, no rule, no service.
    assert_eq!(
        aws.target_group_names(),
        vec!["opensearch-mcp-tg-stateless"]
    );
    assert_eq!(aws.rules().as_array().unwrap().len(), 0);
    let n = aws.boto(
        "result = len(ecs.list_services(cluster='fastmcp-time-server-cluster')['serviceArns'])",
    );
    assert_eq!(n, 0);

    let out = up(&aws, &stack);
    assert_eq!(
        mutating(&out),
        vec!["CreateRule", "CreateService"],
        "{out:#}"
    );
    assert_eq!(
        aws.target_group_names(),
        vec!["opensearch-mcp-tg-stateless"]
    );
    assert_eq!(aws.rules().as_array().unwrap().len(), 1);
    assert_eq!(
        aws.revisions("opensearch-mcp-server-stateless"),
        vec![1],
        "no second revision"
    );
    let again = up(&aws, &stack);
    assert_eq!(mutating(&again), Vec::<String>::new());
}

#[test]
fn preflight_lists_every_problem_and_changes_nothing() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let stack = stack_file(
        dir.path(),
        "broken",
        &format!(
            "extends: {}\ncluster: no-such-cluster\nroles:\n  execution_role_arn: arn:aws:iam::123456789012:role/missingExecutionRole\n",
            repo_stack("stateless")
        ),
    );
    // No docker on PATH and no --image.
    let out = aws
        .mcpctl_cmd(&["up", "--stack", stack.to_str().unwrap(), "--no-wait"])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(
        err.contains("ECS cluster `no-such-cluster` was not found"),
        "{err}"
    );
    assert!(
        err.contains("IAM role `missingExecutionRole` (`roles.execution_role_arn`) does not exist"),
        "{err}"
    );
    assert!(
        err.contains("`docker` is not on PATH and neither --image nor `image:` is given"),
        "{err}"
    );
    let state = aws.boto(
        "result = [len(ecr.describe_repositories()['repositories']), len(logs.describe_log_groups()['logGroups']),\n\
         len(elb.describe_target_groups()['TargetGroups']), len(ecs.list_task_definitions()['taskDefinitionArns'])]",
    );
    assert_eq!(state, serde_json::json!([0, 0, 0, 0]));
}

#[test]
fn status_shows_resources_and_routes_and_logs_reads_the_log_group() {
    let aws = Aws::start();
    up(&aws, "stateless");
    let st = aws.mcpctl_json(&["status", "--stack", "stateless"]);
    let resources = st["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 6);
    assert!(resources.iter().all(|r| !r["id"].is_null()), "{st:#}");
    assert_eq!(st["desired"], 2);
    assert_eq!(st["routes"].as_array().unwrap().len(), 1);
    assert_eq!(st["routes"][0]["percent"], 100);
    assert_eq!(st["routes"][0]["priority"], 110);
    assert_eq!(
        st["url"],
        "http://fastmcp-alb-1.us-east-1.elb.amazonaws.com/ossserver-stateless/ossmcp"
    );

    aws.boto(
        "import time\n\
         g = '/ecs/opensearch-mcp-server-stateless'\n\
         logs.create_log_stream(logGroupName=g, logStreamName='ecs/opensearch-mcp-server/task1')\n\
         now = int(time.time() * 1000)\n\
         logs.put_log_events(logGroupName=g, logStreamName='ecs/opensearch-mcp-server/task1', logEvents=[\n\
           {'timestamp': now - 7200000, 'message': 'too old'},\n\
           {'timestamp': now - 1000, 'message': '{\"method\":\"tools/call\",\"tool\":\"list_indices\",\"status\":200}'}])",
    );
    let out = aws.mcpctl(&["logs", "--stack", "stateless", "--since", "1h"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("task1 {\"method\":\"tools/call\",\"tool\":\"list_indices\",\"status\":200}"),
        "{text}"
    );
    assert!(!text.contains("too old"), "{text}");

    // --follow: existing events once, then new ones as they arrive.
    let mut cmd = aws.mcpctl_cmd(&["logs", "--stack", "stateless", "--since", "1h", "--follow"]);
    cmd.stdout(std::process::Stdio::piped());
    let mut follow = crate::common::ChildGuard::spawn("mcpctl logs --follow", &mut cmd);
    let stdout = follow.child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the existing event");
    assert!(first.contains("list_indices"), "{first}");
    aws.boto(
        "import time\n\
         logs.put_log_events(logGroupName='/ecs/opensearch-mcp-server-stateless', logStreamName='ecs/opensearch-mcp-server/task1',\n\
           logEvents=[{'timestamp': int(time.time() * 1000), 'message': 'a new line while following'}])",
    );
    let next = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the new event while following");
    assert!(next.ends_with("task1 a new line while following"), "{next}");
    follow.kill();
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(
        rest.iter().all(|l| !l.contains("list_indices")),
        "no event twice: {rest:?}"
    );
}

/// moto reports 2 running tasks and a COMPLETED rollout; the waiter must still wait for two
/// healthy targets, which the test registers (as ECS would) after a while.
#[test]
fn up_waits_for_running_tasks_and_healthy_targets() {
    let aws = Aws::start_with_moto_env(&[("MOTO_ECS_SERVICE_RUNNING", "2")]);
    let dir = tempfile::tempdir().unwrap();
    let stack = moto_stateless(dir.path(), "");
    let mut cmd = aws.mcpctl_cmd(&[
        "up",
        "--stack",
        &stack,
        "--image",
        IMAGE,
        "--timeout",
        "90s",
    ]);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = crate::common::ChildGuard::spawn("mcpctl up", &mut cmd);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while aws.boto(
        "result = len(ecs.list_services(cluster='fastmcp-time-server-cluster')['serviceArns'])",
    ) == 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the service was never created"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        child.child.try_wait().unwrap().is_none(),
        "up must still be waiting: no healthy targets yet"
    );
    aws.boto(
        "t = elb.describe_target_groups(Names=['opensearch-mcp-tg-stateless'])['TargetGroups'][0]['TargetGroupArn']\n\
         elb.register_targets(TargetGroupArn=t, Targets=[{'Id': '10.0.0.11', 'Port': 9898}, {'Id': '10.0.0.12', 'Port': 9898}])",
    );
    // Bounded by up's own --timeout.
    let status = child.child.wait().unwrap();
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child
        .child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Service opensearch-mcp-server-stateless is steady on opensearch-mcp-server-stateless:1."), "{stdout}");
    // stderr is a pipe, not a terminal: plain progress lines while waiting, no ANSI codes.
    assert!(
        stderr.contains("waiting for opensearch-mcp-server-stateless [")
            && stderr.contains("]: tasks running 2/2, targets healthy 0/0"),
        "{stderr}"
    );
    assert!(!stderr.contains('\x1b'), "{stderr}");
}

#[test]
fn up_fails_after_the_timeout_with_counts_and_events() {
    let aws = Aws::start_with_moto_env(&[("MOTO_ECS_SERVICE_RUNNING", "2")]);
    let dir = tempfile::tempdir().unwrap();
    let stack = moto_stateless(dir.path(), "");
    let out = aws.mcpctl(&["up", "--stack", &stack, "--image", IMAGE, "--timeout", "2s"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("timed out after 2s waiting for the deployment of opensearch-mcp-server-stateless:1 (tasks running 2/2, targets healthy 0/0)"),
        "{err}"
    );
    assert!(err.contains("recent service events:"), "{err}");
}

/// No Docker engine runs here, so this test puts a stand-in `docker` CLI first on PATH: it
/// records its arguments and stdin and prints what `docker push` prints. What is tested is
/// mcpctl's side: the ECR login with the password from moto's real `GetAuthorizationToken`,
/// the build (for the stack's architecture) and push of a tag of its own, and deploying
/// `REPO@DIGEST` — a rebuilt image with a new digest gives a new revision, the same digest none.
#[test]
fn without_image_up_builds_pushes_and_deploys_by_digest() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let stack = moto_stateless(dir.path(), "");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = dir.path().join("docker.log");
    let digest_file = dir.path().join("digest");
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> {log}\ncase \"$1\" in\n  info) echo 27.0.0 ;;\n  login) echo \"password=$(cat)\" >> {log}; echo 'Login Succeeded' ;;\n  build) echo 'built' ;;\n  push) echo \"The push refers to repository [$2]\"; echo \"latest: digest: $(cat {digest}) size: 1570\" ;;\n  *) exit 1 ;;\nesac\n",
        log = log.display(),
        digest = digest_file.display()
    );
    let docker = bin.join("docker");
    std::fs::write(&docker, script).unwrap();
    std::fs::set_permissions(&docker, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |digest: &str| -> Value {
        std::fs::write(&digest_file, digest).unwrap();
        let out = aws
            .mcpctl_cmd(&["--output", "json", "up", "--stack", &stack, "--no-wait"])
            .env("PATH", &path)
            .env_remove("MCPCTL_IMAGE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let d1 = format!("sha256:{}", "a".repeat(64));
    let d2 = format!("sha256:{}", "b".repeat(64));
    let repo = "123456789012.dkr.ecr.us-east-1.amazonaws.com/opensearch-mcp-server-stateless";

    run(&d1);
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(calls.contains("login --username AWS --password-stdin 123456789012.dkr.ecr.us-east-1.amazonaws.com\npassword=123456789012-auth-token\n"), "{calls}");
    // For the stack's architecture (x86_64 by default), under a tag of its own (issue 11).
    assert!(
        calls.contains(&format!(
            "build --platform linux/amd64 -f server/Dockerfile -t {repo}:"
        )),
        "{calls}"
    );
    assert!(calls.contains(&format!("push {repo}:")), "{calls}");
    assert!(!calls.contains(":latest"), "{calls}");
    let image = aws.boto("result = ecs.describe_task_definition(taskDefinition='opensearch-mcp-server-stateless')['taskDefinition']['containerDefinitions'][0]['image']");
    assert_eq!(image, serde_json::json!(format!("{repo}@{d1}")));

    let same = run(&d1);
    assert_eq!(
        mutating(&same),
        Vec::<String>::new(),
        "same digest, nothing to change"
    );
    let rebuilt = run(&d2);
    assert_eq!(
        mutating(&rebuilt),
        vec!["RegisterTaskDefinition", "UpdateService"]
    );
    assert_eq!(aws.revisions("opensearch-mcp-server-stateless"), vec![1, 2]);
}

#[test]
fn a_docker_without_a_running_engine_is_a_clear_error_before_any_change() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let docker = dir.path().join("docker");
    std::fs::write(&docker, "#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&docker, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = aws
        .mcpctl_cmd(&["up", "--stack", "stateless", "--no-wait"])
        .env("PATH", format!("{}:/usr/bin:/bin", dir.path().display()))
        .env_remove("MCPCTL_IMAGE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`docker info` failed (Cannot connect to the Docker daemon"),
        "{err}"
    );
    assert!(err.contains("pass --image URI"), "{err}");
    let repos = aws.boto("result = len(ecr.describe_repositories()['repositories'])");
    assert_eq!(repos, 0);
}
