//! Waiting on an ECS service's tasks: until a service being cleaned up runs none
//! ([`wait_drained`]), and until a deleted service of the same name is no longer DRAINING
//! before `up` creates it again ([`wait_not_draining`]).

use super::describe;
use crate::aws::Clients;
use crate::error::{Error, Result};

/// Wait (polling every `every`, at most `timeout`) until the service runs no task. Gone or
/// INACTIVE counts as drained. A timeout fails with the counts seen last.
pub async fn wait_drained(
    c: &Clients,
    cluster: &str,
    name: &str,
    timeout: std::time::Duration,
    every: std::time::Duration,
) -> Result<()> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let (running, pending) = match describe(c, cluster, name).await? {
            Some(s) if s.status() == Some("ACTIVE") || s.status() == Some("DRAINING") => {
                (s.running_count(), s.pending_count())
            }
            _ => return Ok(()),
        };
        if running == 0 && pending == 0 {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Err(Error::failed(format!(
                "service {name} still runs {running} task(s) ({pending} pending) after {}; check `mcpctl status` and the service's events, then run cleanup again (it continues where it stopped) or give a longer --timeout",
                humantime::format_duration(timeout)
            )));
        }
        tokio::time::sleep(every).await;
    }
}

/// How long `up` waits for a DRAINING service of the same name to become INACTIVE.
pub const DRAINING_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// Before `CreateService`: wait (polling every `every`, at most `timeout`, saying so on stderr)
/// while ECS still reports a deleted service of this name as DRAINING. ECS refuses to create a
/// service whose name is DRAINING ("Unable to Start a service that is still Draining"); it
/// becomes INACTIVE once its tasks have stopped
/// (<https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteService.html>).
pub async fn wait_not_draining(
    c: &Clients,
    cluster: &str,
    name: &str,
    timeout: std::time::Duration,
    every: std::time::Duration,
) -> Result<()> {
    let start = std::time::Instant::now();
    loop {
        let draining = describe(c, cluster, name)
            .await?
            .filter(|s| s.status() == Some("DRAINING"));
        let Some(s) = draining else {
            return Ok(());
        };
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(Error::failed(format!(
                "ECS service {name} (deleted earlier) is still DRAINING after {} with {} task(s) running; ECS cannot create a service of that name until it is INACTIVE. Stop its tasks (`aws ecs list-tasks --cluster {cluster} --service-name {name}`), wait, then run `up` again (it continues), or give the stack another `names.service`",
                humantime::format_duration(timeout),
                s.running_count()
            )));
        }
        eprintln!(
            "ECS service {name} is DRAINING (deleted earlier, {} task(s) running): waiting until ECS reports it INACTIVE before creating it again ({}s of at most {}s)",
            s.running_count(),
            waited.as_secs(),
            timeout.as_secs()
        );
        tokio::time::sleep(
            every.min(
                timeout
                    .saturating_sub(waited)
                    .max(std::time::Duration::from_millis(1)),
            ),
        )
        .await;
    }
}
