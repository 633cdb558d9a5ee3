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
        if let Ok(mut v) = self.0.lock() {
            v.push(Call { service, operation });
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
