//! Named profiles (`resources: small`, `probes: web`, ...): the Katalog's own profiles first,
//! then the built-in ones.

use super::fields::non_empty;
use super::{Ctx, R};
use crate::decode::Str;
use crate::profiles::{ProfileClass, builtin};
use serde_json::{Map, Value, json};

impl Ctx<'_, '_> {
    /// A profile's values: user-defined (exact name) first, then built-in (any case).
    pub(super) fn profile(&mut self, class: ProfileClass, field: &str, name: &Str) -> R<Value> {
        let name = self.text(field, name)?;
        if let Some(v) = self.user_profile(class, field, &name)? {
            return Ok(v);
        }
        builtin(class, &name).ok_or_else(|| {
            let known = crate::profiles::builtin_names(class).join(", ");
            self.err(field, format!("unknown {} {name:?} (built-in: {known})", class.describe()))
        })
    }

    pub(super) fn user_profile(&mut self, class: ProfileClass, field: &str, name: &str) -> R<Option<Value>> {
        let katalog = self.katalog;
        let Some(p) = &katalog.profiles else { return Ok(None) };
        fn find<'p, T>(list: &'p [T], name: &str, key: fn(&T) -> &Option<Str>) -> Option<&'p T> {
            list.iter().find(|e| key(e).as_ref().is_some_and(|n| n.value == name))
        }
        let mut obj = Map::new();
        macro_rules! put {
            ($key:literal, $v:expr) => {
                if let Some(v) = $v {
                    obj.insert($key.into(), v);
                }
            };
        }
        match class {
            ProfileClass::Resources => {
                let Some(e) = find(&p.resources, name, |e| &e.name) else { return Ok(None) };
                put!("requests", Some(Value::Object(self.map(field, &e.requests)?)).filter(non_empty));
                put!("limits", Some(Value::Object(self.map(field, &e.limits)?)).filter(non_empty));
            }
            ProfileClass::ContainerSecurity => {
                let Some(e) = find(&p.container_security, name, |e| &e.name) else { return Ok(None) };
                put!("allowPrivilegeEscalation", e.allow_privilege_escalation.map(Value::Bool));
                put!("readOnlyRootFilesystem", e.read_only_root_filesystem.map(Value::Bool));
                put!("runAsNonRoot", e.run_as_non_root.map(Value::Bool));
                put!("runAsUser", e.run_as_user.map(Value::from));
                put!("runAsGroup", e.run_as_group.map(Value::from));
                put!("capabilities", e.capabilities.as_ref().map(|c| self.capabilities(c)).transpose()?);
            }
            ProfileClass::PodSecurity => {
                let Some(e) = find(&p.pod_security, name, |e| &e.name) else { return Ok(None) };
                put!("runAsNonRoot", e.run_as_non_root.map(Value::Bool));
                put!("runAsUser", e.run_as_user.map(Value::from));
                put!("runAsGroup", e.run_as_group.map(Value::from));
                put!("fsGroup", e.fs_group.map(Value::from));
            }
            ProfileClass::Probes => {
                let Some(e) = find(&p.probes, name, |e| &e.name) else { return Ok(None) };
                put!("initialDelaySeconds", self.int(field, &e.initial_delay_seconds)?.map(Value::from));
                put!("periodSeconds", self.int(field, &e.period_seconds)?.map(Value::from));
                put!("failureThreshold", self.int(field, &e.failure_threshold)?.map(Value::from));
                put!("successThreshold", self.int(field, &e.success_threshold)?.map(Value::from));
                put!("timeoutSeconds", self.int(field, &e.timeout_seconds)?.map(Value::from));
            }
            ProfileClass::RollingUpdate => {
                let Some(e) = find(&p.rolling_update, name, |e| &e.name) else { return Ok(None) };
                put!("maxSurge", self.int_or_str(field, &e.max_surge)?);
                put!("maxUnavailable", self.int_or_str(field, &e.max_unavailable)?);
            }
            ProfileClass::Pdb => {
                let Some(e) = find(&p.pdb, name, |e| &e.name) else { return Ok(None) };
                put!("minAvailable", self.int_or_str(field, &e.min_available)?);
                put!("maxUnavailable", self.int_or_str(field, &e.max_unavailable)?);
            }
            ProfileClass::Hpa => {
                let Some(e) = find(&p.hpa, name, |e| &e.name) else { return Ok(None) };
                put!("minReplicas", self.int(field, &e.min_replicas)?.map(Value::from));
                put!("maxReplicas", self.int(field, &e.max_replicas)?.map(Value::from));
                put!("targetCPUUtilizationPercentage", self.int(field, &e.target_cpu_utilization_percentage)?.map(Value::from));
                put!("behavior", e.behavior.as_ref().map(|b| self.behavior_rules(b)).transpose()?);
            }
            ProfileClass::NetworkPolicies => {
                let Some(e) = find(&p.network_policies, name, |e| &e.name) else { return Ok(None) };
                put!("podSelector", e.pod_selector.as_ref().map(|m| self.map(field, m).map(|m| json!({"matchLabels": m}))).transpose()?);
                put!("ingress", e.ingress.as_ref().map(|r| self.ingress_rules(r)).transpose()?);
                put!("egress", e.egress.as_ref().map(|r| self.egress_rules(r)).transpose()?);
                if !e.policy_types.is_empty() {
                    obj.insert("policyTypes".into(), Value::Array(self.list(field, &e.policy_types)?));
                }
            }
            ProfileClass::ResourceQuotas => {
                let Some(e) = find(&p.resource_quotas, name, |e| &e.name) else { return Ok(None) };
                obj.insert("hard".into(), Value::Object(self.map(field, &e.hard)?));
            }
            ProfileClass::LimitRanges => {
                let Some(e) = find(&p.limit_ranges, name, |e| &e.name) else { return Ok(None) };
                obj.insert("limits".into(), self.limit_items(&e.limits)?);
            }
            ProfileClass::Reconciler => return Ok(None),
        }
        Ok(Some(Value::Object(obj)))
    }
}
