//! The stack's task definition: Fargate, one container, env and secrets from the stack, awslogs,
//! the container health check the plan chose, the CPU architecture (`runtimePlatform`). A new
//! revision is registered only when the latest active one differs (after normalising what ECS
//! fills in).

use aws_sdk_ecs::types::{
    Compatibility, ContainerDefinition, CpuArchitecture, HealthCheck, KeyValuePair,
    LogConfiguration, LogDriver, NetworkMode, OsFamily, PortMapping, RuntimePlatform, Secret,
    TaskDefinition, TaskDefinitionField, TransportProtocol,
};

use super::deploy::Record;
use super::deploy::{Applying, Deploy};
use super::errors::{call_error, code};
use super::service::ecs_tags;
use super::Clients;
use crate::error::{Error, Result};
use crate::plan::desired::{ContainerHealthCheck, TaskDefinitionSpec};
use crate::plan::observed::ObservedTaskDefinition;
use crate::plan::steps::TaskDefinitionStep;
use crate::plan::{Action, Kind};
use crate::plan::{Desired, Observed, Steps};
use crate::stack::Stack;

/// The latest ACTIVE revision of `family`, normalised.
pub async fn observe(c: &Clients, family: &str) -> Result<Option<ObservedTaskDefinition>> {
    let out = match c
        .ecs
        .describe_task_definition()
        .task_definition(family)
        .include(TaskDefinitionField::Tags)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) if code(&e) == Some("ClientException") => return Ok(None),
        Err(e) => return Err(call_error(&format!("task definition family {family}"), e)),
    };
    let Some(td) = out.task_definition() else {
        return Ok(None);
    };
    if td.status().map(|s| s.as_str()) == Some("INACTIVE") {
        return Ok(None);
    }
    Ok(Some(ObservedTaskDefinition {
        arn: td.task_definition_arn().unwrap_or_default().to_string(),
        revision: td.revision(),
        spec: normalise(td, family),
    }))
}

/// One exact revision (`adopt` reads the one the service runs), normalised; `None` when ECS
/// does not know it.
pub async fn observe_revision(c: &Clients, arn: &str) -> Result<Option<ObservedTaskDefinition>> {
    let out = match c
        .ecs
        .describe_task_definition()
        .task_definition(arn)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) if code(&e) == Some("ClientException") => return Ok(None),
        Err(e) => return Err(call_error(&format!("task definition {arn}"), e)),
    };
    Ok(out.task_definition().map(|td| ObservedTaskDefinition {
        arn: td.task_definition_arn().unwrap_or_default().to_string(),
        revision: td.revision(),
        spec: normalise(td, family_of(arn)),
    }))
}

/// Normalise a task definition to the desired shape: env and secrets sorted, the first port
/// mapping's container port, ECS's health check defaults filled in.
pub fn normalise(td: &TaskDefinition, family: &str) -> TaskDefinitionSpec {
    let container = td.container_definitions().first();
    let mut env: Vec<(String, String)> = container
        .map(|c| {
            c.environment()
                .iter()
                .map(|kv| {
                    (
                        kv.name().unwrap_or_default().to_string(),
                        kv.value().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    env.sort();
    let mut secrets: Vec<(String, String)> = container
        .map(|c| {
            c.secrets()
                .iter()
                .map(|s| (s.name().to_string(), s.value_from().to_string()))
                .collect()
        })
        .unwrap_or_default();
    secrets.sort();
    let log_opt = |k: &str| {
        container
            .and_then(|c| c.log_configuration())
            .and_then(|l| l.options())
            .and_then(|o| o.get(k))
            .cloned()
            .unwrap_or_default()
    };
    let hc = container.and_then(|c| c.health_check());
    TaskDefinitionSpec {
        family: family.to_string(),
        cpu: td.cpu().unwrap_or_default().to_string(),
        memory: td.memory().unwrap_or_default().to_string(),
        execution_role_arn: td.execution_role_arn().unwrap_or_default().to_string(),
        task_role_arn: td.task_role_arn().map(str::to_string),
        container: container
            .and_then(|c| c.name())
            .unwrap_or_default()
            .to_string(),
        image: container.and_then(|c| c.image()).map(str::to_string),
        port: container
            .and_then(|c| c.port_mappings().first())
            .and_then(|p| p.container_port())
            .unwrap_or_default(),
        env,
        secrets,
        log_group: log_opt("awslogs-group"),
        log_region: log_opt("awslogs-region"),
        log_stream_prefix: log_opt("awslogs-stream-prefix"),
        health_check: hc.map(|h| ContainerHealthCheck {
            command: h.command().to_vec(),
            interval: h.interval().unwrap_or(30),
            timeout: h.timeout().unwrap_or(5),
            retries: h.retries().unwrap_or(3),
            start_period: h.start_period().unwrap_or(0),
        }),
        // Without `runtimePlatform` Fargate runs X86_64 (LINUX):
        // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#runtime-platform
        cpu_architecture: td
            .runtime_platform()
            .and_then(|p| p.cpu_architecture())
            .map_or("X86_64", |a| a.as_str())
            .to_string(),
    }
}

fn build_err(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::failed_with("building the task definition", e)
}

/// The container definition for a spec.
pub fn container_definition(s: &TaskDefinitionSpec, image: &str) -> Result<ContainerDefinition> {
    let mut secrets = Vec::new();
    for (name, from) in &s.secrets {
        secrets.push(
            Secret::builder()
                .name(name)
                .value_from(from)
                .build()
                .map_err(build_err)?,
        );
    }
    let log = LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", &s.log_group)
        .options("awslogs-region", &s.log_region)
        .options("awslogs-stream-prefix", &s.log_stream_prefix)
        .build()
        .map_err(build_err)?;
    let hc = match &s.health_check {
        None => None,
        Some(h) => Some(
            HealthCheck::builder()
                .set_command(Some(h.command.clone()))
                .interval(h.interval)
                .timeout(h.timeout)
                .retries(h.retries)
                .start_period(h.start_period)
                .build()
                .map_err(build_err)?,
        ),
    };
    Ok(ContainerDefinition::builder()
        .name(&s.container)
        .image(image)
        .essential(true)
        .port_mappings(
            PortMapping::builder()
                .container_port(s.port)
                .host_port(s.port)
                .protocol(TransportProtocol::Tcp)
                .build(),
        )
        .set_environment(Some(
            s.env
                .iter()
                .map(|(k, v)| KeyValuePair::builder().name(k).value(v).build())
                .collect(),
        ))
        .set_secrets(if secrets.is_empty() {
            None
        } else {
            Some(secrets)
        })
        .log_configuration(log)
        .set_health_check(hc)
        .build())
}

/// Register a new revision; returns (ARN, revision).
pub async fn register(
    c: &Clients,
    s: &TaskDefinitionSpec,
    tags: &[(String, String)],
) -> Result<(String, i32)> {
    let image = s
        .image
        .as_deref()
        .ok_or_else(|| Error::failed("internal: the task definition has no image yet"))?;
    let req = c
        .ecs
        .register_task_definition()
        .family(&s.family)
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu(&s.cpu)
        .memory(&s.memory)
        .execution_role_arn(&s.execution_role_arn)
        .set_task_role_arn(s.task_role_arn.clone())
        .container_definitions(container_definition(s, image)?)
        .runtime_platform(
            RuntimePlatform::builder()
                .cpu_architecture(CpuArchitecture::from(s.cpu_architecture.as_str()))
                .operating_system_family(OsFamily::Linux)
                .build(),
        )
        .set_tags(Some(ecs_tags(tags)));
    let out = super::iam_propagation::retry(
        &format!("RegisterTaskDefinition {}", s.family),
        super::iam_propagation::WINDOW,
        || req.clone().send(),
    )
    .await
    .map_err(|e| call_error(&format!("task definition family {}", s.family), e))?;
    let td = out
        .task_definition()
        .ok_or_else(|| Error::failed("RegisterTaskDefinition returned no task definition"))?;
    Ok((
        td.task_definition_arn().unwrap_or_default().to_string(),
        td.revision(),
    ))
}

/// ARNs of every ACTIVE revision of exactly `family`. Each ARN's family is checked again, so a
/// prefix match (`opensearch-mcp-server` vs `opensearch-mcp-server-stateless`) can never pick
/// another stack's revisions.
pub async fn active_revisions(c: &Clients, family: &str) -> Result<Vec<String>> {
    let mut arns = Vec::new();
    let mut token = None;
    loop {
        let out = c
            .ecs
            .list_task_definitions()
            .family_prefix(family)
            .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| call_error(&format!("task definition family {family}"), e))?;
        arns.extend(
            out.task_definition_arns()
                .iter()
                .filter(|a| family_of(a) == family)
                .cloned(),
        );
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(arns)
}

/// The family in a task definition ARN (`…:task-definition/FAMILY:REVISION`).
pub fn family_of(arn: &str) -> &str {
    let tail = arn.rsplit('/').next().unwrap_or(arn);
    tail.rsplit_once(':').map(|(f, _)| f).unwrap_or(tail)
}

/// Deregister one task definition revision (`cleanup`).
pub async fn deregister(c: &Clients, arn: &str) -> Result<()> {
    c.ecs
        .deregister_task_definition()
        .task_definition(arn)
        .send()
        .await
        .map_err(|e| call_error(&format!("task definition {arn}"), e))?;
    Ok(())
}

/// Carry out the plan's step for the task definition (register a revision, tagged with
/// `tags`, or keep); the ARN of the revision to run.
pub async fn apply(
    c: &Clients,
    td: &TaskDefinitionSpec,
    tags: &[(String, String)],
    step: &TaskDefinitionStep,
    rec: &mut Record,
) -> Result<String> {
    Ok(match step {
        TaskDefinitionStep::Keep { arn } => arn.clone(),
        TaskDefinitionStep::Register { first } => {
            let (arn, rev) = register(c, td, tags).await?;
            rec.add(
                Kind::TaskDefinition,
                if *first {
                    Action::Create
                } else {
                    Action::Update
                },
                &format!("{}:{rev}", td.family),
                &arn,
            );
            arn
        }
    })
}

impl Deploy for crate::plan::kinds::task_definition::TaskDefinition {
    async fn observe(c: &Clients, stack: &Stack, _: &Observed) -> Result<Self::Observed> {
        observe(c, &stack.names.task_family).await
    }

    /// Registered with the stack's resource tags (the repository's).
    async fn apply(run: &mut Applying<'_>, d: &Desired, steps: &Steps) -> Result<()> {
        let (td, tags) = (&d.task_definition, &d.repository.tags);
        run.td_arn = apply(run.c, td, tags, &steps.task_definition, &mut run.rec).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::kinds::task_definition::HEALTH_COMMAND;

    fn spec() -> TaskDefinitionSpec {
        TaskDefinitionSpec {
            family: "f".into(),
            cpu: "512".into(),
            memory: "1024".into(),
            execution_role_arn: "arn:aws:iam::123456789012:role/e".into(),
            task_role_arn: None,
            container: "opensearch-mcp-server".into(),
            image: Some("img@sha256:1".into()),
            port: 9898,
            env: vec![("A".into(), "1".into()), ("B".into(), "2".into())],
            secrets: vec![],
            log_group: "/ecs/f".into(),
            log_region: "us-east-1".into(),
            log_stream_prefix: "ecs".into(),
            health_check: Some(ContainerHealthCheck {
                command: HEALTH_COMMAND.iter().map(|s| s.to_string()).collect(),
                interval: 30,
                timeout: 5,
                retries: 3,
                start_period: 10,
            }),
            cpu_architecture: "X86_64".into(),
        }
    }

    #[test]
    fn what_ecs_reorders_or_fills_in_is_not_drift() {
        let s = spec();
        let mut cd = container_definition(&s, "img@sha256:1").unwrap();
        // ECS returns env in its own order and may add defaults.
        cd.environment = Some(vec![
            KeyValuePair::builder().name("B").value("2").build(),
            KeyValuePair::builder().name("A").value("1").build(),
        ]);
        let td = TaskDefinition::builder()
            .container_definitions(cd)
            .cpu("512")
            .memory("1024")
            .execution_role_arn("arn:aws:iam::123456789012:role/e")
            .revision(7)
            .build();
        assert_eq!(normalise(&td, "f"), s);
    }

    #[test]
    fn family_is_read_exactly_from_the_arn() {
        let arn =
            "arn:aws:ecs:us-east-1:123456789012:task-definition/opensearch-mcp-server-stateless:7";
        assert_eq!(family_of(arn), "opensearch-mcp-server-stateless");
        assert_ne!(family_of(arn), "opensearch-mcp-server");
    }
}
