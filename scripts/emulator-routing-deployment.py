#!/usr/bin/env python3
"""Create, in an AWS emulator (moto), the running deployment the user's 00-05 scripts left:
the stateful Python FastMCP server as ECS service `opensearch-mcp-server-routing`, with its task
definition family and container of the same name, target group `opensearch-mcp-routing-tg`
(port 9898, health check `/ossserver/health` with a 10 s timeout), the `/ossserver/*` rule at
priority 100 on the ALB's HTTP:80 listener, log group `/ecs/opensearch-mcp-server-routing`, the
ECR repository and image, and an inline policy on `ecsTaskRole` that also allows ESHttpPut and
ESHttpDelete. Nothing is tagged. Run it after emulator-shared-resources.py (it reads the ALB,
subnets, security group and roles from there). Prints the created ARNs as JSON.

Usage: AWS_ENDPOINT_URL=http://127.0.0.1:PORT python3 emulator-routing-deployment.py
"""
import hashlib
import json

import boto3

NAME = "opensearch-mcp-server-routing"
CLUSTER = "fastmcp-time-server-cluster"
ACCOUNT = "123456789012"
REGION = "us-east-1"

# The user's role policy: broader than mcpctl's least privilege (Put and Delete too).
ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Action": ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"],
        "Resource": [f"arn:aws:es:{REGION}:{ACCOUNT}:domain/opensearch-mcp", f"arn:aws:es:{REGION}:{ACCOUNT}:domain/opensearch-mcp/*"],
    }],
}

ENV = {
    "OPENSEARCH_HOST": "search-opensearch-mcp-abc123.us-east-1.es.amazonaws.com",
    "OPENSEARCH_PORT": "443",
    "OPENSEARCH_USE_SSL": "true",
    "OPENSEARCH_USE_IAM": "true",
    "AWS_REGION": REGION,
    "MCP_PATH": "/ossserver/ossmcp",
    "MCP_STATELESS": "false",
    "PYTHONUNBUFFERED": "1",
}


def main():
    ec2 = boto3.client("ec2")
    ecs = boto3.client("ecs")
    ecr = boto3.client("ecr")
    elb = boto3.client("elbv2")
    iam = boto3.client("iam")
    logs = boto3.client("logs")

    lb = elb.describe_load_balancers(Names=["fastmcp-alb"])["LoadBalancers"][0]
    listener = [l for l in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"] if l["Port"] == 80][0]
    subnets = sorted(z["SubnetId"] for z in lb["AvailabilityZones"])
    sgs = lb["SecurityGroups"]
    execution_role = iam.get_role(RoleName="ecsTaskExecutionRole")["Role"]["Arn"]
    task_role = iam.get_role(RoleName="ecsTaskRole")["Role"]["Arn"]
    iam.put_role_policy(RoleName="ecsTaskRole", PolicyName="OpenSearchAccess", PolicyDocument=json.dumps(ROLE_POLICY))

    # 01: the repository and the Python FastMCP image (docker build + push).
    repo = ecr.create_repository(repositoryName=NAME)["repository"]
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["python", "oss_server.py"]}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config), "digest": "sha256:" + hashlib.sha256(config).hexdigest()},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1024, "digest": "sha256:" + hashlib.sha256(b"python:3.12-slim fastmcp").hexdigest()}],
    })
    ecr.put_image(repositoryName=NAME, imageManifest=manifest, imageTag="latest")
    image = f"{repo['repositoryUri']}:latest"

    # 02: the log group (no retention: the scripts never set one).
    logs.create_log_group(logGroupName=f"/ecs/{NAME}")

    # 03: the task definition, with a curl health check (the Python image has curl).
    td = ecs.register_task_definition(
        family=NAME, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        executionRoleArn=execution_role, taskRoleArn=task_role,
        containerDefinitions=[{
            "name": NAME, "image": image, "essential": True,
            "portMappings": [{"containerPort": 9898, "hostPort": 9898, "protocol": "tcp"}],
            "environment": [{"name": k, "value": v} for k, v in ENV.items()],
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": f"/ecs/{NAME}", "awslogs-region": REGION, "awslogs-stream-prefix": "ecs"}},
            "healthCheck": {"command": ["CMD-SHELL", "curl -f http://localhost:9898/ossserver/health || exit 1"], "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 60},
        }],
    )["taskDefinition"]["taskDefinitionArn"]

    # 04: the target group and the /ossserver/* rule at priority 100.
    tg = elb.create_target_group(
        Name="opensearch-mcp-routing-tg", Protocol="HTTP", Port=9898, VpcId=lb["VpcId"], TargetType="ip",
        HealthCheckPath="/ossserver/health", HealthCheckIntervalSeconds=30, HealthCheckTimeoutSeconds=10,
        HealthyThresholdCount=2, UnhealthyThresholdCount=3, Matcher={"HttpCode": "200"},
    )["TargetGroups"][0]["TargetGroupArn"]
    rule = elb.create_rule(
        ListenerArn=listener["ListenerArn"], Priority=100,
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/ossserver/*"]}}],
        Actions=[{"Type": "forward", "TargetGroupArn": tg}],
    )["Rules"][0]["RuleArn"]

    # 05: the service: one task, minimum healthy 50%, circuit breaker and ECS Exec on.
    service = ecs.create_service(
        cluster=CLUSTER, serviceName=NAME, taskDefinition=td, desiredCount=1, launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": sgs, "assignPublicIp": "ENABLED"}},
        loadBalancers=[{"targetGroupArn": tg, "containerName": NAME, "containerPort": 9898}],
        deploymentConfiguration={"minimumHealthyPercent": 50, "maximumPercent": 200, "deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        enableExecuteCommand=True, healthCheckGracePeriodSeconds=60,
    )["service"]["serviceArn"]
    # moto's CreateService keeps neither the circuit breaker, ECS Exec nor the grace period;
    # UpdateService does, so the emulator ends up where AWS is after the CreateService above.
    ecs.update_service(
        cluster=CLUSTER, service=NAME,
        deploymentConfiguration={"minimumHealthyPercent": 50, "maximumPercent": 200, "deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        enableExecuteCommand=True, healthCheckGracePeriodSeconds=60,
    )

    print(json.dumps({"service": service, "task_definition": td, "target_group": tg, "rule": rule, "image": image, "repository": repo["repositoryArn"]}))


if __name__ == "__main__":
    main()
