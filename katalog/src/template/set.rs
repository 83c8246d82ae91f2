//! Every template of a Katalog, parsed once at load time, with what rendering needs to know
//! per CRD besides its templates (which fields are sensitive, from the crdFile's schema).

use super::{Names, Notes, Template, funcs, is_template};
use crate::decode::Walk;
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::model::katalog::Katalog;
use crate::sensitive::Sensitivity;
use std::collections::{BTreeSet, HashMap};

/// The parsed templates of one Katalog, keyed by source text, plus its notes functions.
///
/// Rendering looks templates up by their source string (every templated field of the model is a
/// string), so there is no second, hand-maintained list of templated fields that could drift
/// from the model: [`Walk`] visits them all.
#[derive(Debug, Clone, Default)]
pub struct TemplateSet {
    templates: HashMap<String, Template>,
    notes: Notes,
    names: DeclaredNames,
    /// Per CRD entry: which fields are sensitive (docs/reconcile.md), decided once here so that
    /// every render, wherever it runs, redacts the same fields.
    sensitivity: HashMap<String, Sensitivity>,
}

/// Zero-argument functions a Katalog declares: notes functions and preReconcile sentinels.
#[derive(Debug, Clone, Default)]
pub struct DeclaredNames(BTreeSet<String>);

impl Names for DeclaredNames {
    fn has(&self, name: &str) -> bool {
        self.0.contains(name)
    }
}

impl TemplateSet {
    /// Parses every template in `katalog`; syntax errors, unknown functions and wrong argument
    /// counts become diagnostics at the YAML value that holds the template.
    pub fn compile(katalog: &Katalog) -> (TemplateSet, Diagnostics) {
        let mut diags = Diagnostics::default();
        let mut names = DeclaredNames::default();
        let note_fns = katalog.notes.as_ref().map(|n| n.functions.as_slice()).unwrap_or_default();
        for f in note_fns {
            let Some(name) = &f.name else { continue };
            if funcs::builtin(&name.value).is_some() && f.shadow != Some(true) {
                diags.push(
                    Diagnostic::error("notes-shadow", format!("notes function `{}` has the name of a built-in function", name.value))
                        .at(name.span)
                        .help("rename it, or add `shadow: true` to replace the built-in on purpose"),
                );
            }
            if !names.0.insert(name.value.clone()) {
                diags.push(Diagnostic::error("notes-duplicate", format!("notes function `{}` is declared twice", name.value)).at(name.span));
            }
        }
        for (_, entry) in &katalog.crds().0 {
            if let Some(pre) = entry.operator_box.as_ref().and_then(|o| o.pre_reconcile.as_ref()) {
                names.0.extend(pre.sentinels.iter().map(|s| s.value.clone()));
            }
        }
        let sensitivity = katalog.crds().iter().map(|(name, e)| (name.value.clone(), Sensitivity::of_entry(e))).collect();
        let mut set = TemplateSet { templates: HashMap::new(), notes: Notes::new(), names, sensitivity };
        let add = |src: &str, span: Span, set: &mut TemplateSet, diags: &mut Diagnostics| {
            if !is_template(src) || set.templates.contains_key(src) {
                return;
            }
            match Template::parse_with(src, &set.names) {
                Ok(t) => {
                    set.templates.insert(src.to_string(), t);
                }
                Err(e) => {
                    // A refused upstream function already says what to use; point at the list.
                    let help = if e.message.contains("` is not supported (") {
                        "upstream functions ork refuses, and what to use instead: docs/templates.md, \"Refused functions\""
                    } else {
                        "Katalog templates use Go text/template syntax; see docs/templates.md"
                    };
                    diags.push(
                        Diagnostic::error("template", format!("template error at character {} of {src:?}: {}", e.offset + 1, e.message)).at(span).help(help),
                    )
                }
            }
        };
        katalog.walk(&mut |src, span| add(src, span, &mut set, &mut diags));
        for f in note_fns {
            let (Some(name), Some(expr)) = (&f.name, &f.expression) else { continue };
            let parsed = set.templates.get(&expr.value).cloned().or_else(|| Template::parse_with(&expr.value, &set.names).ok());
            if let Some(t) = parsed {
                set.notes.insert(name.value.clone(), t);
            }
        }
        diags.sort();
        (set, diags)
    }

    /// The parsed template for `src`. Strings that were not in the Katalog (built-in profile
    /// values, defaults) are parsed on the spot; they are literals in practice.
    pub fn get(&self, src: &str) -> Result<std::borrow::Cow<'_, Template>, super::ParseError> {
        if let Some(t) = self.templates.get(src) {
            return Ok(std::borrow::Cow::Borrowed(t));
        }
        Template::parse_with(src, &self.names).map(std::borrow::Cow::Owned)
    }

    /// Which fields of CRD entry `crd`'s CRs are sensitive (the name rule alone for an entry
    /// without a crdFile schema, or an unknown entry).
    pub fn sensitivity(&self, crd: &str) -> &Sensitivity {
        static NAMES_ONLY: Sensitivity = Sensitivity::NAMES_ONLY;
        self.sensitivity.get(crd).unwrap_or(&NAMES_ONLY)
    }

    /// Whether any template of the Katalog (notes functions included) may read the top-level
    /// key `key` of its data ([`Template::may_read`]).
    pub fn may_read(&self, key: &str) -> bool {
        self.templates.values().any(|t| t.may_read(key)) || self.notes.values().any(|t| t.may_read(key))
    }

    /// Notes functions, for [`super::Env::with_notes`].
    pub fn notes(&self) -> &Notes {
        &self.notes
    }

    /// How many distinct templates the Katalog has.
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// Whether the Katalog has no templates.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }
}
