//! The API identity a CRD entry serves (group, version, kind, plural, scope), and the one rule
//! for whether its CRs are namespaced.
//!
//! `apiTypes` is completed from the entry's local `crdFile` where it leaves fields out; a bare
//! built-in `kind` takes the built-in resource. Validation, rendering, the reconciler, the
//! runtime, simulate and the authoring commands all read the identity from here, so that the CRD
//! ork generates and the resource everything else addresses agree.

use super::{ApiResource, builtin_by_kind};
use crate::decode::Str;
use crate::load::include::read_yaml_file;
use crate::model::crd::CrdEntry;
use crate::yaml::Limits;
use std::path::Path;

/// The API identity a CRD entry serves: `apiTypes`, completed from `crdFile` where apiTypes
/// leaves fields out. See [`api_identity`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct ApiIdentity {
    /// API group; empty for the core group.
    pub group: String,
    /// Version; empty when neither apiTypes nor crdFile names one.
    pub version: String,
    pub kind: String,
    /// Plural resource name; empty when neither apiTypes nor crdFile names one.
    pub plural: String,
    /// Whether CRs of this kind are namespaced, by [`is_namespaced`].
    pub namespaced: bool,
}

impl ApiIdentity {
    /// The resource the identity addresses (for a cluster client or an RBAC rule).
    pub fn resource(&self) -> ApiResource {
        ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            kind: self.kind.clone(),
            plural: self.plural.clone(),
            namespaced: self.namespaced,
        }
    }
}

/// Whether CRs of a CRD entry are namespaced, as the API server will serve them: an explicit
/// `namespaced:` on the entry wins (it is what `ork generate crd` writes as the scope), else the
/// `scope` of its crdFile or built-in kind (`Namespaced` / `Cluster`), else namespaced (the
/// Kubernetes default). `ork validate` reports an entry whose `namespaced:` contradicts its
/// crdFile.
pub fn is_namespaced(declared: Option<bool>, scope: Option<&str>) -> bool {
    declared.unwrap_or(scope != Some("Cluster"))
}

/// The identity entry `e` serves: `apiTypes` first, the crdFile's first CustomResourceDefinition
/// for what apiTypes leaves out; a bare built-in `kind` (no group, version, plural or crdFile) is
/// the built-in resource. `None` when neither names a kind. Reads the crdFile (a local file).
pub fn api_identity(e: &CrdEntry) -> Option<ApiIdentity> {
    let from_file = e.crd_file_path.as_deref().and_then(crd_file_identity);
    let v = |f: Option<&Str>, pick: fn(&CrdFileIdentity) -> &String| {
        f.map(|s| s.value.clone()).filter(|s| !s.is_empty()).or_else(|| from_file.as_ref().map(|t| pick(t).clone()).filter(|s| !s.is_empty()))
    };
    let at = e.api_types.as_ref();
    let kind = v(at.and_then(|a| a.kind.as_ref()), |t| &t.kind)?;
    let kind_only = at.is_some_and(|a| a.group.is_none() && a.version.is_none() && a.plural.is_none()) && from_file.is_none();
    if kind_only {
        let r = builtin_by_kind(&kind)?;
        let scope = if r.namespaced { "Namespaced" } else { "Cluster" };
        return Some(ApiIdentity { group: r.group, version: r.version, kind: r.kind, plural: r.plural, namespaced: is_namespaced(e.namespaced, Some(scope)) });
    }
    Some(ApiIdentity {
        group: v(at.and_then(|a| a.group.as_ref()), |t| &t.group).unwrap_or_default(),
        version: v(at.and_then(|a| a.version.as_ref()), |t| &t.version).unwrap_or_default(),
        plural: v(at.and_then(|a| a.plural.as_ref()), |t| &t.plural).unwrap_or_default(),
        kind,
        namespaced: is_namespaced(e.namespaced, from_file.as_ref().map(|t| t.scope.as_str()).filter(|s| !s.is_empty())),
    })
}

/// What the first CustomResourceDefinition of a crdFile says; empty strings for what it leaves out.
struct CrdFileIdentity {
    group: String,
    version: String,
    kind: String,
    plural: String,
    scope: String,
}

/// The identity of the first CRD in a local crdFile (at `path`, as the loader resolved and
/// admitted it; its first version). `None` when the file cannot be read or holds no CRD:
/// `ork validate` reports that file.
fn crd_file_identity(path: &Path) -> Option<CrdFileIdentity> {
    let docs = read_yaml_file(path, Limits::default()).ok()?;
    let doc = docs.iter().map(|d| &d.root).find(|r| r.get("kind").and_then(|k| k.as_scalar_text()) == Some("CustomResourceDefinition"))?;
    let spec = doc.get("spec")?;
    let t = |n: Option<&crate::yaml::Node>| n.and_then(|v| v.as_scalar_text()).unwrap_or_default().to_string();
    let version = spec.get("versions").and_then(|v| v.as_seq()).and_then(|v| v.first()).and_then(|v| v.get("name"));
    Some(CrdFileIdentity {
        group: t(spec.get("group")),
        version: t(version),
        kind: t(spec.get("names").and_then(|n| n.get("kind"))),
        plural: t(spec.get("names").and_then(|n| n.get("plural"))),
        scope: t(spec.get("scope")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{LoadOptions, load_file};

    /// Loads a Katalog with one entry `web` whose crdFile has `scope`, and `extra` lines on the
    /// entry; returns the loaded document and its directory (the identity reads the crdFile
    /// when asked, so the caller removes the directory at the end).
    fn entry_with_scope(tag: &str, scope: &str, extra: &str) -> (crate::load::Loaded, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("katalog-identity-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let crd = format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: webs.x.dev}}\nspec:\n  group: x.dev\n  scope: {scope}\n  names: {{kind: Web, plural: webs}}\n  versions: [{{name: v1, served: true, storage: true}}]\n"
        );
        std::fs::write(dir.join("crd.yaml"), crd).expect("write crd");
        let katalog =
            format!("apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: k}}\nspec:\n  crds:\n    web:\n      crdFile: crd.yaml\n{extra}");
        std::fs::write(dir.join("katalog.yaml"), katalog).expect("write katalog");
        (load_file(&dir.join("katalog.yaml"), &LoadOptions::default()), dir)
    }

    /// Before one rule, `ork validate` said an entry with `namespaced: true` and a crdFile of
    /// scope Cluster was namespaced while `ork generate crd`, the reconciler, simulate and custom
    /// children said cluster-scoped. Now every reader agrees with the CRD ork generates: the
    /// explicit `namespaced:` wins (and validation still reports the contradiction).
    #[test]
    fn every_reader_agrees_on_an_explicit_namespaced_over_the_crd_file_scope() {
        let (loaded, dir) = entry_with_scope("explicit", "Cluster", "      namespaced: true\n");
        let k = loaded.katalog.as_ref().expect("a Katalog");
        let e = k.crds().get("web").expect("entry web");
        let id = api_identity(e).expect("identity");
        assert!(id.namespaced);
        assert!(id.resource().namespaced);
        let report = crate::validate::validate(&loaded);
        assert!(report.crds[0].namespaced);
        assert!(report.diagnostics.iter().any(|d| d.code == "crd-file-mismatch"), "{:?}", report.diagnostics);
        #[cfg(feature = "authoring")]
        assert_eq!(crate::authoring::crd::generate("web", e, "orkestra-system").expect("crd")["spec"]["scope"], "Namespaced");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Without `namespaced:`, the crdFile's scope decides, for every reader.
    #[test]
    fn without_namespaced_the_crd_file_scope_decides() {
        let (loaded, dir) = entry_with_scope("scope", "Cluster", "");
        let k = loaded.katalog.as_ref().expect("a Katalog");
        let e = k.crds().get("web").expect("entry web");
        assert!(!api_identity(e).expect("identity").namespaced);
        let report = crate::validate::validate(&loaded);
        assert!(!report.crds[0].namespaced);
        assert!(report.is_valid(), "{:?}", report.diagnostics);
        #[cfg(feature = "authoring")]
        assert_eq!(crate::authoring::crd::generate("web", e, "orkestra-system").expect("crd")["spec"]["scope"], "Cluster");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_explicit_namespaced_wins_then_the_scope_then_namespaced() {
        assert!(is_namespaced(Some(true), Some("Cluster")));
        assert!(!is_namespaced(Some(false), Some("Namespaced")));
        assert!(!is_namespaced(None, Some("Cluster")));
        assert!(is_namespaced(None, Some("Namespaced")));
        assert!(is_namespaced(None, None));
        assert!(!is_namespaced(Some(false), None));
    }
}
