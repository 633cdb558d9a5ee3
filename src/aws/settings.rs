//! How every AWS client of the process is built: the `--call-timeout` bound on each call and
//! the `--profile` check. Set once by the command line ([`configure`]) before any client exists;
//! [`super::Clients::connect`] reads them.

use std::sync::OnceLock;
use std::time::Duration;

use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};

use crate::error::{Error, Result};

/// The default `--call-timeout`.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Connecting to an endpoint takes at most this long (or the call timeout, if shorter).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings every AWS client of this process shares.
#[derive(Debug, Clone)]
pub struct CallSettings {
    /// Each attempt of a call, and the call as a whole with its retries, ends after this long.
    pub call_timeout: Duration,
}

impl Default for CallSettings {
    fn default() -> Self {
        CallSettings {
            call_timeout: DEFAULT_CALL_TIMEOUT,
        }
    }
}

static SETTINGS: OnceLock<CallSettings> = OnceLock::new();

/// Set the settings for the process (the first call wins; later ones are ignored).
pub fn configure(settings: CallSettings) {
    let _ = SETTINGS.set(settings);
}

/// The settings in effect.
pub fn current() -> CallSettings {
    SETTINGS.get().cloned().unwrap_or_default()
}

/// The endpoint the clients talk to, for messages: `AWS_ENDPOINT_URL` if set, else AWS's
/// endpoint for the region in use.
pub fn endpoint_for_messages() -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.is_empty() => format!("{url} (AWS_ENDPOINT_URL)"),
        _ => "the AWS endpoint of the region in use".to_string(),
    }
}

/// The SDK timeout configuration for `settings`: per attempt and per operation (all attempts),
/// plus a connect timeout.
pub fn timeout_config(settings: &CallSettings) -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(settings.call_timeout.min(CONNECT_TIMEOUT))
        .operation_attempt_timeout(settings.call_timeout)
        .operation_timeout(settings.call_timeout)
        .build()
}

/// Check that `--profile NAME` names a profile of the AWS config or credentials file (the
/// files `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE` point at, else `~/.aws/`). A
/// misspelled profile must not fall back to other credentials: that is how a command acts on
/// the wrong account.
pub async fn check_profile(name: &str) -> Result<()> {
    let set = aws_config::profile::load(
        &Fs::real(),
        &Env::real(),
        &EnvConfigFiles::default(),
        None,
    )
    .await
    .map_err(|e| {
        Error::bad_input(format!(
            "--profile {name}: the AWS config files cannot be read: {e}; fix them or pass another --profile"
        ))
    })?;
    if set.get_profile(name).is_some() {
        return Ok(());
    }
    let mut known: Vec<&str> = set.profiles().collect();
    known.sort_unstable();
    Err(Error::bad_input(format!(
        "AWS profile `{name}` does not exist in the AWS config or credentials file (profiles there: {}); check --profile (`aws configure list-profiles`)",
        if known.is_empty() { "none".to_string() } else { known.join(", ") }
    )))
}
