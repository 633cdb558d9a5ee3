//! From parsed layers to a [`Stack`]: pick each value (the stack file wins over what it
//! extends; `env`, `secrets` and `tags` merge by name), interpolate, parse, default, validate.
//! Every problem is collected, so the user sees all of them at once.

use indexmap::IndexMap;
use serde_saphyr::Spanned;

use super::file::{StackFile, Text, TextList, TextMap};
use super::layers::{key_text, Layer, Place};
use super::rules;

/// Collects values and problems while resolving one stack.
pub struct Resolver<'a> {
    pub(super) layers: &'a [Layer],
    lookup: &'a dyn Fn(&str) -> Option<String>,
    /// Every problem found, as `file:line:col: message`.
    pub errors: Vec<String>,
    /// What this stack claims that no other stack may (checked across the stacks directory).
    pub claims: Claims,
}

/// The values of a stack that must be unique among the stacks of one directory, with where
/// they were written: a listener rule path belongs to one rule, a task family to one stack.
#[derive(Debug, Default, Clone)]
pub struct Claims {
    /// `routing.path_patterns`.
    pub path_patterns: Vec<Val>,
    /// `names.task_family`.
    pub task_family: Option<Val>,
}

/// A resolved value and where it was written.
pub type Val = (String, Place);

impl<'a> Resolver<'a> {
    /// A resolver over `layers` (child first) taking `${VAR}` values from `lookup`.
    pub fn new(layers: &'a [Layer], lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Resolver {
            layers,
            lookup,
            errors: Vec::new(),
            claims: Claims::default(),
        }
    }

    pub(super) fn error(&mut self, place: &Place, msg: impl std::fmt::Display) {
        self.errors.push(format!("{place}: {msg}"));
    }

    pub(super) fn pick<T>(
        &self,
        get: impl Fn(&'a StackFile) -> Option<&'a T>,
    ) -> Option<(&'a Layer, &'a T)> {
        self.layers
            .iter()
            .find_map(|l| get(&l.file).map(|t| (l, t)))
    }

    pub(super) fn interp(&mut self, layer: &Layer, t: &Text) -> Option<Val> {
        match layer.interpolate(t, self.lookup) {
            Ok(v) => Some((v, layer.place(t.referenced))),
            Err((place, msg)) => {
                self.error(&place, msg);
                None
            }
        }
    }

    /// An optional value; `None` when absent, empty or broken (then an error is recorded).
    pub(super) fn opt(&mut self, get: impl Fn(&'a StackFile) -> Option<&'a Text>) -> Option<Val> {
        let (layer, t) = self.pick(get)?;
        self.interp(layer, t).filter(|(v, _)| !v.is_empty())
    }

    /// A required value: missing or empty is an error with an example of what to write.
    pub(super) fn req(
        &mut self,
        key: &str,
        example: &str,
        get: impl Fn(&'a StackFile) -> Option<&'a Text>,
    ) -> Option<Val> {
        match self.pick(get) {
            Some((layer, t)) => {
                let (v, place) = self.interp(layer, t)?;
                if v.is_empty() {
                    self.error(&place, format!("`{key}` is empty; write e.g. `{example}`"));
                    return None;
                }
                Some((v, place))
            }
            None => {
                let place = self.top_place();
                let files = self
                    .layers
                    .iter()
                    .map(|l| l.display.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ");
                self.error(
                    &place,
                    format!("missing `{key}`; add it to {files}, e.g. `{example}`"),
                );
                None
            }
        }
    }

    /// The start of the stack file: where something missing from every file is reported.
    pub(super) fn top_place(&self) -> Place {
        Place {
            file: self.layers[0].display.clone(),
            line: 1,
            column: 1,
        }
    }

    /// A whole number within `lo..=hi`, or `default` when absent.
    pub(super) fn int(
        &mut self,
        key: &str,
        default: i64,
        lo: i64,
        hi: i64,
        get: impl Fn(&'a StackFile) -> Option<&'a Text>,
    ) -> Option<(i64, Option<Place>)> {
        let Some((v, place)) = self.opt(get) else {
            return Some((default, None));
        };
        match v.trim().parse::<i64>() {
            Ok(n) if (lo..=hi).contains(&n) => Some((n, Some(place))),
            Ok(n) => {
                self.error(
                    &place,
                    format!("`{key}` is {n}, out of range: use {lo}-{hi} (default {default})"),
                );
                None
            }
            Err(_) => {
                self.error(
                    &place,
                    format!("`{key}` must be a whole number, got `{v}`; write e.g. `{default}`"),
                );
                None
            }
        }
    }

    /// `true` / `false`, or `default` when absent.
    pub(super) fn boolean(
        &mut self,
        key: &str,
        default: bool,
        get: impl Fn(&'a StackFile) -> Option<&'a Text>,
    ) -> bool {
        let Some((v, place)) = self.opt(get) else {
            return default;
        };
        match v.trim() {
            "true" => true,
            "false" => false,
            other => {
                self.error(
                    &place,
                    format!("`{key}` must be true or false, got `{other}`"),
                );
                default
            }
        }
    }

    /// A list (the stack file's list replaces the shared one).
    pub(super) fn list(
        &mut self,
        get: impl Fn(&'a StackFile) -> Option<&'a Spanned<TextList>>,
    ) -> (Vec<Val>, Option<Place>) {
        let Some((layer, l)) = self.pick(get) else {
            return (Vec::new(), None);
        };
        let items = l
            .value
            .0
            .iter()
            .filter_map(|t| self.interp(layer, t))
            .collect();
        (items, Some(layer.place(l.referenced)))
    }

    /// A mapping merged across layers: shared entries first, the stack file's override by name.
    pub(super) fn map(
        &mut self,
        get: impl Fn(&'a StackFile) -> Option<&'a Spanned<TextMap>>,
    ) -> IndexMap<String, (Val, Place)> {
        let mut out: IndexMap<String, (Val, Place)> = IndexMap::new();
        for layer in self.layers.iter().rev() {
            let Some(m) = get(&layer.file) else { continue };
            for (k, v) in &m.value.0 {
                let key_place = layer.place(key_text(k).referenced);
                let Some(v) = v else {
                    out.shift_remove(&k.value);
                    continue;
                };
                if let Some(val) = self.interp(layer, v) {
                    out.insert(k.value.clone(), (val, key_place));
                }
            }
        }
        out
    }

    /// The names a mapping sets to `~` (after merging: a later layer may set them again).
    pub(super) fn unset_keys(
        &self,
        get: impl Fn(&'a StackFile) -> Option<&'a Spanned<TextMap>>,
    ) -> Vec<String> {
        let mut unset: Vec<String> = Vec::new();
        for layer in self.layers.iter().rev() {
            let Some(m) = get(&layer.file) else { continue };
            for (k, v) in &m.value.0 {
                unset.retain(|u| *u != k.value);
                if v.is_none() {
                    unset.push(k.value.clone());
                }
            }
        }
        unset
    }

    pub(super) fn check(&mut self, place: &Place, r: rules::Check) {
        if let Err(m) = r {
            self.error(place, m);
        }
    }

    pub(super) fn name(
        &mut self,
        key: &str,
        example: &str,
        rule: fn(&str) -> rules::Check,
        get: impl Fn(&'a StackFile) -> Option<&'a Text>,
    ) -> String {
        match self.req(key, example, get) {
            Some((v, place)) => {
                self.check(&place, rule(&v));
                v
            }
            None => String::new(),
        }
    }
}
