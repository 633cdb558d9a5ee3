//! Typed comparable fields. Each resource kind has an enum of the fields it can differ in; a
//! spec lists its values under those keys as typed [`Value`]s (rendered as text only for the
//! plan people read), the plan compares them ([`diff`]) and turns the differences into the exact
//! update `apply` makes ([`super::steps`]), taking numbers as numbers, never parsing text back. A key is never a string, so a typo does not compile, and a match over
//! the keys is exhaustive, so a new field must say what `apply` does with it.

use std::fmt;

use super::FieldChange;

/// A comparable field of one resource kind.
pub trait Field: Clone + PartialEq + fmt::Debug {
    /// The name shown in the plan (`env MCP_PATH`, `desired_count`, `tag mcpctl:stack`).
    fn label(&self) -> String;
    /// True for a tag key (tags AWS has but the stack does not name are not drift).
    fn is_tag(&self) -> bool;
}

/// One field's value, in its own type; [`fmt::Display`] gives the text the plan shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A number (counts, seconds, percentages, ports, priorities).
    Int(i32),
    /// A switch.
    Bool(bool),
    /// Text (names, lists joined with `,`, documents, `(default)`-style words).
    Text(String),
}

impl Value {
    /// The number, when this is one.
    pub fn int(&self) -> Option<i32> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(n) => n.fmt(f),
            Value::Bool(b) => b.fmt(f),
            Value::Text(t) => t.fmt(f),
        }
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Value::Int(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<String> for Value {
    fn from(t: String) -> Self {
        Value::Text(t)
    }
}

impl From<&str> for Value {
    fn from(t: &str) -> Self {
        Value::Text(t.to_string())
    }
}

impl<T: Clone + Into<Value>> From<&T> for Value {
    fn from(t: &T) -> Self {
        t.clone().into()
    }
}

/// Field values of a resource, in display order.
pub type Fields<F> = Vec<(F, Value)>;

/// The text shown for a value that is absent.
const NONE: &str = "(none)";

/// One field that differs, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff<F> {
    /// Which field.
    pub field: F,
    /// Current value (`None` when absent).
    pub from: Option<Value>,
    /// Wanted value (`None` when the stack does not have it).
    pub to: Option<Value>,
}

impl<F: Field> Diff<F> {
    /// The difference as the plan prints it (an absent value as `(none)`).
    pub fn shown(&self) -> FieldChange {
        let text = |v: &Option<Value>| v.as_ref().map_or(NONE.to_string(), Value::to_string);
        FieldChange {
            field: self.field.label(),
            from: text(&self.from),
            to: text(&self.to),
        }
    }
}

/// Compare wanted and observed fields; `observed` only counts the tag keys `desired` names.
pub fn diff<F: Field>(desired: &Fields<F>, observed: &Fields<F>) -> Vec<Diff<F>> {
    desired
        .iter()
        .filter_map(|(k, want)| {
            let have = observed.iter().find(|(ok, _)| ok == k).map(|(_, v)| v);
            (have != Some(want)).then(|| Diff {
                field: k.clone(),
                from: have.cloned(),
                to: Some(want.clone()),
            })
        })
        .chain(
            observed
                .iter()
                .filter(|(k, _)| !k.is_tag() && !desired.iter().any(|(dk, _)| dk == k))
                .map(|(k, have)| Diff {
                    field: k.clone(),
                    from: Some(have.clone()),
                    to: None,
                }),
        )
        .collect()
}

/// Tag fields from key/value pairs.
pub fn tag_fields<F>(tags: &[(String, String)], key: impl Fn(String) -> F) -> Fields<F> {
    tags.iter()
        .map(|(k, v)| (key(k.clone()), Value::Text(v.clone())))
        .collect()
}

macro_rules! field_enum {
    (
        $(#[$doc:meta])* $name:ident {
            $( $(#[$vdoc:meta])* $variant:ident => $label:literal, )*
        }
        $( keyed { $( $(#[$kdoc:meta])* $kvariant:ident => $prefix:literal, )* } )?
        tag $tag:ident
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )*
            $( $( $(#[$kdoc])* $kvariant(String), )* )?
            /// A tag, by key.
            $tag(String),
        }

        impl $crate::plan::fields::Field for $name {
            fn label(&self) -> String {
                match self {
                    $( $name::$variant => $label.to_string(), )*
                    $( $( $name::$kvariant(k) => format!("{} {k}", $prefix), )* )?
                    $name::$tag(k) => format!("tag {k}"),
                }
            }
            fn is_tag(&self) -> bool {
                matches!(self, $name::$tag(_))
            }
        }
    };
}
pub(in crate::plan) use field_enum;

/// A field and its value (`f(Field::X, value)`), as the specs list them.
pub(in crate::plan) fn f<F>(key: F, value: impl Into<Value>) -> (F, Value) {
    (key, value.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::kinds::{
        log_group::LogGroupField, service::ServiceField, task_definition::TaskDefinitionField,
        task_role::TaskRoleField,
    };

    #[test]
    fn labels_are_the_names_the_plan_always_showed() {
        assert_eq!(
            TaskDefinitionField::Env("MCP_PATH".into()).label(),
            "env MCP_PATH"
        );
        assert_eq!(TaskDefinitionField::Secret("X".into()).label(), "secret X");
        assert_eq!(
            ServiceField::Tag("mcpctl:stack".into()).label(),
            "tag mcpctl:stack"
        );
        assert_eq!(
            ServiceField::HealthCheckGracePeriod.label(),
            "health_check_grace_period_seconds"
        );
        assert_eq!(TaskRoleField::Policy.label(), "policy OpenSearchAccess");
    }

    #[test]
    fn untracked_tags_are_not_drift_but_dropped_fields_are() {
        let want = vec![(LogGroupField::Tag("a".into()), Value::from("1"))];
        let have = vec![
            (LogGroupField::Tag("a".into()), Value::from("1")),
            (LogGroupField::Tag("other".into()), Value::from("x")),
            (LogGroupField::RetentionDays, Value::Int(7)),
        ];
        let d = diff(&want, &have);
        assert_eq!(
            d,
            vec![Diff {
                field: LogGroupField::RetentionDays,
                from: Some(Value::Int(7)),
                to: None
            }]
        );
    }
}
