//! `ork push`, `ork pull`, `ork inspect` and `ork keygen`: patterns in OCI registries, on the
//! `oci` crate. The registry flags are defined once ([`RegistryArgs`]) and also select how
//! `ork validate` / `ork simulate` resolve registry imports ([`ImportArgs`]).

use super::{CliError, Outcome, Output, output};
use crate::report::oci::size;
use crate::report::{Doc, Tone};
use katalog::diag::display_path;
use katalog::load::LoadOptions;
use oci::layout::{self, Pattern, PatternKind};
use oci::pattern::{self as artifact, Fetched};
use oci::{Base, OciError, Options, Progress, Reference, Registry, creds, sign};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The passphrase variable of `ork keygen` and `ork push --sign-key`.
pub const PASSPHRASE_ENV: &str = "ORK_SIGN_PASSPHRASE";

/// How to reach a registry: defined once, flattened into every command that talks to one.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RegistryArgs {
    /// Plain HTTP instead of TLS; only for localhost / 127.0.0.1 / ::1 unless
    /// --allow-insecure-remote.
    #[arg(long)]
    pub insecure_http: bool,
    /// Let --insecure-http reach other hosts (artifacts and credentials travel unencrypted).
    #[arg(long, requires = "insecure_http")]
    pub allow_insecure_remote: bool,
    /// Trust the CA certificates in this PEM file (a registry with a private CA).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
}

impl RegistryArgs {
    /// The `oci` client options.
    pub fn options(&self) -> Options {
        Options { insecure_http: self.insecure_http, allow_insecure_remote: self.allow_insecure_remote, ca_file: self.ca_file.clone() }
    }
}

/// How a command that loads a Katalog resolves registry and https imports.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    registry: RegistryArgs,
    /// Resolve registry imports from the local cache only ($XDG_CACHE_HOME/ork/registry); never
    /// use the network.
    #[arg(long)]
    offline: bool,
}

impl ImportArgs {
    /// `opts` with a resolver of registry and https imports.
    pub fn attach(&self, mut opts: LoadOptions) -> LoadOptions {
        opts.remote = Some(Arc::new(oci::imports::Resolver::new(self.registry.options(), self.offline)));
        opts
    }
}

/// Loader options with the default resolver (TLS, the network allowed): for the commands that
/// have no registry flags.
pub fn with_remote(opts: LoadOptions) -> LoadOptions {
    ImportArgs::default().attach(opts)
}

/// Arguments of `ork push`.
#[derive(clap::Args)]
pub struct PushArgs {
    /// `[DIR] REF`: the pattern directory (default: .) and the reference to push to,
    /// `[oci://]host/repo/name:version`.
    #[arg(value_name = "[DIR] REF", num_args = 1..=2, required = true)]
    args: Vec<String>,
    /// Push even when the simulate or e2e gate fails (recorded as `skipped`).
    #[arg(long)]
    force: bool,
    /// Do not run simulate.yaml (recorded as `skipped`).
    #[arg(long)]
    no_simulate: bool,
    /// Do not run e2e.yaml on a dev cluster (recorded as `skipped`).
    #[arg(long)]
    no_e2e: bool,
    /// Sign the pushed digest with this private key (from `ork keygen`; passphrase in
    /// $ORK_SIGN_PASSPHRASE): a cosign-compatible `sha256-<hex>.sig` signature.
    #[arg(long, value_name = "KEY")]
    sign_key: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// Arguments of `ork pull`.
#[derive(clap::Args)]
pub struct PullArgs {
    /// The pattern: `[oci://]host/repo/name[:version|@sha256:…]`.
    reference: String,
    /// Directory to write the pattern into (default: ./NAME).
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace an existing non-empty directory.
    #[arg(long)]
    force: bool,
    /// Refuse the artifact unless it is signed with this public key (PEM).
    #[arg(long, value_name = "PUB")]
    verify_key: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
    /// Install namespace for the permissions shown (default: $ORK_NAMESPACE, else orkestra-system).
    #[arg(short = 'n', long = "namespace")]
    namespace: Option<String>,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// Arguments of `ork inspect`.
#[derive(clap::Args)]
pub struct InspectArgs {
    /// The pattern: `[oci://]host/repo/name[:version|@sha256:…]`.
    reference: String,
    /// Check its signatures with this public key (PEM).
    #[arg(long, value_name = "PUB")]
    verify_key: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// Arguments of `ork keygen`.
#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Private key file (encrypted with $ORK_SIGN_PASSPHRASE).
    #[arg(long, default_value = "ork.key")]
    output_key: PathBuf,
    /// Public key file (PEM SubjectPublicKeyInfo, as cosign and openssl write it).
    #[arg(long, default_value = "ork.pub")]
    output_pub: PathBuf,
    /// Replace existing key files.
    #[arg(long)]
    force: bool,
}

fn passphrase() -> Result<sign::Passphrase, OciError> {
    match std::env::var(PASSPHRASE_ENV) {
        Ok(p) if !p.is_empty() => Ok(sign::Passphrase::new(p)),
        _ => Err(OciError::MissingEnv { var: PASSPHRASE_ENV.into(), what: "the passphrase of the signing key".into() }),
    }
}

/// A progress line on stderr when it is a terminal (and the output is not JSON).
struct Bar {
    on: bool,
    verb: &'static str,
}

impl Bar {
    fn new(verb: &'static str, output: Output) -> Bar {
        use std::io::IsTerminal;
        Bar { on: output == Output::Text && std::io::stderr().is_terminal(), verb }
    }

    fn update(&self, p: Progress) {
        if !self.on {
            return;
        }
        let width = 24usize;
        let filled = p.bytes_done.saturating_mul(width as u64).checked_div(p.bytes).map_or(width, |f| f as usize);
        let bar: String = "#".repeat(filled.min(width)) + &"-".repeat(width - filled.min(width));
        eprint!("\r{} [{bar}] {}/{} files, {}/{}", self.verb, p.files_done, p.files, size(p.bytes_done), size(p.bytes));
        if p.files_done == p.files {
            eprintln!();
        }
    }
}

/// The CI system running this, for the e2e gate's `runner` annotation.
fn runner() -> &'static str {
    let set = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty());
    if set("GITHUB_ACTIONS") {
        "github-actions"
    } else if set("GITLAB_CI") {
        "gitlab-ci"
    } else if set("CIRCLECI") {
        "circleci"
    } else if set("JENKINS_URL") {
        "jenkins"
    } else if set("BUILDKITE") {
        "buildkite"
    } else if set("DRONE") {
        "drone"
    } else if set("CI") {
        "ci"
    } else {
        "local"
    }
}

/// `created`: `SOURCE_DATE_EPOCH` when set (reproducible pushes), else now.
fn created() -> String {
    let t = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.trim().parse::<i64>().ok()).unwrap_or_else(katalog::time::unix_now);
    katalog::time::format_rfc3339(t)
}

/// The git remote of `dir` (credentials stripped) and its commit, when it is in a repository.
fn git_source(dir: &Path) -> (Option<String>, Option<String>) {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let url = git(&["remote", "get-url", "origin"]).map(|u| match u.split_once("://") {
        // https://user:token@host/x → https://host/x
        Some((scheme, rest)) => match rest.split_once('/') {
            Some((auth_host, path)) => format!("{scheme}://{}/{path}", auth_host.rsplit('@').next().unwrap_or(auth_host)),
            None => format!("{scheme}://{}", rest.rsplit('@').next().unwrap_or(rest)),
        },
        None => u,
    });
    (url, git(&["rev-parse", "HEAD"]))
}

/// One gate's annotations.
fn gate(prefix: &str, status: &str, millis: Option<f64>, assertions: usize, extra: &[(&str, String)]) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    a.insert(format!("io.orkestra.{prefix}.status"), status.to_string());
    if let Some(ms) = millis {
        a.insert(format!("io.orkestra.{prefix}.duration"), format!("{}ms", ms.round() as u64));
        a.insert(format!("io.orkestra.{prefix}.tested_at"), created());
    }
    if assertions > 0 {
        a.insert(format!("io.orkestra.{prefix}.assertions"), assertions.to_string());
    }
    for (k, v) in extra {
        a.insert(format!("io.orkestra.{prefix}.{k}"), v.clone());
    }
    a
}

/// Validates the pattern as the puller will load it: its own files only (the root-only
/// restriction), registry imports by reference. A local path that leaves the directory would
/// not resolve for the puller.
fn validate_for_push(pattern: &Pattern, imports: &ImportArgs) -> anyhow::Result<()> {
    let path = pattern.dir.join(&pattern.primary);
    let opts = imports.attach(LoadOptions::default());
    if pattern.kind == PatternKind::Motif {
        katalog::valid::load_checked(&path, &opts)?;
        return Ok(());
    }
    katalog::valid::load_valid(&path, &opts)?;
    Ok(())
}

/// Runs the gates the pattern has (simulate.yaml, e2e.yaml) and returns their annotations; a
/// failed gate stops the push unless `--force`.
fn run_gates(pattern: &Pattern, args: &PushArgs) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let sim = pattern.dir.join("simulate.yaml");
    if sim.is_file() {
        if args.no_simulate {
            out.extend(gate("simulate", "skipped", None, 0, &[]));
        } else {
            let started = std::time::Instant::now();
            let result = services::simulate::run_file(&sim, &with_remote(LoadOptions::default()));
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            match result {
                Ok(files) if files.iter().all(services::simulate::FileRun::passed) => {
                    let checks: usize = files.iter().flat_map(|f| &f.runs).map(|r| r.checks.len()).sum();
                    let status = if checks == 0 { "no-assertion" } else { "passed" };
                    out.extend(gate("simulate", status, Some(ms), checks, &[]));
                }
                other => {
                    if !args.force {
                        let why = match other {
                            Err(e) => e.to_string(),
                            _ => "an expectation failed".into(),
                        };
                        return Err(CliError::Invalid(format!(
                            "the simulate gate failed ({why}); run `ork simulate {}` to see why, or pass --force to push anyway (recorded as skipped)",
                            display_path(&sim)
                        ))
                        .into());
                    }
                    out.extend(gate("simulate", "skipped", None, 0, &[]));
                }
            }
        }
    }
    let e2e = pattern.dir.join("e2e.yaml");
    if e2e.is_file() {
        if args.no_e2e {
            out.extend(gate("e2e", "skipped", None, 0, &[]));
        } else {
            let started = std::time::Instant::now();
            let opts = services::e2e::Options {
                cluster: services::e2e::ClusterMode::Dev,
                bundle: None,
                namespace: katalog::install::DEFAULT_NAMESPACE.to_string(),
                ready_after: std::time::Duration::from_millis(200),
                keep: false,
                gateway: true,
                interrupted: Arc::new(std::sync::atomic::AtomicBool::new(false)),
                load: with_remote(LoadOptions::default()),
            };
            struct Quiet;
            impl services::e2e::Reporter for Quiet {
                fn event(&self, _: services::e2e::Event) {}
            }
            let rt = super::async_runtime(Some(2))?;
            let result = rt.block_on(services::e2e::run_file(&e2e, &opts, &Quiet));
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            match result {
                Ok((runs, _)) if runs.iter().all(services::e2e::DocRun::passed) => {
                    let n: usize = runs.iter().map(|r| r.cases.len()).sum();
                    out.extend(gate("e2e", "passed", Some(ms), n, &[("runner", runner().to_string())]));
                }
                other => {
                    if !args.force {
                        let why = match other {
                            Err(e) => e.to_string(),
                            Ok((runs, _)) => format!("{} expectation(s) failed", runs.iter().map(services::e2e::DocRun::failed).sum::<usize>()),
                        };
                        return Err(CliError::Invalid(format!(
                            "the e2e gate failed ({why}); run `ork e2e {}` to see why, or pass --force (or --no-e2e) to push anyway (recorded as skipped)",
                            display_path(&e2e)
                        ))
                        .into());
                    }
                    out.extend(gate("e2e", "skipped", None, 0, &[]));
                }
            }
        }
    }
    Ok(out)
}

/// Pushes a pattern.
pub fn push(args: PushArgs) -> Outcome {
    let (dir, reference) = match args.args.as_slice() {
        [r] => (PathBuf::from("."), r.clone()),
        [d, r] => (PathBuf::from(d), r.clone()),
        _ => return Err(CliError::Usage("push takes [DIR] REF".into()).into()),
    };
    let pattern = layout::read_pattern(&dir)?;
    let base = if pattern.kind == PatternKind::Motif { Base::Motif } else { Base::Katalog };
    let reference = Reference::parse(&reference, base)?;
    if reference.digest.is_some() {
        return Err(CliError::Usage(format!("{reference}: push takes a tag (the version), not a digest")).into());
    }
    let imports = ImportArgs { registry: args.registry.clone(), offline: false };
    validate_for_push(&pattern, &imports)?;
    let key = match &args.sign_key {
        Some(path) => {
            let pem = katalog::files::read_text_bounded(path, 64 * 1024).map_err(CliError::Read)?;
            Some(sign::SigningKey::from_pem(&pem, &passphrase()?).map_err(|e| OciError::Signature(format!("{}: {e}", display_path(path))))?)
        }
        None => None,
    };
    let mut annotations = layout::metadata_annotations(&pattern, &created(), env!("CARGO_PKG_VERSION"));
    annotations.extend(run_gates(&pattern, &args)?);
    let (source, revision) = git_source(&dir);
    if let Some(s) = source {
        annotations.insert(layout::keys::SOURCE.into(), s);
    }
    if let Some(r) = revision {
        annotations.insert(layout::keys::REVISION.into(), r);
    }
    let credential = creds::for_cli(&reference.registry)?;
    let registry = Registry::connect(&reference, &credential, &args.registry.options())?;
    let bar = Bar::new("push", args.output);
    let pushed = super::async_runtime(Some(1))?.block_on(artifact::push(&registry, &reference, &pattern, annotations, key.as_ref(), &mut |p| bar.update(p)))?;
    let doc = crate::report::oci::pushed(&pattern, &pushed);
    match args.output {
        Output::Json => {
            let files: Vec<serde_json::Value> = pattern
                .files
                .iter()
                .zip(&pushed.manifest.layers)
                .map(|(f, d)| serde_json::json!({"title": f.path, "mediaType": d.media_type, "digest": d.digest, "size": d.size}))
                .collect();
            output::print_json(&serde_json::json!({
                "reference": pushed.reference.to_string(),
                "digest": pushed.digest,
                "files": files,
                "annotations": pushed.manifest.annotations,
                "signature": pushed.signature_tag,
            }));
        }
        Output::Text => output::print_doc(&doc),
    }
    Ok(0)
}

/// Pulls a pattern into a directory, validates it as untrusted input, and shows what it would
/// grant (and, over an older pull, what changes).
pub fn pull(args: PullArgs) -> Outcome {
    let reference = Reference::parse(&args.reference, Base::Katalog)?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(reference.name()));
    if artifact::non_empty(&out) && !args.force {
        return Err(OciError::Exists { path: out }.into());
    }
    let ns = super::install_namespace(args.namespace.clone())?;
    let key = read_public_key(args.verify_key.as_deref())?;
    let credential = creds::for_cli(&reference.registry)?;
    let registry = Registry::connect(&reference, &credential, &args.registry.options())?;
    let bar = Bar::new("pull", args.output);
    let rt = super::async_runtime(Some(1))?;
    let fetched: Fetched = rt.block_on(async {
        let f = artifact::fetch(&registry, &reference, &mut |p| bar.update(p)).await?;
        if let Some(k) = &key {
            artifact::verify(&registry, &reference, &f.digest, k).await?;
        }
        Ok::<_, OciError>(f)
    })?;
    let kind = fetched.manifest.kind().unwrap_or(PatternKind::Katalog);
    // The older version in the directory, as a baseline for the permission diff.
    let baseline = (kind == PatternKind::Katalog && args.force).then(|| baseline(&out, &ns)).flatten();
    let staged = artifact::stage(&fetched, &out, args.force)?;
    let committed = staged.commit()?;
    // Untrusted input: loaded with its files confined to the directory it was written to.
    let opts = ImportArgs { registry: args.registry.clone(), offline: false }.attach(LoadOptions::default());
    let primary = kind.primary_files().iter().map(|f| out.join(f)).find(|p| p.is_file());
    let Some(primary) = primary else {
        return Err(OciError::Manifest { reference: fetched.reference.to_string(), why: format!("it holds no {}", kind.primary_files().join(" or ")) }.into());
    };
    let grants = if kind == PatternKind::Katalog {
        let valid = katalog::valid::load_valid(&primary, &opts)?;
        let derived = katalog::authoring::rbac::derive(&valid.katalog, &ns).map_err(katalog::authoring::generate::GenerateError::from)?;
        let plan = match &baseline {
            Some(old) => Some(katalog::authoring::generate::plan_against(&valid.katalog, &valid.expanded, &derived, old)?),
            None => None,
        };
        Some((derived, plan))
    } else {
        katalog::valid::load_checked(&primary, &opts)?;
        None
    };
    committed.keep();
    match args.output {
        Output::Json => output::print_json(&serde_json::json!({
            "reference": fetched.reference.to_string(),
            "digest": fetched.digest,
            "directory": out.display().to_string(),
            "files": fetched.files.iter().map(|(t, b)| serde_json::json!({"title": t, "size": b.len()})).collect::<Vec<_>>(),
            "escalations": grants.as_ref().and_then(|(_, p)| p.as_ref()).map(|p| p.grants_added.iter().map(|(component, _, group, resource, name, verb)| serde_json::json!({"component": component, "group": group, "resource": resource, "name": name, "verb": verb})).collect::<Vec<_>>()),
        })),
        Output::Text => {
            output::print_doc(&crate::report::oci::pulled(&fetched, &out));
            if let Some((derived, plan)) = &grants {
                match plan {
                    Some(p) => output::print_doc(&crate::report::plan::plan_doc(p, &display_path(&primary), "the previous version", &ns)),
                    None => output::print_doc(&crate::report::rbac::permissions_doc(derived)),
                }
            }
        }
    }
    Ok(0)
}

/// The Katalog already in `dir` (an older pull) as a deployed baseline, when it loads.
fn baseline(dir: &Path, ns: &str) -> Option<katalog::authoring::diff::Deployed> {
    let path = dir.join("katalog.yaml");
    if !path.is_file() {
        return None;
    }
    let valid = katalog::valid::load_valid(&path, &LoadOptions::default()).ok()?;
    let derived = katalog::authoring::rbac::derive(&valid.katalog, ns).ok()?;
    katalog::authoring::generate::as_deployed(&valid.katalog, &valid.expanded, &derived).ok()
}

fn read_public_key(path: Option<&Path>) -> anyhow::Result<Option<sign::PublicKey>> {
    let Some(path) = path else { return Ok(None) };
    let pem = katalog::files::read_text_bounded(path, 64 * 1024).map_err(CliError::Read)?;
    Ok(Some(sign::PublicKey::from_pem(&pem).map_err(|e| CliError::Usage(format!("{}: {e}", display_path(path))))?))
}

/// Shows an artifact without downloading its files.
pub fn inspect(args: InspectArgs) -> Outcome {
    let reference = Reference::parse(&args.reference, Base::Katalog)?;
    let key = read_public_key(args.verify_key.as_deref())?;
    let credential = creds::for_cli(&reference.registry)?;
    let registry = Registry::connect(&reference, &credential, &args.registry.options())?;
    let inspected = super::async_runtime(Some(1))?.block_on(artifact::inspect(&registry, &reference, key.as_ref()))?;
    match args.output {
        Output::Json => output::print_json(&inspected),
        Output::Text => output::print_doc(&crate::report::oci::inspected(&inspected)),
    }
    let bad_signature = key.is_some() && !inspected.signatures.iter().any(|s| s.verified == Some(true));
    Ok(if bad_signature { 1 } else { 0 })
}

/// Makes a signing key pair.
pub fn keygen(args: KeygenArgs) -> Outcome {
    for p in [&args.output_key, &args.output_pub] {
        if p.exists() && !args.force {
            return Err(CliError::Usage(format!("{} exists; pass --force to replace it", display_path(p))).into());
        }
    }
    let files = sign::generate(&passphrase()?).map_err(|e| OciError::Signature(e.to_string()))?;
    write_private(&args.output_key, files.private_pem.as_bytes())?;
    output::write_out(Some(&args.output_pub), &files.public_pem)?;
    let mut doc = Doc::new();
    doc.toned(
        Tone::Good,
        format!("✓ wrote {} (private, encrypted with ${PASSPHRASE_ENV}) and {}", display_path(&args.output_key), display_path(&args.output_pub)),
    );
    doc.push(format!("  sign:   ork push DIR REF --sign-key {}", display_path(&args.output_key)));
    doc.push(format!("  verify: ork pull REF --verify-key {}", display_path(&args.output_pub)));
    output::print_doc(&doc);
    Ok(0)
}

/// Writes the private key readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| CliError::Write { path: path.to_path_buf(), source };
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(err)?;
    f.write_all(bytes).map_err(err)
}
