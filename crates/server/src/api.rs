//! The HTTP API: routes, handlers and the middleware around them.
//!
//! ```text
//! POST /v1/deployments              {repo, request, options} or {plan_id} → 202 + deployment (Idempotency-Key honoured)
//! GET  /v1/deployments              ?status=&cloud=&limit=&cursor=
//! GET  /v1/deployments/{id}
//! GET  /v1/deployments/{id}/logs    Server-Sent Events until the deployment is final
//! POST /v1/deployments/{id}/destroy
//! POST /v1/analyze | /v1/parse | /v1/plan   synchronous previews (a plan answers a plan_id)
//! GET  /healthz  /readyz  /metrics  /openapi.json  /  /d/{id} (the web page)
//! ```
//!
//! The router is built from one table, [`routes`]; the OpenAPI document
//! (`openapi.json`) is checked against that table and against every enum the
//! API reads or answers (crates/server/tests/openapi.rs), so the two cannot
//! drift apart.
//!
//! Handlers stay short: the store does the persistence, `preview` runs the
//! stages on the blocking pool, workers execute jobs. Every failure is an
//! [`ApiError`] (JSON with a stable `code`).
//!
//! Deliberately not here: pipeline logic, SQL, job execution.

use crate::preview::{check_request_text, RequestOptions};
use crate::{auth, web, ApiError, AppState, Metrics};
use autodeploy_core::DeploymentStatus;
use autodeploy_store::{DeploymentPatch, JobKind, ListFilter, NewDeployment, Store, User};
use axum::extract::{FromRequest, MatchedPath, Path, Query, Request, State};
use axum::handler::Handler;
use axum::http::Method;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::{Extension, Router};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use serde_json::json;
use std::convert::Infallible;
use std::time::{Duration, Instant};

/// JSON body extractor whose rejections are [`ApiError`]s.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Who may call a route, and whether the API document describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health, readiness, the document itself).
    Open,
    /// A user with a bearer token.
    User,
    /// Anyone, on the API port only when metrics are served there.
    Metrics,
    /// The embedded web page and its assets: not part of the API document.
    Page,
}

/// One route: the method and path it answers, who may call it, its handler.
pub struct ApiRoute {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    endpoint: MethodRouter<AppState>,
}

/// A route whose method is given once: it both registers the handler and
/// is what the API document is checked against.
fn at<H, T>(method: Method, path: &'static str, access: Access, handler: H) -> ApiRoute
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a method axum can route");
    ApiRoute {
        method,
        path,
        access,
        endpoint: on(filter, handler),
    }
}

/// Every route of the service. [`router`] is built from this table only.
pub fn routes() -> Vec<ApiRoute> {
    use Access::{Open, Page, User};
    vec![
        at(Method::POST, "/v1/deployments", User, create_deployment),
        at(Method::GET, "/v1/deployments", User, list_deployments),
        at(Method::GET, "/v1/deployments/{id}", User, get_deployment),
        at(
            Method::GET,
            "/v1/deployments/{id}/logs",
            User,
            deployment_logs,
        ),
        at(
            Method::POST,
            "/v1/deployments/{id}/destroy",
            User,
            destroy_deployment,
        ),
        at(Method::POST, "/v1/analyze", User, analyze),
        at(Method::POST, "/v1/parse", User, parse),
        at(Method::POST, "/v1/plan", User, plan),
        at(Method::GET, "/healthz", Open, healthz),
        at(Method::GET, "/readyz", Open, readyz),
        at(Method::GET, "/openapi.json", Open, openapi),
        at(Method::GET, "/metrics", Access::Metrics, metrics),
        at(Method::GET, "/", Page, web::index),
        // One deployment's own page (its plan, progress and log): the same
        // page, which reads the id from its path.
        at(Method::GET, "/d/{id}", Page, web::index),
        at(Method::GET, "/assets/{file}", Page, web::asset),
    ]
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    crate::error::BODY_LIMIT.store(
        state.config.body_limit,
        std::sync::atomic::Ordering::Relaxed,
    );
    // Routes come from `routes()` only (the API document is checked
    // against it): never add one here.
    let mut v1 = Router::new();
    let mut open = Router::new();
    for r in routes() {
        match r.access {
            Access::User => v1 = v1.route(r.path, r.endpoint),
            Access::Open | Access::Page => open = open.route(r.path, r.endpoint),
            Access::Metrics if state.config.metrics_on_api => open = open.route(r.path, r.endpoint),
            Access::Metrics => {}
        }
    }
    let v1 = v1.route_layer(middleware::from_fn_with_state(
        state.clone(),
        auth::require_user,
    ));
    open.merge(v1)
        .route_layer(middleware::from_fn_with_state(state.clone(), observe_http))
        .layer(middleware::from_fn_with_state(state.clone(), body_in_time))
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.body_limit,
        ))
        .layer(crate::access::layer())
        .with_state(state)
}

/// Middleware: read the whole request body (all the API's bodies are small
/// JSON documents) within the body timeout and the body limit: a client
/// that stops sending half way gets 408 and its connection is closed.
async fn body_in_time(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let limit = state.config.body_limit;
    let timeout = state.config.connections.body_timeout;
    let read = tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await;
    let bytes = match read {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            let too_large = std::error::Error::source(&e)
                .and_then(|s| s.downcast_ref::<http_body_util::LengthLimitError>())
                .is_some()
                || e.to_string().contains("length limit");
            return if too_large {
                ApiError::PayloadTooLarge { limit }.into_response()
            } else {
                ApiError::bad_request("invalid_body", format!("the body could not be read: {e}"))
                    .into_response()
            };
        }
        Err(_) => {
            return ApiError::RequestTimeout {
                secs: timeout.as_secs().max(1),
            }
            .into_response()
        }
    };
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

async fn not_found() -> ApiError {
    ApiError::not_found("this path")
}

/// Middleware: `autodeploy_http_request_duration_seconds{route,method,status}` by route template.
async fn observe_http(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let resp = next.run(req).await;
    state.metrics.http_request_duration.observe(
        &[&route, &method, resp.status().as_str()],
        started.elapsed().as_secs_f64(),
    );
    resp
}

async fn healthz() -> impl IntoResponse {
    axum::Json(json!({"status": "ok"}))
}

async fn readyz(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(Duration::from_secs(5), state.store.queue_size()).await {
        Ok(Ok(_)) => {
            axum::Json(json!({"status": "ready", "store": state.store.backend()})).into_response()
        }
        Ok(Err(e)) => ApiError::Store(e.to_string()).into_response(),
        Err(_) => ApiError::Store("the store did not answer within 5 s".into()).into_response(),
    }
}

async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        web::OPENAPI_JSON,
    )
}

async fn metrics(State(state): State<AppState>) -> Response {
    metrics_text(&*state.store, &state.metrics).await
}

/// The `/metrics` response: process metrics plus store-wide gauges.
pub async fn metrics_text(store: &dyn Store, metrics: &Metrics) -> Response {
    let fleet = match crate::fleet_gauges(store).await {
        Ok(f) => Some(f),
        Err(e) => {
            tracing::warn!(error = %e, "store gauges unavailable for /metrics");
            None
        }
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.encode(fleet.as_ref()),
    )
        .into_response()
}

/// `POST /v1/deployments`: either `repo` + `request` (+ `options`), or
/// `plan_id` alone — the id a preview (`POST /v1/plan`) answered, which
/// deploys exactly what was previewed. `secrets` go with either.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateDeployment {
    /// Git URL (or local path when the server allows it).
    #[serde(default)]
    pub repo: Option<String>,
    /// The English sentence.
    #[serde(default)]
    pub request: Option<String>,
    #[serde(default)]
    pub options: Option<RequestOptions>,
    /// A previewed plan to deploy instead of `repo`, `request` and `options`.
    #[serde(default)]
    pub plan_id: Option<String>,
    /// Secret values for the app (`NAME` or `service:NAME` → value): sealed
    /// before they are stored, never returned, logged or kept in options.
    #[serde(default)]
    pub secrets: std::collections::BTreeMap<String, String>,
}

const MAX_IDEMPOTENCY_KEY: usize = 200;

async fn create_deployment(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateDeployment>,
) -> Result<Response, ApiError> {
    // What to deploy: a previewed plan, or the repo, request and options sent.
    let (repo, request, options, previewed) = match body.plan_id.as_deref() {
        Some(plan_id) => {
            if body.repo.is_some() || body.request.is_some() || body.options.is_some() {
                return Err(ApiError::bad_request(
                    "plan_id_with_source",
                    "send either plan_id (deploys exactly the previewed plan) or repo, request and options, not both",
                ));
            }
            let plan = state.previews.previewed(plan_id, &user.id).await?;
            let (repo, options) = plan.pinned();
            let cloud = plan.cloud.clone();
            (
                repo,
                plan.request,
                options,
                Some((plan_id.to_string(), cloud)),
            )
        }
        None => match (body.repo, body.request) {
            (Some(repo), Some(request)) => (repo, request, body.options.unwrap_or_default(), None),
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_json",
                    "the body needs repo and request (and optional options), or the plan_id of a preview",
                ))
            }
        },
    };
    state.previews.check_source(&repo)?;
    check_request_text(&request)?;
    options.validate()?;
    crate::preview::validate_values("secrets", &body.secrets)?;
    state.previews.check_network(&repo).await?;
    let sealer = match (&state.sealer, body.secrets.is_empty()) {
        (_, true) => None,
        (Some(s), false) => Some(s.clone()),
        (None, false) => {
            return Err(ApiError::Unprocessable {
                code: "secrets_unavailable",
                message: "this server has no key to seal secret values; its operator sets AUTODEPLOY_SECRETS_KEY (or a home with secrets.key)".into(),
            })
        }
    };
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let k = v
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_idempotency_key",
                        format!("Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"),
                    )
                })?;
            Some(k.to_string())
        }
    };
    // The cloud is known up front when the options or the sentence name it
    // (the rule-based parser is sub-millisecond), or the preview decided it;
    // list filters use it.
    let cloud = options
        .cloud()
        .map(|c| c.as_str().to_string())
        .or_else(|| previewed.as_ref().and_then(|(_, c)| c.clone()))
        .or_else(|| {
            autodeploy_parse::parse(&request)
                .cloud
                .map(|c| c.as_str().to_string())
        });
    let name = options
        .name
        .clone()
        .or_else(|| name_from_repo(&repo))
        .map(|n| autodeploy_decide::slug(&n))
        .unwrap_or_else(|| "app".into());
    let mut options_value = serde_json::to_value(&options)
        .map_err(|e| ApiError::Internal(format!("options not serialisable: {e}")))?;
    // Which preview it came from: shown with the deployment, and part of
    // what an Idempotency-Key retry must repeat.
    if let (Some((plan_id, _)), Some(o)) = (&previewed, options_value.as_object_mut()) {
        o.insert("plan_id".into(), serde_json::Value::String(plan_id.clone()));
    }
    let new = NewDeployment {
        owner: user.id.clone(),
        name,
        source: autodeploy_source::redact_input(repo.trim()),
        request: request.clone(),
        cloud,
        options: options_value,
        idempotency_key,
    };
    let asked = (new.source.clone(), new.request.clone(), new.options.clone());
    // With secrets, the job is queued only once they are stored, so no
    // worker can start the app without them; a retry with the same
    // Idempotency-Key finishes a creation that stopped in between.
    let job = body.secrets.is_empty().then_some(JobKind::Deploy);
    let (dep, created) = state.store.create_deployment(new, job).await?;
    // A retry must be the same request: a key reused for another repository,
    // sentence or options is a client bug, not a retry (answering with the
    // old deployment would silently drop the new one).
    if !created && (&dep.source, &dep.request, &dep.options) != (&asked.0, &asked.1, &asked.2) {
        return Err(ApiError::Unprocessable {
            code: "idempotency_key_reused",
            message: format!(
                "this Idempotency-Key already created deployment {} from a different repo, request or options; \
                 send a new key for a new deployment (or repeat the original body to get {} back)",
                dep.id, dep.id
            ),
        });
    }
    if let Some(sealer) = sealer {
        let queued = !created && !state.store.jobs_for(&dep.id).await?.is_empty();
        if !queued {
            for (name, value) in &body.secrets {
                let sealed = sealer
                    .seal(&dep.id, value)
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                state.store.put_secret(&dep.id, name, &sealed).await?;
            }
            state.store.enqueue(&dep.id, JobKind::Deploy).await?;
        }
    }
    if created {
        tracing::info!(deployment = %dep.id, user = %user.name, "deployment queued");
    }
    let status = if created {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    let location = HeaderValue::from_str(&format!("/v1/deployments/{}", dep.id))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((status, [(header::LOCATION, location)], axum::Json(dep)).into_response())
}

/// The last path segment of a repo (without `.git`, `#ref`, archive suffixes).
fn name_from_repo(repo: &str) -> Option<String> {
    let base = repo
        .trim()
        .split('#')
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    let last = base.rsplit(['/', ':', '\\']).next()?;
    let last = last
        .trim_end_matches(".git")
        .trim_end_matches(".zip")
        .trim_end_matches(".tar.gz")
        .trim_end_matches(".tgz");
    (!last.is_empty()).then(|| last.to_string())
}

async fn get_deployment(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let dep = readable(&state, &id, &user).await?;
    Ok(axum::Json(dep).into_response())
}

/// The deployment when `user` owns it; any other is 404 (never told apart
/// from one that does not exist).
async fn owned(
    state: &AppState,
    id: &str,
    user: &User,
) -> Result<autodeploy_store::Deployment, ApiError> {
    if id.len() > 64 {
        return Err(ApiError::not_found(format!("deployment {id:.64}…")));
    }
    state
        .store
        .get_deployment_owned(id, &user.id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("deployment {id}")))
}

/// What `user` may read: their own deployment, or for an admin any (an
/// admin lists every user's with `?all_users=true` and may open them;
/// changing one stays its owner's).
async fn readable(
    state: &AppState,
    id: &str,
    user: &User,
) -> Result<autodeploy_store::Deployment, ApiError> {
    if !user.admin || id.len() > 64 {
        return owned(state, id, user).await;
    }
    state
        .store
        .get_deployment(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("deployment {id}")))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Every user's deployments (admins only; others get 403 `admin_required`).
    pub all_users: Option<bool>,
    pub status: Option<String>,
    pub cloud: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

async fn list_deployments(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(DeploymentStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_status",
                format!(
                    "status {:?} is not one of {}",
                    s.chars().take(64).collect::<String>(),
                    DeploymentStatus::ALL.map(|s| s.as_str()).join(", ")
                ),
            )
        })?),
    };
    let limit = q.limit.unwrap_or(50);
    if limit == 0 || limit > 500 {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be between 1 and 500",
        ));
    }
    let cloud = match q.cloud.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            autodeploy_core::Cloud::parse(c)
                .map(|c| c.as_str().to_string())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_cloud",
                        format!(
                            "cloud {:?} is not one of {}",
                            c.chars().take(64).collect::<String>(),
                            autodeploy_core::Cloud::ALL
                                .map(autodeploy_core::Cloud::as_str)
                                .join(", ")
                        ),
                    )
                })?,
        ),
    };
    if let Some(c) = q.cursor.as_deref() {
        if c.len() > 512 || !c.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::bad_request(
                "invalid_cursor",
                "cursor must be the next_cursor of a previous page; start again without one",
            ));
        }
    }
    let owner = if q.all_users == Some(true) {
        if !user.admin {
            return Err(ApiError::Forbidden {
                code: "admin_required",
                message: format!(
                    "all_users=true lists every user's deployments and needs an admin's token; \
                     {} is not an admin (an admin makes one with `autodeploy users admin NAME`); \
                     without it you get your own",
                    user.name
                ),
            });
        }
        None
    } else {
        Some(user.id.clone())
    };
    let filter = ListFilter {
        owner,
        status,
        cloud,
        limit,
        cursor: q.cursor.filter(|c| !c.is_empty()),
    };
    let all = filter.owner.is_none();
    let page = state
        .store
        .list_deployments(&filter)
        .await
        .map_err(|e| match e {
            autodeploy_store::StoreError::Invalid(m) => ApiError::bad_request("invalid_cursor", m),
            other => other.into(),
        })?;
    // Whose each one is, by name as the CLI's `list --all-users` shows it:
    // the caller's own need no lookup.
    let users = if all {
        state.store.list_users().await?
    } else {
        vec![user.clone()]
    };
    let name_of = |owner: &str| {
        users
            .iter()
            .find(|u| u.id == owner)
            .map_or_else(|| owner.to_string(), |u| u.name.clone())
    };
    Ok(axum::Json(ListPage {
        items: page
            .items
            .into_iter()
            .map(|d| ListedDeployment {
                owner_name: name_of(&d.owner),
                deployment: d,
            })
            .collect(),
        next_cursor: page.next_cursor,
    })
    .into_response())
}

/// A deployment as `GET /v1/deployments` lists it: the record and its
/// owner's name.
#[derive(Debug, serde::Serialize)]
pub struct ListedDeployment {
    #[serde(flatten)]
    pub deployment: autodeploy_store::Deployment,
    pub owner_name: String,
}

/// One page of `GET /v1/deployments`.
#[derive(Debug, serde::Serialize)]
pub struct ListPage {
    pub items: Vec<ListedDeployment>,
    pub next_cursor: Option<String>,
}

async fn destroy_deployment(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let dep = match owned(&state, &id, &user).await {
        // An admin sees every deployment: it is told whose this one is.
        Err(ApiError::NotFound { .. }) if user.admin => {
            let other = readable(&state, &id, &user).await?;
            return Err(ApiError::Forbidden {
                code: "owned_by_other_user",
                message: format!(
                    "deployment {id} belongs to the user with id {}: only its owner destroys it \
                     (`autodeploy destroy {id} --as NAME` on the command line)",
                    other.owner
                ),
            });
        }
        other => other?,
    };
    match dep.status {
        DeploymentStatus::Destroyed | DeploymentStatus::Cancelled => {
            return Err(ApiError::Conflict {
                code: "already_gone",
                message: format!(
                    "deployment {id} is {}: there is nothing left to destroy",
                    dep.status.as_str()
                ),
            })
        }
        DeploymentStatus::Destroying => {
            return Err(ApiError::Conflict {
                code: "already_destroying",
                message: format!("deployment {id} is already being destroyed; follow its logs"),
            })
        }
        _ => {}
    }
    state.store.cancel_jobs(&id).await?;
    // Never started: nothing exists, so cancelling is the whole job.
    if dep.status == DeploymentStatus::Queued {
        let jobs = state.store.jobs_for(&id).await?;
        let started = jobs.iter().any(|j| j.claimed_at.is_some());
        if !started {
            let dep = state
                .store
                .update_deployment(
                    &id,
                    DeploymentPatch {
                        status: Some(DeploymentStatus::Cancelled),
                        ..Default::default()
                    },
                )
                .await?;
            return Ok((StatusCode::ACCEPTED, axum::Json(dep)).into_response());
        }
    }
    let dep = state
        .store
        .update_deployment(
            &id,
            DeploymentPatch {
                status: Some(DeploymentStatus::Destroying),
                ..Default::default()
            },
        )
        .await?;
    state.store.enqueue(&id, JobKind::Destroy).await?;
    tracing::info!(deployment = %id, user = %user.name, "destroy queued");
    Ok((StatusCode::ACCEPTED, axum::Json(dep)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct LogsQuery {
    /// Only lines after this sequence number (also read from `Last-Event-ID`).
    pub after: Option<i64>,
}

/// Server-Sent Events: `log` events (id = seq, data = the line as JSON) until
/// the deployment is final and every line was sent, then one `end` event
/// (data = the deployment's status).
async fn deployment_logs(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    Path(id): Path<String>,
    headers: HeaderMap,
    q: Result<Query<LogsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let Query(q) = q?;
    readable(&state, &id, &user).await?;
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or(q.after)
        .unwrap_or(0);
    struct Follow {
        state: AppState,
        id: String,
        after: i64,
        done: bool,
        pending: std::collections::VecDeque<Event>,
    }
    let follow = Follow {
        state,
        id,
        after,
        done: false,
        pending: Default::default(),
    };
    let s = stream::unfold(follow, |mut f| async move {
        loop {
            if let Some(ev) = f.pending.pop_front() {
                return Some((Ok(ev), f));
            }
            if f.done {
                return None;
            }
            // Status first, then lines: a final status read before the last
            // lines guarantees those lines are already stored.
            let status = match f.state.store.get_deployment(&f.id).await {
                Ok(Some(d)) => Some(d.status),
                Ok(None) => {
                    f.pending.push_back(
                        Event::default()
                            .event("end")
                            .data(json!({"status": "deleted"}).to_string()),
                    );
                    f.done = true;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(deployment = %f.id, error = %e, "log stream: store failed");
                    None
                }
            };
            let lines = match f.state.store.read_logs(&f.id, f.after, 500).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(deployment = %f.id, error = %e, "log stream: reading logs failed");
                    Vec::new()
                }
            };
            let got = lines.len();
            for l in lines {
                f.after = l.seq;
                let data = serde_json::to_string(&l).unwrap_or_else(|_| "{}".into());
                f.pending.push_back(
                    Event::default()
                        .event("log")
                        .id(l.seq.to_string())
                        .data(data),
                );
            }
            if got == 0 {
                match status {
                    Some(s) if s.is_final() => {
                        f.pending.push_back(
                            Event::default()
                                .event("end")
                                .data(json!({"status": s.as_str()}).to_string()),
                        );
                        f.done = true;
                    }
                    _ => tokio::time::sleep(f.state.config.log_poll).await,
                }
            }
        }
    });
    Ok(Sse::new(s).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeBody {
    pub repo: String,
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
}

async fn analyze(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AnalyzeBody>,
) -> Result<Response, ApiError> {
    let a = state
        .previews
        .analysis(&body.repo, body.git_ref.as_deref())
        .await?;
    Ok(axum::Json(&*a).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParseBody {
    pub request: String,
}

async fn parse(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ParseBody>,
) -> Result<Response, ApiError> {
    let out = state.previews.parse(&body.request)?;
    Ok(axum::Json(json!({
        "intent": out.intent,
        "summary": autodeploy_parse::summarize(&out.intent),
        "notes": out.notes,
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    pub repo: String,
    pub request: String,
    #[serde(default)]
    pub options: RequestOptions,
}

async fn plan(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    ApiJson(body): ApiJson<PlanBody>,
) -> Result<Response, ApiError> {
    let body = state
        .previews
        .plan_json(&user.id, &body.repo, &body.request, &body.options)
        .await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_repos() {
        assert_eq!(
            name_from_repo("https://github.com/o/flask-app.git#main").as_deref(),
            Some("flask-app")
        );
        assert_eq!(name_from_repo("git@github.com:o/r").as_deref(), Some("r"));
        assert_eq!(name_from_repo("/srv/apps/site/").as_deref(), Some("site"));
        assert_eq!(name_from_repo("").as_deref(), None);
    }
}
