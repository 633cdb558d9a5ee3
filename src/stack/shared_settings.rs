//! The settings stacks usually share (written once in `shared.yaml`): name, region, cluster,
//! load balancer, network, roles.

use serde_saphyr::Spanned;

use super::file::{StackFile, TaskRoleFile};

fn managed_in(f: &StackFile) -> Option<&Spanned<TaskRoleFile>> {
    f.roles.as_ref().and_then(|r| r.value.task_role.as_ref())
}
use super::model::*;
use super::resolve::Resolver;
use super::rules;

/// The shared part of a stack.
pub(super) struct SharedSettings {
    pub name: String,
    pub region: String,
    pub cluster: String,
    pub load_balancer: LoadBalancer,
    pub network: Network,
    pub roles: Roles,
}

impl Resolver<'_> {
    /// Resolve the shared settings; `default_name` is the file stem.
    pub(super) fn shared_settings(&mut self, default_name: &str) -> SharedSettings {
        let name = match self.opt(at!(name)) {
            Some((v, place)) => {
                self.check(&place, rules::ecs_name(&v));
                v
            }
            None => default_name.to_string(),
        };
        let region = match self.pick(at!(region)) {
            Some((layer, t)) => match self.interp(layer, t) {
                Some((v, place)) => {
                    // An empty region would silently fall back to another one.
                    self.check(&place, rules::region(&v));
                    v
                }
                None => "us-east-1".to_string(),
            },
            None => "us-east-1".to_string(),
        };
        let cluster = self.name(
            "cluster",
            "cluster: fastmcp-time-server-cluster",
            rules::ecs_name,
            at!(cluster),
        );

        let reference = self.load_balancer_reference();
        let listener = self.listener_settings();

        let network = self.network();

        let execution_role_arn = name!(
            self,
            roles.execution_role_arn,
            "execution_role_arn: arn:aws:iam::${AWS_ACCOUNT_ID}:role/ecsTaskExecutionRole",
            rules::role_arn
        );
        let (task_role_arn, managed_task_role) = self.task_role(&execution_role_arn);

        SharedSettings {
            name,
            region,
            cluster,
            load_balancer: LoadBalancer {
                reference,
                listener_port: listener.port,
                listener_protocol: listener.protocol,
                certificate_arn: listener.certificate_arn,
                domain_names: listener.domain_names,
            },
            network,
            roles: Roles {
                execution_role_arn,
                task_role_arn,
                managed_task_role,
            },
        }
    }

    /// `load_balancer.name` or `load_balancer.arn` (one of them).
    fn load_balancer_reference(&mut self) -> LoadBalancerRef {
        let lb_name = self.opt(at!(load_balancer.name));
        let lb_arn = self.opt(at!(load_balancer.arn));
        match (lb_name, lb_arn) {
            (Some((n, p)), None) => {
                self.check(&p, rules::elb_name(&n, "load balancer"));
                LoadBalancerRef::Name(n)
            }
            (None, Some((a, p))) => {
                self.check(&p, rules::load_balancer_arn(&a));
                LoadBalancerRef::Arn(a)
            }
            (Some(_), Some((_, p))) => {
                self.error(
                    &p,
                    "give the load balancer by `name` or by `arn`, not both; remove one",
                );
                LoadBalancerRef::Name(String::new())
            }
            (None, None) => {
                let place = self.top_place();
                self.error(&place, "missing `load_balancer.name` (or `load_balancer.arn`); add e.g. `load_balancer: { name: fastmcp-alb }`");
                LoadBalancerRef::Name(String::new())
            }
        }
    }

    /// `network`: subnets and security groups (checked IDs; empty: the ALB's) and public IP.
    fn network(&mut self) -> Network {
        let (subnets, _) = self.list(|f| f.network.as_ref().and_then(|s| s.value.subnets.as_ref()));
        let (groups, _) = self.list(|f| {
            f.network
                .as_ref()
                .and_then(|s| s.value.security_groups.as_ref())
        });
        for (s, p) in &subnets {
            self.check(p, rules::resource_id(s, "subnet"));
        }
        for (s, p) in &groups {
            self.check(p, rules::resource_id(s, "sg"));
        }
        Network {
            subnets: subnets.into_iter().map(|v| v.0).collect(),
            security_groups: groups.into_iter().map(|v| v.0).collect(),
            assign_public_ip: boolean!(self, network.assign_public_ip, true),
        }
    }

    /// `roles.task_role_arn` (an existing role) or `roles.task_role` (a managed one): the
    /// nearest file that names either decides; both in one file is an error.
    fn task_role(&mut self, execution_role_arn: &str) -> (Option<String>, Option<ManagedTaskRole>) {
        let decider = self.layers.iter().find(|l| {
            let r = l.file.roles.as_ref().map(|r| &r.value);
            r.is_some_and(|r| r.task_role_arn.is_some() || r.task_role.is_some())
        });
        let Some(layer) = decider else {
            return (None, None);
        };
        let roles = &layer.file.roles.as_ref().expect("decider has roles").value;
        if let (Some(a), Some(_)) = (&roles.task_role_arn, &roles.task_role) {
            let place = layer.place(a.referenced);
            self.error(&place, "give either `task_role_arn` (an existing role, left alone) or `task_role` (a role mcpctl manages), not both");
            return (None, None);
        }
        if roles.task_role.is_none() {
            let arn = self.opt(at!(roles.task_role_arn)).map(|(v, p)| {
                self.check(&p, rules::role_arn(&v));
                v
            });
            return (arn, None);
        }
        let place = layer.place(roles.task_role.as_ref().expect("checked").referenced);
        let name = match self.req("roles.task_role.name", "name: ecsTaskRole", |f| {
            managed_in(f).and_then(|t| t.value.name.as_ref())
        }) {
            Some((v, p)) => {
                self.check(&p, rules::iam_role_name(&v));
                v
            }
            None => String::new(),
        };
        let domain = self
            .opt(|f| managed_in(f).and_then(|t| t.value.opensearch_domain_arn.as_ref()))
            .map(|(v, p)| {
                self.check(&p, rules::opensearch_domain_arn(&v));
                v
            });
        let collection = self
            .opt(|f| managed_in(f).and_then(|t| t.value.opensearch_collection_arn.as_ref()))
            .map(|(v, p)| {
                self.check(&p, rules::opensearch_collection_arn(&v));
                v
            });
        if domain.is_none() && collection.is_none() {
            self.error(&place, "`roles.task_role` needs `opensearch_domain_arn` (OpenSearch Service) or `opensearch_collection_arn` (Serverless) to grant access to; e.g. `opensearch_domain_arn: arn:aws:es:us-east-1:${AWS_ACCOUNT_ID}:domain/my-domain`");
        }
        let fgac = self.boolean("roles.task_role.fine_grained_access_control", true, |f| {
            managed_in(f).and_then(|t| t.value.fine_grained_access_control.as_ref())
        });
        // Same account and partition as the execution role.
        let arn = execution_role_arn
            .split_once(":role/")
            .map(|(prefix, _)| format!("{prefix}:role/{name}"));
        (
            arn,
            Some(ManagedTaskRole {
                name,
                opensearch_domain_arn: domain,
                opensearch_collection_arn: collection,
                fine_grained_access_control: fgac,
            }),
        )
    }
}
