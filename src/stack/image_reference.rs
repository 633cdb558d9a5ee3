//! Container image references (`image:` in a stack file), checked at load so a typo is a
//! `file:line:col` problem instead of a task that never starts.

use super::rules::Check;

/// A container image reference: `[registry[:port]/]path[:tag][@sha256:digest]`, the grammar of
/// the OCI distribution reference (lowercase path components, tags of 1-128 word characters).
pub fn image_reference(s: &str) -> Check {
    if image_reference_ok(s) {
        return Ok(());
    }
    Err(format!(
        "`{}` is not an image reference: write e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/opensearch-mcp-server:v1` or `REPO@sha256:DIGEST`, or leave `image` out to build server/",
        s.chars().take(200).collect::<String>()
    ))
}

fn image_reference_ok(s: &str) -> bool {
    if s.is_empty() || s.len() > 512 {
        return false;
    }
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        let ok = d.strip_prefix("sha256:").is_some_and(|h| {
            h.len() == 64
                && h.chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        });
        if !ok {
            return false;
        }
    }
    // A tag follows the last `:` after the last `/` (a `:` before it is a registry port).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        let mut c = t.chars();
        let ok = t.len() <= 128
            && c.next()
                .is_some_and(|f| f.is_ascii_alphanumeric() || f == '_')
            && c.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !ok {
            return false;
        }
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        let host = parts.remove(0);
        let (h, port) = host.split_once(':').unwrap_or((host, "1"));
        let host_ok = !h.is_empty()
            && h.split('.').all(|l| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && port.parse::<u16>().is_ok();
        if !host_ok {
            return false;
        }
    }
    !parts.is_empty()
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.split(['.', '_', '-']).all(|w| {
                    !w.is_empty()
                        && w.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_and_ecr_references_pass_and_others_do_not() {
        for ok in [
            "nginx",
            "opensearch-mcp-server:latest",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/opensearch-mcp-server:v1",
            "localhost:5000/a/b_c:1.0",
            "ghcr.io/org/img@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(image_reference(ok).is_ok(), "{ok}");
        }
        for bad in [
            "not a uri!!",
            "",
            "Repo:tag",
            "a:",
            "a@sha256:xyz",
            "http://x/y",
        ] {
            assert!(image_reference(bad).is_err(), "{bad}");
        }
    }
}
