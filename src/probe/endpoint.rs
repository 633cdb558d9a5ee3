//! MCP endpoint URLs as users type them, and the health URL beside each.

/// Parse an MCP endpoint URL; the message says what a good one looks like.
pub fn parse_url(text: &str) -> Result<reqwest::Url, String> {
    let example = "e.g. http://127.0.0.1:8080/ossserver-stateless/ossmcp";
    let url = reqwest::Url::parse(text)
        .map_err(|e| format!("{text:?} is not a URL ({e}); give the MCP endpoint, {example}"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!(
            "{text:?}: only http:// and https:// MCP endpoints are supported, {example}"
        ));
    }
    if url.host_str().is_none() {
        return Err(format!("{text:?} has no host; {example}"));
    }
    Ok(url)
}

/// The health URL of an MCP endpoint: its sibling `health` (`/a/ossmcp` → `/a/health`), as the
/// server and the ALB target group use.
pub fn health_url(mcp: &reqwest::Url) -> reqwest::Url {
    let mut url = mcp.clone();
    let path = mcp.path().trim_end_matches('/');
    let parent = match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    };
    url.set_path(&format!("{parent}/health"));
    url.set_query(None);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_is_the_sibling_of_the_mcp_path() {
        let u = parse_url("http://alb.example.com/ossserver-stateless/ossmcp").unwrap();
        assert_eq!(
            health_url(&u).as_str(),
            "http://alb.example.com/ossserver-stateless/health"
        );
        let u = parse_url("http://127.0.0.1:9898/mcp/").unwrap();
        assert_eq!(health_url(&u).as_str(), "http://127.0.0.1:9898/health");
    }

    #[test]
    fn bad_urls_say_what_to_give() {
        assert!(parse_url("localhost:8080/mcp")
            .unwrap_err()
            .contains("only http"));
        assert!(parse_url("not a url").unwrap_err().contains("e.g. http://"));
        assert!(parse_url("ftp://x/y").unwrap_err().contains("only http"));
    }
}
