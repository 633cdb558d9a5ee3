//! ALB listeners as plain data, with a `u16` port: [`Listener`] (what `plan` compares) and
//! [`AlbListener`] (the shared ALB's listener the stacks' rules live on, which `cutover`,
//! `rollback` and the progressive rollout carry and print). `aws::load_balancer` converts the
//! SDK's listener into them at its edge.

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

/// A listener on the ALB as observed: the one listener shape `plan` compares with the stack's
/// (`aws::load_balancer` reads it from the SDK's listener at its edge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listener {
    /// ARN.
    pub arn: String,
    /// Port.
    pub port: u16,
    /// HTTP / HTTPS.
    pub protocol: String,
    /// The ACM certificates it serves (HTTPS): its default one, and the others the stack's
    /// certificate was looked for among.
    pub certificates: Vec<String>,
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
