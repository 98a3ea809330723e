//! A [`Store`] wrapper handed to a job runner so the worker can time the
//! job's phases without the runner knowing about metrics.
//!
//! Every call is passed through unchanged. `update_deployment` calls that
//! change the phase (or end the job with a final status) close the previous
//! phase: every phase goes to `autodeploy_phase_duration_seconds{phase,
//! cloud_provider}`; the phases that ran Terraform — `terraform_init`,
//! `terraform_plan`, `terraform_apply`, and `destroy` of a cloud deployment
//! (a local destroy stops processes, no Terraform) — also to
//! `autodeploy_terraform_duration_seconds{phase}`; `analyze` to
//! `autodeploy_analysis_duration_seconds{origin="job"}`. Durations are
//! measured on this worker's clock between the two store writes, so they are
//! what the runner reported, not guesses.
//!
//! Deliberately not here: any change to what is stored.

use crate::metrics::Metrics;
use autodeploy_core::Phase;
use autodeploy_store::{
    Deployment, DeploymentPatch, Job, JobKind, JobOutcome, ListFilter, LogLine, NewDeployment,
    NewLogLine, Page, Result, StatusCount, Store, User,
};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Wraps the store for one job.
pub struct ObservedStore {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    /// The running phase, when it started, and the deployment's cloud.
    current: Mutex<Option<(Phase, Instant, String)>>,
}

impl ObservedStore {
    pub fn new(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> Self {
        ObservedStore {
            inner,
            metrics,
            current: Mutex::new(None),
        }
    }

    /// Close the running phase (at the end of the job).
    pub fn close(&self) {
        self.switch(None, None);
    }

    /// Close the running phase and start `next`; `cloud` is the deployment's
    /// cloud as of this change.
    fn switch(&self, next: Option<Phase>, cloud: Option<&str>) {
        let mut cur = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((p, _, _)) = &*cur {
            if Some(*p) == next {
                return;
            }
        }
        if let Some((p, started, cloud)) = cur.take() {
            let secs = started.elapsed().as_secs_f64();
            self.metrics
                .phase_duration
                .observe(&[p.as_str(), &cloud], secs);
            if ran_terraform(p, &cloud) {
                self.metrics.terraform_duration.observe(&[p.as_str()], secs);
            }
            if p == Phase::Analyze {
                self.metrics.analysis_duration.observe(&["job"], secs);
            }
        }
        *cur = next.map(|p| (p, Instant::now(), cloud.unwrap_or("unknown").to_string()));
    }
}

/// Whether a phase of a deployment on `cloud` ran Terraform: its own phases
/// always, a destroy unless the deployment is local (stopping processes).
fn ran_terraform(p: Phase, cloud: &str) -> bool {
    match p {
        Phase::TerraformInit | Phase::TerraformPlan | Phase::TerraformApply => true,
        Phase::Destroy => cloud != "local",
        _ => false,
    }
}

#[async_trait::async_trait]
impl Store for ObservedStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn create_deployment(
        &self,
        new: NewDeployment,
        job: Option<JobKind>,
    ) -> Result<(Deployment, bool)> {
        self.inner.create_deployment(new, job).await
    }
    async fn get_deployment(&self, id: &str) -> Result<Option<Deployment>> {
        self.inner.get_deployment(id).await
    }
    async fn get_deployment_owned(&self, id: &str, owner: &str) -> Result<Option<Deployment>> {
        self.inner.get_deployment_owned(id, owner).await
    }
    async fn list_deployments(&self, filter: &ListFilter) -> Result<Page> {
        self.inner.list_deployments(filter).await
    }
    async fn update_deployment(&self, id: &str, patch: DeploymentPatch) -> Result<Deployment> {
        let phase = patch.phase;
        let ends = patch.status.is_some_and(|s| s.is_final());
        let out = self.inner.update_deployment(id, patch).await;
        if let Ok(d) = &out {
            match phase {
                Some(p) => self.switch(p, d.cloud.as_deref()),
                None if ends => self.switch(None, None),
                None => {}
            }
        }
        out
    }
    async fn delete_deployment(&self, id: &str) -> Result<()> {
        self.inner.delete_deployment(id).await
    }
    async fn append_logs(&self, deployment_id: &str, lines: &[NewLogLine]) -> Result<()> {
        self.inner.append_logs(deployment_id, lines).await
    }
    async fn read_logs(
        &self,
        deployment_id: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<LogLine>> {
        self.inner.read_logs(deployment_id, after_seq, limit).await
    }
    async fn enqueue(&self, deployment_id: &str, kind: JobKind) -> Result<Job> {
        self.inner.enqueue(deployment_id, kind).await
    }
    async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Job>> {
        self.inner.claim(worker, lease).await
    }
    async fn heartbeat(&self, job_id: i64, worker: &str, lease: Duration) -> Result<bool> {
        self.inner.heartbeat(job_id, worker, lease).await
    }
    async fn finish(&self, job_id: i64, worker: &str, outcome: JobOutcome) -> Result<bool> {
        self.inner.finish(job_id, worker, outcome).await
    }
    async fn cancel_jobs(&self, deployment_id: &str) -> Result<u64> {
        self.inner.cancel_jobs(deployment_id).await
    }
    async fn get_job(&self, job_id: i64) -> Result<Option<Job>> {
        self.inner.get_job(job_id).await
    }
    async fn jobs_for(&self, deployment_id: &str) -> Result<Vec<Job>> {
        self.inner.jobs_for(deployment_id).await
    }
    async fn queue_size(&self) -> Result<u64> {
        self.inner.queue_size().await
    }
    async fn wait_for_work(&self, timeout: Duration) {
        self.inner.wait_for_work(timeout).await
    }
    async fn status_counts(&self) -> Result<Vec<StatusCount>> {
        self.inner.status_counts().await
    }
    async fn create_user(&self, name: &str) -> Result<User> {
        self.inner.create_user(name).await
    }
    async fn find_user(&self, name: &str) -> Result<Option<User>> {
        self.inner.find_user(name).await
    }
    async fn list_users(&self) -> Result<Vec<User>> {
        self.inner.list_users().await
    }
    async fn set_admin(&self, user_id: &str, admin: bool) -> Result<()> {
        self.inner.set_admin(user_id, admin).await
    }
    async fn create_token(&self, user_id: &str, label: &str) -> Result<String> {
        self.inner.create_token(user_id, label).await
    }
    async fn authenticate(&self, token: &str) -> Result<Option<User>> {
        self.inner.authenticate(token).await
    }
    async fn revoke_token(&self, token_prefix_or_label: &str, user_id: &str) -> Result<u64> {
        self.inner
            .revoke_token(token_prefix_or_label, user_id)
            .await
    }
    async fn cached_analysis(&self, key: &str) -> Result<Option<serde_json::Value>> {
        self.inner.cached_analysis(key).await
    }
    async fn put_cached_analysis(&self, key: &str, value: &serde_json::Value) -> Result<()> {
        self.inner.put_cached_analysis(key, value).await
    }
    async fn put_plan_preview(
        &self,
        id: Option<&str>,
        owner: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<autodeploy_store::PlanPreviewKept> {
        self.inner.put_plan_preview(id, owner, value, ttl).await
    }
    async fn get_plan_preview(
        &self,
        id: &str,
        owner: &str,
    ) -> Result<Option<autodeploy_store::PlanPreview>> {
        self.inner.get_plan_preview(id, owner).await
    }
    async fn put_secret(&self, deployment_id: &str, name: &str, sealed: &[u8]) -> Result<()> {
        self.inner.put_secret(deployment_id, name, sealed).await
    }
    async fn secrets(&self, deployment_id: &str) -> Result<Vec<(String, Vec<u8>)>> {
        self.inner.secrets(deployment_id).await
    }
    async fn delete_secrets(&self, deployment_id: &str) -> Result<u64> {
        self.inner.delete_secrets(deployment_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_phases_that_ran_terraform_are_terraform_durations() {
        assert!(ran_terraform(Phase::TerraformApply, "local"));
        assert!(ran_terraform(Phase::Destroy, "aws"));
        assert!(!ran_terraform(Phase::Destroy, "local"));
        assert!(!ran_terraform(Phase::AppStart, "aws"));
    }
}
