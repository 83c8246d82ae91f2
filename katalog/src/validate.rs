//! The offline checks behind `ork validate`: everything that can be known from the files alone
//! beyond the schema (which the loader already enforced).
//!
//! Checks: dependsOn targets and cycles (with the cycle printed) and the startup order;
//! namespace rule consistency; crdFile existence and agreement with apiTypes; profile names and
//! "profile XOR explicit fields"; capability names; required fields per resource kind; duplicate
//! child names within a CRD; sentinels; condition and rule shapes; worker bounds.

use crate::decode::Str;
use crate::diag::{Diagnostic, Diagnostics, Span, suggest};
use crate::kinds::{ApiIdentity, api_identity, is_namespaced};
use crate::load::{DocKind, Loaded};
use crate::model::crd::CrdEntry;
use crate::model::resources::ChildKind;
use crate::model::{Katalog, Motif};
use crate::namespaces::{pattern_covers, pattern_matches};
use crate::profiles::{ProfileClass, UserProfiles};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

mod checks;
pub mod e2e;
mod shapes;
pub mod simulate;

/// The outcome of validating one file.
#[derive(Debug)]
pub struct Report {
    /// The document kind, when known.
    pub kind: Option<DocKind>,
    /// The Katalog / Komposer / Motif name.
    pub name: Option<String>,
    /// Per-CRD summaries, sorted by name.
    pub crds: Vec<CrdSummary>,
    /// CRD names in startup order (dependencies first), when there is no cycle.
    pub startup_order: Vec<String>,
    /// Every finding, sorted.
    pub diagnostics: Diagnostics,
    /// The Katalog's templates, parsed (for a Katalog or Komposer), for commands that render next.
    pub templates: Option<crate::template::TemplateSet>,
    /// For a Simulate document: its op rules, includes expanded.
    pub op_rules: usize,
    /// For an E2E document: its expectations, includes expanded.
    pub expectations: usize,
}

impl Report {
    /// True when there is no error.
    pub fn is_valid(&self) -> bool {
        !self.diagnostics.has_errors()
    }
}

/// What `ork validate` prints about one CRD.
#[derive(Debug, Clone, Serialize)]
// The fields are the keys of `ork validate --output json`, documented in docs/validate-json.md.
#[allow(missing_docs)]
pub struct CrdSummary {
    /// Entry name.
    pub name: String,
    pub enabled: bool,
    /// `group/version`.
    pub group_version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    /// Child entries in onCreate / onReconcile / onDelete.
    pub children: usize,
    pub validation_rules: usize,
    pub mutation_rules: usize,
    pub status_fields: usize,
    pub depends_on: Vec<String>,
    /// Profiles referenced (`class/name`, sorted).
    pub profiles: Vec<String>,
}

/// Validates a loaded document (the loader's findings are included in the report).
pub fn validate(loaded: &Loaded) -> Report {
    let mut diags = loaded.diagnostics.clone();
    let mut report = Report {
        kind: loaded.kind,
        name: None,
        crds: Vec::new(),
        startup_order: Vec::new(),
        diagnostics: Diagnostics::default(),
        templates: None,
        op_rules: 0,
        expectations: 0,
    };
    if let Some(k) = &loaded.katalog {
        report.name = Some(k.name().to_string());
        let mut v = Validator { katalog: k, loaded, diags: &mut diags, user: user_profiles(k.profiles.as_ref()), profiles: BTreeMap::new() };
        v.run();
        report.startup_order = v.startup_order();
        report.crds = summaries(k, &mut v.profiles);
        let (templates, template_diags) = crate::template::TemplateSet::compile(k);
        diags.extend(template_diags);
        report.templates = Some(templates);
    } else if let Some(sim) = &loaded.simulate {
        report.name = sim.metadata.as_ref().and_then(|m| m.name.as_ref()).map(|n| n.value.clone());
        report.op_rules = simulate::check(sim, &loaded.path, &mut diags);
    } else if let Some(doc) = &loaded.e2e {
        report.name = Some(doc.name().to_string()).filter(|n| !n.is_empty());
        report.expectations = e2e::check(doc, &mut diags).len();
    } else if let Some(m) = &loaded.motif {
        report.name = m.metadata.as_ref().and_then(|md| md.name.as_ref()).map(|n| n.value.clone());
        validate_motif(m, &mut diags);
    }
    diags.sort();
    report.diagnostics = diags;
    report
}

fn user_profiles(p: Option<&crate::model::katalog::Profiles>) -> UserProfiles {
    let mut user = UserProfiles::default();
    if let Some(p) = p {
        for (class, name) in p.declared() {
            user.insert(class, name.as_str());
        }
    }
    user
}

fn summaries(k: &Katalog, profiles: &mut BTreeMap<String, Vec<String>>) -> Vec<CrdSummary> {
    let mut out: Vec<CrdSummary> = k
        .crds()
        .iter()
        .map(|(name, e)| {
            let id = api_identity(e).unwrap_or_else(|| ApiIdentity {
                group: String::new(),
                version: String::new(),
                kind: e.api_types.as_ref().and_then(|a| a.kind.as_ref()).map(|k| k.value.clone()).unwrap_or_default(),
                plural: String::new(),
                namespaced: is_namespaced(e.namespaced, None),
            });
            let adm = e.admission.as_ref();
            CrdSummary {
                name: name.value.clone(),
                enabled: e.is_enabled(),
                group_version: if id.group.is_empty() { id.version.clone() } else { format!("{}/{}", id.group, id.version) },
                namespaced: id.namespaced,
                kind: id.kind,
                plural: id.plural,
                children: e.lifecycle_blocks().iter().map(|(_, b)| b.count()).sum(),
                validation_rules: adm.and_then(|a| a.validation.as_ref()).map_or(0, |v| v.rules.len()),
                mutation_rules: adm.and_then(|a| a.mutation.as_ref()).map_or(0, |v| v.rules.len()),
                status_fields: e.operator_box.as_ref().and_then(|o| o.emit.as_ref()).and_then(|em| em.status.as_ref()).map_or(0, |s| s.fields.len()),
                depends_on: e.depends_on.iter().map(|d| d.name.value.clone()).collect(),
                profiles: profiles.remove(name.as_str()).unwrap_or_default(),
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn validate_motif(m: &Motif, diags: &mut Diagnostics) {
    let mut seen = BTreeMap::new();
    for input in &m.inputs {
        if let Some(n) = &input.name
            && let Some(first) = seen.insert(n.value.clone(), n.span)
        {
            diags.push(Diagnostic::error("duplicate-input", format!("input `{n}` is declared twice (first at {first})")).at(n.span));
        }
    }
    let user = user_profiles(m.profiles.as_ref());
    if let Some(res) = &m.resources {
        let mut c = checks::EntryChecks { diags, user: &user, crd: "", katalog: None, used: Default::default() };
        if let Some(b) = &res.on_create {
            c.block(b, false);
        }
        c.block(&res.inline, false);
    }
}

struct Validator<'a> {
    katalog: &'a Katalog,
    /// What was loaded: the `crdFile`s were read then.
    loaded: &'a Loaded,
    diags: &'a mut Diagnostics,
    user: UserProfiles,
    /// Per CRD entry, the profiles it references (`class/name`, sorted), found by the checks.
    profiles: BTreeMap<String, Vec<String>>,
}

impl Validator<'_> {
    fn run(&mut self) {
        let k = self.katalog;
        let standalone = k.gateway.as_ref().and_then(|g| g.standalone) == Some(true);
        // Only when nothing else is wrong: a malformed `crds` already has its own error.
        if k.crds().is_empty() && !standalone && k.spec.is_some() && !self.diags.has_errors() {
            let span = k.metadata.as_ref().map(|m| m.span).unwrap_or_default();
            self.diags.push(
                Diagnostic::error("no-crds", "the Katalog declares no CRDs")
                    .at(span)
                    .help("add an entry under `spec.crds`, or set `gateway.standalone: true` for a gateway-only Katalog"),
            );
        }
        self.check_user_profiles();
        self.check_global_namespaces();
        self.check_cert_manager();
        for (name, entry) in k.crds().iter() {
            self.check_crd(name, entry);
        }
        self.check_dependencies();
    }

    fn err(&mut self, crd: &str, code: &'static str, span: Span, msg: impl Into<String>, help: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, msg).at(span).help(help).crd(crd));
    }

    fn check_user_profiles(&mut self) {
        let Some(p) = &self.katalog.profiles else { return };
        let mut seen: BTreeMap<(ProfileClass, String), Span> = BTreeMap::new();
        for (class, name) in p.declared() {
            if let Some(first) = seen.insert((class, name.value.clone()), name.span) {
                self.diags.push(
                    Diagnostic::error("profile-conflict", format!("{} `{name}` is defined twice (first at {first})", class.describe()))
                        .at(name.span)
                        .help("give one of them another name"),
                );
            }
        }
    }

    fn check_global_namespaces(&mut self) {
        let Some(np) = self.katalog.security.as_ref().and_then(|s| s.namespace_protection.as_ref()) else { return };
        for p in np.allowed_namespaces.iter().chain(&np.restricted_namespaces) {
            checks::namespace_pattern(p, "", self.diags);
        }
    }

    fn check_cert_manager(&mut self) {
        let Some(cm) = self.katalog.security.as_ref().and_then(|s| s.cert_manager.as_ref()) else { return };
        for d in [&cm.valid_for, &cm.rotation_threshold].into_iter().flatten() {
            checks::duration(d, "", self.diags);
        }
        let secs = |d: &Option<Str>| d.as_ref().and_then(|d| crate::duration::parse_duration(d));
        if let (Some(valid), Some(threshold)) = (secs(&cm.valid_for), secs(&cm.rotation_threshold))
            && threshold >= valid
            && let Some(t) = &cm.rotation_threshold
        {
            self.diags.push(
                Diagnostic::error(
                    "rotation-threshold-too-long",
                    format!("security.certManager.rotationThreshold `{t}` is not shorter than validFor: the certificate would be rotated forever"),
                )
                .at(t.span)
                .help("choose a rotationThreshold below validFor, e.g. validFor: 90d with rotationThreshold: 30d"),
            );
        }
    }

    fn check_crd(&mut self, name: &Str, e: &CrdEntry) {
        let crd = name.as_str();
        self.check_api_types(name, e);
        if let Some(r) = e.reconcile() {
            if let Some(w) = r.workers
                && !(1..=50).contains(&w)
            {
                self.err(crd, "invalid-workers", name.span, format!("workers must be between 1 and 50, got {w}"), "use 1..50");
            }
            if let Some(p) = &r.profile {
                checks::profile_ref(ProfileClass::Reconciler, p, &self.user, crd, self.diags);
                if r.workers.is_some() || r.resync.is_some() {
                    // Upstream: inline tuning overrides the profile; say so rather than fail.
                    self.diags.push(Diagnostic::warning("profile-overridden", "inline workers/resync override the reconciler profile").at(p.span).crd(crd));
                }
            }
            for d in [r.resync.as_ref(), r.requeue.as_ref().and_then(|q| q.after.as_ref())].into_iter().flatten() {
                checks::duration(d, crd, self.diags);
            }
            if let Some(rq) = &r.requeue {
                shapes::conditions(&rq.when, crd, self.diags);
                shapes::conditions(&rq.or, crd, self.diags);
            }
            if let Some(q) = &r.queue
                && q.kind == Some(crate::model::crd::QueueType::Delayed)
                && let Some(b) = q.retry_backoff.as_ref().filter(|b| b.max.is_some() || b.multiplier.is_some())
            {
                // A delayed queue retries after one fixed delay (docs/runtime.md): growth keys would be silently ignored.
                let d = Diagnostic::warning("no-effect", "`retryBackoff.max` and `multiplier` have no effect on a `delayed` queue")
                    .at(b.span)
                    .help("a delayed queue retries every failure after `initial`; use `type: ratelimited` for a growing backoff");
                self.diags.push(d.crd(crd));
            }
        }
        self.check_namespaces(crd, e);
        self.check_children(crd, e);
        self.check_admission(crd, e);
        self.check_sentinels(crd, e);
        self.check_cross(crd, e);
        self.check_entry_order(crd, e);
        if let Some(em) = e.operator_box.as_ref().and_then(|o| o.emit.as_ref()).and_then(|em| em.status.as_ref()) {
            for f in &em.fields {
                shapes::conditions(&f.when, crd, self.diags);
                shapes::conditions(&f.or, crd, self.diags);
                if f.clear_on_false == Some(true) && f.when.is_empty() && f.or.is_empty() {
                    self.diags
                        .push(Diagnostic::warning("clear-on-false-without-gate", "`clearOnFalse` has no effect without `when` or `or`").at(f.span).crd(crd));
                }
            }
        }
    }

    fn check_api_types(&mut self, name: &Str, e: &CrdEntry) {
        let crd = name.as_str();
        if let Some(file) = &e.crd_file {
            let read = e.crd_file_path.as_deref().and_then(|p| self.loaded.crd_file(p));
            checks::crd_file(file, e, crd, self.diags, read);
            return;
        }
        let Some(at) = &e.api_types else {
            self.err(
                crd,
                "missing-api-types",
                e.span,
                format!("CRD `{crd}` has neither `apiTypes` nor `crdFile`"),
                "add `apiTypes: {group: example.com, version: v1, kind: Thing, plural: things}`",
            );
            return;
        };
        let missing: Vec<&str> = [("version", &at.version), ("kind", &at.kind), ("plural", &at.plural), ("group", &at.group)]
            .into_iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k)
            .collect();
        let builtin_kind_only = missing.len() == 3 && at.kind.is_some();
        if builtin_kind_only
            && let Some(kd) = &at.kind
            && crate::kinds::builtin_by_kind(kd).is_none()
        {
            let help = match suggest(kd, crate::kinds::builtin_kinds()) {
                Some(s) => format!("did you mean `{s}`? For a custom resource write `apiTypes: {{group: example.com, version: v1, kind: {kd}, plural: ...}}`"),
                None => format!("for a custom resource write `apiTypes: {{group: example.com, version: v1, kind: {kd}, plural: ...}}`"),
            };
            self.err(
                crd,
                "unknown-builtin-kind",
                kd.span,
                format!("`{kd}` is not a built-in Kubernetes kind, so apiTypes needs its group, version and plural"),
                help,
            );
        }
        if !missing.is_empty() && !builtin_kind_only {
            self.err(
                crd,
                "incomplete-api-types",
                at.span,
                format!("apiTypes is missing {}", missing.join(", ")),
                "custom resources need group, version, kind and plural (a built-in kind may be given by `kind` alone)",
            );
        }
        if let Some(p) = &at.plural
            && (p.value != p.value.to_lowercase() || p.is_empty())
        {
            self.err(crd, "invalid-plural", p.span, format!("plural `{p}` must be lowercase"), "e.g. `websites`");
        }
        if let Some(kd) = &at.kind
            && !kd.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        {
            self.err(crd, "invalid-kind", kd.span, format!("kind `{kd}` must start with an uppercase letter"), "e.g. `Website`");
        }
    }

    fn check_namespaces(&mut self, crd: &str, e: &CrdEntry) {
        let global = self.katalog.security.as_ref().and_then(|s| s.namespace_protection.as_ref());
        let local = e.runtime();
        let allowed: Vec<&Str> = global
            .map(|g| g.allowed_namespaces.iter().collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .chain(local.map(|l| l.allowed_namespaces.iter().collect::<Vec<_>>()).unwrap_or_default())
            .collect();
        let restricted: Vec<&Str> = global
            .map(|g| g.restricted_namespaces.iter().collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .chain(local.map(|l| l.restricted_namespaces.iter().collect::<Vec<_>>()).unwrap_or_default())
            .collect();
        if let Some(l) = local {
            for p in l.allowed_namespaces.iter().chain(&l.restricted_namespaces) {
                checks::namespace_pattern(p, crd, self.diags);
            }
        }
        let mut usable = 0;
        for a in &allowed {
            match restricted.iter().find(|r| pattern_covers(r, a)) {
                Some(r) => self.diags.push(
                    Diagnostic::error("namespace-conflict", format!("namespace `{a}` is allowed but also restricted by `{r}` (at {})", r.span))
                        .at(a.span)
                        .crd(crd)
                        .help("a restricted match always denies; remove it from one of the lists"),
                ),
                None => usable += 1,
            }
        }
        if !allowed.is_empty() && usable == 0 {
            self.diags.push(
                Diagnostic::error("crd-unusable", format!("every allowed namespace of `{crd}` is also restricted: no CR can ever be reconciled"))
                    .at(allowed[0].span)
                    .crd(crd)
                    .help("allow at least one namespace that no restricted pattern matches"),
            );
        }
        if let Some(ns) = &e.namespace
            && !ns.is_empty()
        {
            let denied = restricted.iter().any(|r| pattern_matches(r, ns));
            let not_allowed = !allowed.is_empty() && !allowed.iter().any(|a| pattern_matches(a, ns));
            if denied || not_allowed {
                self.err(
                    crd,
                    "crd-unusable",
                    ns.span,
                    format!("the CRD watches only namespace `{ns}`, which its namespace rules forbid"),
                    "watch a namespace the rules allow",
                );
            }
        }
    }

    fn check_children(&mut self, crd: &str, e: &CrdEntry) {
        let mut c = checks::EntryChecks { diags: self.diags, user: &self.user, crd, katalog: Some(self.katalog), used: Default::default() };
        let mut seen: BTreeMap<(ChildKind, String, String), Span> = BTreeMap::new();
        for (phase, block) in e.lifecycle_blocks() {
            let deleting = phase == "onDelete";
            c.block(block, deleting);
            if deleting {
                continue;
            }
            for sec in block.secrets.iter().filter(|s| s.rotate_after.is_some() && s.common.once == Some(true)) {
                if phase != "onCreate" || sec.common.reconcile == Some(true) {
                    // `once` only holds in onCreate without `reconcile: true`; rotation needs it.
                    let d = Diagnostic::warning("no-effect", "`rotateAfter` has no effect here: this Secret is drift-corrected, not `once`")
                        .at(sec.common.span)
                        .crd(crd)
                        .help("a once Secret lives in `onCreate` without `reconcile: true`; move it there or drop `rotateAfter`");
                    c.diags.push(d);
                }
            }
            for (kind, common) in block.entries() {
                if common.for_each.is_some() {
                    continue;
                }
                let name = match (&common.name, kind) {
                    (Some(n), _) => n.value.clone(),
                    (None, ChildKind::Custom) => continue,
                    (None, k) => match k.default_name("{{ .metadata.name }}") {
                        Some(n) => n,
                        None => continue,
                    },
                };
                let ns = common.namespace.as_ref().map(|n| n.value.clone()).unwrap_or_default();
                let span = common.span;
                if let Some(first) = seen.insert((kind, name.clone(), ns), span) {
                    c.diags.push(
                        Diagnostic::error("duplicate-resource", format!("{} `{name}` is declared twice in this CRD (first at {first})", kind.list_key()))
                            .at(span)
                            .crd(crd)
                            .help("give each child a distinct name; declare an object once, with `reconcile: true` to keep it in sync"),
                    );
                }
            }
        }
        if let Some(r) = e.reconcile()
            && let Some(on_rec) = &r.on_reconcile
        {
            for s in &on_rec.secrets {
                if s.common.once == Some(true) {
                    c.diags.push(
                        Diagnostic::warning("once-ignored", "`once: true` is ignored under onReconcile")
                            .at(s.common.span)
                            .crd(crd)
                            .help("move the secret to onCreate to create it once"),
                    );
                }
            }
        }
        let mut used = c.used;
        if let Some(p) = e.reconcile().and_then(|r| r.profile.as_ref()) {
            used.insert(format!("{}/{p}", ProfileClass::Reconciler.yaml_key()));
        }
        self.profiles.insert(crd.to_string(), used.into_iter().collect());
    }

    fn check_admission(&mut self, crd: &str, e: &CrdEntry) {
        let Some(adm) = &e.admission else { return };
        if let Some(v) = &adm.validation {
            for r in &v.rules {
                shapes::rule_shape(r, crd, self.diags);
            }
        }
        if let Some(m) = &adm.mutation {
            for r in &m.rules {
                shapes::mutation_shape(r, crd, self.diags);
            }
        }
        if let Some(c) = &adm.conversion
            && !c.paths.is_empty()
            && c.update_crd != Some(true)
        {
            self.diags.push(
                Diagnostic::warning(
                    "conversion-ca-not-injected",
                    "conversion paths without `updateCRD: true`: the gateway will not inject its CA bundle into the CRD's conversion webhook, so the API server cannot call it",
                )
                .at(e.span)
                .crd(crd)
                .help("set admission.conversion.updateCRD: true (the gateway then keeps the CRD's clientConfig and caBundle current), or inject a CA bundle yourself"),
            );
        }
        if let Some(c) = &adm.conversion
            && c.participant != Some(true)
            && c.paths.len() == 1
        {
            self.diags.push(
                Diagnostic::warning("one-way-conversion", "a conversion with one path converts in one direction only")
                    .at(e.span)
                    .crd(crd)
                    .help("add the reverse path too"),
            );
        }
    }

    fn check_sentinels(&mut self, crd: &str, e: &CrdEntry) {
        const KNOWN: &[&str] = crate::observe::SENTINELS;
        let Some(pre) = e.operator_box.as_ref().and_then(|o| o.pre_reconcile.as_ref()) else { return };
        for s in &pre.sentinels {
            if !KNOWN.contains(&s.as_str()) {
                let help = match suggest(s, KNOWN.iter().copied()) {
                    Some(x) => format!("did you mean `{x}`?"),
                    None => format!("known sentinels: {}", KNOWN.join(", ")),
                };
                self.err(crd, "unknown-sentinel", s.span, format!("unknown sentinel `{s}`"), help);
            }
        }
        let declared: Vec<&str> = pre.sentinels.iter().map(|s| s.as_str()).collect();
        for gate in [&pre.enqueue_gate, &pre.reconcile_gate].into_iter().flatten() {
            for s in &gate.sentinels {
                if !declared.contains(&s.as_str()) {
                    self.err(
                        crd,
                        "undeclared-sentinel",
                        s.span,
                        format!("sentinel `{s}` is used but not declared"),
                        format!("add `{s}` to `operatorBox.preReconcile.sentinels`"),
                    );
                }
            }
            shapes::conditions(&gate.when, crd, self.diags);
            shapes::conditions(&gate.or, crd, self.diags);
        }
    }

    /// Entry ids (unique within the CRD), `dependsOn` naming known ids without a cycle, and the
    /// shape of `readyWhen`.
    fn check_entry_order(&mut self, crd: &str, e: &CrdEntry) {
        let mut ids: BTreeMap<String, Span> = BTreeMap::new();
        let mut edges: Vec<(String, &Str)> = Vec::new();
        for (phase, block) in e.lifecycle_blocks() {
            let blocks = std::iter::once(block).chain(block.groups.iter());
            for (kind, common) in blocks.flat_map(|b| b.entries()) {
                shapes::conditions(&common.ready_when, crd, self.diags);
                if phase == "onDelete" {
                    if let Some(id) = common.id.as_ref().or(common.depends_on.first()) {
                        self.err(
                            crd,
                            "order-in-on-delete",
                            id.span,
                            "`id` and `dependsOn` order creation: onDelete entries do not take them",
                            "order deletions with `onDelete.ordered` and `groups`",
                        );
                    }
                    continue;
                }
                if let Some(id) = &common.id {
                    if let Some(first) = ids.insert(id.value.clone(), id.span) {
                        self.err(
                            crd,
                            "duplicate-id",
                            id.span,
                            format!("entry id `{id}` is used twice in this CRD (first at {first})"),
                            "give each entry its own id",
                        );
                    }
                    for d in &common.depends_on {
                        edges.push((id.value.clone(), d));
                    }
                } else if let Some(d) = common.depends_on.first() {
                    edges.push((format!("{} entry", kind.list_key()), d));
                }
            }
        }
        for (from, d) in &edges {
            if !ids.contains_key(d.as_str()) {
                let known: Vec<&str> = ids.keys().map(String::as_str).collect();
                let help = suggest(d, known.iter().copied()).map_or_else(
                    || format!("known ids: {}", if known.is_empty() { "none: give the entry it waits for an `id`".to_string() } else { known.join(", ") }),
                    |s| format!("did you mean `{s}`?"),
                );
                self.err(crd, "unknown-entry-id", d.span, format!("`{from}` depends on unknown entry id `{d}`"), help);
            } else if d.as_str() == from {
                self.err(crd, "entry-dependency-cycle", d.span, format!("entry `{from}` depends on itself"), "remove it from dependsOn");
            }
        }
        // A cycle among ids: follow each id's dependencies; meeting the start again is a cycle.
        let graph: BTreeMap<&str, Vec<&str>> =
            ids.keys().map(|id| (id.as_str(), edges.iter().filter(|(f, _)| f == id).map(|(_, d)| d.as_str()).collect())).collect();
        for (start, span) in &ids {
            let mut stack: Vec<&str> = graph.get(start.as_str()).cloned().unwrap_or_default();
            let mut seen: BTreeSet<&str> = BTreeSet::new();
            while let Some(n) = stack.pop() {
                if n == start.as_str() {
                    self.err(
                        crd,
                        "entry-dependency-cycle",
                        *span,
                        format!("entry `{start}` depends on itself through dependsOn"),
                        "remove one of the dependencies so the entries can be created in order",
                    );
                    break;
                }
                if seen.insert(n) {
                    stack.extend(graph.get(n).cloned().unwrap_or_default());
                }
            }
        }
    }

    /// Cross reads (`crd` known, `as` unique), watches (their kind resolvable, so the derived
    /// RBAC can name it) and event watches.
    fn check_cross(&mut self, crd: &str, e: &CrdEntry) {
        let Some(obs) = e.operator_box.as_ref().and_then(|o| o.observe.as_ref()) else { return };
        let names: Vec<&str> = self.katalog.crds().keys().map(|k| k.as_str()).collect();
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        for c in &obs.cross {
            let name = crate::observe::cross_name(c);
            if !name.is_empty()
                && let Some(first) = seen.insert(name.clone(), c.span)
            {
                self.err(crd, "duplicate-cross", c.span, format!("two cross reads are named `{name}` (first at {first})"), "give one of them another `as:`");
            }
            if let Some(s) = &c.strategy
                && s.value == crate::model::crd::CrossStrategy::All
            {
                self.diags.push(
                    Diagnostic::warning("not-supported-yet", "cross strategy `all` is not executed by ork: the first match is read")
                        .at(s.span)
                        .crd(crd)
                        .help("use `strategy: first`, or a `selector` that matches one object"),
                );
            }
            if let Some(sel) = &c.selector
                && sel.name.is_some()
                && !sel.match_labels.is_empty()
            {
                self.err(crd, "cross-selector-both", c.span, "a cross selector takes `name` or `matchLabels`, not both", "remove one");
            }
        }
        for w in &obs.watch {
            if let Err(detail) = crate::observe::watch_resource(self.katalog, w) {
                self.err(
                    crd,
                    "unknown-watch-kind",
                    w.span,
                    format!("observe.watch: {detail}"),
                    "give a literal apiVersion and kind of a built-in kind or a CRD of this Katalog, or add `plural:`",
                );
            }
        }
        // A read with `source` names a CRD of another Katalog (cross-binary): not this one's.
        for c in obs.cross.iter().filter(|c| c.source.is_none()) {
            match (&c.crd, c.label_selector.is_empty()) {
                (Some(_), false) => self.err(crd, "cross-both", c.span, "a cross read takes `crd` or `labelSelector`, not both", "remove one"),
                (None, true) => self.err(crd, "cross-none", c.span, "a cross read needs `crd` or `labelSelector`", "add `crd: <entry>`"),
                (Some(target), true) if !names.contains(&target.as_str()) => {
                    let help =
                        suggest(target, names.iter().copied()).map_or_else(|| format!("known CRDs: {}", names.join(", ")), |s| format!("did you mean `{s}`?"));
                    self.err(crd, "unknown-crd", target.span, format!("cross read of unknown CRD `{target}`"), help);
                }
                _ => {}
            }
        }
    }

    fn check_dependencies(&mut self) {
        let crds = self.katalog.crds();
        let names: Vec<&str> = crds.keys().map(|k| k.as_str()).collect();
        for (name, e) in crds.iter() {
            for d in &e.depends_on {
                if d.name.as_str() == name.as_str() {
                    self.err(name, "dependency-cycle", d.name.span, format!("`{name}` depends on itself"), "remove it from dependsOn");
                } else if !names.contains(&d.name.as_str()) {
                    let help =
                        suggest(&d.name, names.iter().copied()).map_or_else(|| format!("known CRDs: {}", names.join(", ")), |s| format!("did you mean `{s}`?"));
                    self.err(name, "unknown-dependency", d.name.span, format!("dependsOn names unknown CRD `{}`", d.name), help);
                }
            }
        }
        if let Err(cycle) = self.topo() {
            let (first_name, span) = &cycle[0];
            let path: Vec<&str> = cycle.iter().map(|(n, _)| n.as_str()).chain(std::iter::once(first_name.as_str())).collect();
            self.err(
                first_name,
                "dependency-cycle",
                *span,
                format!("dependsOn cycle: {}", path.join(" -> ")),
                "remove one of the dependencies so the CRDs can start in order",
            );
        }
    }

    /// Topological order (dependencies first, ties by name), or the cycle found.
    fn topo(&self) -> Result<Vec<String>, Vec<(String, Span)>> {
        let crds = self.katalog.crds();
        let deps: BTreeMap<&str, Vec<(&str, Span)>> = crds
            .iter()
            .map(|(n, e)| {
                let ds = e
                    .depends_on
                    .iter()
                    .filter(|d| crds.get(&d.name).is_some() && d.name.as_str() != n.as_str())
                    .map(|d| (d.name.as_str(), d.name.span))
                    .collect();
                (n.as_str(), ds)
            })
            .collect();
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Visiting,
            Done,
        }
        fn visit<'a>(
            n: &'a str,
            deps: &BTreeMap<&'a str, Vec<(&'a str, Span)>>,
            marks: &mut BTreeMap<&'a str, Mark>,
            stack: &mut Vec<(&'a str, Span)>,
            order: &mut Vec<String>,
        ) -> Result<(), Vec<(String, Span)>> {
            match marks.get(n) {
                Some(Mark::Done) => return Ok(()),
                Some(Mark::Visiting) => {
                    let start = stack.iter().position(|(s, _)| *s == n).unwrap_or(0);
                    return Err(stack[start..].iter().map(|(s, sp)| (s.to_string(), *sp)).collect());
                }
                None => {}
            }
            marks.insert(n, Mark::Visiting);
            for (d, span) in deps.get(n).map(Vec::as_slice).unwrap_or(&[]) {
                stack.push((n, *span));
                visit(d, deps, marks, stack, order)?;
                stack.pop();
            }
            marks.insert(n, Mark::Done);
            order.push(n.to_string());
            Ok(())
        }
        let mut marks = BTreeMap::new();
        let mut order = Vec::new();
        for n in deps.keys() {
            visit(n, &deps, &mut marks, &mut Vec::new(), &mut order)?;
        }
        Ok(order)
    }

    fn startup_order(&self) -> Vec<String> {
        self.topo().unwrap_or_default()
    }
}
