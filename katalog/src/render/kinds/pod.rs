//! The pod template builder shared by every workload kind: containers (image, command, ports,
//! env and envFrom, probes, resources, security context), the pod spec around them, selector
//! labels and the rolling-update strategy.

use super::fields::{container_name, protocol};
use super::{Ctx, R};
use crate::decode::Str;
use crate::model::resources::*;
use crate::profiles::{ProfileClass, builtin};
use crate::render::meta::label_value;
use crate::template::value::to_text;
use serde_json::{Map, Value, json};

impl Ctx<'_, '_> {
    pub(super) fn capabilities(&mut self, c: &Capabilities) -> R<Value> {
        let mut out = Map::new();
        if !c.add.is_empty() {
            out.insert("add".into(), Value::Array(self.list("capabilities.add", &c.add)?));
        }
        if !c.drop.is_empty() {
            out.insert("drop".into(), Value::Array(self.list("capabilities.drop", &c.drop)?));
        }
        Ok(Value::Object(out))
    }

    pub(super) fn resources(&mut self, r: &Resources) -> R<Value> {
        if let Some(p) = &r.profile {
            return self.profile(ProfileClass::Resources, "resources.profile", p);
        }
        let mut out = Map::new();
        if !r.requests.is_empty() {
            out.insert("requests".into(), Value::Object(self.map("resources.requests", &r.requests)?));
        }
        if !r.limits.is_empty() {
            out.insert("limits".into(), Value::Object(self.map("resources.limits", &r.limits)?));
        }
        Ok(Value::Object(out))
    }

    pub(super) fn security_context(&mut self, s: &SecurityContext) -> R<Value> {
        if let Some(p) = &s.profile {
            return self.profile(ProfileClass::ContainerSecurity, "securityContext.profile", p);
        }
        let mut out = Map::new();
        let flags = [
            ("allowPrivilegeEscalation", s.allow_privilege_escalation),
            ("readOnlyRootFilesystem", s.read_only_root_filesystem),
            ("runAsNonRoot", s.run_as_non_root),
        ];
        for (k, v) in flags {
            if let Some(v) = v {
                out.insert(k.into(), json!(v));
            }
        }
        if let Some(u) = s.run_as_user {
            out.insert("runAsUser".into(), json!(u));
        }
        if let Some(g) = s.run_as_group {
            out.insert("runAsGroup".into(), json!(g));
        }
        if let Some(c) = &s.capabilities {
            out.insert("capabilities".into(), self.capabilities(c)?);
        }
        Ok(Value::Object(out))
    }

    pub(super) fn pod_security(&mut self, s: &PodSecurity) -> R<Value> {
        if let Some(p) = &s.profile {
            return self.profile(ProfileClass::PodSecurity, "podSecurity.profile", p);
        }
        let mut out = Map::new();
        if let Some(v) = s.run_as_non_root {
            out.insert("runAsNonRoot".into(), json!(v));
        }
        for (k, v) in [("runAsUser", s.run_as_user), ("runAsGroup", s.run_as_group), ("fsGroup", s.fs_group)] {
            if let Some(v) = v {
                out.insert(k.into(), json!(v));
            }
        }
        Ok(Value::Object(out))
    }

    pub(super) fn probe(&mut self, which: &str, p: &Probe, container_port: Option<&Value>) -> R<Value> {
        let field = format!("probes.{which}");
        let mut out = match &p.profile {
            Some(name) => self.profile(ProfileClass::Probes, &format!("{field}.profile"), name)?,
            None => builtin(ProfileClass::Probes, "standard").unwrap_or_else(|| json!({})),
        };
        let timings = [
            ("initialDelaySeconds", &p.initial_delay_seconds),
            ("periodSeconds", &p.period_seconds),
            ("failureThreshold", &p.failure_threshold),
            ("successThreshold", &p.success_threshold),
            ("timeoutSeconds", &p.timeout_seconds),
        ];
        for (key, v) in timings {
            if let Some(n) = self.int(&format!("{field}.{key}"), v)? {
                out[key] = json!(n);
            }
        }
        let port = match self.int_or_str(&format!("{field}.port"), &p.port)? {
            Some(port) => port,
            None => container_port.cloned().ok_or_else(|| self.err(&format!("{field}.port"), "the probe needs a `port` (the container declares none)"))?,
        };
        let path = self.s(&format!("{field}.path"), &p.path)?;
        let kind = self.s(&format!("{field}.type"), &p.kind)?.unwrap_or_else(|| if path.is_some() { "http".into() } else { "tcp".into() });
        match kind.to_ascii_lowercase().as_str() {
            "http" => out["httpGet"] = json!({"path": path.unwrap_or_else(|| "/".into()), "port": port}),
            "tcp" => out["tcpSocket"] = json!({"port": port}),
            other => return Err(self.err(&format!("{field}.type"), format!("probe type {other:?} is not http or tcp"))),
        }
        Ok(out)
    }

    pub(super) fn env(&mut self, cf: &ContainerFields) -> R<Vec<Value>> {
        let mut env = Vec::new();
        for (i, e) in cf.env.iter().enumerate() {
            let field = format!("env[{i}]");
            let name = self.required(&format!("{field}.name"), &e.name)?;
            if let Some(vf) = &e.value_from {
                let (key, r) = match (&vf.secret_key_ref, &vf.config_map_key_ref) {
                    (Some(r), None) => ("secretKeyRef", r),
                    (None, Some(r)) => ("configMapKeyRef", r),
                    _ => return Err(self.err(&field, "`valueFrom` needs exactly one of secretKeyRef or configMapKeyRef")),
                };
                let mut rf = Map::new();
                rf.insert("name".into(), json!(self.required(&format!("{field}.valueFrom.name"), &r.name)?));
                rf.insert("key".into(), json!(self.required(&format!("{field}.valueFrom.key"), &r.key)?));
                if let Some(o) = r.optional {
                    rf.insert("optional".into(), json!(o));
                }
                env.push(json!({"name": name, "valueFrom": {key: rf}}));
            } else {
                let value = match &e.value {
                    Some(v) => self.text(&format!("{field}.value"), v)?,
                    None => String::new(),
                };
                env.push(json!({"name": name, "value": value}));
            }
        }
        Ok(env)
    }

    /// `envFrom`: whole-object imports, or per-key env vars when `keys` is given.
    pub(super) fn env_from(&mut self, cf: &ContainerFields, env: &mut Vec<Value>) -> R<Vec<Value>> {
        let mut out = Vec::new();
        let Some(ef) = &cf.env_from else { return Ok(out) };
        for (list, ref_key, key_ref) in [(&ef.config_map_ref, "configMapRef", "configMapKeyRef"), (&ef.secret_ref, "secretRef", "secretKeyRef")] {
            for (i, r) in list.iter().enumerate() {
                let field = format!("envFrom.{ref_key}[{i}]");
                let name = self.required(&format!("{field}.name"), &r.name)?;
                let prefix = self.s(&format!("{field}.prefix"), &r.prefix)?.unwrap_or_default();
                let suffix = self.s(&format!("{field}.suffix"), &r.suffix)?.unwrap_or_default();
                if r.keys.is_empty() {
                    if !suffix.is_empty() {
                        return Err(self.err(&format!("{field}.suffix"), "`suffix` needs `keys` (whole-object imports only take a prefix)"));
                    }
                    let mut m = Map::new();
                    if !prefix.is_empty() {
                        m.insert("prefix".into(), json!(prefix));
                    }
                    let mut target = json!({"name": name});
                    if let Some(o) = r.optional {
                        target["optional"] = json!(o);
                    }
                    m.insert(ref_key.into(), target);
                    out.push(Value::Object(m));
                } else {
                    for k in self.list(&format!("{field}.keys"), &r.keys)? {
                        let key = to_text(&k);
                        let var = format!("{prefix}{key}{suffix}");
                        let mut rf = json!({"name": name, "key": key});
                        if let Some(o) = r.optional {
                            rf["optional"] = json!(o);
                        }
                        env.push(json!({"name": var, "valueFrom": {key_ref: rf}}));
                    }
                }
            }
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn container(
        &mut self,
        name: &str,
        image: String,
        cf: &ContainerFields,
        port: Option<(Value, String)>,
        probes: Option<&Probes>,
        working_dir: &Option<Str>,
        extra_mounts: Vec<Value>,
    ) -> R<Value> {
        let mut c = Map::new();
        c.insert("name".into(), json!(container_name(name)));
        c.insert("image".into(), json!(image));
        if !cf.command.is_empty() {
            c.insert("command".into(), Value::Array(self.list("command", &cf.command)?));
        }
        if !cf.args.is_empty() {
            c.insert("args".into(), Value::Array(self.list("args", &cf.args)?));
        }
        if let Some(dir) = self.s("workingDirectory", working_dir)? {
            c.insert("workingDir".into(), json!(dir));
        }
        if let Some((p, proto)) = &port {
            c.insert("ports".into(), json!([{"containerPort": p, "protocol": proto}]));
        }
        let mut env = self.env(cf)?;
        let env_from = self.env_from(cf, &mut env)?;
        if !env.is_empty() {
            c.insert("env".into(), Value::Array(env));
        }
        if !env_from.is_empty() {
            c.insert("envFrom".into(), Value::Array(env_from));
        }
        if let Some(r) = &cf.resources {
            c.insert("resources".into(), self.resources(r)?);
        }
        if let Some(s) = &cf.security_context {
            c.insert("securityContext".into(), self.security_context(s)?);
        }
        if let Some(p) = probes {
            for (key, probe) in [("startupProbe", &p.startup), ("livenessProbe", &p.liveness), ("readinessProbe", &p.readiness)] {
                if let Some(probe) = probe {
                    let which = key.trim_end_matches("Probe");
                    c.insert(key.into(), self.probe(which, probe, port.as_ref().map(|(p, _)| p))?);
                }
            }
        }
        let mut mounts = Vec::new();
        for (i, m) in cf.volume_mounts.iter().enumerate() {
            let field = format!("volumeMounts[{i}]");
            let mut mount = Map::new();
            mount.insert("name".into(), json!(self.required(&format!("{field}.name"), &m.name)?));
            mount.insert("mountPath".into(), json!(self.required(&format!("{field}.mountPath"), &m.mount_path)?));
            if let Some(sp) = self.s(&format!("{field}.subPath"), &m.sub_path)? {
                mount.insert("subPath".into(), json!(sp));
            }
            if let Some(ro) = m.read_only {
                mount.insert("readOnly".into(), json!(ro));
            }
            mounts.push(Value::Object(mount));
        }
        mounts.extend(extra_mounts);
        if !mounts.is_empty() {
            c.insert("volumeMounts".into(), Value::Array(mounts));
        }
        Ok(Value::Object(c))
    }

    pub(super) fn pod_spec(&mut self, pf: &PodFields, cf: &ContainerFields, container: Value, restart_policy: Option<&str>) -> R<Value> {
        let mut spec = Map::new();
        spec.insert("containers".into(), json!([container]));
        if let Some(rp) = restart_policy {
            spec.insert("restartPolicy".into(), json!(rp));
        }
        if let Some(sa) = self.s("serviceAccountName", &pf.service_account_name)? {
            spec.insert("serviceAccountName".into(), json!(sa));
        }
        if !pf.node_selector.is_empty() {
            spec.insert("nodeSelector".into(), Value::Object(self.map("nodeSelector", &pf.node_selector)?));
        }
        if let Some(ps) = &pf.pod_security {
            spec.insert("securityContext".into(), self.pod_security(ps)?);
        }
        if !cf.image_pull_secrets.is_empty() {
            let names = self.list("imagePullSecrets", &cf.image_pull_secrets)?;
            spec.insert("imagePullSecrets".into(), Value::Array(names.into_iter().map(|n| json!({"name": n})).collect()));
        }
        let mut volumes = Vec::new();
        for (i, v) in pf.volumes.iter().enumerate() {
            let field = format!("volumes[{i}]");
            let mut vol = Map::new();
            vol.insert("name".into(), json!(self.required(&format!("{field}.name"), &v.name)?));
            let mut sources = 0;
            if let Some(cm) = &v.config_map {
                vol.insert("configMap".into(), json!({"name": self.required(&format!("{field}.configMap.name"), &cm.name)?}));
                sources += 1;
            }
            if let Some(s) = &v.secret {
                vol.insert("secret".into(), json!({"secretName": self.required(&format!("{field}.secret.secretName"), &s.secret_name)?}));
                sources += 1;
            }
            if let Some(e) = &v.empty_dir {
                let mut m = Map::new();
                if let Some(medium) = self.s(&format!("{field}.emptyDir.medium"), &e.medium)? {
                    m.insert("medium".into(), json!(medium));
                }
                if let Some(limit) = self.s(&format!("{field}.emptyDir.sizeLimit"), &e.size_limit)? {
                    m.insert("sizeLimit".into(), json!(limit));
                }
                vol.insert("emptyDir".into(), Value::Object(m));
                sources += 1;
            }
            if let Some(p) = &v.persistent_volume_claim {
                let mut m = Map::new();
                m.insert("claimName".into(), json!(self.required(&format!("{field}.persistentVolumeClaim.claimName"), &p.claim_name)?));
                if let Some(ro) = p.read_only {
                    m.insert("readOnly".into(), json!(ro));
                }
                vol.insert("persistentVolumeClaim".into(), Value::Object(m));
                sources += 1;
            }
            if let Some(h) = &v.host_path {
                let mut m = Map::new();
                m.insert("path".into(), json!(self.required(&format!("{field}.hostPath.path"), &h.path)?));
                if let Some(t) = self.s(&format!("{field}.hostPath.type"), &h.kind)? {
                    m.insert("type".into(), json!(t));
                }
                vol.insert("hostPath".into(), Value::Object(m));
                sources += 1;
            }
            if sources != 1 {
                return Err(self.err(&field, "a volume needs exactly one of configMap, secret, emptyDir, persistentVolumeClaim or hostPath"));
            }
            volumes.push(Value::Object(vol));
        }
        if !volumes.is_empty() {
            spec.insert("volumes".into(), Value::Array(volumes));
        }
        Ok(Value::Object(spec))
    }

    /// Pod template labels: the entry's labels plus the workload selector labels.
    pub(super) fn pod_labels(&mut self, common: &EntryCommon, selector: &Map<String, Value>) -> R<Map<String, Value>> {
        let mut labels = self.map("labels", &common.labels)?;
        labels.extend(selector.clone());
        Ok(labels)
    }

    pub(super) fn selector(&self, workload: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(crate::render::LABEL_OWNER.into(), json!(label_value(&self.owner.name)));
        m.insert(crate::render::LABEL_WORKLOAD.into(), json!(label_value(workload)));
        m
    }

    pub(super) fn port(&mut self, port: &Option<Str>, proto: &Option<Str>) -> R<Option<(Value, String)>> {
        let Some(p) = self.int("port", port)? else { return Ok(None) };
        if !(1..=65535).contains(&p) {
            return Err(self.err("port", format!("port {p} is outside 1-65535")));
        }
        Ok(Some((json!(p), protocol(self.s("protocol", proto)?.as_deref()))))
    }

    pub(super) fn rolling_update(&mut self, r: &RollingUpdate) -> R<Value> {
        if let Some(p) = &r.profile {
            return self.profile(ProfileClass::RollingUpdate, "rollingUpdate.profile", p);
        }
        let mut out = Map::new();
        if let Some(v) = self.int_or_str("rollingUpdate.maxSurge", &r.max_surge)? {
            out.insert("maxSurge".into(), v);
        }
        if let Some(v) = self.int_or_str("rollingUpdate.maxUnavailable", &r.max_unavailable)? {
            out.insert("maxUnavailable".into(), v);
        }
        Ok(Value::Object(out))
    }
}
