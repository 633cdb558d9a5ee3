//! `${VAR}` and `${VAR:-default}` in stack values, taken from the environment, so that no
//! account ID or endpoint is committed. `$$` writes a literal `$`.

/// Why a value could not be interpolated; `offset` is the byte offset of the `${` in the value.
#[derive(Debug, Clone, PartialEq)]
pub struct InterpolateError {
    /// Byte offset of the problem within the value.
    pub offset: usize,
    /// What is wrong and what to write instead.
    pub message: String,
}

/// Replace every `${VAR}` / `${VAR:-default}` in `text` using `lookup`.
/// A variable set to the empty string counts as unset for `:-` (as in the shell).
pub fn interpolate(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpolateError> {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
            let start = i;
            let Some(close) = text[i + 2..].find('}') else {
                return Err(InterpolateError {
                    offset: start,
                    message: "`${` is not closed; write `${NAME}` or `${NAME:-default}` (or `$$` for a literal `$`)".into(),
                });
            };
            let inner = &text[i + 2..i + 2 + close];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            if !is_var_name(name) {
                return Err(InterpolateError {
                    offset: start,
                    message: format!(
                        "`${{{inner}}}` is not a variable reference; write `${{NAME}}` or `${{NAME:-default}}` with NAME made of letters, digits and `_`"
                    ),
                });
            }
            match (lookup(name).filter(|v| !v.is_empty()), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    return Err(InterpolateError {
                        offset: start,
                        message: format!(
                            "environment variable {name} is not set; export it (export {name}=...) or give a default: ${{{name}:-value}}"
                        ),
                    })
                }
            }
            i += 2 + close + 1;
            continue;
        }
        let ch = text[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    Ok(out)
}

/// Escape a resolved value so that [`interpolate`] gives it back unchanged.
pub fn escape(value: &str) -> String {
    value.replace('$', "$$")
}

fn is_var_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "ACCOUNT" => Some("123456789012".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn replaces_set_variables_and_defaults() {
        assert_eq!(
            interpolate("arn:aws:iam::${ACCOUNT}:role/x", &env).unwrap(),
            "arn:aws:iam::123456789012:role/x"
        );
        assert_eq!(
            interpolate("${NOPE:-us-east-1}", &env).unwrap(),
            "us-east-1"
        );
        assert_eq!(interpolate("${EMPTY:-d}", &env).unwrap(), "d");
        assert_eq!(interpolate("${NOPE:-}", &env).unwrap(), "");
        assert_eq!(interpolate("plain $ text", &env).unwrap(), "plain $ text");
        assert_eq!(interpolate("$${ACCOUNT}", &env).unwrap(), "${ACCOUNT}");
    }

    #[test]
    fn unset_variable_names_it_and_says_what_to_do() {
        let e = interpolate("x-${MISSING}", &env).unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(e.message.contains("MISSING is not set"), "{}", e.message);
        assert!(e.message.contains("${MISSING:-value}"), "{}", e.message);
    }

    #[test]
    fn malformed_references_are_errors() {
        assert!(interpolate("${OPEN", &env)
            .unwrap_err()
            .message
            .contains("not closed"));
        assert!(interpolate("${1BAD}", &env)
            .unwrap_err()
            .message
            .contains("not a variable reference"));
    }

    #[test]
    fn escape_round_trips() {
        for v in ["a$b", "${X}", "$$", "plain"] {
            assert_eq!(interpolate(&escape(v), &env).unwrap(), v);
        }
    }
}
