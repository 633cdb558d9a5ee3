//! CloudWatch metrics through the log (`MCP_METRICS_NAMESPACE`, `MCP_METRICS_SERVICE`): when a
//! namespace is set, every MCP request's log line is also an Embedded Metric Format document, so
//! CloudWatch Logs turns calls and latency per tool into metrics with no API call and no
//! permission beyond writing the log the task already writes.

use super::ConfigError;

/// The `service` dimension when `MCP_METRICS_SERVICE` is unset.
pub const DEFAULT_SERVICE: &str = "opensearch-mcp-server";

/// The metrics settings; `None` in [`super::Config`] means off (the default: every distinct
/// dimension combination is a billed custom metric, so turning it on is the operator's choice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// CloudWatch namespace (`MCP_METRICS_NAMESPACE`).
    pub namespace: String,
    /// The `service` dimension (`MCP_METRICS_SERVICE`), e.g. the ECS service name.
    pub service: String,
}

/// A CloudWatch namespace: 1-255 of letters, digits, `.` `-` `_` `/` `#` `:` and space, not
/// starting with `AWS/` (reserved). <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html>
fn namespace_ok(v: &str) -> bool {
    (1..=255).contains(&v.len())
        && !v.starts_with("AWS/")
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_/#: ".contains(c))
}

/// A dimension value we choose: 1-255 of letters, digits, `.` `-` `_` `/` `:`.
fn service_ok(v: &str) -> bool {
    (1..=255).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_/:".contains(c))
}

impl MetricsConfig {
    /// Read the settings through `get` (trimmed, empty = unset).
    pub fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<Option<MetricsConfig>, ConfigError> {
        let service = get("MCP_METRICS_SERVICE");
        let Some(namespace) = get("MCP_METRICS_NAMESPACE") else {
            return match service {
                Some(_) => Err(ConfigError {
                    variable: "MCP_METRICS_SERVICE",
                    message: "is set but MCP_METRICS_NAMESPACE is not; set the namespace (e.g. \
                              OpenSearchMCP) to turn metrics on, or unset MCP_METRICS_SERVICE"
                        .into(),
                }),
                None => Ok(None),
            };
        };
        if !namespace_ok(&namespace) {
            return Err(ConfigError {
                variable: "MCP_METRICS_NAMESPACE",
                message: format!(
                    "'{namespace}' is not a CloudWatch namespace: 1-255 letters, digits, \
                     '.', '-', '_', '/', '#', ':' or spaces, not starting with AWS/"
                ),
            });
        }
        let service = service.unwrap_or_else(|| DEFAULT_SERVICE.to_string());
        if !service_ok(&service) {
            return Err(ConfigError {
                variable: "MCP_METRICS_SERVICE",
                message: format!(
                    "'{service}' is not a dimension value: 1-255 letters, digits, '.', '-', '_', \
                     '/' or ':'"
                ),
            });
        }
        Ok(Some(MetricsConfig { namespace, service }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Option<MetricsConfig>, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        MetricsConfig::from_lookup(&|k: &str| {
            vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn off_by_default_and_checked_when_on() {
        assert_eq!(read(&[]).unwrap(), None);
        let on = read(&[("MCP_METRICS_NAMESPACE", "OpenSearchMCP")])
            .unwrap()
            .unwrap();
        assert_eq!(on.service, DEFAULT_SERVICE);
        for (vars, variable) in [
            (vec![("MCP_METRICS_SERVICE", "svc")], "MCP_METRICS_SERVICE"),
            (
                vec![("MCP_METRICS_NAMESPACE", "AWS/ApplicationELB")],
                "MCP_METRICS_NAMESPACE",
            ),
            (
                vec![("MCP_METRICS_NAMESPACE", "a\"b")],
                "MCP_METRICS_NAMESPACE",
            ),
            (
                vec![
                    ("MCP_METRICS_NAMESPACE", "OpenSearchMCP"),
                    ("MCP_METRICS_SERVICE", "has space"),
                ],
                "MCP_METRICS_SERVICE",
            ),
        ] {
            assert_eq!(read(&vars).unwrap_err().variable, variable);
        }
    }
}
