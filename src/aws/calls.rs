//! Recording every AWS call (an SDK interceptor), so that commands can report what they did
//! and a re-run can be shown to have made no mutating call.

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde::Serialize;

/// One AWS API call: service and operation, e.g. `ECS` / `UpdateService`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Call {
    /// The service (`ECS`, `Elastic Load Balancing v2`, ...).
    pub service: String,
    /// The operation (`DescribeServices`, `CreateRule`, ...).
    pub operation: String,
}

impl Call {
    /// True for calls that change something (everything but Describe/List/Get/BatchGet and
    /// the ECR login token).
    pub fn is_mutating(&self) -> bool {
        let op = self.operation.as_str();
        !(op.starts_with("Describe")
            || op.starts_with("List")
            || op.starts_with("Get")
            || op.starts_with("BatchGet")
            || op.starts_with("Filter"))
    }
}

/// The shared, ordered log of calls made through one set of clients.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<Call>>>);

/// Every call of the process (all client sets), for the JSON error document: what was done
/// before a failure. Bounded: past [`PROCESS_CALLS_MAX`] calls only the count grows.
static PROCESS: Mutex<(Vec<Call>, usize)> = Mutex::new((Vec::new(), 0));

/// At most this many calls are kept for [`process_calls`].
pub const PROCESS_CALLS_MAX: usize = 10_000;

/// Every AWS call this process made so far (at most [`PROCESS_CALLS_MAX`]), and how many in all.
pub fn process_calls() -> (Vec<Call>, usize) {
    PROCESS
        .lock()
        .map(|g| (g.0.clone(), g.1))
        .unwrap_or_default()
}

fn record_for_process(call: &Call) {
    if let Ok(mut g) = PROCESS.lock() {
        g.1 += 1;
        if g.0.len() < PROCESS_CALLS_MAX {
            g.0.push(call.clone());
        }
    }
}

impl CallLog {
    /// Every call so far.
    pub fn all(&self) -> Vec<Call> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "mcpctl-call-log"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Client interceptors see the operation's metadata from serialization on (it is not
        // in the config bag yet at `read_before_execution`).
        let (service, operation) = match cfg.load::<Metadata>() {
            Some(m) => (m.service().to_string(), m.name().to_string()),
            None => ("unknown".to_string(), "unknown".to_string()),
        };
        let call = Call { service, operation };
        record_for_process(&call);
        if let Ok(mut v) = self.0.lock() {
            v.push(call);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_not_mutating() {
        let c = |op: &str| Call {
            service: "ECS".into(),
            operation: op.into(),
        };
        assert!(!c("DescribeServices").is_mutating());
        assert!(!c("ListTagsForResource").is_mutating());
        assert!(!c("GetAuthorizationToken").is_mutating());
        assert!(c("UpdateService").is_mutating());
        assert!(c("CreateRule").is_mutating());
        assert!(c("RegisterTaskDefinition").is_mutating());
    }
}
