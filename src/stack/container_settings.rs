//! The container's own settings beyond size and port: `container.architecture` and
//! `container.health_check` (the health check ECS runs inside the task).

use serde_saphyr::Spanned;

use super::file::{ContainerHealthCheckFile, StackFile, Text};
use super::model::{Architecture, ContainerHealthCheckSettings};
use super::resolve::Resolver;

/// `container.health_check` of a file.
fn check_in(f: &StackFile) -> Option<&Spanned<ContainerHealthCheckFile>> {
    f.container
        .as_ref()
        .and_then(|c| c.value.health_check.as_ref())
}

impl<'a> Resolver<'a> {
    /// `container.architecture`: `x86_64` (default) or `arm64`.
    pub(super) fn architecture(&mut self) -> Architecture {
        match self.opt(|f: &StackFile| {
            f.container
                .as_ref()
                .and_then(|c| c.value.architecture.as_ref())
        }) {
            None => Architecture::default(),
            Some((v, p)) => match v.trim() {
                "x86_64" | "amd64" => Architecture::X86_64,
                "arm64" | "aarch64" => Architecture::Arm64,
                other => {
                    self.error(
                        &p,
                        format!("`container.architecture` is `{other}`; write `x86_64` (default) or `arm64`"),
                    );
                    Architecture::default()
                }
            },
        }
    }

    /// `container.health_check`, when a file of the stack writes one. The ranges are ECS's
    /// (<https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html>).
    pub(super) fn container_health_check(&mut self) -> Option<ContainerHealthCheckSettings> {
        let (layer, hc) = self.pick(check_in)?;
        let place = layer.place(hc.referenced);
        let field = |get: fn(&ContainerHealthCheckFile) -> Option<&Text>| {
            move |f: &'a StackFile| check_in(f).and_then(|h| get(&h.value))
        };
        let (command, command_place) =
            self.list(|f: &'a StackFile| check_in(f).and_then(|h| h.value.command.as_ref()));
        let command: Vec<String> = command.into_iter().map(|(v, _)| v).collect();
        let command_place = command_place.unwrap_or(place);
        match command.first().map(String::as_str) {
            Some("CMD") | Some("CMD-SHELL") if command.len() >= 2 => {}
            _ => self.error(
                &command_place,
                "`container.health_check.command` must start with CMD or CMD-SHELL and name what to run, e.g. `command: [CMD-SHELL, \"curl -f http://localhost:9898/ossserver/health || exit 1\"]`",
            ),
        }
        if command.iter().map(String::len).sum::<usize>() > 4096 {
            self.error(
                &command_place,
                "`container.health_check.command` is longer than 4096 characters",
            );
        }
        let int = |r: &mut Self, key: &str, default: i64, lo: i64, hi: i64, get| {
            r.int(key, default, lo, hi, field(get))
                .map_or(default, |v| v.0) as i32
        };
        let interval_seconds = int(
            self,
            "container.health_check.interval_seconds",
            30,
            5,
            300,
            |h| h.interval_seconds.as_ref(),
        );
        let timeout_seconds = int(
            self,
            "container.health_check.timeout_seconds",
            5,
            2,
            120,
            |h| h.timeout_seconds.as_ref(),
        );
        let retries = int(self, "container.health_check.retries", 3, 1, 10, |h| {
            h.retries.as_ref()
        });
        let start_period_seconds = int(
            self,
            "container.health_check.start_period_seconds",
            0,
            0,
            300,
            |h| h.start_period_seconds.as_ref(),
        );
        Some(ContainerHealthCheckSettings {
            command,
            interval_seconds,
            timeout_seconds,
            retries,
            start_period_seconds,
        })
    }
}
