//! ALB listener-rule path patterns (what `local`'s router and `verify`'s rule lookup match):
//! case-sensitive, `*` matches any run of characters (including none and `/`), `?` exactly one
//! character, matched against the path only.

/// True when `path` matches the ALB path pattern `pattern`.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = path.chars().collect();
    // Iterative wildcard match with backtracking to the last `*`.
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alb_path_patterns() {
        assert!(path_matches(
            "/ossserver-stateless/*",
            "/ossserver-stateless/ossmcp"
        ));
        assert!(path_matches(
            "/ossserver-stateless/*",
            "/ossserver-stateless/"
        ));
        assert!(!path_matches(
            "/ossserver-stateless/*",
            "/ossserver-stateless"
        ));
        assert!(!path_matches("/ossserver/*", "/ossserver-stateless/ossmcp"));
        assert!(path_matches("/ossserver/*", "/ossserver/health"));
        assert!(path_matches("/ossserver/*", "/ossserver/a/b/c"));
        assert!(
            !path_matches("/ossserver/*", "/OSSSERVER/health"),
            "case-sensitive"
        );
        assert!(path_matches("/img/?.png", "/img/a.png"));
        assert!(!path_matches("/img/?.png", "/img/ab.png"));
        assert!(path_matches("*", "/anything"));
        assert!(path_matches("/a*b*c", "/axxbyyc"));
        assert!(!path_matches("/a*b*c", "/axxbyy"));
        assert!(path_matches("/exact", "/exact"));
        assert!(!path_matches("/exact", "/exact/"));
    }
}
