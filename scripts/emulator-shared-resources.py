#!/usr/bin/env python3
"""Create, in an AWS emulator (moto), the shared resources the user's account already has:
the ECS cluster `fastmcp-time-server-cluster`, the ALB `fastmcp-alb` in the default VPC's
default subnets with the default security group, and the IAM roles `ecsTaskExecutionRole`
and `ecsTaskRole`. Idempotent. Uses boto3 with the standard environment (AWS_ENDPOINT_URL,
credentials, region); prints what it found or created as JSON.

Usage: AWS_ENDPOINT_URL=http://127.0.0.1:PORT python3 emulator-shared-resources.py [--no-listener]
"""
import json
import sys

import boto3

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def main():
    ec2 = boto3.client("ec2")
    ecs = boto3.client("ecs")
    elb = boto3.client("elbv2")
    iam = boto3.client("iam")

    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    subnet_ids = sorted(s["SubnetId"] for s in subnets)[:2]
    sg = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]

    cluster = ecs.create_cluster(clusterName="fastmcp-time-server-cluster")["cluster"]["clusterArn"]

    try:
        lb = elb.describe_load_balancers(Names=["fastmcp-alb"])["LoadBalancers"][0]
    except elb.exceptions.LoadBalancerNotFoundException:
        lb = elb.create_load_balancer(Name="fastmcp-alb", Subnets=subnet_ids, SecurityGroups=[sg], Scheme="internet-facing", Type="application")["LoadBalancers"][0]
    listener = None
    if "--no-listener" not in sys.argv:
        listeners = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        found = [l for l in listeners if l["Port"] == 80]
        if found:
            listener = found[0]["ListenerArn"]
        else:
            listener = elb.create_listener(
                LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain", "MessageBody": "Not Found"}}],
            )["Listeners"][0]["ListenerArn"]

    roles = {}
    for name in ["ecsTaskExecutionRole", "ecsTaskRole"]:
        try:
            roles[name] = iam.get_role(RoleName=name)["Role"]["Arn"]
        except iam.exceptions.NoSuchEntityException:
            roles[name] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]

    print(json.dumps({
        "vpc": vpc, "subnets": subnet_ids, "security_group": sg, "cluster": cluster,
        "load_balancer": lb["LoadBalancerArn"], "dns_name": lb["DNSName"], "listener": listener, "roles": roles,
    }))


if __name__ == "__main__":
    main()
