//! The housekeeper: keeps the gateway's surface in the cluster as the Katalog declares it.
//!
//! One pass, in this order:
//! 1. the TLS Secret ([`super::certs`]): reuse, restore from memory, replace, or rotate;
//! 2. exactly the declared webhook configurations: created when missing, updated when their
//!    labels or webhooks differ (only those two are compared, so the API server's own fields
//!    never cause a write, and an equal configuration is not rewritten), with the CA bundle;
//! 3. the configurations of features the Katalog no longer declares: deleted (declarative
//!    removal; the RBAC grants `get, delete` on exactly those names);
//! 4. the conversion stanza (`strategy: Webhook`, the client config with the CA bundle,
//!    `conversionReviewVersions`) of each CRD whose `admission.conversion.updateCRD` is true;
//! 5. the new TLS certificate is served — after the bundles trust it, so a rotation never
//!    leaves the API server with a certificate it does not trust.
//!
//! Passes run at start and every `sync_interval` (default 2 s, so a configuration that is
//! deleted or edited is back within 5 s). The check is a GET of each of our objects by name,
//! not a cluster-wide watch: RBAC cannot restrict `list`/`watch` to object names, and the
//! gateway's rules on webhook configurations, Secrets and CRDs stay name-restricted (a gateway
//! that may watch every Secret of the cluster would be a far worse thing to lose). A handful of
//! GETs every two seconds costs the API server next to nothing.
//!
//! A failed step is logged (once per distinct error) and counted, and never stops the loop.
//! With leader election only the leader writes; the other replicas adopt the certificate the
//! leader keeps in the Secret.

use super::Reach;
use super::certs::{CertError, Tls};
use super::configs;
use crate::cluster::{ApiResource, Cluster, ClusterError, Patch, Propagation};
use crate::serve::metrics::{family, label};
use katalog::admission::Gate;
use katalog::install::{GatewayPlan, WebhookConfig};
use katalog::template::base64_encode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

/// A step of a pass that failed.
#[derive(Debug, thiserror::Error)]
pub enum HousekeeperError {
    /// The TLS material.
    #[error(transparent)]
    Tls(#[from] CertError),
    /// A webhook configuration could not be read, written or deleted.
    #[error("{kind} {name}: {source}")]
    Config {
        /// Its kind.
        kind: &'static str,
        /// Its name.
        name: String,
        /// The API error.
        #[source]
        source: ClusterError,
    },
    /// The conversion stanza of a CRD could not be read or written.
    #[error("CustomResourceDefinition {name}: {source}")]
    Crd {
        /// `plural.group`.
        name: String,
        /// The API error.
        #[source]
        source: ClusterError,
    },
}

impl HousekeeperError {
    fn step(&self) -> &'static str {
        match self {
            HousekeeperError::Tls(_) => "tls",
            HousekeeperError::Config { .. } => "webhook-configuration",
            HousekeeperError::Crd { .. } => "crd-conversion",
        }
    }
}

/// What the housekeeper counts, for `/metrics`.
#[derive(Default)]
pub struct Stats {
    inner: Mutex<StatsInner>,
}

#[derive(Default)]
struct StatsInner {
    passes: u64,
    failures: BTreeMap<&'static str, u64>,
    /// (object kind, action) → count.
    writes: BTreeMap<(&'static str, &'static str), u64>,
    last_error: Option<String>,
}

impl Stats {
    fn pass(&self, errors: &[HousekeeperError]) {
        if let Ok(mut s) = self.inner.lock() {
            s.passes += 1;
            for e in errors {
                *s.failures.entry(e.step()).or_default() += 1;
            }
            s.last_error = errors.first().map(ToString::to_string);
        }
    }

    fn wrote(&self, kind: &'static str, action: &'static str) {
        if let Ok(mut s) = self.inner.lock() {
            *s.writes.entry((kind, action)).or_default() += 1;
        }
    }

    /// How many times `kind` objects were `action` (`created`, `updated`, `deleted`).
    pub fn writes(&self, kind: &str, action: &str) -> u64 {
        self.inner.lock().map(|s| s.writes.iter().filter(|((k, a), _)| *k == kind && *a == action).map(|(_, n)| *n).sum()).unwrap_or(0)
    }

    /// Failed steps so far.
    pub fn failures(&self) -> u64 {
        self.inner.lock().map(|s| s.failures.values().sum()).unwrap_or(0)
    }

    /// The first error of the last pass, if it failed.
    pub fn last_error(&self) -> Option<String> {
        self.inner.lock().ok().and_then(|s| s.last_error.clone())
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let Ok(s) = self.inner.lock() else { return out };
        family(&mut out, "ork_gateway_housekeeper_passes_total", "counter", "Housekeeper passes run.");
        let _ = writeln!(out, "ork_gateway_housekeeper_passes_total {}", s.passes);
        family(&mut out, "ork_gateway_housekeeper_failures_total", "counter", "Failed housekeeper steps, by step.");
        for (step, n) in &s.failures {
            let _ = writeln!(out, "ork_gateway_housekeeper_failures_total{{step=\"{}\"}} {n}", label(step));
        }
        family(&mut out, "ork_gateway_housekeeper_writes_total", "counter", "Objects the housekeeper created, updated or deleted, by kind and action.");
        for ((kind, action), n) in &s.writes {
            let _ = writeln!(out, "ork_gateway_housekeeper_writes_total{{kind=\"{}\",action=\"{}\"}} {n}", label(kind), label(action));
        }
        out
    }
}

fn resource(group: &str, kind: &str, plural: &str, namespaced: bool) -> ApiResource {
    katalog::kinds::known(group, kind).unwrap_or(ApiResource {
        group: group.into(),
        version: "v1".into(),
        kind: kind.into(),
        plural: plural.into(),
        namespaced,
    })
}

fn config_resource(c: WebhookConfig) -> ApiResource {
    resource("admissionregistration.k8s.io", c.kind(), c.resource(), false)
}

fn crd_resource() -> ApiResource {
    resource("apiextensions.k8s.io", "CustomResourceDefinition", "customresourcedefinitions", false)
}

/// Keeps the gateway's objects in the cluster.
pub struct Housekeeper<C> {
    cluster: Arc<C>,
    gate: Arc<Gate>,
    plan: GatewayPlan,
    namespace: String,
    reach: Reach,
    tls: Arc<Tls>,
    stats: Arc<Stats>,
    last_logged: Mutex<Option<String>>,
}

impl<C: Cluster + 'static> Housekeeper<C> {
    /// A housekeeper for the Katalog of `gate`, installed in `namespace`, reached at `reach`.
    pub fn new(cluster: Arc<C>, gate: Arc<Gate>, plan: GatewayPlan, namespace: &str, reach: Reach, tls: Arc<Tls>) -> Housekeeper<C> {
        Housekeeper { cluster, gate, plan, namespace: namespace.into(), reach, tls, stats: Arc::default(), last_logged: Mutex::new(None) }
    }

    /// Its counters.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// One pass (see the module documentation). `writer`: this replica leads (or runs alone);
    /// otherwise it only adopts the leader's certificate. `Ok` when every step succeeded.
    pub async fn pass(&self, writer: bool) -> Result<(), Vec<HousekeeperError>> {
        let now = katalog::time::unix_now();
        let mut errors = Vec::new();
        match self.tls.prepare(self.cluster.as_ref(), now, writer).await {
            Err(e) => errors.push(e.into()),
            Ok(prepared) if !writer => {
                if let Err(e) = self.tls.commit(self.cluster.as_ref(), prepared, now).await {
                    errors.push(e.into());
                }
            }
            Ok(prepared) => {
                let bundle = base64_encode(prepared.material.ca_bundle(now).as_bytes());
                for (config, object) in configs::desired(&self.gate, &self.plan, &self.namespace, &self.reach, &bundle) {
                    if let Err(e) = self.apply(config, &object).await {
                        errors.push(e);
                    }
                }
                for config in WebhookConfig::ALL.into_iter().filter(|c| self.plan.config(*c).is_none()) {
                    if let Err(e) = self.remove(config).await {
                        errors.push(e);
                    }
                }
                let stanza = configs::conversion_stanza(&self.reach, &bundle);
                for crd in &self.plan.update_crds {
                    if let Some(name) = configs::crd_name(&self.gate, crd)
                        && let Err(e) = self.conversion(&name, &stanza).await
                    {
                        errors.push(e);
                    }
                }
                // A new CA must be in every bundle before its certificate is served; otherwise
                // keep serving the old one and rotate again next pass.
                if (errors.is_empty() || !prepared.rotates())
                    && let Err(e) = self.tls.commit(self.cluster.as_ref(), prepared, now).await
                {
                    errors.push(e.into());
                }
            }
        }
        self.stats.pass(&errors);
        self.log(&errors);
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// Logs a failed pass once per distinct set of errors, and the recovery.
    fn log(&self, errors: &[HousekeeperError]) {
        let text = (!errors.is_empty()).then(|| errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "));
        let Ok(mut last) = self.last_logged.lock() else { return };
        if *last == text {
            return;
        }
        match &text {
            Some(t) => tracing::warn!(namespace = %self.namespace, "housekeeper: {t}; retrying"),
            None => tracing::info!(namespace = %self.namespace, "housekeeper: every webhook configuration is as declared"),
        }
        *last = text;
    }

    /// Creates or updates one configuration; an equal one (labels and webhooks) is left alone.
    async fn apply(&self, config: WebhookConfig, desired: &Value) -> Result<(), HousekeeperError> {
        let r = config_resource(config);
        let name = config.name(&self.namespace);
        let err = |source| HousekeeperError::Config { kind: config.kind(), name: name.clone(), source };
        let current = match self.cluster.get(&r, None, &name).await {
            Ok(c) => c,
            Err(e) if e.is_not_found() => {
                return match self.cluster.create(&r, None, desired).await {
                    Ok(_) => {
                        self.stats.wrote(config.kind(), "created");
                        tracing::info!("{} {name} created", config.kind());
                        Ok(())
                    }
                    // Another replica was faster: compared on the next pass.
                    Err(ClusterError::AlreadyExists { .. }) => Ok(()),
                    Err(e) => Err(err(e)),
                };
            }
            Err(e) => return Err(err(e)),
        };
        let labels_equal = current.pointer("/metadata/labels") == desired.pointer("/metadata/labels");
        let webhooks_equal = current.get("webhooks") == desired.get("webhooks");
        if labels_equal && webhooks_equal {
            return Ok(());
        }
        let mut next = current.clone();
        next["metadata"]["labels"] = desired["metadata"]["labels"].clone();
        next["webhooks"] = desired["webhooks"].clone();
        match self.cluster.update(&r, None, &next).await {
            Ok(_) => {
                self.stats.wrote(config.kind(), "updated");
                tracing::info!("{} {name} restored to what the Katalog declares", config.kind());
                Ok(())
            }
            Err(ClusterError::Conflict { .. }) => Ok(()),
            Err(e) => Err(err(e)),
        }
    }

    /// Deletes the configuration of a feature that is not declared, if it exists.
    async fn remove(&self, config: WebhookConfig) -> Result<(), HousekeeperError> {
        let r = config_resource(config);
        let name = config.name(&self.namespace);
        let err = |source| HousekeeperError::Config { kind: config.kind(), name: name.clone(), source };
        match self.cluster.get(&r, None, &name).await {
            Ok(_) => {}
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(err(e)),
        }
        match self.cluster.delete(&r, None, &name, Propagation::Background).await {
            Ok(()) => {
                self.stats.wrote(config.kind(), "deleted");
                tracing::info!("{} {name} deleted: the Katalog no longer declares its feature", config.kind());
                Ok(())
            }
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(err(e)),
        }
    }

    /// Writes the conversion stanza of the CRD `name` when it differs.
    async fn conversion(&self, name: &str, stanza: &Value) -> Result<(), HousekeeperError> {
        let r = crd_resource();
        let err = |source| HousekeeperError::Crd { name: name.to_string(), source };
        let crd = self.cluster.get(&r, None, name).await.map_err(err)?;
        if configs::conversion_matches(crd.pointer("/spec/conversion"), stanza) {
            return Ok(());
        }
        self.cluster.patch(&r, None, name, &Patch::Merge(json!({"spec": {"conversion": stanza}}))).await.map_err(err)?;
        self.stats.wrote("CustomResourceDefinition", "updated");
        tracing::info!("CustomResourceDefinition {name}: conversion webhook and CA bundle written");
        Ok(())
    }

    /// On a graceful stop: deletes the configurations whose feature sets `cleanupOnShutdown`,
    /// and then the TLS Secret when any does (ork generated it).
    pub async fn cleanup(&self) {
        for d in self.plan.configs.iter().filter(|d| d.cleanup_on_shutdown) {
            let r = config_resource(d.config);
            let name = d.config.name(&self.namespace);
            match self.cluster.delete(&r, None, &name, Propagation::Background).await {
                Ok(()) => tracing::info!("{} {name} deleted (cleanupOnShutdown)", d.config.kind()),
                Err(e) if e.is_not_found() => {}
                Err(e) => tracing::warn!("cleanupOnShutdown: cannot delete {} {name}: {e}", d.config.kind()),
            }
        }
        if self.plan.any_cleanup()
            && let Err(e) = self.tls.delete_secret(self.cluster.as_ref()).await
        {
            tracing::warn!("cleanupOnShutdown: {e}");
        }
    }
}
