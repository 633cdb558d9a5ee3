//! A stack's own settings: resource names, task size, service, routing, health check, logs,
//! ECR, environment, secrets, tags — and the whole [`Stack`] put together.

use std::path::PathBuf;

use indexmap::IndexMap;

use super::file::StackFile;
use super::model::*;
use super::resolve::Resolver;
use super::rules;
use super::shared_settings::SharedSettings;

impl Resolver<'_> {
    /// Resolve the whole stack. `default_name` is the file stem.
    pub fn stack(&mut self, default_name: &str, source: PathBuf) -> Stack {
        let SharedSettings {
            name,
            region,
            cluster,
            load_balancer,
            network,
            roles,
        } = self.shared_settings(default_name);
        let names = ResourceNames {
            ecr_repository: self.name(
                "names.ecr_repository",
                "ecr_repository: opensearch-mcp-server-stateless",
                rules::ecr_repository,
                at!(names.ecr_repository),
            ),
            service: self.name(
                "names.service",
                "service: opensearch-mcp-server-stateless",
                rules::ecs_name,
                at!(names.service),
            ),
            task_family: self.name(
                "names.task_family",
                "task_family: opensearch-mcp-server-stateless",
                rules::ecs_name,
                at!(names.task_family),
            ),
            container: match self.opt(at!(names.container)) {
                Some((v, p)) => {
                    self.check(&p, rules::ecs_name(&v));
                    v
                }
                None => "opensearch-mcp-server".to_string(),
            },
            target_group: self.name(
                "names.target_group",
                "target_group: opensearch-mcp-tg-stateless",
                |s| rules::elb_name(s, "target group"),
                at!(names.target_group),
            ),
            log_group: self.name(
                "names.log_group",
                "log_group: /ecs/opensearch-mcp-server-stateless",
                rules::log_group,
                at!(names.log_group),
            ),
        };

        let image = self.opt(at!(image)).map(|(v, p)| {
            self.check(&p, rules::image_reference(&v));
            v
        });
        let container_port = self
            .int("container.port", 9898, 1, 65535, at!(container.port))
            .map_or(9898, |v| v.0) as u16;
        let cpu = self.int("container.cpu", 512, 1, 16384, at!(container.cpu));
        let memory = self.int("container.memory", 1024, 1, 122880, at!(container.memory));
        let (cpu, memory) = match (cpu, memory) {
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
        };

        let desired_count = self.int(
            "service.desired_count",
            2,
            0,
            1000,
            at!(service.desired_count),
        );
        let autoscaling = self.autoscaling();
        let service = ServiceSettings {
            desired_count: self.count_in_range(desired_count, autoscaling.as_ref()),
            min_healthy_percent: self
                .int(
                    "service.min_healthy_percent",
                    100,
                    0,
                    100,
                    at!(service.min_healthy_percent),
                )
                .map_or(100, |v| v.0) as i32,
            max_percent: self
                .int(
                    "service.max_percent",
                    200,
                    100,
                    200,
                    at!(service.max_percent),
                )
                .map_or(200, |v| v.0) as i32,
            circuit_breaker_rollback: self.boolean(
                "service.circuit_breaker_rollback",
                true,
                at!(service.circuit_breaker_rollback),
            ),
            enable_execute_command: self.boolean(
                "service.enable_execute_command",
                true,
                at!(service.enable_execute_command),
            ),
            health_check_grace_period_seconds: self
                .int(
                    "service.health_check_grace_period_seconds",
                    60,
                    0,
                    2_147_483_647,
                    at!(service.health_check_grace_period_seconds),
                )
                .map_or(60, |v| v.0) as i32,
            autoscaling,
            alarm_rollback: self.boolean(
                "service.alarm_rollback",
                false,
                at!(service.alarm_rollback),
            ),
        };

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
        let routing = Routing {
            path_patterns: patterns.into_iter().map(|v| v.0).collect(),
            priority,
        };

        let hc_path = match self.req(
            "health_check.path",
            "path: /ossserver-stateless/health",
            at!(health_check.path),
        ) {
            Some((v, p)) => {
                self.check(&p, rules::path(&v));
                v
            }
            None => String::new(),
        };
        let interval = self.int(
            "health_check.interval_seconds",
            30,
            5,
            300,
            at!(health_check.interval_seconds),
        );
        let timeout = self.int(
            "health_check.timeout_seconds",
            5,
            2,
            120,
            at!(health_check.timeout_seconds),
        );
        if let (Some((i, _)), Some((t, tp))) = (&interval, &timeout) {
            if t >= i {
                let place = tp.clone().unwrap_or_else(|| self.top_place());
                self.error(&place, format!("`health_check.timeout_seconds` ({t}) must be less than `interval_seconds` ({i})"));
            }
        }
        let health_check = HealthCheck {
            path: hc_path,
            interval_seconds: interval.map_or(30, |v| v.0) as i32,
            timeout_seconds: timeout.map_or(5, |v| v.0) as i32,
            healthy_threshold: self
                .int(
                    "health_check.healthy_threshold",
                    2,
                    2,
                    10,
                    at!(health_check.healthy_threshold),
                )
                .map_or(2, |v| v.0) as i32,
            unhealthy_threshold: self
                .int(
                    "health_check.unhealthy_threshold",
                    3,
                    2,
                    10,
                    at!(health_check.unhealthy_threshold),
                )
                .map_or(3, |v| v.0) as i32,
            matcher: match self.opt(at!(health_check.matcher)) {
                Some((v, place)) => {
                    self.check(&place, rules::matcher(&v));
                    v
                }
                None => "200".to_string(),
            },
            deregistration_delay_seconds: self
                .int(
                    "health_check.deregistration_delay_seconds",
                    30,
                    0,
                    3600,
                    at!(health_check.deregistration_delay_seconds),
                )
                .map_or(30, |v| v.0) as i32,
        };

        let log_retention_days = match self.opt(at!(logs.retention_days)) {
            None => Some(30),
            Some((v, p)) if v.trim() == "never" => {
                let _ = p;
                None
            }
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
        };
        let ecr = EcrSettings {
            scan_on_push: self.boolean("ecr.scan_on_push", true, at!(ecr.scan_on_push)),
            keep_images: self
                .int("ecr.keep_images", 10, 0, 1000, at!(ecr.keep_images))
                .map_or(10, |v| v.0) as i32,
        };

        let mut env = IndexMap::new();
        let mut env_bytes = 0usize;
        for (k, ((v, vp), kp)) in self.map(at!(env)) {
            self.check(&kp, rules::env_name(&k));
            self.check(&vp, rules::env_value(&k, &v));
            env_bytes += k.len() + v.len();
            env.insert(k, v);
        }
        if env_bytes > rules::ENV_TOTAL_BYTES {
            let place = self
                .pick(at!(env))
                .map(|(l, m)| l.place(m.referenced))
                .unwrap_or_else(|| self.top_place());
            self.error(&place, format!("`env` holds {env_bytes} bytes; at most {} fit in a task definition (ECS limits one to 64 KiB): move large values to `secrets` or a file in the image", rules::ENV_TOTAL_BYTES));
        }
        if roles
            .managed_task_role
            .as_ref()
            .is_some_and(|r| r.opensearch_collection_arn.is_some())
        {
            // OpenSearch Serverless signs requests for the `aoss` service, not `es`.
            match env.get("OPENSEARCH_SERVICE").map(String::as_str) {
                None => {
                    env.insert("OPENSEARCH_SERVICE".to_string(), "aoss".to_string());
                }
                Some("aoss") => {}
                Some(other) => {
                    let place = self
                        .pick(at!(env))
                        .map(|(l, m)| l.place(m.referenced))
                        .unwrap_or_else(|| self.top_place());
                    self.error(&place, format!("env OPENSEARCH_SERVICE is `{other}` but `roles.task_role.opensearch_collection_arn` is OpenSearch Serverless, which needs `aoss`; write `OPENSEARCH_SERVICE: aoss` or leave it out"));
                }
            }
        }
        let env_unset = self.unset_keys(at!(env));
        if env_unset.iter().any(|k| k == "MCP_PORT") {
            // The stack says the container gets no MCP_PORT (an image that is not this server).
        } else if !env.contains_key("MCP_PORT") {
            env.insert("MCP_PORT".to_string(), container_port.to_string());
        } else if env["MCP_PORT"] != container_port.to_string() {
            let place = self
                .pick(at!(env))
                .map(|(l, m)| l.place(m.referenced))
                .unwrap_or_else(|| self.top_place());
            self.error(&place, format!("env MCP_PORT is {} but container.port is {container_port}; they must match (or leave MCP_PORT out)", env["MCP_PORT"]));
        }
        let mut secrets = IndexMap::new();
        for (k, ((v, vp), kp)) in self.map(at!(secrets)) {
            self.check(&kp, rules::env_name(&k));
            self.check(&vp, rules::secret_arn(&v));
            if env.contains_key(&k) {
                self.error(
                    &kp,
                    format!("`{k}` is both in `env` and in `secrets`; keep it only in `secrets`"),
                );
            }
            secrets.insert(k, v);
        }
        let mut tags = IndexMap::new();
        for (k, ((v, vp), kp)) in self.map(at!(tags)) {
            if k.is_empty() || k.len() > 128 || k.starts_with("aws:") {
                self.error(
                    &kp,
                    format!(
                        "tag key `{k}` is not allowed: 1-128 characters, not starting with `aws:`"
                    ),
                );
            }
            if v.len() > 256 {
                self.error(&vp, "a tag value is at most 256 characters");
            }
            tags.insert(k, v);
        }

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
}
