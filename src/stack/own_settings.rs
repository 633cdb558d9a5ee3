//! A stack's own settings: resource names, task size, service, routing, health check, logs,
//! ECR — and the whole [`Stack`] put together, one method per section (environment, secrets
//! and tags are in `env_settings`). A setting's name is written once: `int!`, `boolean!` and
//! `name!` make both its message text and its getter from its path.

use std::path::PathBuf;

use super::file::StackFile;
use super::model::*;
use super::resolve::Resolver;
use super::rules;
use super::shared_settings::SharedSettings;

impl Resolver<'_> {
    /// Resolve the whole stack, section by section (in the order problems are reported).
    /// `default_name` is the file stem.
    pub fn stack(&mut self, default_name: &str, source: PathBuf) -> Stack {
        let SharedSettings {
            name,
            region,
            cluster,
            load_balancer,
            network,
            roles,
        } = self.shared_settings(default_name);
        let names = self.resource_names();
        let image = self.opt(at!(image)).map(|(v, p)| {
            self.check(&p, rules::image_reference(&v));
            v
        });
        let container_port =
            int!(self, container.port, 9898, 1, 65535).map_or(9898, |v| v.0) as u16;
        let (cpu, memory) = self.task_size();
        let service = self.service_settings();
        let routing = self.routing(&names);
        let health_check = self.health_check();
        let log_retention_days = self.log_retention_days();
        let ecr = EcrSettings {
            scan_on_push: boolean!(self, ecr.scan_on_push, true),
            keep_images: int_or_default!(self, ecr.keep_images, 10, 0, 1000),
        };
        let env = self.env(&roles);
        let env_unset = self.unset_keys(at!(env));
        let env = self.mcp_port(env, &env_unset, container_port);
        let secrets = self.secrets(&env);
        let tags = self.tags();
        let auth = self.auth_settings(
            load_balancer.listener_protocol,
            &env,
            &secrets,
            &routing.path_patterns,
        );
        let architecture = self.architecture();
        let container_health_check = self.container_health_check();
        Stack {
            name,
            source,
            region,
            cluster,
            load_balancer,
            network,
            roles,
            names,
            image,
            container_port,
            cpu,
            memory,
            architecture,
            container_health_check,
            env_unset,
            service,
            routing,
            health_check,
            log_retention_days,
            ecr,
            env,
            secrets,
            tags,
            auth,
        }
    }

    /// `names`: every resource name (the container's has a default).
    fn resource_names(&mut self) -> ResourceNames {
        ResourceNames {
            ecr_repository: name!(
                self,
                names.ecr_repository,
                "ecr_repository: opensearch-mcp-server-stateless",
                rules::ecr_repository
            ),
            service: name!(
                self,
                names.service,
                "service: opensearch-mcp-server-stateless",
                rules::ecs_name
            ),
            task_family: name!(
                self,
                names.task_family,
                "task_family: opensearch-mcp-server-stateless",
                rules::ecs_name
            ),
            container: match self.opt(at!(names.container)) {
                Some((v, p)) => {
                    self.check(&p, rules::ecs_name(&v));
                    v
                }
                None => "opensearch-mcp-server".to_string(),
            },
            target_group: name!(
                self,
                names.target_group,
                "target_group: opensearch-mcp-tg-stateless",
                |s| rules::elb_name(s, "target group")
            ),
            log_group: name!(
                self,
                names.log_group,
                "log_group: /ecs/opensearch-mcp-server-stateless",
                rules::log_group
            ),
        }
    }

    /// `container.cpu` and `container.memory`: one of Fargate's pairs.
    fn task_size(&mut self) -> (u32, u32) {
        let cpu = int!(self, container.cpu, 512, 1, 16384);
        let memory = int!(self, container.memory, 1024, 1, 122880);
        match (cpu, memory) {
            (Some((c, cp)), Some((m, mp))) => {
                if let Err((field, msg)) = rules::fargate_pair(c as u32, m as u32) {
                    let place = if field == "cpu" { cp } else { mp };
                    let place = place
                        .or_else(|| {
                            self.pick(at!(container))
                                .map(|(l, s)| l.place(s.referenced))
                        })
                        .unwrap_or_else(|| self.top_place());
                    self.error(&place, msg);
                }
                (c as u32, m as u32)
            }
            _ => (512, 1024),
        }
    }

    /// `service`: count, deployment limits, switches, autoscaling and the rollback alarm.
    fn service_settings(&mut self) -> ServiceSettings {
        let desired_count = int!(self, service.desired_count, 2, 0, 1000);
        let autoscaling = self.autoscaling();
        ServiceSettings {
            desired_count: self.count_in_range(desired_count, autoscaling.as_ref()),
            min_healthy_percent: int_or_default!(self, service.min_healthy_percent, 100, 0, 100),
            max_percent: int_or_default!(self, service.max_percent, 200, 100, 200),
            circuit_breaker_rollback: boolean!(self, service.circuit_breaker_rollback, true),
            enable_execute_command: boolean!(self, service.enable_execute_command, true),
            health_check_grace_period_seconds: int_or_default!(
                self,
                service.health_check_grace_period_seconds,
                60,
                0,
                2_147_483_647
            ),
            autoscaling,
            alarm_rollback: boolean!(self, service.alarm_rollback, false),
        }
    }

    /// `routing`: the path patterns (1-5, distinct, valid) and the preferred priority; claims
    /// the paths and the task family for the checks across stacks.
    fn routing(&mut self, names: &ResourceNames) -> Routing {
        let (patterns, list_place) = self.list(|f| {
            f.routing
                .as_ref()
                .and_then(|s| s.value.path_patterns.as_ref())
        });
        match &list_place {
            None => {
                let place = self.top_place();
                self.error(&place, "missing `routing.path_patterns`; add e.g. `routing: { path_patterns: [\"/ossserver-stateless/*\"] }`");
            }
            Some(p) if patterns.is_empty() => self.error(p, "`routing.path_patterns` is empty; list at least one path, e.g. [\"/ossserver-stateless/*\"]"),
            Some(p) if patterns.len() > 5 => self.error(p, "an ALB rule takes at most 5 path patterns; split them or use a wildcard"),
            _ => {}
        }
        for (i, (v, p)) in patterns.iter().enumerate() {
            self.check(p, rules::path(v));
            if patterns[..i].iter().any(|(earlier, _)| earlier == v) {
                self.error(
                    p,
                    format!("`{v}` is listed twice in `routing.path_patterns`; remove one"),
                );
            }
        }
        if let Some(p) = &list_place {
            self.check(
                p,
                rules::rule_wildcards(patterns.iter().map(|(v, _)| v.as_str())),
            );
        }
        self.claims.path_patterns = patterns.clone();
        self.claims.task_family = self
            .pick(at!(names.task_family))
            .map(|(l, t)| (names.task_family.clone(), l.place(t.referenced)));
        let priority = match self.opt(at!(routing.priority)) {
            Some((v, p)) => match v.trim().parse::<i64>() {
                Ok(n) => {
                    self.check(&p, rules::priority(n));
                    Some(n as i32)
                }
                Err(_) => {
                    self.error(&p, format!("`routing.priority` must be a whole number 1-50000, got `{v}`; write e.g. `priority: 110`"));
                    None
                }
            },
            None => None,
        };
        Routing {
            path_patterns: patterns.into_iter().map(|v| v.0).collect(),
            priority,
        }
    }

    /// `health_check`: the target group's check (timeout below interval) and draining.
    fn health_check(&mut self) -> HealthCheck {
        let hc_path = match self.req(
            key!(health_check.path),
            "path: /ossserver-stateless/health",
            at!(health_check.path),
        ) {
            Some((v, p)) => {
                self.check(&p, rules::path(&v));
                v
            }
            None => String::new(),
        };
        let interval = int!(self, health_check.interval_seconds, 30, 5, 300);
        let timeout = int!(self, health_check.timeout_seconds, 5, 2, 120);
        if let (Some((i, _)), Some((t, tp))) = (&interval, &timeout) {
            if t >= i {
                let place = tp.clone().unwrap_or_else(|| self.top_place());
                self.error(&place, format!("`health_check.timeout_seconds` ({t}) must be less than `interval_seconds` ({i})"));
            }
        }
        HealthCheck {
            path: hc_path,
            interval_seconds: interval.map_or(30, |v| v.0) as i32,
            timeout_seconds: timeout.map_or(5, |v| v.0) as i32,
            healthy_threshold: int_or_default!(self, health_check.healthy_threshold, 2, 2, 10),
            unhealthy_threshold: int_or_default!(self, health_check.unhealthy_threshold, 3, 2, 10),
            matcher: match self.opt(at!(health_check.matcher)) {
                Some((v, place)) => {
                    self.check(&place, rules::matcher(&v));
                    v
                }
                None => "200".to_string(),
            },
            deregistration_delay_seconds: int_or_default!(
                self,
                health_check.deregistration_delay_seconds,
                30,
                0,
                3600
            ),
        }
    }

    /// `logs.retention_days`: one of CloudWatch's values, or `never` (`None`).
    fn log_retention_days(&mut self) -> Option<i32> {
        match self.opt(at!(logs.retention_days)) {
            None => Some(30),
            Some((v, _)) if v.trim() == "never" => None,
            Some((v, p)) => match v.trim().parse::<i32>() {
                Ok(n) if rules::RETENTION_DAYS.contains(&n) => Some(n),
                _ => {
                    let ok = rules::RETENTION_DAYS
                        .iter()
                        .map(i32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ");
                    self.error(&p, format!("`logs.retention_days` is `{v}`; CloudWatch Logs accepts {ok} or `never`"));
                    Some(30)
                }
            },
        }
    }
}
