//! The target group health check's status matcher (`200`, `200-299`, `200,202`), parsed when
//! the stack loads (so a bad one is a `file:line:col` problem) and used by `local`'s health
//! checks the way the ALB uses it.

/// The status codes that count as a passing check (`200`, `200-299`, `200,202`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher(Vec<(u16, u16)>);

impl Matcher {
    /// Parse an ALB matcher string.
    pub fn parse(text: &str) -> Result<Matcher, String> {
        let mut ranges = Vec::new();
        for part in text.split(',').map(str::trim) {
            let bad = || format!("`{text}` is not a status matcher; use e.g. `200` or `200-299`");
            let (lo, hi) = match part.split_once('-') {
                Some((a, b)) => (
                    a.trim().parse().map_err(|_| bad())?,
                    b.trim().parse().map_err(|_| bad())?,
                ),
                None => {
                    let c: u16 = part.parse().map_err(|_| bad())?;
                    (c, c)
                }
            };
            if lo > hi {
                return Err(bad());
            }
            // ALB accepts HTTP codes 200-499 for an HTTP/HTTPS target group
            // (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Matcher.html).
            if lo < 200 || hi > 499 {
                return Err(format!(
                    "`{text}` is not a matcher an ALB accepts: HTTP codes are 200-499 (e.g. `200`, `200-299`, `200,202`)"
                ));
            }
            ranges.push((lo, hi));
        }
        Ok(Matcher(ranges))
    }

    /// True when `status` passes.
    pub fn matches(&self, status: u16) -> bool {
        self.0.iter().any(|(lo, hi)| (*lo..=*hi).contains(&status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_ranges_and_lists() {
        let m = Matcher::parse("200,202-204").unwrap();
        assert!(m.matches(200) && m.matches(203) && !m.matches(201) && !m.matches(500));
        for bad in ["", "ok", "abc", "300-200", "200-", "70000"] {
            assert!(
                Matcher::parse(bad)
                    .unwrap_err()
                    .contains("is not a status matcher"),
                "{bad}"
            );
        }
        for outside in ["700", "199", "200-500", "100"] {
            assert!(
                Matcher::parse(outside).unwrap_err().contains("200-499"),
                "{outside}"
            );
        }
    }
}
