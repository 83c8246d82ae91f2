//! Workload kinds and their scaling companions: Deployment, StatefulSet, Job, CronJob,
//! PodDisruptionBudget and HorizontalPodAutoscaler.

use super::{Ctx, R};
use crate::decode::Str;
use crate::model::resources::*;
use crate::profiles::ProfileClass;
use crate::render::meta::label_value;
use serde_json::{Map, Value, json};

impl Ctx<'_, '_> {
    /// An HPA `behavior` block (scaleUp/scaleDown windows, select policy and policies), shared
    /// by the `hpa` kind and HPA profiles.
    pub(super) fn behavior_rules(&mut self, b: &Behavior) -> R<Value> {
        let mut out = Map::new();
        for (key, rules) in [("scaleUp", &b.scale_up), ("scaleDown", &b.scale_down)] {
            let Some(r) = rules else { continue };
            let mut m = Map::new();
            if let Some(w) = self.int("behavior.stabilizationWindowSeconds", &r.stabilization_window_seconds)? {
                m.insert("stabilizationWindowSeconds".into(), json!(w));
            }
            if let Some(s) = self.s("behavior.selectPolicy", &r.select_policy)? {
                m.insert("selectPolicy".into(), json!(s));
            }
            let mut policies = Vec::new();
            for p in &r.policies {
                policies.push(json!({
                    "type": self.required("behavior.policies.type", &p.kind)?,
                    "value": self.int("behavior.policies.value", &p.value)?.unwrap_or(0),
                    "periodSeconds": self.int("behavior.policies.periodSeconds", &p.period_seconds)?.unwrap_or(60),
                }));
            }
            if !policies.is_empty() {
                m.insert("policies".into(), Value::Array(policies));
            }
            out.insert(key.into(), Value::Object(m));
        }
        Ok(Value::Object(out))
    }
}

pub(super) fn deployment(c: &mut Ctx<'_, '_>, e: &Deployment) -> R<Value> {
    let (name, _, meta) = c.meta(&e.common, true)?;
    let image = c.required("image", &e.container.image)?;
    let port = c.port(&e.port, &e.protocol)?;
    let container = c.container(&name, image, &e.container, port, e.probes.as_ref(), &e.working_directory, Vec::new())?;
    let selector = c.selector(&name);
    let pod = c.pod_spec(&e.pod, &e.container, container, None)?;
    let replicas = c.int_or("replicas", &e.replicas, 1)?;
    if replicas < 0 {
        return Err(c.err("replicas", format!("replicas must not be negative, got {replicas}")));
    }
    let labels = c.pod_labels(&e.common, &selector)?;
    let mut spec = json!({
        "replicas": replicas,
        "selector": {"matchLabels": selector},
        "template": {"metadata": {"labels": labels}, "spec": pod},
    });
    if let Some(r) = &e.rolling_update {
        spec["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": c.rolling_update(r)?});
    }
    Ok(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}))
}

pub(super) fn stateful_set(c: &mut Ctx<'_, '_>, e: &StatefulSet) -> R<Value> {
    let (name, _, meta) = c.meta(&e.common, true)?;
    let mut image = c.required("image", &e.container.image)?;
    let last = image.rsplit('/').next().unwrap_or_default();
    if !last.contains(':') && !last.contains('@') {
        image = format!("{image}:{}", c.s_or("tag", &e.tag, "latest")?);
    }
    let mut claims = Vec::new();
    let mut mounts = Vec::new();
    for (i, v) in e.volume_claim_templates.iter().enumerate() {
        let field = format!("volumeClaimTemplates[{i}]");
        let claim = c.s_or(&format!("{field}.name"), &v.name, "data")?;
        let mut spec = Map::new();
        let modes = if v.access_modes.is_empty() { vec![json!("ReadWriteOnce")] } else { c.list(&format!("{field}.accessModes"), &v.access_modes)? };
        spec.insert("accessModes".into(), Value::Array(modes));
        if let Some(sc) = c.s(&format!("{field}.storageClass"), &v.storage_class)? {
            spec.insert("storageClassName".into(), json!(sc));
        }
        spec.insert("resources".into(), json!({"requests": {"storage": c.s_or(&format!("{field}.storageSize"), &v.storage_size, "1Gi")?}}));
        claims.push(json!({"metadata": {"name": claim}, "spec": spec}));
        mounts.push(json!({"name": claim, "mountPath": c.s_or(&format!("{field}.mountPath"), &v.mount_path, "/data")?}));
    }
    let port = c.port(&e.port, &e.protocol)?;
    let container = c.container(&name, image, &e.container, port, e.probes.as_ref(), &None, mounts)?;
    let selector = c.selector(&name);
    let pod = c.pod_spec(&e.pod, &e.container, container, None)?;
    let labels = c.pod_labels(&e.common, &selector)?;
    let mut spec = json!({
        "replicas": c.int_or("replicas", &e.replicas, 1)?,
        "serviceName": c.s_or("serviceName", &e.service_name, &name)?,
        "selector": {"matchLabels": selector},
        "template": {"metadata": {"labels": labels}, "spec": pod},
    });
    if !claims.is_empty() {
        spec["volumeClaimTemplates"] = Value::Array(claims);
    }
    if let Some(r) = &e.rolling_update {
        // StatefulSets take maxUnavailable only.
        let ru = c.rolling_update(r)?;
        if let Some(mu) = ru.get("maxUnavailable") {
            spec["updateStrategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": mu}});
        }
    }
    Ok(json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta, "spec": spec}))
}

pub(super) fn job_template(c: &mut Ctx<'_, '_>, name: &str, common: &EntryCommon, cf: &ContainerFields, pf: &PodFields, wd: &Option<Str>) -> R<Value> {
    let image = c.required("image", &cf.image)?;
    let container = c.container(name, image, cf, None, None, wd, Vec::new())?;
    let pod = c.pod_spec(pf, cf, container, Some("Never"))?;
    let labels = c.map("labels", &common.labels)?;
    Ok(json!({"metadata": {"labels": labels}, "spec": pod}))
}

pub(super) fn job(c: &mut Ctx<'_, '_>, e: &Job) -> R<Value> {
    let (name, _, meta) = c.meta(&e.common, true)?;
    let template = job_template(c, &name, &e.common, &e.container, &e.pod, &e.working_directory)?;
    let backoff = c.int_or("backoffLimit", &e.backoff_limit, 3)?;
    Ok(json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
        "spec": {"backoffLimit": backoff, "template": template}}))
}

pub(super) fn cron_job(c: &mut Ctx<'_, '_>, e: &CronJob) -> R<Value> {
    let (name, _, meta) = c.meta(&e.common, true)?;
    let template = job_template(c, &name, &e.common, &e.container, &e.pod, &e.working_directory)?;
    let policy = match c.s_or("concurrencyPolicy", &e.concurrency_policy, "allow")?.to_ascii_lowercase().as_str() {
        "allow" => "Allow",
        "forbid" => "Forbid",
        "replace" => "Replace",
        other => return Err(c.err("concurrencyPolicy", format!("{other:?} is not allow, forbid or replace"))),
    };
    let mut spec = json!({
        "schedule": c.required("schedule", &e.schedule)?,
        "suspend": c.bool_or("suspend", &e.suspend, false)?,
        "concurrencyPolicy": policy,
        "successfulJobsHistoryLimit": c.int_or("successfulJobsHistoryLimit", &e.successful_jobs_history_limit, 3)?,
        "failedJobsHistoryLimit": c.int_or("failedJobsHistoryLimit", &e.failed_jobs_history_limit, 1)?,
        "jobTemplate": {"spec": {"template": template}},
    });
    if let Some(d) = c.int("startingDeadlineSeconds", &e.starting_deadline_seconds)? {
        spec["startingDeadlineSeconds"] = json!(d);
    }
    Ok(json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta, "spec": spec}))
}

pub(super) fn pdb(c: &mut Ctx<'_, '_>, e: &Pdb) -> R<Value> {
    let (_, _, meta) = c.meta(&e.common, true)?;
    let selector = if e.selector.is_empty() {
        let mut m = Map::new();
        m.insert(crate::render::LABEL_OWNER.into(), json!(label_value(c.cr_name())));
        m
    } else {
        c.map("selector", &e.selector)?
    };
    let mut spec = match e.behavior.as_ref().and_then(|b| b.profile.as_ref()) {
        Some(p) => c.profile(ProfileClass::Pdb, "behavior.profile", p)?,
        None => json!({}),
    };
    if let Some(v) = c.int_or_str("minAvailable", &e.min_available)? {
        spec["minAvailable"] = v;
    }
    if let Some(v) = c.int_or_str("maxUnavailable", &e.max_unavailable)? {
        spec["maxUnavailable"] = v;
    }
    if spec.get("minAvailable").is_some() && spec.get("maxUnavailable").is_some() {
        return Err(c.err("minAvailable", "a PodDisruptionBudget takes minAvailable or maxUnavailable, not both"));
    }
    spec["selector"] = json!({"matchLabels": selector});
    Ok(json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta, "spec": spec}))
}

pub(super) fn hpa(c: &mut Ctx<'_, '_>, e: &Hpa) -> R<Value> {
    let (_, _, meta) = c.meta(&e.common, true)?;
    let profile = match e.behavior.as_ref().and_then(|b| b.profile.as_ref()) {
        Some(p) => c.profile(ProfileClass::Hpa, "behavior.profile", p)?,
        None => json!({}),
    };
    let target = e.scale_target_ref.clone().unwrap_or_default();
    let default_target = format!("{}-deployment", c.cr_name());
    let scale_target = json!({
        "apiVersion": c.s_or("scaleTargetRef.apiVersion", &target.api_version, "apps/v1")?,
        "kind": c.s_or("scaleTargetRef.kind", &target.kind, "Deployment")?,
        "name": c.s_or("scaleTargetRef.name", &target.name, &default_target)?,
    });
    let min = c.int("minReplicas", &e.min_replicas)?.or_else(|| profile.get("minReplicas").and_then(Value::as_i64)).unwrap_or(1);
    let max = c
        .int("maxReplicas", &e.max_replicas)?
        .or_else(|| profile.get("maxReplicas").and_then(Value::as_i64))
        .ok_or_else(|| c.err("maxReplicas", "`maxReplicas` is required for hpa entries"))?;
    if max < min {
        return Err(c.err("maxReplicas", format!("maxReplicas ({max}) is below minReplicas ({min})")));
    }
    let cpu = c
        .int("targetCPUUtilizationPercentage", &e.target_cpu_utilization_percentage)?
        .or_else(|| profile.get("targetCPUUtilizationPercentage").and_then(Value::as_i64))
        .unwrap_or(80);
    let mut spec = json!({
        "scaleTargetRef": scale_target,
        "minReplicas": min,
        "maxReplicas": max,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu}}}],
    });
    let explicit = match &e.behavior {
        Some(b) if b.scale_up.is_some() || b.scale_down.is_some() => Some(c.behavior_rules(b)?),
        _ => None,
    };
    if let Some(b) = explicit.or_else(|| profile.get("behavior").cloned()) {
        spec["behavior"] = b;
    }
    Ok(json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta, "spec": spec}))
}
