//! `kind: E2E` (cli-and-workflows.md §6): what `ork e2e` sets up on a cluster and what it then
//! expects to observe there.
//!
//! The format is upstream's. Parts that need machinery ork does not have (a kind cluster, Helm,
//! pods that run, note functions) are parsed and then rejected with an `unsupported` error: a test
//! that silently skipped its Helm setup or its log check would pass for the wrong reason.

// Field names are the document's keys (camelCase in YAML), documented in docs/ and by the
// decoder's errors; a field has a doc comment only where its name does not say it all.
#![allow(missing_docs)]

use crate::decode::{Cx, Decode, Spanned, Str};
use crate::diag::Span;
use crate::string_enum;
use crate::yaml::{Node, Value};
use katalog_derive::Decode;

string_enum! {
    /// When an expectation is checked.
    pub enum After {
        SetupComplete = ["setup-complete"], CrApplied = ["cr-applied"], CrDeleted = ["cr-deleted"],
    }
}

string_enum! {
    /// The patch type of a `kubectl.patch` step.
    pub enum PatchType { Merge = ["merge"], Strategic = ["strategic"], Json = ["json"] }
}

string_enum! {
    /// The output format of a `kubectl.get` step without `field`.
    pub enum GetFormat { Json = ["json"], Yaml = ["yaml"], Name = ["name"] }
}

/// `metadata` of an E2E document.
#[derive(Debug, Clone, Default, Decode)]
pub struct E2eMetadata {
    /// Name (required).
    #[decode(required)]
    pub name: Option<Str>,
    /// Free text.
    pub description: Option<Str>,
}

/// The assertions on a command's output (stdout and stderr, trimmed), §6.2. Every one given
/// must hold.
#[derive(Debug, Clone, Default, Decode)]
pub struct Assertions {
    /// The output is exactly this.
    pub equals: Option<Str>,
    /// The output is not this.
    pub not_equals: Option<Str>,
    pub output_contains: Option<Str>,
    /// The output does not contain this.
    pub output_not_contains: Option<Str>,
    /// The output matches this regular expression (RE2 syntax).
    pub regex: Option<Str>,
    /// Numeric output greater than.
    pub greater_than: Option<Str>,
    /// Numeric output less than.
    pub less_than: Option<Str>,
    /// Numeric output at least.
    pub greater_than_or_equal: Option<Str>,
    /// Numeric output at most.
    pub less_than_or_equal: Option<Str>,
    /// `"min,max"`, inclusive.
    pub between: Option<Str>,
    /// Outside `"min,max"`.
    pub not_between: Option<Str>,
    /// `true`: the output is not empty.
    pub exists: Option<bool>,
    /// `true`: the output is empty.
    pub not_exists: Option<bool>,
    /// The output is one of these.
    pub one_of: Vec<Str>,
    /// The output is none of these.
    pub not_one_of: Vec<Str>,
    /// Filters the output through jq first (not available).
    #[decode(rejected = "jq filters are not run by ork e2e; use `field` (a JSONPath) on `kubectl.get`, or pipe through jq in a `commands:` entry")]
    pub jq: Option<Node>,
    /// Filters the output through yq first (not available).
    #[decode(rejected = "yq filters are not run by ork e2e; use `field` (a JSONPath) on `kubectl.get`")]
    pub yq: Option<Node>,
}

impl Assertions {
    /// Whether any assertion is given.
    pub fn any(&self) -> bool {
        let texts = [
            &self.equals,
            &self.not_equals,
            &self.output_contains,
            &self.output_not_contains,
            &self.regex,
            &self.greater_than,
            &self.less_than,
            &self.greater_than_or_equal,
            &self.less_than_or_equal,
            &self.between,
            &self.not_between,
        ];
        texts.iter().any(|t| t.is_some()) || self.exists.is_some() || self.not_exists.is_some() || !self.one_of.is_empty() || !self.not_one_of.is_empty()
    }
}

/// A wait for a resource (setup waits).
#[derive(Debug, Clone, Default, Decode)]
pub struct WaitFor {
    /// Kind (`Deployment`, `Secret`, a CRD kind; anything kubectl resolves).
    #[decode(required)]
    pub kind: Option<Str>,
    /// Name; absent: at least one of the kind exists.
    pub name: Option<Str>,
    /// Namespace (default `default`).
    pub namespace: Option<Str>,
    /// Also wait until it reports ready (`status.availableReplicas` not 0).
    pub ready: Option<bool>,
    /// How long (default 30s).
    pub timeout: Option<Str>,
    #[decode(span)]
    pub span: Span,
}

/// One `setup.apply` entry: a path, or `{path, wait}`.
#[derive(Debug, Clone, Default)]
pub struct ApplyStep {
    /// The manifest file, relative to the E2E file.
    pub path: Option<Str>,
    /// Waits after applying it.
    pub wait: Vec<WaitFor>,
    pub span: Span,
}

#[derive(Debug, Clone, Default, Decode)]
struct ApplyStepFields {
    #[decode(required)]
    path: Option<Str>,
    wait: Vec<WaitFor>,
}

impl Decode for ApplyStep {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        match &node.value {
            Value::Scalar(..) => Some(ApplyStep { path: Some(Str::decode(node, cx)?), wait: Vec::new(), span: node.span }),
            _ => {
                let f = ApplyStepFields::decode(node, cx)?;
                Some(ApplyStep { path: f.path, wait: f.wait, span: node.span })
            }
        }
    }
}

impl crate::decode::Walk for ApplyStep {
    fn walk(&self, f: &mut dyn FnMut(&str, Span)) {
        self.path.walk(f);
    }
}

/// `spec.setup`: a plain list of paths (applied in order), or `{apply, wait}`.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// Manifests applied in order, each with its own waits.
    pub apply: Vec<ApplyStep>,
    /// Waits after every apply.
    pub wait: Vec<WaitFor>,
}

#[derive(Debug, Clone, Default, Decode)]
struct SetupFields {
    apply: Vec<ApplyStep>,
    #[decode(
        rejected = "Helm installs are not run by ork e2e (there is no Helm and no pod runs on the dev cluster); render the chart (`helm template`) and list the manifests under `setup.apply`"
    )]
    helm: Option<Node>,
    wait: Vec<WaitFor>,
}

impl Decode for Setup {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        match &node.value {
            Value::Seq(_) => Some(Setup { apply: Vec::<ApplyStep>::decode(node, cx)?, wait: Vec::new() }),
            _ => {
                let f = SetupFields::decode(node, cx)?;
                Some(Setup { apply: f.apply, wait: f.wait })
            }
        }
    }
}

impl crate::decode::Walk for Setup {
    fn walk(&self, f: &mut dyn FnMut(&str, Span)) {
        self.apply.walk(f);
    }
}

/// `resources[]`: objects that must (or must not) exist.
#[derive(Debug, Clone, Default, Decode)]
pub struct ResourceCheck {
    /// Kind (required).
    #[decode(required)]
    pub kind: Option<Str>,
    /// Name; absent: objects of the kind are counted.
    pub name: Option<Str>,
    /// Namespace (default `default`).
    pub namespace: Option<Str>,
    /// Exactly this many (with a name: 0 or 1); `0`: none may exist.
    pub count: Option<u32>,
    /// The object (without a name: the first one) reports ready: `status.availableReplicas`
    /// is not 0 (a missing field counts as ready, e.g. a Service).
    pub ready: Option<bool>,
    #[decode(span)]
    pub span: Span,
}

/// `commands[]`: a shell command (`sh -c`, cwd = the directory of the file that declares it,
/// `KUBECONFIG` exported) with its exit code and output assertions.
#[derive(Debug, Clone, Default, Decode)]
pub struct CommandCheck {
    /// The command line (required).
    #[decode(required)]
    pub run: Option<Str>,
    /// The exit code expected (default 0; 0–255).
    pub exit_code: Option<Spanned<i64>>,
    /// Output assertions.
    #[decode(flatten)]
    pub assert: Assertions,
    #[decode(span)]
    pub span: Span,
}

/// `kubectl.get[]`: reads an object, or one field of it (JSONPath), and asserts on the text.
#[derive(Debug, Clone, Default, Decode)]
pub struct GetCheck {
    /// Kind (required).
    #[decode(required)]
    pub kind: Option<Str>,
    /// Name (absent: the list of the kind).
    pub name: Option<Str>,
    /// Namespace (default `default`).
    pub namespace: Option<Str>,
    /// A kubectl JSONPath, `{.status.phase}` or `.status.phase` (braces added).
    pub field: Option<Str>,
    /// Without `field`: the output format (default `name`).
    pub format: Option<Spanned<GetFormat>>,
    /// Label selector for a list.
    pub label_selector: Option<Str>,
    /// Output assertions.
    #[decode(flatten)]
    pub assert: Assertions,
    #[decode(span)]
    pub span: Span,
}

/// `kubectl.apply[]`: `kubectl apply` of a file or inline YAML; a non-zero `exitCode` asserts a
/// rejection (an admission webhook's refusal: `exitCode: 1` and `outputContains` its message).
#[derive(Debug, Clone, Default, Decode)]
pub struct ApplyCheck {
    /// Manifest file, relative to the declaring file.
    pub file: Option<Str>,
    /// Inline manifest (YAML text, or a YAML object).
    pub inline: Option<Node>,
    /// Namespace (`-n`).
    pub namespace: Option<Str>,
    /// Exit code expected (default 0; 0–255).
    pub exit_code: Option<Spanned<i64>>,
    /// Output assertions (on stdout and stderr together: kubectl's `Warning:` lines and an
    /// admission refusal's message are there).
    #[decode(flatten)]
    pub assert: Assertions,
    #[decode(span)]
    pub span: Span,
}

/// `kubectl.delete[]`: a file, or kind + name; a non-zero `exitCode` asserts a refused delete
/// (deletion protection).
#[derive(Debug, Clone, Default, Decode)]
pub struct DeleteCheck {
    /// Manifest file.
    pub file: Option<Str>,
    pub kind: Option<Str>,
    pub name: Option<Str>,
    /// Namespace (default `default`).
    pub namespace: Option<Str>,
    /// Not finding it is fine (default true).
    pub ignore_not_found: Option<bool>,
    /// Exit code expected (default 0; 0–255).
    pub exit_code: Option<Spanned<i64>>,
    /// Output assertions (stdout and stderr together).
    #[decode(flatten)]
    pub assert: Assertions,
    /// The leader pod of a Lease (there are no pods on the dev cluster).
    #[decode(rejected = "ork runs the runtime in-process: there is no leader pod to delete")]
    pub leader_election: Option<Node>,
    #[decode(span)]
    pub span: Span,
}

/// `kubectl.patch[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct PatchCheck {
    /// Kind (required).
    #[decode(required)]
    pub kind: Option<Str>,
    /// Name (required).
    #[decode(required)]
    pub name: Option<Str>,
    /// Namespace (default `default`).
    pub namespace: Option<Str>,
    /// merge (default), strategic or json.
    #[decode(rename = "type")]
    pub patch_type: Option<Spanned<PatchType>>,
    /// The patch: JSON/YAML text, or a YAML object / list (required).
    #[decode(required)]
    pub patch: Option<Node>,
    /// Exit code expected (default 0; 0–255).
    pub exit_code: Option<Spanned<i64>>,
    /// Output assertions (stdout and stderr together).
    #[decode(flatten)]
    pub assert: Assertions,
    #[decode(span)]
    pub span: Span,
}

/// `kubectl.auth[]`: `kubectl auth can-i VERB RESOURCE`; the output is `yes` or `no`.
#[derive(Debug, Clone, Default, Decode)]
pub struct AuthCheck {
    /// Verb (required).
    #[decode(required)]
    pub verb: Option<Str>,
    /// Resource (required): `services`, `deployments.apps`, `websites.demo.ork.dev`.
    #[decode(required)]
    pub resource: Option<Str>,
    /// Namespace (default `default`).
    pub namespace: Option<Str>,
    /// Ask for this user (`system:serviceaccount:NS:NAME`).
    #[decode(rename = "as")]
    pub as_user: Option<Str>,
    /// Output assertions (default: `equals: yes`).
    #[decode(flatten)]
    pub assert: Assertions,
    #[decode(span)]
    pub span: Span,
}

/// The `kubectl:` blocks of an expectation.
#[derive(Debug, Clone, Default, Decode)]
pub struct KubectlChecks {
    pub get: Vec<GetCheck>,
    pub apply: Vec<ApplyCheck>,
    pub delete: Vec<DeleteCheck>,
    pub patch: Vec<PatchCheck>,
    /// Permission checks.
    pub auth: Vec<AuthCheck>,
    /// Container logs.
    #[decode(
        rejected = "no pod runs on the dev cluster (it stores workloads and reports them ready, as kwok does) and the runtime runs inside `ork e2e`; check objects with `kubectl.get` or `resources`"
    )]
    pub logs: Option<Node>,
    /// Commands in a container.
    #[decode(
        rejected = "no pod runs on the dev cluster (it stores workloads and reports them ready, as kwok does) and the runtime runs inside `ork e2e`; check objects with `kubectl.get` or `resources`"
    )]
    pub exec: Option<Node>,
    /// HTTP through a port-forward (`port-forward`, as upstream spells it).
    #[decode(
        rename = "port-forward",
        rejected = "no pod runs on the dev cluster (it stores workloads and reports them ready, as kwok does) and the runtime runs inside `ork e2e`; check objects with `kubectl.get` or `resources`"
    )]
    pub port_forward: Option<Node>,
    /// The same, spelled `portForward`.
    #[decode(
        rename = "portForward",
        rejected = "no pod runs on the dev cluster (it stores workloads and reports them ready, as kwok does) and the runtime runs inside `ork e2e`; check objects with `kubectl.get` or `resources`"
    )]
    pub port_forward_camel: Option<Node>,
    /// Copy out of a container.
    #[decode(
        rejected = "no pod runs on the dev cluster (it stores workloads and reports them ready, as kwok does) and the runtime runs inside `ork e2e`; check objects with `kubectl.get` or `resources`"
    )]
    pub cp: Option<Node>,
    /// `kubectl top`.
    #[decode(
        rejected = "no pod runs on the dev cluster (it stores workloads and reports them ready, as kwok does) and the runtime runs inside `ork e2e`; check objects with `kubectl.get` or `resources`"
    )]
    pub top: Option<Node>,
    /// `kubectl describe`.
    #[decode(rejected = "`kubectl describe` is not run by ork e2e; use `kubectl.get` with `field` or `format`, or a `commands:` entry")]
    pub describe: Option<Node>,
    /// `kubectl events`.
    #[decode(rejected = "event checks are not run by ork e2e yet; use a `commands:` entry such as `kubectl get events -o name`")]
    pub events: Option<Node>,
    /// `kubectl rollout restart`.
    #[decode(rejected = "no pod runs on the dev cluster, so a restart proves nothing; patch the object with `kubectl.patch` instead")]
    pub restart: Option<Node>,
    /// `kubectl scale`.
    #[decode(rejected = "scale steps are not run by ork e2e yet; use `kubectl.patch` on `spec.replicas`")]
    pub scale: Option<Node>,
}

impl KubectlChecks {
    /// Number of steps.
    pub fn len(&self) -> usize {
        self.get.len() + self.apply.len() + self.delete.len() + self.patch.len() + self.auth.len()
    }

    /// No step.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What runs when an expectation (or, at the end, any expectation of the document) failed:
/// diagnostics for the log, never assertions.
#[derive(Debug, Clone, Default, Decode)]
pub struct OnFailure {
    /// Shell commands whose output is printed.
    pub commands: Vec<Str>,
    /// kubectl reads whose output is printed.
    pub kubectl: Option<OnFailureKubectl>,
}

/// `onFailure.kubectl`: reads only.
#[derive(Debug, Clone, Default, Decode)]
pub struct OnFailureKubectl {
    /// Objects to print.
    pub get: Vec<GetCheck>,
    /// Container logs.
    #[decode(
        rejected = "no pod runs on the dev cluster (it stores workloads and reports them ready, as kwok does) and the runtime runs inside `ork e2e`; check objects with `kubectl.get` or `resources`"
    )]
    pub logs: Option<Node>,
    /// `kubectl describe`.
    #[decode(rejected = "`kubectl describe` is not run by ork e2e; use `get` (printed as YAML) or a command")]
    pub describe: Option<Node>,
    /// `kubectl events`.
    #[decode(rejected = "use a command such as `kubectl get events -A`")]
    pub events: Option<Node>,
}

/// One expectation, or `include: FILE` (a list of expectations).
#[derive(Debug, Clone, Default, Decode)]
pub struct Expectation {
    /// What is expected (required unless `include`).
    pub name: Option<Str>,
    /// When it is checked (default `setup-complete`).
    pub after: Option<Spanned<After>>,
    /// How long it may take to hold (default 60s).
    pub timeout: Option<Str>,
    /// A pause before the first check.
    pub wait: Option<Str>,
    /// Objects that must (not) exist.
    pub resources: Vec<ResourceCheck>,
    /// Shell commands.
    pub commands: Vec<CommandCheck>,
    /// kubectl steps.
    pub kubectl: Option<KubectlChecks>,
    /// Diagnostics when it fails.
    pub on_failure: Option<OnFailure>,
    /// A file with a list of expectations that replaces this entry.
    pub include: Option<Str>,
    /// Gating conditions.
    #[decode(
        rejected = "gating conditions (`when`/`or` over note functions) are not evaluated by ork e2e; split the document, or make the check itself tolerant"
    )]
    pub when: Option<Node>,
    /// Gating conditions.
    #[decode(
        rejected = "gating conditions (`when`/`or` over note functions) are not evaluated by ork e2e; split the document, or make the check itself tolerant"
    )]
    pub or: Option<Node>,
    #[decode(span)]
    pub span: Span,
}

impl Expectation {
    /// Number of checks it declares.
    pub fn checks(&self) -> usize {
        self.resources.len() + self.commands.len() + self.kubectl.as_ref().map_or(0, KubectlChecks::len)
    }

    /// `after`, defaulted.
    pub fn after(&self) -> After {
        self.after.as_ref().map_or(After::SetupComplete, |a| a.value)
    }
}

/// `spec` of an E2E document.
#[derive(Debug, Clone, Default, Decode)]
pub struct E2eSpec {
    /// The Katalog or Komposer under test (required).
    pub katalog: Option<Str>,
    /// CRD manifest; absent: the Katalog's `crdFile`s, else CRDs generated from `apiTypes`.
    pub crd: Option<Str>,
    /// More CRD manifests.
    pub crd_files: Vec<Str>,
    /// CR file (multi-document), applied at the first `cr-applied` expectation.
    pub cr: Option<Str>,
    /// More CR files.
    pub cr_files: Vec<Str>,
    /// Manifests applied (and waited for) before the runtime starts.
    pub setup: Option<Setup>,
    /// The expectations, checked in order.
    pub expect: Vec<Expectation>,
    /// Diagnostics when any expectation failed.
    pub on_failure: Option<OnFailure>,
    /// The cluster to create.
    #[decode(
        rejected = "ork e2e creates no kind cluster: it runs on a fresh embedded dev cluster (default) or the current kube context (`--cluster current`); remove `cluster:`"
    )]
    pub cluster: Option<Node>,
    /// Helm values for the Orkestra chart.
    #[decode(rejected = "ork e2e installs no Helm chart: the runtime runs in-process under the generated bundle's ServiceAccount; remove `valuesFiles`")]
    pub values_files: Option<Node>,
    /// User note functions.
    #[decode(rejected = "note functions are not evaluated by ork e2e")]
    pub notes: Option<Node>,
    /// Testing a non-Orkestra workload.
    #[decode(rejected = "custom targets are not run by ork e2e: it tests a Katalog's operator")]
    pub custom: Option<Node>,
    /// Upstream CI shortcut to an example.
    #[decode(rejected = "`init` refers to upstream's examples tree; name the files with `katalog`, `crd` and `cr`")]
    pub init: Option<Node>,
    #[decode(span)]
    pub span: Span,
}

/// One `imports` entry: a path, or `{path, freshCluster, wait}`.
#[derive(Debug, Clone, Default)]
pub struct Import {
    /// The imported E2E file, relative to this one.
    pub path: Option<Str>,
    /// Run it on a fresh cluster (always the case on the dev cluster).
    pub fresh_cluster: Option<bool>,
    /// A pause before it runs.
    pub wait: Option<Str>,
    pub span: Span,
}

#[derive(Debug, Clone, Default, Decode)]
struct ImportFields {
    #[decode(required)]
    path: Option<Str>,
    fresh_cluster: Option<bool>,
    wait: Option<Str>,
}

impl Decode for Import {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        match &node.value {
            Value::Scalar(..) => Some(Import { path: Some(Str::decode(node, cx)?), span: node.span, ..Import::default() }),
            _ => {
                let f = ImportFields::decode(node, cx)?;
                Some(Import { path: f.path, fresh_cluster: f.fresh_cluster, wait: f.wait, span: node.span })
            }
        }
    }
}

impl crate::decode::Walk for Import {
    fn walk(&self, f: &mut dyn FnMut(&str, Span)) {
        self.path.walk(f);
    }
}

/// `kind: E2E`: a run (`spec`), a suite (`imports`), or both (the imports run after the spec).
#[derive(Debug, Clone, Default, Decode)]
pub struct E2e {
    /// `orkestra.orkspace.io/v1`.
    #[decode(required)]
    pub api_version: Option<Str>,
    /// `E2E`.
    #[decode(required)]
    pub kind: Option<Str>,
    #[decode(required)]
    pub metadata: Option<E2eMetadata>,
    /// The run.
    pub spec: Option<E2eSpec>,
    /// Other E2E files run after this one, in order.
    pub imports: Vec<Import>,
    #[decode(span)]
    pub span: Span,
}

impl E2e {
    /// `metadata.name`, or empty.
    pub fn name(&self) -> &str {
        self.metadata.as_ref().and_then(|m| m.name.as_ref()).map_or("", |n| n.as_str())
    }

    /// A pure aggregator: imports and no run of its own (discovery skips those).
    pub fn is_suite(&self) -> bool {
        self.spec.as_ref().is_none_or(|s| s.katalog.is_none() && s.cr.is_none() && s.cr_files.is_empty()) && !self.imports.is_empty()
    }
}

/// Seconds an expectation may take when it does not say.
pub const DEFAULT_TIMEOUT_SECS: f64 = 60.0;
/// Seconds a setup wait may take when it does not say.
pub const DEFAULT_WAIT_TIMEOUT_SECS: f64 = 30.0;
/// The longest timeout or pause accepted (a day): a typo such as `60h` is an error, not a hang.
pub const MAX_DURATION_SECS: f64 = 86_400.0;
