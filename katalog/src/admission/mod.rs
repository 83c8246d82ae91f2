//! Admission verdicts: what the gateway's webhooks answer, computed without a cluster.
//!
//! One [`Gate`] per Katalog answers every webhook the gateway serves — validation and mutation
//! rules, namespace protection, deletion protection and version conversion — from a decoded
//! [`Request`]. The gateway's HTTPS handlers, `ork gate` (offline) and the workbench call these
//! same functions, so the verdict a user previews is the verdict the API server gets.
//!
//! [`review`] decodes and encodes the wire format (AdmissionReview and ConversionReview, v1).

mod convert;
pub mod review;

pub use convert::ConvertError;

use crate::install;
use crate::kinds::{ApiIdentity, api_identity};
use crate::model::crd::CrdEntry;
use crate::namespaces::{namespace_rules, pattern_matches};
use crate::redact::Redactor;
use crate::rules::{Evaluator, PatchOp, Phase, Violation, apply_patch};
use crate::template::Rng;
use crate::valid::Valid;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The label that asks the gateway to refuse deleting an object.
pub const DELETION_PROTECTION_LABEL: &str = "orkestra.io/deletion-protection";

/// A webhook the gateway serves: its HTTPS path and the name it is registered under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Webhook {
    /// `/mutate`: mutation rules as a JSONPatch.
    Mutate,
    /// `/namespace-protection`: the allowed/restricted namespace rules.
    NamespaceProtection,
    /// `/validate`: validation rules (deny and warn).
    Validate,
    /// `/deletion-protection`: DELETE of protected objects and CRDs.
    DeletionProtection,
    /// `/convert`: CRD version conversion.
    Convert,
}

impl Webhook {
    /// Every webhook, in the order the API server calls them (mutating first).
    pub const ALL: [Webhook; 5] = [Webhook::Mutate, Webhook::NamespaceProtection, Webhook::Validate, Webhook::DeletionProtection, Webhook::Convert];

    /// The HTTPS path it is served at.
    pub fn path(self) -> &'static str {
        match self {
            Webhook::Mutate => "/mutate",
            Webhook::NamespaceProtection => "/namespace-protection",
            Webhook::Validate => "/validate",
            Webhook::DeletionProtection => "/deletion-protection",
            Webhook::Convert => "/convert",
        }
    }

    /// A short name for metrics and reports (`validate`, `namespace-protection`, …).
    pub fn label(self) -> &'static str {
        &self.path()[1..]
    }

    /// The webhook of a path.
    pub fn from_path(path: &str) -> Option<Webhook> {
        Webhook::ALL.into_iter().find(|w| w.path() == path)
    }
}

/// An admission operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
#[allow(missing_docs)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    /// As the API server spells it (`CREATE`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }

    /// Parses `CREATE`, `UPDATE`, `DELETE`, `CONNECT` (any case).
    pub fn parse(s: &str) -> Option<Operation> {
        match s.to_ascii_uppercase().as_str() {
            "CREATE" => Some(Operation::Create),
            "UPDATE" => Some(Operation::Update),
            "DELETE" => Some(Operation::Delete),
            "CONNECT" => Some(Operation::Connect),
            _ => None,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who makes a request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    /// User name (`system:serviceaccount:ns:name`, `alice`, …).
    pub username: String,
    /// Groups.
    pub groups: Vec<String>,
}

/// One admission request, decoded ([`review::decode_admission`]) or built by `ork gate`.
/// Its `Debug` leaves the objects out: they may hold secret values.
#[derive(Clone, Default)]
pub struct Request {
    /// The review's uid, echoed in the response.
    pub uid: String,
    /// The `apiVersion` of the review (echoed).
    pub review_api_version: String,
    /// API group of the resource (empty for core).
    pub group: String,
    /// Version of the resource.
    pub version: String,
    /// Kind of the object.
    pub kind: String,
    /// Plural resource name.
    pub resource: String,
    /// `status`, `scale`, … or empty.
    pub sub_resource: String,
    /// What is done.
    pub operation: Option<Operation>,
    /// Namespace of the object (empty when cluster-scoped).
    pub namespace: String,
    /// Name of the object (may be empty on create with generateName).
    pub name: String,
    /// The object after the request (create, update).
    pub object: Option<Value>,
    /// The object before it (update, delete).
    pub old_object: Option<Value>,
    /// Who asks.
    pub user: UserInfo,
    /// A dry run.
    pub dry_run: bool,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("uid", &self.uid)
            .field("resource", &format!("{}/{}/{}", self.group, self.version, self.resource))
            .field("operation", &self.operation)
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("object", &self.object.as_ref().map(|_| "…"))
            .field("old_object", &self.old_object.as_ref().map(|_| "…"))
            .field("user", &self.user.username)
            .finish()
    }
}

impl Request {
    /// The operation, CREATE when unknown.
    pub fn op(&self) -> Operation {
        self.operation.unwrap_or(Operation::Create)
    }

    /// The object the request is about: the new one, else the old one (delete).
    pub fn subject(&self) -> Option<&Value> {
        self.object.as_ref().or(self.old_object.as_ref())
    }

    /// The name to show: the request's, else the object's, else its generateName.
    fn display_name(&self) -> String {
        if !self.name.is_empty() {
            return self.name.clone();
        }
        let meta = self.subject().and_then(|o| o.get("metadata"));
        let get = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str).map(str::to_string);
        get("name").or_else(|| get("generateName").map(|g| format!("{g}*"))).unwrap_or_default()
    }

    /// The namespace: the request's, else the object's.
    fn ns(&self) -> String {
        if !self.namespace.is_empty() {
            return self.namespace.clone();
        }
        self.subject().and_then(|o| o.pointer("/metadata/namespace")).and_then(Value::as_str).unwrap_or_default().to_string()
    }

    /// `[Kind "name"]`, the prefix of every message about the object.
    fn tag(&self) -> String {
        format!("[{} {:?}]", self.kind, self.display_name())
    }

    /// What templates see besides the object: `.request`.
    fn request_data(&self) -> Value {
        json!({
            "operation": self.op().as_str(),
            "namespace": self.ns(),
            "name": self.display_name(),
            "userInfo": {"username": self.user.username, "groups": self.user.groups},
            "oldObject": self.old_object,
            "dryRun": self.dry_run,
        })
    }
}

/// The answer of one webhook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Admitted.
    pub allowed: bool,
    /// HTTP code of a refusal (403), 200 when allowed.
    pub code: u16,
    /// `Forbidden`, `InternalError`, … or empty when allowed.
    pub reason: &'static str,
    /// What kubectl prints after `denied the request: `; empty when allowed.
    pub message: String,
    /// The deny rules that did not hold (validation).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub denials: Vec<Violation>,
    /// Warnings (kubectl prints each as `Warning: …`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The JSONPatch of mutation rules.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub patch: Vec<PatchOp>,
}

impl Verdict {
    /// How the verdict is counted in metrics: `denied`, `mutated`, `warned` or `allowed`.
    pub fn outcome(&self) -> &'static str {
        if !self.allowed {
            "denied"
        } else if !self.patch.is_empty() {
            "mutated"
        } else if !self.warnings.is_empty() {
            "warned"
        } else {
            "allowed"
        }
    }

    /// Allowed, nothing to say.
    pub fn allow() -> Verdict {
        Verdict { allowed: true, code: 200, reason: "", message: String::new(), denials: Vec::new(), warnings: Vec::new(), patch: Vec::new() }
    }

    /// Refused with 403 Forbidden.
    pub fn deny(message: String) -> Verdict {
        Verdict { allowed: false, code: 403, reason: "Forbidden", message, ..Verdict::allow() }
    }

    /// Refused because the request cannot be judged (a rule failed to evaluate): 500.
    pub fn internal(message: String) -> Verdict {
        Verdict { allowed: false, code: 500, reason: "InternalError", message, ..Verdict::allow() }
    }
}

/// The CRD entry a request is about.
#[derive(Debug, Clone)]
struct Target {
    crd: String,
    id: ApiIdentity,
}

/// Every document of a CR file through [`Gate::review`], in order, as a client asks for it:
/// what `ork gate --cr FILE` and the workbench's Preview show (one implementation of "what would
/// the gateway say about this file"). A document that cannot be a request gives its
/// [`InputError`].
pub fn review_documents(valid: Arc<Valid>, docs: &[Value], ask: &Ask<'_>) -> Vec<Result<GateReport, InputError>> {
    let gate = Gate::new(valid);
    docs.iter()
        .enumerate()
        .map(|(i, doc)| {
            let req = gate.request_for(i + 1, doc, ask.op, ask.old, ask.namespace, ask.user.clone())?;
            Ok(gate.review(&req, ask.install_namespace, ask.now, Rng::Seeded(ask.seed)))
        })
        .collect()
}

/// How a client asks for the review of a CR file's documents ([`review_documents`]).
#[derive(Debug, Clone)]
pub struct Ask<'a> {
    /// The operation (CREATE, UPDATE with `old`, DELETE).
    pub op: Operation,
    /// The object before an UPDATE.
    pub old: Option<&'a Value>,
    /// The request's namespace (default: the object's, else `default`).
    pub namespace: Option<&'a str>,
    /// Who asks.
    pub user: UserInfo,
    /// The gateway's install namespace.
    pub install_namespace: &'a str,
    /// The time templates see (Unix seconds).
    pub now: i64,
    /// The seed of template randomness.
    pub seed: u64,
}

/// The webhooks of one Katalog. Built once; every method is a pure function of the request (and,
/// for templates, the clock and randomness the caller passes).
#[derive(Debug, Clone)]
pub struct Gate {
    valid: Arc<Valid>,
    /// `(group, plural)` → target, for every enabled CRD entry.
    targets: BTreeMap<(String, String), Target>,
}

/// One webhook of a [`GateReport`] and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The webhook.
    pub webhook: Webhook,
    /// Its answer.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// What `ork gate` shows: the webhooks the request would meet, in the API server's order, and the
/// object as it would be stored.
#[derive(Debug, Clone, Serialize)]
pub struct GateReport {
    /// `CREATE`, `UPDATE`, `DELETE`.
    pub operation: Operation,
    /// Kind of the object.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its namespace (empty when cluster-scoped).
    pub namespace: String,
    /// Admitted by every webhook.
    pub allowed: bool,
    /// Each webhook that applies, with its verdict.
    pub steps: Vec<Step>,
    /// The object after mutation (what the API server would store); none for delete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<Value>,
}

impl GateReport {
    /// Every warning, in order.
    pub fn warnings(&self) -> impl Iterator<Item = &String> {
        self.steps.iter().flat_map(|s| &s.verdict.warnings)
    }

    /// The webhooks that refused, in order.
    pub fn refusals(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| !s.verdict.allowed)
    }

    /// The mutation patch, if any.
    pub fn patch(&self) -> &[PatchOp] {
        self.steps.iter().find(|s| s.webhook == Webhook::Mutate).map(|s| s.verdict.patch.as_slice()).unwrap_or_default()
    }
}

/// Why `ork gate` cannot build a request from a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Not an object with apiVersion, kind and metadata.name (or generateName).
    #[error("document {document}: {what}")]
    Shape {
        /// 1-based document number.
        document: usize,
        /// What is missing.
        what: String,
    },
    /// Neither the Katalog nor Kubernetes serves the kind.
    #[error("document {document}: {kind} ({api_version}) is served neither by the Katalog's CRD entries ({known}) nor by Kubernetes")]
    UnknownKind {
        /// 1-based document number.
        document: usize,
        /// The kind.
        kind: String,
        /// Its apiVersion.
        api_version: String,
        /// The Katalog's kinds.
        known: String,
    },
}

impl Gate {
    /// The gate of a valid Katalog.
    pub fn new(valid: Arc<Valid>) -> Gate {
        let mut targets = BTreeMap::new();
        for (name, entry) in valid.katalog.crds().iter() {
            if entry.enabled == Some(false) {
                continue;
            }
            if let Some(id) = api_identity(entry).filter(|id| !id.plural.is_empty()) {
                targets.insert((id.group.clone(), id.plural.clone()), Target { crd: name.value.clone(), id });
            }
        }
        Gate { valid, targets }
    }

    /// The Katalog.
    pub fn valid(&self) -> &Valid {
        &self.valid
    }

    fn entry(&self, t: &Target) -> Option<&CrdEntry> {
        self.valid.katalog.crds().get(t.crd.as_str())
    }

    fn target(&self, req: &Request) -> Option<&Target> {
        self.targets.get(&(req.group.clone(), req.resource.clone()))
    }

    /// The CRD entry name and identity serving `group`/`plural`, if the Katalog declares one.
    pub fn crd_of(&self, group: &str, plural: &str) -> Option<(&str, &ApiIdentity)> {
        self.targets.get(&(group.to_string(), plural.to_string())).map(|t| (t.crd.as_str(), &t.id))
    }

    /// The CRD entry serving `group` and `kind`.
    fn crd_of_kind(&self, group: &str, kind: &str) -> Option<&Target> {
        self.targets.values().find(|t| t.id.group == group && t.id.kind == kind)
    }

    /// Whether validation of the CRD at `group`/`plural` compares a CR with the others of its
    /// kind (a `unique` rule): the caller then passes them to [`Gate::validate`].
    pub fn needs_others(&self, group: &str, plural: &str) -> bool {
        self.targets
            .get(&(group.to_string(), plural.to_string()))
            .and_then(|t| self.entry(t))
            .and_then(|e| e.admission.as_ref())
            .and_then(|a| a.validation.as_ref())
            .is_some_and(|v| v.rules.iter().any(|r| r.cmp.operator.as_ref().is_some_and(|o| o.value == crate::model::condition::Operator::Unique)))
    }

    /// `/validate`: every validation rule of the CRD, all violations reported together. Deny
    /// rules refuse (403, each message), warn rules admit with a warning each. Rules may read
    /// `.request` (operation, userInfo, oldObject, namespace, name). `others` are the other CRs of
    /// the kind, for `unique` rules. A rule that cannot be evaluated refuses (500): the Katalog is
    /// broken for this object, and the runtime would refuse it too.
    pub fn validate(&self, req: &Request, others: &[Value], now: i64, rng: Rng) -> Verdict {
        let Some(t) = self.target(req) else { return Verdict::allow() };
        let Some(entry) = self.entry(t) else { return Verdict::allow() };
        let rules = entry.admission.as_ref().and_then(|a| a.validation.as_ref()).map(|v| v.rules.as_slice()).unwrap_or_default();
        let Some(object) = req.object.as_ref().filter(|_| !rules.is_empty() && req.op() != Operation::Delete) else {
            return Verdict::allow();
        };
        let data = with_request(object, req);
        let mut ev = Evaluator::new(&self.valid.templates, now, rng);
        let sensitivity = self.valid.templates.sensitivity(&t.crd);
        let guard = Redactor::for_cr(sensitivity, object, &[]);
        let mut violations = match ev.validate(rules, &data, others, Phase::Admission) {
            Ok(v) => v,
            Err(e) => {
                return Verdict::internal(format!(
                    "{} the validation rules of CRD entry `{}` cannot be evaluated: {}",
                    req.tag(),
                    t.crd,
                    guard.scrub(&e.to_string())
                ));
            }
        };
        for v in &mut violations {
            v.redact(sensitivity);
            v.message = guard.scrub(&v.message);
            v.value = guard.scrub(&v.value);
        }
        let tag = req.tag();
        let (denials, warns): (Vec<Violation>, Vec<Violation>) = violations.into_iter().partition(Violation::is_deny);
        let warnings = warns.iter().map(|w| format!("{tag} {}", w.message)).collect();
        if denials.is_empty() {
            return Verdict { warnings, ..Verdict::allow() };
        }
        let lines: Vec<String> = denials.iter().map(|d| format!("{} {}", d.message, d.got())).collect();
        let message = format!("{tag} {}", lines.join("; "));
        Verdict { warnings, denials, ..Verdict::deny(message) }
    }

    /// `/mutate`: the CRD's mutation rules as a JSONPatch (`default` only fills an empty field,
    /// `override` always sets it; applying the patch and mutating again yields no patch). A rule
    /// that cannot be evaluated admits the object unchanged with a warning, as the reconciler
    /// will report it.
    pub fn mutate(&self, req: &Request, now: i64, rng: Rng) -> Verdict {
        let Some(t) = self.target(req) else { return Verdict::allow() };
        let Some(entry) = self.entry(t) else { return Verdict::allow() };
        let rules = entry.admission.as_ref().and_then(|a| a.mutation.as_ref()).map(|m| m.rules.as_slice()).unwrap_or_default();
        let Some(object) = req.object.as_ref().filter(|_| !rules.is_empty() && req.op() != Operation::Delete) else {
            return Verdict::allow();
        };
        let data = with_request(object, req);
        let mut ev = Evaluator::new(&self.valid.templates, now, rng);
        match ev.mutate(rules, &data) {
            Ok(ops) => {
                // The patch must apply to the object as sent: `.request` is ours, not the object's.
                if ops.iter().any(|o| o.path == "/request" || o.path.starts_with("/request/")) {
                    return Verdict {
                        warnings: vec![format!(
                            "{} mutation rules of CRD entry `{}` write under .request, which is not part of the object: not applied",
                            req.tag(),
                            t.crd
                        )],
                        ..Verdict::allow()
                    };
                }
                Verdict { patch: ops, ..Verdict::allow() }
            }
            Err(e) => {
                let guard = Redactor::for_cr(self.valid.templates.sensitivity(&t.crd), object, &[]);
                Verdict {
                    warnings: vec![format!("{} mutation rules of CRD entry `{}` not applied: {}", req.tag(), t.crd, guard.scrub(&e.to_string()))],
                    ..Verdict::allow()
                }
            }
        }
    }

    /// `/namespace-protection`: a CR of a Katalog kind may be created or updated only in a
    /// namespace its rules allow (a restricted pattern always wins; a non-empty allow-list must
    /// match). Cluster-scoped objects and other kinds are always admitted.
    pub fn namespace_protection(&self, req: &Request) -> Verdict {
        let Some(t) = self.target(req) else { return Verdict::allow() };
        let Some(entry) = self.entry(t) else { return Verdict::allow() };
        if !matches!(req.op(), Operation::Create | Operation::Update) {
            return Verdict::allow();
        }
        let ns = req.ns();
        if ns.is_empty() {
            return Verdict::allow();
        }
        let (allowed, restricted) = namespace_rules(&self.valid.katalog, entry);
        if restricted.iter().any(|p| pattern_matches(p, &ns)) {
            return Verdict::deny(format!("{} namespace {ns:?} is restricted", req.tag()));
        }
        if !allowed.is_empty() && !allowed.iter().any(|p| pattern_matches(p, &ns)) {
            let list: Vec<&str> = allowed.iter().map(|p| p.as_str()).collect();
            return Verdict::deny(format!("{} namespace {ns:?} is not in the allowed list: [{}]", req.tag(), list.join(" ")));
        }
        Verdict::allow()
    }

    /// Whether the Katalog turns deletion protection on (`security.deletionProtection`, on by
    /// default once the block is there).
    pub fn deletion_protection_enabled(&self) -> bool {
        crate::protection::deletion_protection(&self.valid.katalog).is_some()
    }

    /// The CustomResourceDefinition names (`plural.group`) deletion protection keeps: the
    /// Katalog's own CRDs whose entry does not set `protectCRD: false`.
    pub fn protected_crds(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .targets
            .values()
            .filter(|t| !t.id.group.is_empty() && crate::kinds::builtin_by_kind(&t.id.kind).is_none_or(|b| b.group != t.id.group))
            .filter(|t| self.entry(t).is_some_and(|e| crate::protection::protects_crd(&self.valid.katalog, e)))
            .map(|t| format!("{}.{}", t.id.plural, t.id.group))
            .collect();
        out.sort();
        out
    }

    /// Whether the CRs of the CRD at `group`/`plural` are protected when labelled (the entry
    /// does not set `protectCRs: false`).
    pub fn protects_crs(&self, group: &str, plural: &str) -> bool {
        match self.targets.get(&(group.to_string(), plural.to_string())).and_then(|t| self.entry(t)) {
            Some(e) => crate::protection::protects_crs(&self.valid.katalog, e),
            // A kind the Katalog does not serve: covered whenever protection is on.
            None => self.deletion_protection_enabled(),
        }
    }

    /// `/deletion-protection`: refuses DELETE of one of the Katalog's protected CRDs, of ork's
    /// own deletion-protection webhook configuration, and of any object labelled
    /// `orkestra.io/deletion-protection: "true"` (unless its CRD entry sets `protectCRs: false`).
    /// Every refusal says how to lift it.
    pub fn deletion_protection(&self, req: &Request, install_namespace: &str) -> Verdict {
        if req.op() != Operation::Delete || !self.deletion_protection_enabled() {
            return Verdict::allow();
        }
        let name = req.display_name();
        let katalog = self.valid.katalog.metadata.as_ref().and_then(|m| m.name.as_ref()).map_or("", |n| n.as_str());
        if req.group == "apiextensions.k8s.io" && req.resource == "customresourcedefinitions" {
            if self.protected_crds().contains(&name) {
                let crd = self.targets.values().find(|t| format!("{}.{}", t.id.plural, t.id.group) == name).map_or("<entry>", |t| t.crd.as_str());
                return Verdict::deny(format!(
                    "[CustomResourceDefinition {name:?}] is protected from deletion by Katalog {katalog:?}: to delete it, set \
                     spec.crds.{crd}.operatorBox.runtime.deletionProtection.protectCRD: false (or security.deletionProtection.enabled: false), \
                     redeploy the gateway, then delete it again"
                ));
            }
            return Verdict::allow();
        }
        if req.group == "admissionregistration.k8s.io"
            && req.resource == "validatingwebhookconfigurations"
            && name == install::WebhookConfig::DeletionProtection.name(install_namespace)
        {
            return Verdict::deny(format!(
                "[ValidatingWebhookConfiguration {name:?}] the deletion-protection webhook protects itself: set \
                 security.deletionProtection.enabled: false in Katalog {katalog:?} and redeploy the gateway, which then removes it"
            ));
        }
        let labelled =
            req.subject().and_then(|o| o.pointer("/metadata/labels")).and_then(|l| l.get(DELETION_PROTECTION_LABEL)).and_then(Value::as_str) == Some("true");
        if !labelled || (self.targets.contains_key(&(req.group.clone(), req.resource.clone())) && !self.protects_crs(&req.group, &req.resource)) {
            return Verdict::allow();
        }
        let ns = req.ns();
        let ns_flag = if ns.is_empty() { String::new() } else { format!(" -n {ns}") };
        let resource = if req.group.is_empty() { req.resource.clone() } else { format!("{}.{}", req.resource, req.group) };
        Verdict::deny(format!(
            "{} is protected from deletion (label {DELETION_PROTECTION_LABEL}=true): to delete it, first remove the label with \
             `kubectl label {resource} {name}{ns_flag} {DELETION_PROTECTION_LABEL}-`",
            req.tag()
        ))
    }

    /// `/convert`: converts `objects` to `desired_api_version` along the Katalog's conversion
    /// paths. Stops at the first object that cannot be converted.
    pub fn convert(&self, objects: &[Value], desired_api_version: &str, now: i64, rng: Rng) -> Result<Vec<Value>, ConvertError> {
        objects.iter().map(|o| convert::one(self, o, desired_api_version, now, rng.clone())).collect()
    }

    /// The verdict of one admission webhook (every one but `/convert`, which answers a
    /// ConversionReview: [`Gate::convert`]). `others` matter only to `/validate` (`unique`).
    pub fn answer(&self, webhook: Webhook, req: &Request, others: &[Value], install_namespace: &str, now: i64, rng: Rng) -> Verdict {
        match webhook {
            Webhook::Mutate => self.mutate(req, now, rng),
            Webhook::NamespaceProtection => self.namespace_protection(req),
            Webhook::Validate => self.validate(req, others, now, rng),
            Webhook::DeletionProtection => self.deletion_protection(req, install_namespace),
            Webhook::Convert => Verdict::internal(format!("{} /convert answers ConversionReviews, not AdmissionReviews", req.tag())),
        }
    }

    /// The admission request the API server would send for `object` (document `document` of a
    /// file, 1-based): its resource from the Katalog (or Kubernetes' built-in kinds), the
    /// namespace from `namespace`, else the object's, else `default` for a namespaced kind.
    /// For DELETE the object is the old object.
    pub fn request_for(
        &self,
        document: usize,
        object: &Value,
        op: Operation,
        old: Option<&Value>,
        namespace: Option<&str>,
        user: UserInfo,
    ) -> Result<Request, InputError> {
        let shape = |what: &str| InputError::Shape { document, what: what.to_string() };
        if !object.is_object() {
            return Err(shape("not a YAML mapping"));
        }
        let api_version = object.get("apiVersion").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(|| shape("apiVersion is missing"))?;
        let kind = object.get("kind").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(|| shape("kind is missing"))?;
        let meta = object.get("metadata");
        let name = meta.and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or_default();
        if name.is_empty() && meta.and_then(|m| m.get("generateName")).and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(shape("metadata.name is missing"));
        }
        let (group, version) = crate::kinds::split_api_version(api_version);
        let (plural, namespaced) = match self.crd_of_kind(group, kind) {
            Some(t) => (t.id.plural.clone(), t.id.namespaced),
            None => match crate::kinds::known(group, kind) {
                Some(r) => (r.plural, r.namespaced),
                None => {
                    let known: Vec<String> = self.targets.values().map(|t| format!("{} ({})", t.id.kind, t.id.resource().api_version())).collect();
                    return Err(InputError::UnknownKind { document, kind: kind.into(), api_version: api_version.into(), known: known.join(", ") });
                }
            },
        };
        let ns = match namespace.filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None => meta.and_then(|m| m.get("namespace")).and_then(Value::as_str).map(str::to_string).unwrap_or_default(),
        };
        let ns = if namespaced && ns.is_empty() {
            "default".to_string()
        } else if namespaced {
            ns
        } else {
            String::new()
        };
        let mut object = object.clone();
        if namespaced && let Some(m) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("namespace".into(), Value::String(ns.clone()));
        }
        let delete = op == Operation::Delete;
        Ok(Request {
            uid: format!("ork-gate-{document}"),
            review_api_version: "admission.k8s.io/v1".into(),
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            resource: plural,
            operation: Some(op),
            namespace: ns,
            name: name.into(),
            old_object: if delete { Some(object.clone()) } else { old.cloned() },
            object: (!delete).then_some(object),
            user,
            ..Request::default()
        })
    }

    /// The whole admission chain a request meets, in the API server's order: mutation, then the
    /// validating webhooks (namespace protection, validation rules, deletion protection) on the
    /// mutated object. What `ork gate` prints; the gateway answers each webhook separately.
    pub fn review(&self, req: &Request, install_namespace: &str, now: i64, rng: Rng) -> GateReport {
        let mut steps = Vec::new();
        let mut req = req.clone();
        let applies = self.target(&req).is_some();
        if applies && req.op() != Operation::Delete {
            let m = self.mutate(&req, now, rng.clone());
            if let Some(obj) = req.object.as_mut() {
                // The patch was computed on this object: it applies.
                let _ = apply_patch(obj, &m.patch);
            }
            steps.push(Step { webhook: Webhook::Mutate, verdict: m });
            steps.push(Step { webhook: Webhook::NamespaceProtection, verdict: self.namespace_protection(&req) });
            steps.push(Step { webhook: Webhook::Validate, verdict: self.validate(&req, &[], now, rng) });
        }
        if req.op() == Operation::Delete {
            steps.push(Step { webhook: Webhook::DeletionProtection, verdict: self.deletion_protection(&req, install_namespace) });
        }
        let allowed = steps.iter().all(|s| s.verdict.allowed);
        GateReport { operation: req.op(), kind: req.kind.clone(), name: req.display_name(), namespace: req.ns(), allowed, steps, object: req.object }
    }
}

/// The object with `.request` added for the rules (an object never has a top-level `request`).
fn with_request(object: &Value, req: &Request) -> Value {
    let mut data = object.clone();
    if let Some(m) = data.as_object_mut() {
        m.insert("request".into(), req.request_data());
    }
    data
}

#[cfg(test)]
mod tests;
