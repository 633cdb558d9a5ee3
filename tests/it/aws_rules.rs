//! AWS rules moto does not enforce, checked through a fault-injecting proxy in front of moto
//! (`mcpctl_testkit::fault_proxy`) or on the recorded calls: paging logs past an empty page.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::aws::Aws;
use crate::common::fault_proxy::{FaultProxy, Reply, Request};

/// FilterLogEvents may answer an empty page that still has a `nextToken`
/// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html);
/// moto never does, so the proxy answers the first call that way and the next one (with that
/// token) goes to moto without it.
#[test]
fn logs_pages_past_an_empty_page_with_a_token() {
    let aws = Aws::start();
    aws.boto(
        "import time\n\
         g = '/ecs/opensearch-mcp-server-stateless'\n\
         logs.create_log_group(logGroupName=g)\n\
         logs.create_log_stream(logGroupName=g, logStreamName='ecs/opensearch-mcp-server/task1')\n\
         now = int(time.time() * 1000)\n\
         logs.put_log_events(logGroupName=g, logStreamName='ecs/opensearch-mcp-server/task1', logEvents=[{'timestamp': now - 2000, 'message': 'first line'}, {'timestamp': now - 1000, 'message': 'second line'}])",
    );
    let empty_pages = Arc::new(AtomicUsize::new(0));
    let n = empty_pages.clone();
    let proxy = FaultProxy::start(
        aws.moto.port,
        Arc::new(move |req: &mut Request| {
            if req.operation != "FilterLogEvents" {
                return Reply::Forward;
            }
            let mut body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
            if body.get("nextToken").and_then(|t| t.as_str()) == Some("fault-proxy-page-2") {
                body.as_object_mut().map(|o| o.remove("nextToken"));
                req.body = body.to_string().into_bytes();
                return Reply::Forward;
            }
            n.fetch_add(1, Ordering::SeqCst);
            Reply::json(
                serde_json::json!({"events": [], "nextToken": "fault-proxy-page-2", "searchedLogStreams": []}),
            )
        }),
    );
    let out = aws
        .mcpctl_cmd(&["logs", "--stack", "stateless", "--since", "1h"])
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        empty_pages.load(Ordering::SeqCst),
        1,
        "the empty page was served"
    );
    assert!(
        stdout.contains("first line") && stdout.contains("second line"),
        "logs stopped at the empty page: {stdout:?}"
    );
}

/// `container.architecture: arm64` builds with `docker build --platform linux/arm64` and
/// registers `runtimePlatform` ARM64; each build gets its own tag (a repository with IMMUTABLE
/// tags takes the second push: https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html)
/// and is deployed by digest; an `--image` index without arm64 is a preflight problem
/// (read with BatchGetImage).
#[test]
fn builds_are_for_the_stack_architecture_and_tagged_uniquely() {
    let aws = Aws::start();
    aws.boto("ecr.create_repository(repositoryName='opensearch-mcp-server-stateless', imageTagMutability='IMMUTABLE')");
    let tmp = tempfile::tempdir().unwrap();
    let stack = crate::common::aws::stack_file(
        tmp.path(),
        "arm",
        &format!(
            "extends: {}\nname: stateless\ncontainer:\n  architecture: arm64\n",
            crate::common::aws::repo_stack("stateless")
        ),
    );
    let stack = stack.display().to_string();
    let log = tmp.path().join("docker.log");
    let path = format!(
        "{}:{}:{}",
        crate::common::workspace_root()
            .join("tests/data/fake-docker")
            .display(),
        crate::common::venv_bin("python")
            .parent()
            .unwrap()
            .display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let up = || {
        let out = aws
            .mcpctl_cmd(&["--output", "json", "up", "--stack", &stack, "--no-wait"])
            .env("PATH", &path)
            .env("FAKE_DOCKER_LOG", &log)
            .env_remove("MCPCTL_IMAGE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "up failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let first = up();
    let second = up();
    let calls: Vec<Vec<String>> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let builds: Vec<&Vec<String>> = calls.iter().filter(|c| c[0] == "build").collect();
    assert_eq!(builds.len(), 2, "{calls:?}");
    for b in &builds {
        assert_eq!(&b[1..3], ["--platform", "linux/arm64"], "{b:?}");
    }
    let tags: Vec<&String> = calls
        .iter()
        .filter(|c| c[0] == "push")
        .map(|c| &c[1])
        .collect();
    assert_eq!(tags.len(), 2);
    assert_ne!(tags[0], tags[1], "each build has its own tag");
    assert!(tags.iter().all(|t| !t.ends_with(":latest")), "{tags:?}");
    for out in [&first, &second] {
        let image = out["applied"]["image"].as_str().unwrap();
        assert!(image.contains("@sha256:"), "deployed by digest: {image}");
    }
    let td = aws.boto(
        "s = ecs.describe_services(cluster='fastmcp-time-server-cluster', services=['opensearch-mcp-server-stateless'])['services'][0]\n\
         result = ecs.describe_task_definition(taskDefinition=s['taskDefinition'])['taskDefinition'].get('runtimePlatform')",
    );
    assert_eq!(td["cpuArchitecture"], "ARM64", "{td}");
    assert_eq!(td["operatingSystemFamily"], "LINUX", "{td}");

    // An image index with only amd64, given with --image: refused before any change.
    aws.boto(
        "import json\n\
         index = {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json', 'manifests': [{'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'size': 1, 'digest': 'sha256:' + 'a' * 64, 'platform': {'architecture': 'amd64', 'os': 'linux'}}]}\n\
         ecr.put_image(repositoryName='opensearch-mcp-server-stateless', imageManifest=json.dumps(index), imageManifestMediaType='application/vnd.oci.image.index.v1+json', imageTag='amd64-only')",
    );
    let image =
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/opensearch-mcp-server-stateless:amd64-only";
    let out = aws.mcpctl(&["plan", "--stack", &stack, "--image", image]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is built for amd64 but the stack runs on arm64"),
        "{err}"
    );
}

/// A service deleted moments ago stays DRAINING for a while, and ECS refuses `CreateService`
/// for its name until it is INACTIVE
/// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteService.html); moto
/// forgets a deleted service at once. The proxy reports the stateless service as DRAINING and
/// refuses its creation for the first seconds; `up` waits, saying why, then creates it.
#[test]
fn up_waits_for_a_draining_service_before_creating_it() {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};
    let aws = Aws::start();
    let window = Duration::from_secs(6);
    let started: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let refused = Arc::new(AtomicUsize::new(0));
    let (st, rf) = (started.clone(), refused.clone());
    let proxy = FaultProxy::start(
        aws.moto.port,
        Arc::new(move |req: &mut Request| {
            let name = "opensearch-mcp-server-stateless";
            let draining = {
                let mut s = st.lock().unwrap();
                if req.operation == "DescribeServices"
                    && req.body_text().contains(name)
                    && s.is_none()
                {
                    *s = Some(Instant::now());
                }
                s.is_some_and(|t| t.elapsed() < window)
            };
            match req.operation.as_str() {
                "DescribeServices" if draining && req.body_text().contains(name) => {
                    Reply::json(serde_json::json!({
                        "services": [{
                            "serviceArn": format!("arn:aws:ecs:us-east-1:123456789012:service/fastmcp-time-server-cluster/{name}"),
                            "serviceName": name,
                            "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/fastmcp-time-server-cluster",
                            "status": "DRAINING", "desiredCount": 0, "runningCount": 1, "pendingCount": 0,
                            "launchType": "FARGATE"
                        }],
                        "failures": []
                    }))
                }
                "CreateService" if draining => {
                    rf.fetch_add(1, Ordering::SeqCst);
                    Reply::json_error(
                        400,
                        "InvalidParameterException",
                        "Unable to Start a service that is still Draining.",
                    )
                }
                _ => Reply::Forward,
            }
        }),
    );
    let t0 = Instant::now();
    let out = aws
        .mcpctl_cmd(&[
            "up",
            "--stack",
            "stateless",
            "--image",
            crate::common::aws::IMAGE,
            "--no-wait",
        ])
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{}\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        refused.load(Ordering::SeqCst),
        0,
        "CreateService was sent while DRAINING"
    );
    assert!(
        stderr.contains("is DRAINING"),
        "no progress shown: {stderr}"
    );
    assert!(t0.elapsed() >= window, "up did not wait");
    let status = aws.boto("result = ecs.describe_services(cluster='fastmcp-time-server-cluster', services=['opensearch-mcp-server-stateless'])['services'][0]['status']");
    assert_eq!(status, "ACTIVE");
}

/// A role created by `up` can be refused by ECS for seconds (IAM's eventual consistency:
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency);
/// moto never does. The proxy refuses RegisterTaskDefinition ("ECS was unable to assume the
/// role") and CreateService (the target group's new rule not yet seen by ECS: "does not have an
/// associated load balancer",
/// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-load-balancers.html)
/// for the first seconds after CreateRole; `up` retries exactly those, says why, and succeeds.
#[test]
fn up_retries_role_refusals_while_iam_propagates() {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};
    let aws = Aws::start();
    let window = Duration::from_secs(4);
    let created: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let refused = Arc::new(AtomicUsize::new(0));
    let (cr, rf) = (created.clone(), refused.clone());
    let elb_seen = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let proxy = FaultProxy::start(
        aws.moto.port,
        Arc::new(move |req: &mut Request| {
            let mut c = cr.lock().unwrap();
            if req.operation == "CreateRole" {
                *c = Some(Instant::now());
                return Reply::Forward;
            }
            let fresh = c.is_some_and(|t| t.elapsed() < window);
            match req.operation.as_str() {
                "RegisterTaskDefinition" if fresh => {
                    rf.fetch_add(1, Ordering::SeqCst);
                    Reply::json_error(400, "ClientException", "ECS was unable to assume the role 'arn:aws:iam::123456789012:role/opensearch-mcp-fresh-role' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.")
                }
                // The first CreateService, whenever it comes (the role's retries may outlast
                // the window).
                "CreateService" if !elb_seen.swap(true, Ordering::SeqCst) => {
                    rf.fetch_add(1, Ordering::SeqCst);
                    Reply::json_error(400, "InvalidParameterException", "The target group with targetGroupArn arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/opensearch-mcp-tg-stateless/1 does not have an associated load balancer.")
                }
                _ => Reply::Forward,
            }
        }),
    );
    let out = aws
        .mcpctl_cmd(&[
            "up",
            "--stack",
            "stateless",
            "--image",
            crate::common::aws::IMAGE,
            "--no-wait",
        ])
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .env("MCPCTL_TASK_ROLE", "opensearch-mcp-fresh-role")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{}\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        refused.load(Ordering::SeqCst) >= 1,
        "the proxy refused nothing"
    );
    assert!(
        stderr.contains("IAM changes take seconds to reach ECS")
            && stderr.contains("ELB changes take seconds to reach ECS"),
        "{stderr}"
    );
    let status = aws.boto("result = ecs.describe_services(cluster='fastmcp-time-server-cluster', services=['opensearch-mcp-server-stateless'])['services'][0]['taskDefinition']");
    assert!(
        status
            .as_str()
            .unwrap()
            .ends_with("opensearch-mcp-server-stateless:1"),
        "{status}"
    );
}

/// A deployer without `iam:PassRole` on the task role: IAM evaluates the caller's own policies,
/// so no wait changes the answer (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html).
/// `up` fails at once (one refused call, not 90 s of retries), naming the action, before any
/// service is created.
#[test]
fn a_missing_pass_role_fails_at_once_naming_the_action() {
    use std::time::{Duration, Instant};
    let aws = Aws::start();
    let refused = Arc::new(AtomicUsize::new(0));
    let rf = refused.clone();
    let proxy = FaultProxy::start(
        aws.moto.port,
        Arc::new(move |req: &mut Request| match req.operation.as_str() {
            "RegisterTaskDefinition" => {
                rf.fetch_add(1, Ordering::SeqCst);
                Reply::json_error(400, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/ecsTaskRole")
            }
            _ => Reply::Forward,
        }),
    );
    let started = Instant::now();
    let out = aws
        .mcpctl_cmd(&[
            "up",
            "--stack",
            "stateless",
            "--image",
            crate::common::aws::IMAGE,
            "--no-wait",
        ])
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("iam:PassRole"), "{stderr}");
    assert!(!stderr.contains("retrying"), "{stderr}");
    assert_eq!(refused.load(Ordering::SeqCst), 1, "not retried");
    assert!(started.elapsed() < Duration::from_secs(60));
    let services = aws.boto("result = [s['status'] for s in ecs.describe_services(cluster='fastmcp-time-server-cluster', services=['opensearch-mcp-server-stateless'])['services']]");
    assert_eq!(services, serde_json::json!([]), "no service was created");
}

/// `--region` reaches everything: the clients, the task definition's `awslogs-region`, the
/// task's `AWS_REGION` and the OpenSearch domain ARN of the task role policy (all interpolated
/// from `${AWS_REGION}`), although the environment names no region. ECS would start tasks
/// whose awslogs region is wrong and they would fail; moto does not check it.
#[test]
fn one_region_everywhere() {
    let aws = Aws::start();
    let region_env = |r: &'static str| vec![("AWS_REGION", r), ("AWS_DEFAULT_REGION", r)];
    let out = std::process::Command::new(crate::common::venv_bin("python"))
        .arg(crate::common::workspace_root().join("scripts/emulator-shared-resources.py"))
        .envs(aws.env())
        .envs(region_env("eu-west-1"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = aws
        .mcpctl_cmd(&[
            "--region",
            "eu-west-1",
            "up",
            "--stack",
            "stateless",
            "--image",
            crate::common::aws::IMAGE,
            "--no-wait",
        ])
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let program = "import boto3, json\n\
        ecs = boto3.client('ecs', region_name='eu-west-1'); iam = boto3.client('iam', region_name='eu-west-1')\n\
        td = ecs.describe_task_definition(taskDefinition='opensearch-mcp-server-stateless')['taskDefinition']\n\
        c = td['containerDefinitions'][0]\n\
        print(json.dumps({'log': c['logConfiguration']['options']['awslogs-region'], 'env': {e['name']: e['value'] for e in c['environment']}.get('AWS_REGION'), 'policy': json.dumps(iam.get_role_policy(RoleName='ecsTaskRole', PolicyName='OpenSearchAccess')['PolicyDocument'])}))";
    let out = std::process::Command::new(crate::common::venv_bin("python"))
        .args(["-c", program])
        .envs(aws.env())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["log"], "eu-west-1", "{v}");
    assert_eq!(v["env"], "eu-west-1", "{v}");
    let policy = v["policy"].as_str().unwrap();
    assert!(policy.contains("arn:aws:es:eu-west-1:"), "{policy}");
    assert!(!policy.contains("us-east-1"), "{policy}");
}
