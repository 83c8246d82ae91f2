//! Checks on individual entries and values: profiles, capabilities, required fields per kind,
//! conditions, durations, namespace patterns and crdFile agreement.

use super::shapes::conditions;
use crate::decode::Str;
use crate::diag::{Diagnostic, Diagnostics, Span, display_path};
use crate::duration::parse_duration;
use crate::model::crd::CrdEntry;
use crate::model::resources::{Capabilities, ContainerFields, EntryCommon, HookTemplates, PodFields, Probes, Resources, RollingUpdate};
use crate::profiles::{self, ProfileClass, UserProfiles};
use crate::yaml::Document;

/// Linux capability names accepted in `capabilities.add/drop` (without the `CAP_` prefix).
const CAPABILITIES: &[&str] = &[
    "ALL",
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "AUDIT_WRITE",
    "BLOCK_SUSPEND",
    "BPF",
    "CHECKPOINT_RESTORE",
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "IPC_LOCK",
    "IPC_OWNER",
    "KILL",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "MKNOD",
    "NET_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_RAW",
    "PERFMON",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYSLOG",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_CHROOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "WAKE_ALARM",
];

/// Checks a profile reference (templated names are resolved per CR and skipped here).
pub(crate) fn profile_ref(class: ProfileClass, name: &Str, user: &UserProfiles, crd: &str, diags: &mut Diagnostics) {
    if name.is_template() {
        return;
    }
    if let Err(e) = profiles::resolve(class, name, user) {
        let mut d = Diagnostic::error("unknown-profile", format!("unknown {} `{name}`", class.describe())).at(name.span);
        d = match &e.suggestion {
            Some(s) => d.help(format!("did you mean `{s}`? (known: {})", e.known.join(", "))),
            None if e.known.is_empty() => d.help(format!("no {} is defined; declare one under `profiles.{}`", class.describe(), class.yaml_key())),
            None => d.help(format!("known: {}", e.known.join(", "))),
        };
        if !crd.is_empty() {
            d = d.crd(crd);
        }
        diags.push(d);
    }
}

fn mixed(diags: &mut Diagnostics, crd: &str, span: Span, what: &str, fields: &str) {
    let mut d = Diagnostic::error("profile-and-fields", format!("{what} sets both `profile` and explicit fields"))
        .at(span)
        .help(format!("use either `profile` or {fields}, not both"));
    if !crd.is_empty() {
        d = d.crd(crd);
    }
    diags.push(d);
}

/// Checks of resource entries against their kind's rules.
pub(crate) struct EntryChecks<'a> {
    pub diags: &'a mut Diagnostics,
    pub user: &'a UserProfiles,
    pub crd: &'a str,
    /// The Katalog (to resolve `custom` kinds against its CRDs); `None` for a Motif.
    pub katalog: Option<&'a crate::model::Katalog>,
    /// Profiles referenced, as `class/name` (e.g. `resources/small`).
    pub used: std::collections::BTreeSet<String>,
}

impl EntryChecks<'_> {
    fn error(&mut self, code: &'static str, span: Span, msg: impl Into<String>, help: impl Into<String>) {
        let mut d = Diagnostic::error(code, msg).at(span).help(help);
        if !self.crd.is_empty() {
            d = d.crd(self.crd);
        }
        self.diags.push(d);
    }

    fn profile(&mut self, class: ProfileClass, name: &Option<Str>) {
        if let Some(n) = name {
            profile_ref(class, n, self.user, self.crd, self.diags);
            self.used.insert(format!("{}/{n}", class.yaml_key()));
        }
    }

    fn common(&mut self, c: &EntryCommon) {
        conditions(&c.when, self.crd, self.diags);
        conditions(&c.or, self.crd, self.diags);
    }

    fn require(&mut self, common: &EntryCommon, value: &Option<Str>, field: &str, kind: &str) {
        if value.is_none() {
            self.error("missing-field", common.span, format!("{kind} entry is missing `{field}`"), format!("add `{field}:` to the entry"));
        }
    }

    fn resources(&mut self, r: &Option<Resources>) {
        let Some(r) = r else { return };
        self.profile(ProfileClass::Resources, &r.profile);
        if r.profile.is_some() && (!r.requests.is_empty() || !r.limits.is_empty()) {
            mixed(self.diags, self.crd, r.span, "resources", "`requests`/`limits`");
        }
    }

    fn capabilities(&mut self, caps: &Option<Capabilities>) {
        let Some(caps) = caps else { return };
        for c in caps.add.iter().chain(&caps.drop) {
            let bare = c.trim_start_matches("CAP_");
            if !c.is_template() && !CAPABILITIES.contains(&bare) {
                let help = match crate::diag::suggest(bare, CAPABILITIES.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "use a Linux capability name such as NET_BIND_SERVICE, or ALL".to_string(),
                };
                self.error("unknown-capability", c.span, format!("unknown capability `{c}`"), help);
            }
        }
    }

    fn container(&mut self, c: &ContainerFields, pod: &PodFields) {
        self.resources(&c.resources);
        if let Some(sc) = &c.security_context {
            self.profile(ProfileClass::ContainerSecurity, &sc.profile);
            let explicit = sc.allow_privilege_escalation.is_some()
                || sc.read_only_root_filesystem.is_some()
                || sc.run_as_non_root.is_some()
                || sc.run_as_user.is_some()
                || sc.run_as_group.is_some()
                || sc.capabilities.is_some();
            if sc.profile.is_some() && explicit {
                mixed(self.diags, self.crd, sc.span, "securityContext", "the explicit fields");
            }
            self.capabilities(&sc.capabilities);
        }
        if let Some(ps) = &pod.pod_security {
            self.profile(ProfileClass::PodSecurity, &ps.profile);
            let explicit = ps.run_as_non_root.is_some() || ps.run_as_user.is_some() || ps.run_as_group.is_some() || ps.fs_group.is_some();
            if ps.profile.is_some() && explicit {
                mixed(self.diags, self.crd, ps.span, "podSecurity", "the explicit fields");
            }
        }
        for v in &pod.volumes {
            let sources = [v.config_map.is_some(), v.secret.is_some(), v.empty_dir.is_some(), v.persistent_volume_claim.is_some(), v.host_path.is_some()]
                .iter()
                .filter(|b| **b)
                .count();
            if sources != 1 {
                self.error(
                    "volume-source",
                    v.span,
                    format!("a volume needs exactly one source, found {sources}"),
                    "use one of configMap, secret, emptyDir, persistentVolumeClaim, hostPath",
                );
            }
        }
        for e in &c.env_from.iter().flat_map(|ef| ef.secret_ref.iter().chain(&ef.config_map_ref)).collect::<Vec<_>>() {
            if let (Some(s), true) = (&e.suffix, e.keys.is_empty()) {
                self.error("suffix-without-keys", s.span, "`suffix` needs `keys`", "list the keys to import with `keys: [...]`");
            }
        }
    }

    fn probes(&mut self, p: &Option<Probes>) {
        let Some(p) = p else { return };
        for probe in [&p.startup, &p.liveness, &p.readiness].into_iter().flatten() {
            self.profile(ProfileClass::Probes, &probe.profile);
            let timings = [&probe.initial_delay_seconds, &probe.period_seconds, &probe.failure_threshold, &probe.success_threshold, &probe.timeout_seconds];
            if probe.profile.is_some() && timings.iter().any(|t| t.is_some()) {
                mixed(self.diags, self.crd, probe.span, "probe", "explicit timings");
            }
            if let Some(k) = &probe.kind
                && !k.is_template()
                && !matches!(k.as_str(), "http" | "tcp")
            {
                self.error("invalid-value", k.span, format!("probe type `{k}` is not http or tcp"), "use `http` or `tcp`");
            }
        }
    }

    fn rolling(&mut self, r: &Option<RollingUpdate>) {
        let Some(r) = r else { return };
        self.profile(ProfileClass::RollingUpdate, &r.profile);
        if r.profile.is_some() && (r.max_surge.is_some() || r.max_unavailable.is_some()) {
            mixed(self.diags, self.crd, r.span, "rollingUpdate", "`maxSurge`/`maxUnavailable`");
        }
    }

    /// Checks every entry of a lifecycle block. Entries of onDelete name objects to delete and
    /// need no image.
    pub(crate) fn block(&mut self, b: &HookTemplates, deleting: bool) {
        conditions(&b.when, self.crd, self.diags);
        conditions(&b.or, self.crd, self.diags);
        if let Some(t) = &b.timeout {
            duration(t, self.crd, self.diags);
        }
        if !b.groups.is_empty() && b.ordered != Some(true) {
            self.diags.push(
                Diagnostic::warning("groups-not-ordered", "`groups` without `ordered: true` are deleted concurrently")
                    .at(b.span)
                    .crd(self.crd)
                    .help("add `ordered: true` to delete the groups one after another"),
            );
        }
        let mut group_names = std::collections::BTreeMap::new();
        for g in &b.groups {
            if let Some(n) = &g.name
                && let Some(first) = group_names.insert(n.value.clone(), n.span)
            {
                self.error("duplicate-group", n.span, format!("group `{n}` is declared twice (first at {first})"), "give each group a unique name");
            }
            self.block(g, deleting);
        }
        for d in &b.deployments {
            self.common(&d.common);
            if !deleting {
                self.require(&d.common, &d.container.image, "image", "deployments");
            }
            self.container(&d.container, &d.pod);
            self.probes(&d.probes);
            self.rolling(&d.rolling_update);
        }
        for s in &b.stateful_sets {
            self.common(&s.common);
            if !deleting {
                self.require(&s.common, &s.container.image, "image", "statefulSets");
            }
            self.container(&s.container, &s.pod);
            self.probes(&s.probes);
            self.rolling(&s.rolling_update);
        }
        for j in &b.jobs {
            self.common(&j.common);
            self.require(&j.common, &j.container.image, "image", "jobs");
            self.container(&j.container, &j.pod);
        }
        for c in &b.cron_jobs {
            self.common(&c.common);
            if !deleting {
                self.require(&c.common, &c.container.image, "image", "cronJobs");
                self.require(&c.common, &c.schedule, "schedule", "cronJobs");
            }
            self.container(&c.container, &c.pod);
        }
        for s in &b.services {
            self.common(&s.common);
        }
        for s in &b.secrets {
            self.common(&s.common);
            if s.rotate_after.is_some() && s.common.once != Some(true) {
                self.error("rotate-without-once", s.common.span, "`rotateAfter` needs `once: true`", "add `once: true`");
            }
            if let Some(d) = &s.rotate_after {
                duration(d, self.crd, self.diags);
            }
        }
        for c in &b.config_maps {
            self.common(&c.common);
        }
        for i in &b.ingresses {
            self.common(&i.common);
        }
        for (list, kind) in [(&b.namespaces, "namespaces"), (&b.service_accounts, "serviceAccounts")] {
            for p in list {
                self.common(&p.common);
                self.require(&p.common, &p.common.name, "name", kind);
            }
        }
        for r in b.roles.iter().chain(&b.cluster_roles) {
            self.common(&r.common);
        }
        for rb in b.role_bindings.iter().chain(&b.cluster_role_bindings) {
            self.common(&rb.common);
            if !deleting && rb.role_ref.is_none() {
                self.error("missing-field", rb.common.span, "binding entry is missing `roleRef`", "add `roleRef: {name: ..., kind: Role}`");
            }
        }
        for n in &b.network_policies {
            self.common(&n.common);
            self.require(&n.common, &n.common.name, "name", "networkPolicies");
            self.profile(ProfileClass::NetworkPolicies, &n.profile);
            if n.profile.is_some() && (n.ingress.is_some() || n.egress.is_some()) {
                mixed(self.diags, self.crd, n.common.span, "networkPolicy", "`ingress`/`egress` rules");
            }
        }
        for q in &b.resource_quotas {
            self.common(&q.common);
            self.require(&q.common, &q.common.name, "name", "resourceQuotas");
            self.profile(ProfileClass::ResourceQuotas, &q.profile);
            if q.profile.is_some() && !q.hard.is_empty() {
                mixed(self.diags, self.crd, q.common.span, "resourceQuota", "`hard`");
            }
        }
        for l in &b.limit_ranges {
            self.common(&l.common);
            self.require(&l.common, &l.common.name, "name", "limitRanges");
            self.profile(ProfileClass::LimitRanges, &l.profile);
            if l.profile.is_some() && !l.limits.is_empty() {
                mixed(self.diags, self.crd, l.common.span, "limitRange", "`limits`");
            }
        }
        for p in &b.pdb {
            self.common(&p.common);
            if let Some(bh) = &p.behavior {
                self.profile(ProfileClass::Pdb, &bh.profile);
            }
            if p.min_available.is_some() && p.max_unavailable.is_some() {
                self.error("pdb-both", p.common.span, "a PDB takes `minAvailable` or `maxUnavailable`, not both", "keep one");
            }
        }
        for h in &b.hpa {
            self.common(&h.common);
            if let Some(bh) = &h.behavior {
                self.profile(ProfileClass::Hpa, &bh.profile);
            }
        }
        for p in &b.persistent_volume_claims {
            self.common(&p.common);
            self.require(&p.common, &p.common.name, "name", "persistentVolumeClaims");
            if !deleting {
                self.require(&p.common, &p.storage, "storage", "persistentVolumeClaims");
            }
        }
        for c in &b.custom {
            let k = &c.known;
            self.common(&k.common);
            self.require(&k.common, &k.api_version, "apiVersion", "custom");
            self.require(&k.common, &k.kind, "kind", "custom");
            if k.metadata.is_none() {
                self.error("missing-field", k.common.span, "custom entry is missing `metadata.name`", "add `metadata: {name: ...}`");
            }
            if let (Some(katalog), Some(_), Some(_)) = (self.katalog, &k.api_version, &k.kind) {
                self.custom_resource(katalog, c);
            }
        }
    }

    /// A custom kind must resolve to its real resource plural (RBAC rules and API calls name it).
    fn custom_resource(&mut self, katalog: &crate::model::Katalog, c: &crate::model::resources::Custom) {
        use crate::kinds::{CustomError, resolve_custom};
        let k = &c.known;
        match resolve_custom(katalog, c) {
            Ok(_) => {}
            Err(CustomError::NotLiteral(field)) => {
                let span = if field == "kind" { k.kind.as_ref() } else { k.api_version.as_ref() }.map_or(k.common.span, |s| s.span);
                self.error(
                    "templated-kind",
                    span,
                    format!("`{field}` of a custom entry must be written literally, not as a template"),
                    "the runtime's permissions are derived before any CR exists; declare one custom entry per kind",
                );
            }
            Err(CustomError::UnknownPlural { group, kind }) => {
                let span = k.kind.as_ref().map_or(k.common.span, |s| s.span);
                let group_flag = if group.is_empty() { String::new() } else { format!(" --api-group={group}") };
                self.error(
                    "unknown-plural",
                    span,
                    format!("the resource name (plural) of kind `{kind}` in group `{group}` is not known"),
                    format!(
                        "add `plural:` to this entry with the NAME shown by `kubectl api-resources{group_flag}` (ork never guesses it: RBAC rules must name the real resource)"
                    ),
                );
            }
        }
    }
}

/// Checks a Go-style duration (`30s`, `5m`, `1h30m`; extended `d`, `w`); templates are skipped.
pub(crate) fn duration(d: &Str, crd: &str, diags: &mut Diagnostics) {
    if d.is_template() || parse_duration(d).is_some() {
        return;
    }
    let mut diag = Diagnostic::error("invalid-duration", format!("`{d}` is not a duration")).at(d.span).help("write a duration such as 30s, 5m, 1h30m or 7d");
    if !crd.is_empty() {
        diag = diag.crd(crd);
    }
    diags.push(diag);
}

/// A namespace pattern is an exact name or has one leading or trailing `*`.
pub(crate) fn namespace_pattern(p: &Str, crd: &str, diags: &mut Diagnostics) {
    let stars = p.matches('*').count();
    let ok = stars == 0 || (stars == 1 && (p.starts_with('*') || p.ends_with('*')) && p.len() > 1) || p.as_str() == "*";
    if !ok {
        let mut d = Diagnostic::error("invalid-namespace-pattern", format!("namespace pattern `{p}` is not supported"))
            .at(p.span)
            .help("use an exact name, or one `*` at the start or end (`team-*`, `*-sandbox`)");
        if !crd.is_empty() {
            d = d.crd(crd);
        }
        diags.push(d);
    }
}

/// Checks that `crdFile` exists, is a CustomResourceDefinition, and agrees with `apiTypes`;
/// `read` is the file as the loader read it ([`crate::load::Loaded::crd_file`]).
pub(crate) fn crd_file(file: &Str, e: &CrdEntry, crd: &str, diags: &mut Diagnostics, read: Option<&Result<Vec<Document>, Diagnostic>>) {
    if file.starts_with("https://") || file.starts_with("http://") {
        diags.push(Diagnostic::warning("not-supported-yet", "a remote crdFile is parsed but not fetched yet").at(file.span).crd(crd));
        return;
    }
    // No path: the loader refused it (outside the pattern root) and said so.
    let Some(path) = &e.crd_file_path else { return };
    let docs = match read {
        None => return,
        Some(Ok(d)) => d,
        Some(Err(d)) => {
            let msg = if d.code == "file-not-found" { format!("crdFile {} does not exist", display_path(path)) } else { d.message.clone() };
            diags
                .push(Diagnostic::error("crd-file", msg).at(file.span).crd(crd).help("fix the path (relative to this Katalog), or declare `apiTypes` instead"));
            return;
        }
    };
    let crds: Vec<_> = docs.iter().map(|d| &d.root).filter(|r| r.get("kind").and_then(|k| k.as_scalar_text()) == Some("CustomResourceDefinition")).collect();
    let at = e.api_types.as_ref();
    // With several CRDs in one file, the one whose kind matches apiTypes (or the only one) is meant.
    let want_kind = at.and_then(|a| a.kind.as_ref()).map(|k| k.value.clone());
    let chosen = crds
        .iter()
        .find(|r| {
            want_kind
                .as_deref()
                .is_some_and(|k| r.get("spec").and_then(|s| s.get("names")).and_then(|n| n.get("kind")).and_then(|k| k.as_scalar_text()) == Some(k))
        })
        .or(if crds.len() == 1 { crds.first() } else { None });
    let Some(doc) = chosen else {
        let msg = if crds.is_empty() {
            format!("crdFile {} contains no CustomResourceDefinition", display_path(path))
        } else {
            format!("crdFile {} has {} CRDs; set apiTypes.kind to pick one", display_path(path), crds.len())
        };
        diags.push(Diagnostic::error("crd-file", msg).at(file.span).crd(crd));
        return;
    };
    let text = |n: Option<&crate::yaml::Node>| n.and_then(|v| v.as_scalar_text()).map(str::to_string);
    let spec = doc.get("spec");
    let group = text(spec.and_then(|s| s.get("group")));
    let kind = text(spec.and_then(|s| s.get("names")).and_then(|n| n.get("kind")));
    let plural = text(spec.and_then(|s| s.get("names")).and_then(|n| n.get("plural")));
    let scope = text(spec.and_then(|s| s.get("scope")));
    let versions: Vec<String> =
        spec.and_then(|s| s.get("versions")).and_then(|v| v.as_seq()).unwrap_or(&[]).iter().filter_map(|v| text(v.get("name"))).collect();
    for (field, declared, actual) in [
        ("group", at.and_then(|a| a.group.as_ref()), &group),
        ("kind", at.and_then(|a| a.kind.as_ref()), &kind),
        ("plural", at.and_then(|a| a.plural.as_ref()), &plural),
    ] {
        match (declared, actual) {
            (_, None) => diags.push(
                Diagnostic::error(
                    "crd-file",
                    format!(
                        "crdFile has no spec.{}",
                        if field == "group" { "group" } else { "names." }.to_string() + if field == "group" { "" } else { field }
                    ),
                )
                .at(doc.span)
                .crd(crd),
            ),
            (Some(d), Some(a)) if d.as_str() != a => diags.push(
                Diagnostic::error("crd-file-mismatch", format!("apiTypes.{field} is `{d}` but crdFile says `{a}`"))
                    .at(d.span)
                    .crd(crd)
                    .help("make apiTypes agree with the CRD manifest, or drop apiTypes and let crdFile define it"),
            ),
            _ => {}
        }
    }
    if let Some(v) = at.and_then(|a| a.version.as_ref())
        && !versions.is_empty()
        && !versions.iter().any(|x| x == v.as_str())
    {
        diags.push(
            Diagnostic::error("crd-file-mismatch", format!("apiTypes.version `{v}` is not served by crdFile (versions: {})", versions.join(", ")))
                .at(v.span)
                .crd(crd),
        );
    }
    let namespaced = e.namespaced != Some(false);
    match scope.as_deref() {
        Some("Cluster") if namespaced && e.namespaced.is_some() => {
            diags.push(Diagnostic::error("crd-file-mismatch", "the entry says `namespaced: true` but crdFile has scope Cluster").at(e.span).crd(crd))
        }
        Some("Namespaced") if !namespaced => {
            diags.push(Diagnostic::error("crd-file-mismatch", "the entry says `namespaced: false` but crdFile has scope Namespaced").at(e.span).crd(crd))
        }
        Some("Cluster" | "Namespaced") | None => {}
        Some(other) => diags.push(Diagnostic::error("crd-file", format!("crdFile has unknown scope `{other}`")).at(doc.span).crd(crd)),
    }
}
