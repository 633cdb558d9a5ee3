//! OpenSearch request paths built from typed segments.
//!
//! A [`RequestPath`] is a list of fixed API words (`_search`, `_cat`, `indices`) and validated
//! arguments ([`IndexExpr`], [`DocId`], [`NodeIds`], [`Metrics`]). Every argument is
//! percent-encoded when the path is rendered (`/`, `?`, `#`, `%`, `:`, spaces... never reach the
//! path as themselves), and the values `.` and `..` are refused (a URL parser reads them, and
//! `%2e%2e`, as dot segments, so no encoding can make them safe). [`RequestPath::url`] sets the
//! path on the configured base URL (no `Url::join`, which reads `http:host` as another URL) and
//! checks the result again: same origin, and exactly the segments that were built, or the
//! request is refused without being sent.

use std::fmt;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use url::Url;

/// Bytes encoded in an argument segment: everything but `A-Z a-z 0-9 - . _ ~` and the two
/// list characters `*` and `,` (legal in a path segment, and read by OpenSearch as themselves).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'*')
    .remove(b',');

/// Longest index name OpenSearch accepts, in bytes.
pub const MAX_INDEX_NAME_BYTES: usize = 255;
/// Longest index expression (a comma list) accepted in one argument, in bytes.
pub const MAX_INDEX_EXPR_BYTES: usize = 4096;
/// Longest document id OpenSearch accepts, in bytes.
pub const MAX_ID_BYTES: usize = 512;
/// Longest node list or metric list accepted, in bytes.
pub const MAX_LIST_BYTES: usize = 1024;

/// Why an argument cannot be part of a request path; the message is for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// Not an index name (or not an allowed pattern) by OpenSearch's rules.
    #[error("'{value}' is not a valid index name or pattern: {why} (index names are lowercase, at most 255 bytes, without \\ / * ? \" < > | , # : % or spaces, not . or .., and do not start with _ - +{allowance})")]
    Index {
        /// The argument as given.
        value: String,
        /// The rule it breaks.
        why: &'static str,
        /// What this tool accepts on top (comma lists, wildcards).
        allowance: &'static str,
    },
    /// A free-form segment (document id, node id, metric) that is empty, `.`/`..` or too long.
    #[error("'{value}' is not a usable {what}: {why}")]
    Segment {
        /// What the argument is.
        what: &'static str,
        /// The argument as given.
        value: String,
        /// The rule it breaks.
        why: &'static str,
    },
    /// The URL built does not have the configured origin and the API's shape (defence in depth:
    /// the request is not sent).
    #[error(
        "refused to send a request to {got}: it is not {expected} on the configured OpenSearch"
    )]
    Escape {
        /// The URL that came out (no credentials).
        got: String,
        /// The shape it should have had.
        expected: String,
    },
}

/// Which index expressions a tool accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexRule {
    /// Exactly one index or alias name (e.g. `explain`).
    Single,
    /// A comma-separated list of names, each may hold `*` wildcards; items after the first may
    /// start with `-` to exclude (OpenSearch's multi-index syntax).
    Pattern,
}

/// A validated index name or multi-index expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexExpr(String);

impl IndexExpr {
    /// Check `value` against OpenSearch's index name rules, with the `rule`'s allowances.
    pub fn parse(value: &str, rule: IndexRule) -> Result<IndexExpr, PathError> {
        let allowance = match rule {
            IndexRule::Single => "; one index name, no wildcards or lists",
            IndexRule::Pattern => {
                "; a comma-separated list is accepted, names may hold * wildcards, and items after the first may start with - to exclude"
            }
        };
        let bad = |why| PathError::Index {
            value: value.to_string(),
            why,
            allowance,
        };
        if value.is_empty() {
            return Err(bad("it is empty"));
        }
        if value.len() > MAX_INDEX_EXPR_BYTES {
            return Err(bad("it is too long"));
        }
        let items: Vec<&str> = match rule {
            IndexRule::Single => vec![value],
            IndexRule::Pattern => value.split(',').collect(),
        };
        for (n, item) in items.iter().enumerate() {
            let name = match (rule, n, item.strip_prefix('-')) {
                (IndexRule::Pattern, 1.., Some(rest)) => rest,
                _ => item,
            };
            check_index_name(name, rule).map_err(bad)?;
        }
        Ok(IndexExpr(value.to_string()))
    }

    /// The expression as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One index name (or wildcard pattern with [`IndexRule::Pattern`]) by OpenSearch's rules.
fn check_index_name(name: &str, rule: IndexRule) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("a name in the list is empty");
    }
    if name.len() > MAX_INDEX_NAME_BYTES {
        return Err("a name is longer than 255 bytes");
    }
    if name == "." || name == ".." {
        return Err("it is . or ..");
    }
    if name.starts_with(['_', '-', '+']) {
        return Err("it starts with _, - or +");
    }
    for c in name.chars() {
        let bad = match c {
            '*' => rule == IndexRule::Single,
            '\\' | '/' | '?' | '"' | '<' | '>' | '|' | ',' | '#' | ' ' | ':' | '%' => true,
            c => c.is_control() || c.is_whitespace() || c.is_uppercase(),
        };
        if bad {
            return Err(if c.is_uppercase() {
                "it has upper-case letters"
            } else if c == '*' {
                "wildcards are not accepted here"
            } else {
                "it has a character OpenSearch does not allow in index names"
            });
        }
    }
    Ok(())
}

/// A document id: any text of 1 to 512 bytes except `.` and `..`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocId(String);

impl DocId {
    /// Check a document id.
    pub fn parse(value: &str) -> Result<DocId, PathError> {
        let bad = |why| PathError::Segment {
            what: "document id",
            value: value.to_string(),
            why,
        };
        if value.is_empty() {
            return Err(bad("it is empty"));
        }
        if value.len() > MAX_ID_BYTES {
            return Err(bad("it is longer than 512 bytes"));
        }
        if value == "." || value == ".." {
            return Err(bad("it is . or .., which would leave the document's path"));
        }
        Ok(DocId(value.to_string()))
    }
}

/// Node ids or names, comma-separated (`_local`, `node-1`, `10.0.0.1`, `role:data`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIds(String);

impl NodeIds {
    /// Check a node list: letters, digits and `, _ - . * :`, no item `.` or `..`.
    pub fn parse(value: &str) -> Result<NodeIds, PathError> {
        let bad = |why| PathError::Segment {
            what: "node id list",
            value: value.to_string(),
            why,
        };
        check_list(value, |c| matches!(c, '_' | '-' | '.' | '*' | ':')).map_err(bad)?;
        if value.split(',').any(|i| i == "." || i == "..") {
            return Err(bad("a node id is . or .."));
        }
        Ok(NodeIds(value.to_string()))
    }
}

/// Metric (statistics group) names, comma-separated (`docs,store`, `os,jvm`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metrics(String);

impl Metrics {
    /// Check a metric list: letters, digits and `_`, comma-separated (no dots at all).
    pub fn parse(value: &str) -> Result<Metrics, PathError> {
        check_list(value, |c| c == '_')
            .map(|()| Metrics(value.to_string()))
            .map_err(|why| PathError::Segment {
                what: "metric list",
                value: value.to_string(),
                why,
            })
    }
}

/// A non-empty comma list of ASCII letters, digits and the characters `extra` allows.
fn check_list(value: &str, extra: impl Fn(char) -> bool) -> Result<(), &'static str> {
    if value.is_empty() || value.split(',').any(str::is_empty) {
        return Err("it is empty or has an empty item");
    }
    if value.len() > MAX_LIST_BYTES {
        return Err("it is longer than 1024 bytes");
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == ',' || extra(c))
    {
        return Err(
            "only letters, digits and , _ - . * : are accepted (metrics: letters, digits, _ and ,)",
        );
    }
    Ok(())
}

/// One segment of a request path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// A fixed API word, written by this program (`_search`, `_cat`).
    Fixed(&'static str),
    /// A validated argument, percent-encoded when rendered.
    Arg(String),
}

/// An OpenSearch request path made of fixed API words and validated arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestPath {
    segments: Vec<Segment>,
}

impl RequestPath {
    /// A path of fixed API words only, e.g. `_cat/indices`; `""` is the root (`GET /`).
    pub fn api(words: &'static str) -> RequestPath {
        RequestPath {
            segments: words
                .split('/')
                .filter(|w| !w.is_empty())
                .map(Segment::Fixed)
                .collect(),
        }
    }

    /// A path that starts with an index expression, e.g. `{index}/_search`.
    pub fn index(index: &IndexExpr) -> RequestPath {
        RequestPath {
            segments: vec![Segment::Arg(index.0.clone())],
        }
    }

    /// Append fixed API words (`_stats`, `_explain`).
    pub fn then(mut self, words: &'static str) -> RequestPath {
        self.segments.extend(
            words
                .split('/')
                .filter(|w| !w.is_empty())
                .map(Segment::Fixed),
        );
        self
    }

    /// Append an index expression.
    pub fn with_index(mut self, index: &IndexExpr) -> RequestPath {
        self.segments.push(Segment::Arg(index.0.clone()));
        self
    }

    /// Append a document id.
    pub fn with_id(mut self, id: &DocId) -> RequestPath {
        self.segments.push(Segment::Arg(id.0.clone()));
        self
    }

    /// Append a node list.
    pub fn with_nodes(mut self, nodes: &NodeIds) -> RequestPath {
        self.segments.push(Segment::Arg(nodes.0.clone()));
        self
    }

    /// Append a metric list.
    pub fn with_metrics(mut self, metrics: &Metrics) -> RequestPath {
        self.segments.push(Segment::Arg(metrics.0.clone()));
        self
    }

    /// The path as sent: `/` and each segment, arguments percent-encoded.
    pub fn encoded(&self) -> String {
        let mut out = String::new();
        for s in &self.segments {
            out.push('/');
            match s {
                Segment::Fixed(w) => out.push_str(w),
                Segment::Arg(a) => out.extend(utf8_percent_encode(a, SEGMENT)),
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }

    /// The shape for messages: fixed words as themselves, arguments as `{}`.
    pub fn shape(&self) -> String {
        let mut out = String::new();
        for s in &self.segments {
            out.push('/');
            out.push_str(match s {
                Segment::Fixed(w) => w,
                Segment::Arg(_) => "{}",
            });
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }

    /// The full URL on `base` (scheme, host and port; its path is replaced), checked: the same
    /// origin as `base`, no query or fragment, and exactly this path's segments (fixed words
    /// equal, arguments decoding back to themselves). Otherwise the request must not be sent.
    pub fn url(&self, base: &Url) -> Result<Url, PathError> {
        let mut url = base.clone();
        url.set_query(None);
        url.set_fragment(None);
        url.set_path(&self.encoded());
        if self.matches(base, &url) {
            Ok(url)
        } else {
            Err(PathError::Escape {
                got: url.to_string(),
                expected: format!("{}{}", base.origin().ascii_serialization(), self.shape()),
            })
        }
    }

    /// Whether `url` is this path on `base`'s origin (the check behind [`RequestPath::url`]).
    fn matches(&self, base: &Url, url: &Url) -> bool {
        if url.origin() != base.origin()
            || url.username() != base.username()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return false;
        }
        let Some(got) = url.path_segments() else {
            return false;
        };
        let got: Vec<&str> = got.collect();
        if self.segments.is_empty() {
            return got == [""];
        }
        got.len() == self.segments.len()
            && got.iter().zip(&self.segments).all(|(g, s)| match s {
                Segment::Fixed(w) => g == w,
                Segment::Arg(a) => {
                    *g != "."
                        && *g != ".."
                        && percent_decode_str(g).decode_utf8().is_ok_and(|d| d == *a)
                }
            })
    }
}

impl From<&'static str> for RequestPath {
    /// Fixed API words written in this program (never an argument).
    fn from(words: &'static str) -> RequestPath {
        RequestPath::api(words)
    }
}

impl fmt::Display for RequestPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encoded())
    }
}

#[cfg(test)]
mod tests;
