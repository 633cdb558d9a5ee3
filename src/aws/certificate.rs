//! The ACM certificate an HTTPS listener presents: `DescribeCertificate` for its status and
//! the names it covers (the names clients use, unless the stack lists `domain_names`).

use super::errors::{call_error, code};
use super::Clients;
use crate::error::Result;
use crate::plan::endpoint::{client_domains, origin, Certificate, ListenerSpec};
use crate::stack::Stack;

/// The certificate `arn`, or `None` when ACM does not know it in this region.
pub async fn describe(c: &Clients, arn: &str) -> Result<Option<Certificate>> {
    let out = match c
        .acm
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) if code(&e) == Some("ResourceNotFoundException") => return Ok(None),
        Err(e) => return Err(call_error(&format!("certificate {arn}"), e)),
    };
    let Some(d) = out.certificate() else {
        return Ok(None);
    };
    let mut names: Vec<String> = Vec::new();
    for n in d
        .domain_name()
        .into_iter()
        .chain(d.subject_alternative_names().iter().map(String::as_str))
    {
        let n = n.to_ascii_lowercase();
        if !names.contains(&n) {
            names.push(n);
        }
    }
    Ok(Some(Certificate {
        arn: arn.to_string(),
        status: d
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        domain_names: names,
    }))
}

/// `scheme://host[:port]` where clients reach `stack` through the ALB: the stack's first
/// `domain_names` entry, else (HTTPS) the certificate's first name, else the ALB's DNS name.
pub async fn client_origin(c: &Clients, stack: &Stack, alb_dns_name: &str) -> Result<String> {
    let spec = ListenerSpec::of(stack);
    let certificate = match (
        &spec.certificate_arn,
        stack.load_balancer.domain_names.is_empty(),
    ) {
        (Some(arn), true) => describe(c, arn).await?,
        _ => None,
    };
    let domains = client_domains(stack, certificate.as_ref());
    Ok(origin(&spec, &domains, alb_dns_name))
}
