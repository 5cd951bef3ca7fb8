//! The composition root: builds the adapters named by the settings, hands them to the
//! domain services, and serves the router.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use catalog_domain::services::Ports;
use catalog_domain::services::accounts::{AccountsConfig, AccountsService};
use catalog_domain::services::products::ProductsService;
use catalog_storage::{Kept, Store};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::adapters::clock::SystemClock;
use crate::adapters::media::LocalMediaStore;
use crate::adapters::media::s3::S3MediaStore;
use crate::adapters::password::Argon2Hasher;
use crate::adapters::random::OsRandom;
use crate::adapters::token::HmacSigner;
use crate::session::DbSessionStore;
use crate::settings::MediaBackend;
use crate::settings::Settings;
use crate::state::{AppState, Shared};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Storage(#[from] catalog_storage::StorageError),
    #[error(transparent)]
    Hasher(#[from] catalog_domain::ports::HashError),
    #[error("CATALOG_SECRET_KEY cannot key HMAC")]
    SecretKey,
    #[error(
        "the database schema is out of date; run `catalog migrate` or set CATALOG_AUTO_MIGRATE=true"
    )]
    PendingMigrations,
    #[error(transparent)]
    Mail(#[from] catalog_mail::MailConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the server failed: {0}")]
    Serve(#[source] std::io::Error),
    #[error("the S3 media store cannot be set up: {0}")]
    Media(String),
}

/// An error and its causes on one line (the S3 client's reasons are in its sources).
fn one_line_source(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Connects to the database and wires every adapter into the ports.
///
/// # Errors
/// [`StartError`] when the database cannot be reached.
pub async fn connect(settings: &Settings) -> Result<(Kept, Ports), StartError> {
    let store = Store::connect(settings.database_url()).await?;
    // Every port goes through the kept layer; a command that never starts keeping
    // answers (`Kept::keep_answers`) reads through it as through the plain store.
    let store = Kept::new(store);
    let hasher = Argon2Hasher::owasp()?;
    let signer = HmacSigner::new(settings.secret_key.expose_secret().as_bytes())
        .map_err(|_| StartError::SecretKey)?;
    let shared = Arc::new(store.clone());
    let ports = Ports {
        users: shared.clone(),
        groups: shared.clone(),
        categories: shared.clone(),
        products: shared.clone(),
        versions: shared.clone(),
        sessions: shared.clone(),
        tokens: shared.clone(),
        outbox: shared,
        hasher: Arc::new(hasher),
        signer: Arc::new(signer),
        random: Arc::new(OsRandom),
        media: match &settings.media {
            MediaBackend::Local => Arc::new(LocalMediaStore::new(settings.media_dir.clone())),
            MediaBackend::S3(s3) => {
                Arc::new(S3MediaStore::new(s3).map_err(|e| StartError::Media(one_line_source(&e)))?)
            }
        },
        clock: Arc::new(SystemClock),
    };
    Ok((store, ports))
}

/// Builds the application: connects, applies or checks migrations.
///
/// # Errors
/// [`StartError`] when the database cannot be reached or its schema is stale.
pub async fn build(settings: Settings) -> Result<AppState, StartError> {
    build_with(settings, |ports| ports).await
}

/// As [`build`], with the ports passed through `adapt` before the services get them:
/// the way for a test to put a hook between a service's read and its write.
///
/// # Errors
/// As [`build`].
pub async fn build_with(
    settings: Settings,
    adapt: impl FnOnce(Ports) -> Ports,
) -> Result<AppState, StartError> {
    let (kept, ports) = connect(&settings).await?;
    let ports = adapt(ports);
    let store = kept.store().clone();
    if settings.auto_migrate {
        let applied = store.migrate_up().await?;
        if applied > 0 {
            tracing::info!(applied, "applied pending migrations");
        }
    } else if store.has_pending_migrations().await? {
        return Err(StartError::PendingMigrations);
    }
    if kept.kept_answers().is_some() && !kept.keep_answers().await {
        tracing::warn!(
            "not hearing the database's change notices yet; every read goes to the database until then"
        );
    }
    let accounts = AccountsService::new(
        ports.for_accounts(),
        AccountsConfig {
            public_url: settings.public_url.as_str().to_owned(),
        },
    );
    let products = ProductsService::new(ports.for_products(), settings.public_browsing);
    Ok(AppState::new(Shared {
        settings: Arc::new(settings),
        store,
        ports,
        accounts,
        products,
        limits: Arc::new(crate::rate_limit::RateLimiter::new()),
    }))
}

pub fn router(state: AppState) -> Router {
    let sessions = crate::session::layer(
        &state.settings,
        DbSessionStore::new(state.ports.sessions.clone(), state.ports.signer.clone()),
    );
    // The pages' layers wrap their router once, as one service, rather than each of
    // its routes: a request then clones one stack of them instead of a boxed one per
    // layer (a twelfth of a page's instructions). Anything not routed elsewhere comes
    // here, so an unknown address gets the same 404 page as before.
    let pages = tower::ServiceBuilder::new()
        .layer(axum::middleware::map_response(session_save_failed))
        .layer(sessions)
        .layer(axum::middleware::map_response(crate::html::error_pages))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::html::load_viewer,
        ))
        .service(
            crate::html::router()
                .fallback(not_found)
                .with_state(state.clone()),
        );
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(
            crate::api::router()
                // Problem documents speak the caller's language (`Accept-Language`).
                .layer(SetResponseHeaderLayer::appending(
                    header::VARY,
                    HeaderValue::from_static("Accept-Language"),
                ))
                .layer(crate::i18n::CallersLanguage::new(
                    state.settings.default_language,
                )),
        )
        .fallback_service(pages)
        .with_state(state)
        // A page's kept reads (its viewer, then its products) ask the database for the
        // news of other connections' commits once between them.
        .layer(tower::util::MapFutureLayer::new(
            catalog_storage::one_catch_up_per_request,
        ))
        .layer(DefaultBodyLimit::max(crate::view::BODY_LIMIT))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                // The path only (query strings can carry tokens), with token segments cut.
                let path = redact_path(request.uri().path());
                tracing::info_span!("request", method = %request.method(), path = %path, request_id = %id)
            })
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(security_header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        ))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::REFERRER_POLICY, "same-origin"))
        // Pages and API answers are per user: no shared or browser cache keeps them
        // (ASVS 8.1.1). The stylesheet and media set their own, public, caching.
        .layer(security_header(header::CACHE_CONTROL, "no-store"))
}

/// The session layer answers a bare 500 when it cannot save the session; every other
/// response of the pages carries a content type. The store fails only when the database
/// does, so the visitor gets the same 503 page as any other database outage.
async fn session_save_failed(response: Response) -> Response {
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        return crate::error::WebError::Unavailable("the session could not be saved".into())
            .into_response();
    }
    response
}

/// Paths whose last segment is a secret token; logs show `<token>` instead.
const TOKEN_PATHS: [&str; 2] = ["/users/verify/", "/users/email-change/"];

/// The request path as logs may show it.
pub fn redact_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in TOKEN_PATHS {
        if let Some(rest) = path.strip_prefix(prefix)
            && !rest.is_empty()
            && rest != "resend"
        {
            return format!("{prefix}<token>").into();
        }
    }
    path.into()
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers within two seconds.
async fn readyz(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
        Err(_) => {
            tracing::warn!("readiness check timed out");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn not_found() -> Response {
    crate::error::WebError::NotFound.into_response()
}

/// Serves on an already bound listener until `shutdown` resolves, then lets requests in
/// flight finish.
///
/// # Errors
/// [`StartError::Serve`] when the listener fails.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mailer = crate::jobs::mailer(&state.settings)?;
    let dispatcher = crate::jobs::spawn_dispatcher(
        Arc::new(state.store.clone()),
        Arc::new(mailer),
        state.ports.clock.clone(),
        state.settings.mail_poll_interval,
        stopped,
    );
    let sweeper = crate::jobs::spawn_session_sweeper(
        state.ports.sessions.clone(),
        state.ports.clock.clone(),
        Duration::from_secs(3600),
        stop.subscribe(),
    );
    let app = router(state);
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(StartError::Serve);
    // The dispatcher finishes the message it is sending, then stops.
    let _ = stop.send(true);
    if let Err(e) = dispatcher.await {
        tracing::error!(error = %e, "the mail dispatcher failed");
    }
    if let Err(e) = sweeper.await {
        tracing::error!(error = %e, "the session sweeper failed");
    }
    served
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Binds the configured address and serves until a shutdown signal.
///
/// # Errors
/// [`StartError`] when the database, the migrations or the address fail.
pub async fn run(settings: Settings) -> Result<(), StartError> {
    for warning in settings.warnings() {
        tracing::warn!("{warning}");
    }
    let addr = settings.bind;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let state = build(settings).await?;
    tracing::info!(%addr, backend = ?state.store.backend(), "catalog is listening");
    serve(state, listener, shutdown_signal()).await
}

#[cfg(test)]
mod tests {
    use super::redact_path;

    #[test]
    fn token_segments_never_reach_the_logs() {
        assert_eq!(
            redact_path("/users/verify/abc.def"),
            "/users/verify/<token>"
        );
        assert_eq!(
            redact_path("/users/email-change/abc.def"),
            "/users/email-change/<token>"
        );
        assert_eq!(redact_path("/users/verify/resend"), "/users/verify/resend");
        assert_eq!(redact_path("/users/email-change"), "/users/email-change");
        assert_eq!(redact_path("/products/3"), "/products/3");
    }
}
