//! Which values must never be shown, decided once here and used by every surface that reports
//! on a CR: `ork template`, `ork simulate`, `ork e2e`, the reconciler's conditions and Events,
//! the runtime's logs and `/katalog` (docs/reconcile.md, "Sensitive values").
//!
//! A field is **sensitive** when
//! - one of its path segments *names* a secret: its words (split at camelCase, `_`, `-`, `.`;
//!   case-insensitive) include `password`, `passwd`, `passphrase`, `passcode`, `pass`, `pwd`,
//!   `pw`, `secret(s)`, `token(s)`, `key(s)`, `credential(s)`, `cred(s)`, `dsn`,
//!   `authorization`, or a joined form such as `apikey`, `privatekey`, `sshkey`; a single word
//!   that merely contains `password`, `passwd`, `passphrase`, `secret`, `token` or `credential`
//!   counts too (`dbpassword`). A segment that *refers to* a secret rather than holding one —
//!   its last word is `name`, `ref`, `namespace`, `path`, `file`, `type`, `kind`, `length`,
//!   `ttl` or `selector` (`secretName`, `tokenTtl`, `secretKeyRef`) — does not, and neither does
//!   anything below a reference (`secretKeyRef.key`);
//! - or the CRD's openAPI schema marks it `format: password` ([`Sensitivity::from_schema`],
//!   read from the entry's `crdFile`);
//! - or it is read from a Secret: `.children.secret…` in a template names the word `secret`, and
//!   the values of Secrets (`data`, `stringData`) are collected by the `redact::Redactor`.
//!
//! Over-redacting is acceptable, leaking is not: a violation on a sensitive field reports
//! [`REDACTED_VALUE`] instead of the value, and a per-CR `redact::Redactor` scrubs every sensitive
//! value of the CR, of its observed Secrets and of the Secrets it renders from any message
//! (rule messages are templates and may interpolate a value).

mod schema;

pub use schema::{SchemaError, crd_file_schema};

use crate::model::crd::CrdEntry;
use serde_json::Value;

/// What a report shows instead of the value of a sensitive field.
pub const REDACTED_VALUE: &str = "(value redacted: sensitive field)";

/// Words that name a secret when they are one of a segment's words.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "passphrase",
    "passcode",
    "pass",
    "pwd",
    "pw",
    "secret",
    "secrets",
    "token",
    "tokens",
    "key",
    "keys",
    "credential",
    "credentials",
    "cred",
    "creds",
    "dsn",
    "authorization",
];

/// Joined forms: a segment written without word boundaries (`apikey`, `ssh_privatekey`).
const JOINED: &[&str] = &["apikey", "privatekey", "sshkey", "accesskey", "secretkey", "signingkey", "encryptionkey", "clientsecret", "connectionstring"];

/// Words distinctive enough to count when they are only part of a word (`dbpassword`).
const CONTAINED: &[&str] = &["password", "passwd", "passphrase", "secret", "token", "credential"];

/// A segment whose last word is one of these refers to a secret (by name, path or reference)
/// or describes it (type, length, lifetime); it does not hold one.
const REFERENCE_WORDS: &[&str] = &["name", "names", "ref", "refs", "namespace", "path", "file", "type", "kind", "length", "ttl"];

/// The words of a name, lowercase: split at non-alphanumerics and at camelCase boundaries
/// (`APIKey` → `api`, `key`; `oauth2Token` → `oauth2`, `token`).
pub fn name_words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        if c.is_uppercase() && !current.is_empty() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                words.push(std::mem::take(&mut current));
            }
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// How a segment's name relates to secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Segment {
    /// It holds a secret (and so does everything below it).
    Secret,
    /// It refers to a secret: it and everything below it describe the reference.
    Reference,
    /// Neither a secret nor a reference to one.
    Plain,
}

/// Every word and joined form that makes a segment secret contains one of these; a segment
/// whose letters and digits contain none of them cannot be secret (the fast path of
/// [`classify`], which runs for every key of every CR rendered).
const PREFILTER: &[&str] = &["pass", "pw", "secret", "token", "key", "cred", "dsn", "authorization", "connection"];

pub(crate) fn classify(segment: &str) -> Segment {
    plain_at_a_glance(segment).unwrap_or_else(|| classify_words(segment))
}

/// [`classify`] by the words of the segment.
fn classify_words(segment: &str) -> Segment {
    let words = name_words(segment);
    let Some(last) = words.last() else { return Segment::Plain };
    if words.len() > 1 && (REFERENCE_WORDS.contains(&last.as_str()) || last == "selector") {
        return Segment::Reference;
    }
    let joined: String = words.concat();
    let secret = words.iter().any(|w| SECRET_WORDS.contains(&w.as_str()) || CONTAINED.iter().any(|c| w.contains(c)))
        || JOINED.iter().any(|j| joined.contains(j))
        || CONTAINED.iter().any(|c| joined.contains(c));
    if secret { Segment::Secret } else { Segment::Plain }
}

/// `Some(Plain)` when an ASCII segment of up to 64 letters and digits can neither hold nor refer
/// to a secret, decided without allocating; `None` when [`classify`] must look at its words.
fn plain_at_a_glance(segment: &str) -> Option<Segment> {
    let mut buf = [0u8; 64];
    let mut n = 0;
    for b in segment.bytes() {
        if !b.is_ascii() || n == buf.len() {
            return None;
        }
        if b.is_ascii_alphanumeric() {
            buf[n] = b.to_ascii_lowercase();
            n += 1;
        }
    }
    let joined = &buf[..n];
    let has = |p: &str| joined.windows(p.len()).any(|w| w == p.as_bytes());
    let maybe_secret = PREFILTER.iter().any(|p| has(p));
    let maybe_reference = REFERENCE_WORDS.iter().chain(&["selector"]).any(|w| joined.len() > w.len() && joined.ends_with(w.as_bytes()));
    (!maybe_secret && !maybe_reference).then_some(Segment::Plain)
}

/// Whether a single name (a field, a key) names a secret by the rule in the module
/// documentation.
pub fn sensitive_name(name: &str) -> bool {
    classify(name) == Segment::Secret
}

/// Whether a concrete path (`["spec", "db", "password"]`) is sensitive by its names: a segment
/// names a secret before any segment refers to one.
pub fn sensitive_segments<S: AsRef<str>>(segments: &[S]) -> bool {
    for s in segments {
        match classify(s.as_ref()) {
            Segment::Secret => return true,
            Segment::Reference => return false,
            Segment::Plain => {}
        }
    }
    false
}

/// The dot paths a rule field or template mentions: the field itself (`spec.password`,
/// `.spec.password`), or each `.a.b` / `"a.b"` run inside a template.
fn mentioned_paths(field: &str) -> Vec<Vec<String>> {
    let runs: Vec<&str> = if field.contains("{{") {
        field.split(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))).filter(|r| !r.is_empty()).collect()
    } else {
        vec![field.trim()]
    };
    runs.into_iter()
        .map(|r| r.trim_start_matches('$').split('.').filter(|s| !s.is_empty()).map(str::to_string).collect::<Vec<String>>())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The sensitivity rule of one CRD entry: the name rule plus the paths its schema marks
/// `format: password`. Holds no values, so its `Debug` shows nothing secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sensitivity {
    /// Paths from the CR's root (`spec.db.pass`); `*` stands for any array item or map key.
    schema: Vec<Vec<String>>,
}

impl Sensitivity {
    /// The name rule alone (no schema).
    pub const NAMES_ONLY: Sensitivity = Sensitivity { schema: Vec::new() };

    /// The paths an `openAPIV3Schema` marks `format: password`.
    pub fn from_schema(open_api_v3_schema: &Value) -> Sensitivity {
        let mut schema = Vec::new();
        schema::password_paths(open_api_v3_schema, &mut Vec::new(), &mut schema, 0);
        schema.sort();
        schema.dedup();
        Sensitivity { schema }
    }

    /// The sensitivity of a CRD entry: its `crdFile`'s schema for the entry's version (or the
    /// first), read from disk. A crdFile that cannot be read leaves the name rule alone in
    /// force (`ork validate` reports the file).
    pub fn of_entry(entry: &CrdEntry) -> Sensitivity {
        let Some(path) = &entry.crd_file_path else { return Sensitivity::default() };
        let (kind, version) = crate::kinds::api_identity(entry).map(|i| (i.kind, i.version)).unwrap_or_default();
        match crd_file_schema(path, &kind, &version) {
            Ok(Some(s)) => Sensitivity::from_schema(s.get("openAPIV3Schema").unwrap_or(&s)),
            _ => Sensitivity::default(),
        }
    }

    /// The schema-marked paths, dotted (`spec.users.*.pin`), for reports and tests.
    pub fn schema_paths(&self) -> Vec<String> {
        self.schema.iter().map(|p| p.join(".")).collect()
    }

    /// Whether a concrete path is sensitive: by its names, or because it lies on a path the
    /// schema marks (either is a prefix of the other: a rule on `spec.db` reports the object
    /// that holds `spec.db.pass`).
    pub fn segments<S: AsRef<str>>(&self, path: &[S]) -> bool {
        sensitive_segments(path) || self.schema_marks(path)
    }

    /// Whether the schema marks `path`, a path inside one it marks, or a path that holds one.
    pub(crate) fn schema_marks<S: AsRef<str>>(&self, path: &[S]) -> bool {
        self.schema.iter().any(|p| p.iter().zip(path).all(|(want, have)| want == "*" || want == have.as_ref()))
    }

    /// Whether a rule's `field` (a dot path, or a template that reads the data) is sensitive.
    /// For a template every path it mentions counts (`{{ .children.secret.data.x }}` names
    /// `secret`; so does `{{ get .children "secret.data.x" }}`).
    pub fn field(&self, field: &str) -> bool {
        mentioned_paths(field).iter().any(|p| self.segments(p))
    }

    /// Whether the target of a JSON pointer (`/spec/password`, from a mutation) is sensitive.
    pub fn pointer(&self, pointer: &str) -> bool {
        let segments: Vec<String> = pointer.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect();
        self.segments(&segments)
    }
}

#[cfg(test)]
pub(crate) mod tests;
