//! The shared ALB's listener that the stacks' rules live on, as plain data: the one listener
//! shape `cutover`, `rollback` and the progressive rollout carry (and print in their JSON).
//! `aws::load_balancer::find_listener` converts the SDK's listener into it at its edge.

use serde::Serialize;

/// The shared ALB's listener that the stacks' rules live on, with the ALB it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlbListener {
    /// The ALB's name.
    pub load_balancer: String,
    /// The ALB's ARN.
    pub load_balancer_arn: String,
    /// The listener's ARN.
    pub arn: String,
    /// The listener's port.
    pub port: u16,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn its_json_keeps_the_field_names_and_a_numeric_port() {
        let l = AlbListener {
            load_balancer: "fastmcp-alb".into(),
            load_balancer_arn: "arn:alb".into(),
            arn: "arn:listener".into(),
            port: 80,
        };
        assert_eq!(
            serde_json::to_string(&l).unwrap(),
            r#"{"load_balancer":"fastmcp-alb","load_balancer_arn":"arn:alb","arn":"arn:listener","port":80}"#
        );
    }
}
