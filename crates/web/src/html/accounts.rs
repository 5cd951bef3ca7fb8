//! The account pages of SPEC §5.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form};
use catalog_domain::fields::FieldErrors;
use catalog_domain::services::accounts::{
    ConfirmEmailChangeError, EmailChangeError, LinkError, PasswordChangeError, ProfileError,
    ProfileInput, RegisterError, ResendError, SignInError, Verification,
};
use catalog_domain::user::Country;
use serde::Deserialize;
use tower_sessions::Session;

use super::{Chrome, Viewer, login_redirect, media_url, render, safe_next, see_other};
use crate::app::AppState;
use crate::error::WebError;
use crate::rate_limit::{ClientIp, Limit, email_key};
use crate::session::{self, DbSessionStore};

/// Uploads may be this large (the whole request body); everything else stays at 64 KiB.
pub const UPLOAD_LIMIT: usize = 5 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/users/register", get(register_form).post(register))
        .route("/users/register/done", get(register_done))
        .route("/users/verify/resend", post(resend))
        .route("/users/verify/{token}", get(verify_page).post(verify))
        .route("/users/login", get(login_form).post(login))
        .route("/users/logout", post(logout))
        .route("/users/password-reset", get(reset_form).post(reset))
        .route("/users/password-reset/done", get(reset_done))
        .route(
            "/users/password-change",
            get(password_change_form).post(password_change),
        )
        .route(
            "/users/email-change",
            get(email_change_form).post(email_change),
        )
        .route(
            "/users/email-change/{token}",
            get(email_change_page).post(email_change_confirm),
        )
        .route(
            "/users/profile",
            get(profile_form)
                .post(profile)
                .layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
}

async fn check_csrf(session: &Session, token: &str) -> Result<(), WebError> {
    if session::csrf_matches(session, token).await {
        Ok(())
    } else {
        Err(WebError::Csrf)
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
}

async fn home(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, WebError> {
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    render(StatusCode::OK, &HomePage { chrome })
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    chrome: Chrome,
    heading: &'a str,
    paragraphs: Vec<&'a str>,
    action: Option<(&'a str, &'a str)>,
}

// ---- registration -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    chrome: Chrome,
    email: String,
    errors: FieldErrors,
}

#[derive(Debug, Deserialize)]
struct RegisterForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password1: String,
    #[serde(default)]
    password2: String,
}

async fn register_form(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, WebError> {
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    render(
        StatusCode::OK,
        &RegisterPage {
            chrome,
            email: String::new(),
            errors: FieldErrors::new(),
        },
    )
}

async fn register(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    ip: ClientIp,
    Form(form): Form<RegisterForm>,
) -> Result<Response, WebError> {
    check_csrf(&session, &form.csrf_token).await?;
    state
        .limits
        .hit(Limit::SignUpsByAddress, &ip.key())
        .map_err(WebError::TooManyRequests)?;
    match state
        .accounts
        .register(&form.email, &form.password1, &form.password2)
        .await
    {
        Ok(()) => {
            tracing::info!("registration accepted");
            Ok(see_other("/users/register/done"))
        }
        Err(RegisterError::Invalid(errors)) => {
            let chrome = Chrome::build(&state, &session, &viewer).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &RegisterPage {
                    chrome,
                    email: form.email,
                    errors,
                },
            )
        }
        Err(RegisterError::Hash(e)) => Err(e.into()),
        Err(RegisterError::Unexpected(e)) => Err(e.into()),
    }
}

async fn register_done(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, WebError> {
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    render(
        StatusCode::OK,
        &MessagePage {
            chrome,
            heading: "Check your email",
            paragraphs: vec![
                "If the address can be registered, a message with a confirmation link is on its way. Open the link to activate your account.",
                "Nothing arrived after a few minutes? Look in your spam folder, or sign in to have the link sent again.",
            ],
            action: Some(("/users/login", "Sign in")),
        },
    )
}

// ---- verification -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage<'a> {
    chrome: Chrome,
    heading: &'a str,
    text: String,
    action: String,
    button: &'a str,
}

#[derive(Template)]
#[template(path = "link_invalid.html")]
struct LinkInvalidPage<'a> {
    chrome: Chrome,
    reason: &'a str,
    email: String,
    errors: FieldErrors,
}

fn link_reason(e: &LinkError) -> &'static str {
    match e {
        LinkError::Expired => "The confirmation link has expired: links work for three days.",
        _ => "The confirmation link is not valid. Perhaps it was copied incompletely.",
    }
}

/// Pages reached through a token must not leak it to other sites through `Referer`.
fn no_referrer(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn link_invalid(
    state: &AppState,
    session: &Session,
    viewer: &Viewer,
    e: &LinkError,
) -> Result<Response, WebError> {
    if let LinkError::Unexpected(cause) = e {
        return Err(WebError::Unavailable(cause.to_string()));
    }
    let chrome = Chrome::build(state, session, viewer).await?;
    let page = LinkInvalidPage {
        chrome,
        reason: link_reason(e),
        email: String::new(),
        errors: FieldErrors::new(),
    };
    render(StatusCode::BAD_REQUEST, &page).map(no_referrer)
}

/// Shows a confirm button; a GET never changes anything (mail scanners open links).
async fn verify_page(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    match state.accounts.check_verification(&token).await {
        Ok(Verification::Pending(user)) => {
            let chrome = Chrome::build(&state, &session, &viewer).await?;
            let page = ConfirmPage {
                chrome,
                heading: "Confirm your email address",
                text: format!(
                    "Confirm that {} is your address to activate your account.",
                    user.email
                ),
                action: format!("/users/verify/{token}"),
                button: "Confirm my email",
            };
            render(StatusCode::OK, &page).map(no_referrer)
        }
        Ok(Verification::AlreadyVerified) => Ok(no_referrer(see_other(
            &state.settings.redirect_if_already_verified,
        ))),
        Err(e) => link_invalid(&state, &session, &viewer, &e).await,
    }
}

#[derive(Debug, Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf_token: String,
}

async fn verify(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    Path(token): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    check_csrf(&session, &form.csrf_token).await?;
    match state.accounts.confirm_email(&token).await {
        Ok(Verification::Pending(user)) => {
            session::sign_in(&session, user.id).await?;
            session::push_flash(&session, "Your email address is confirmed. Welcome!").await;
            tracing::info!(user = user.id.0, "email confirmed; signed in");
            Ok(no_referrer(see_other(
                &state.settings.redirect_after_verify,
            )))
        }
        Ok(Verification::AlreadyVerified) => Ok(no_referrer(see_other(
            &state.settings.redirect_if_already_verified,
        ))),
        Err(e) => link_invalid(&state, &session, &viewer, &e).await,
    }
}

#[derive(Debug, Deserialize)]
struct EmailForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
}

async fn resend(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    Form(form): Form<EmailForm>,
) -> Result<Response, WebError> {
    check_csrf(&session, &form.csrf_token).await?;
    state
        .limits
        .hit(Limit::ResendsByEmail, &email_key(&form.email))
        .map_err(WebError::TooManyRequests)?;
    match state.accounts.resend_verification(&form.email).await {
        Ok(()) => {
            session::push_flash(
                &session,
                "If that address is waiting for confirmation, a new link is on its way.",
            )
            .await;
            Ok(see_other("/users/register/done"))
        }
        Err(ResendError::Invalid(errors)) => {
            let chrome = Chrome::build(&state, &session, &viewer).await?;
            let page = LinkInvalidPage {
                chrome,
                reason: "Enter the address you registered with.",
                email: form.email,
                errors,
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(ResendError::Hash(e)) => Err(e.into()),
        Err(ResendError::Unexpected(e)) => Err(e.into()),
    }
}

// ---- sign in and out ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    email: String,
    next: String,
    error: Option<&'static str>,
    unverified: bool,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

async fn login_form(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<NextQuery>,
) -> Result<Response, WebError> {
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    let next = safe_next(&query.next).unwrap_or_default().to_owned();
    render(
        StatusCode::OK,
        &LoginPage {
            chrome,
            email: String::new(),
            next,
            error: None,
            unverified: false,
        },
    )
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    ip: ClientIp,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    check_csrf(&session, &form.csrf_token).await?;
    let (ip_key, email) = (ip.key(), email_key(&form.email));
    state
        .limits
        .check(Limit::SignInFailuresByAddress, &ip_key)
        .map_err(WebError::TooManyRequests)?;
    state
        .limits
        .check(Limit::SignInFailuresByEmail, &email)
        .map_err(WebError::TooManyRequests)?;
    let result = state.accounts.sign_in(&form.email, &form.password).await;
    if matches!(result, Err(SignInError::InvalidCredentials)) {
        // Only failures count, and a later success does not wipe them.
        state.limits.record(Limit::SignInFailuresByAddress, &ip_key);
        state.limits.record(Limit::SignInFailuresByEmail, &email);
    }
    let (error, unverified) = match result {
        Ok(signed) => {
            session::sign_in(&session, signed.user.id).await?;
            tracing::info!(user = signed.user.id.0, "signed in");
            if signed.password_change_required {
                return Ok(see_other("/users/password-change"));
            }
            return Ok(see_other(safe_next(&form.next).unwrap_or("/products")));
        }
        Err(SignInError::InvalidCredentials) => {
            tracing::info!("sign-in failed");
            (
                "Please enter a correct email and password. Note that the password is case-sensitive.",
                false,
            )
        }
        Err(SignInError::Unverified { .. }) => {
            tracing::info!("sign-in refused: email not confirmed");
            (
                "Please confirm your email address first: we have sent you the link again.",
                true,
            )
        }
        Err(SignInError::Hash(e)) => return Err(e.into()),
        Err(SignInError::Unexpected(e)) => return Err(e.into()),
    };
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    let next = safe_next(&form.next).unwrap_or_default().to_owned();
    render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &LoginPage {
            chrome,
            email: form.email,
            next,
            error: Some(error),
            unverified,
        },
    )
}

async fn logout(session: Session, Form(form): Form<CsrfOnly>) -> Result<Response, WebError> {
    check_csrf(&session, &form.csrf_token).await?;
    session::sign_out(&session).await?;
    Ok(see_other("/"))
}

// ---- password reset and change ------------------------------------------------------

#[derive(Template)]
#[template(path = "password_reset.html")]
struct ResetPage {
    chrome: Chrome,
    email: String,
    errors: FieldErrors,
}

async fn reset_form(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, WebError> {
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    render(
        StatusCode::OK,
        &ResetPage {
            chrome,
            email: String::new(),
            errors: FieldErrors::new(),
        },
    )
}

async fn reset(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    ip: ClientIp,
    Form(form): Form<EmailForm>,
) -> Result<Response, WebError> {
    check_csrf(&session, &form.csrf_token).await?;
    state
        .limits
        .hit(Limit::ResetsByAddress, &ip.key())
        .map_err(WebError::TooManyRequests)?;
    state
        .limits
        .hit(Limit::ResetsByEmail, &email_key(&form.email))
        .map_err(WebError::TooManyRequests)?;
    match state.accounts.request_password_reset(&form.email).await {
        Ok(()) => {
            tracing::info!("password reset requested");
            Ok(see_other("/users/password-reset/done"))
        }
        Err(ResendError::Invalid(errors)) => {
            let chrome = Chrome::build(&state, &session, &viewer).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ResetPage {
                    chrome,
                    email: form.email,
                    errors,
                },
            )
        }
        Err(ResendError::Hash(e)) => Err(e.into()),
        Err(ResendError::Unexpected(e)) => Err(e.into()),
    }
}

async fn reset_done(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, WebError> {
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    render(
        StatusCode::OK,
        &MessagePage {
            chrome,
            heading: "Check your email",
            paragraphs: vec![
                "If an account uses that address, we have sent it a new password that works for one hour.",
                "Your current password keeps working until you sign in with the new one.",
            ],
            action: Some(("/users/login", "Sign in")),
        },
    )
}

#[derive(Template)]
#[template(path = "password_change.html")]
struct PasswordChangePage {
    chrome: Chrome,
    required: bool,
    errors: FieldErrors,
}

async fn password_change_form(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let Some(me) = viewer.0.clone() else {
        return Ok(login_redirect(&uri));
    };
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    let page = PasswordChangePage {
        chrome,
        required: me.user.password_change_required,
        errors: FieldErrors::new(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
struct PasswordChangeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    old_password: String,
    #[serde(default)]
    new_password1: String,
    #[serde(default)]
    new_password2: String,
}

async fn password_change(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    uri: axum::http::Uri,
    Form(form): Form<PasswordChangeForm>,
) -> Result<Response, WebError> {
    let Some(me) = viewer.0.clone() else {
        return Ok(login_redirect(&uri));
    };
    check_csrf(&session, &form.csrf_token).await?;
    let keep = session
        .id()
        .map(|id| DbSessionStore::key(state.ports.signer.as_ref(), &id));
    match state
        .accounts
        .change_password(
            me.user.id,
            &form.old_password,
            &form.new_password1,
            &form.new_password2,
            keep,
        )
        .await
    {
        Ok(()) => {
            // This session stays signed in, under a new id.
            session.cycle_id().await?;
            session::push_flash(&session, "Your password was changed.").await;
            tracing::info!(user = me.user.id.0, "password changed");
            Ok(see_other("/users/profile"))
        }
        Err(PasswordChangeError::Invalid(errors)) => {
            let chrome = Chrome::build(&state, &session, &viewer).await?;
            let page = PasswordChangePage {
                chrome,
                required: me.user.password_change_required,
                errors,
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(PasswordChangeError::Hash(e)) => Err(e.into()),
        Err(PasswordChangeError::Unexpected(e)) => Err(e.into()),
    }
}

// ---- email change -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "email_change.html")]
struct EmailChangePage {
    chrome: Chrome,
    new_email: String,
    errors: FieldErrors,
}

async fn email_change_form(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    if viewer.0.is_none() {
        return Ok(login_redirect(&uri));
    }
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    render(
        StatusCode::OK,
        &EmailChangePage {
            chrome,
            new_email: String::new(),
            errors: FieldErrors::new(),
        },
    )
}

#[derive(Debug, Deserialize)]
struct EmailChangeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    new_email: String,
    #[serde(default)]
    password: String,
}

async fn email_change(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    uri: axum::http::Uri,
    Form(form): Form<EmailChangeForm>,
) -> Result<Response, WebError> {
    let Some(me) = viewer.0.clone() else {
        return Ok(login_redirect(&uri));
    };
    check_csrf(&session, &form.csrf_token).await?;
    match state
        .accounts
        .request_email_change(me.user.id, &form.new_email, &form.password)
        .await
    {
        Ok(()) => {
            session::push_flash(
                &session,
                "Check your email: we sent a confirmation link to the new address.",
            )
            .await;
            Ok(see_other("/users/profile"))
        }
        Err(EmailChangeError::Invalid(errors)) => {
            let chrome = Chrome::build(&state, &session, &viewer).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &EmailChangePage {
                    chrome,
                    new_email: form.new_email,
                    errors,
                },
            )
        }
        Err(EmailChangeError::Hash(e)) => Err(e.into()),
        Err(EmailChangeError::Unexpected(e)) => Err(e.into()),
    }
}

fn email_change_failure(e: ConfirmEmailChangeError) -> Result<Response, WebError> {
    let (status, title, detail) = match e {
        ConfirmEmailChangeError::Link(LinkError::Unexpected(cause)) => return Err(cause.into()),
        ConfirmEmailChangeError::Link(LinkError::Expired) => (
            StatusCode::BAD_REQUEST,
            "Link expired",
            "The confirmation link has expired: links work for three days. Request the change again.",
        ),
        ConfirmEmailChangeError::Link(LinkError::Invalid) => (
            StatusCode::BAD_REQUEST,
            "Link not valid",
            "The confirmation link is not valid. Perhaps it was copied incompletely.",
        ),
        ConfirmEmailChangeError::AlreadyUsed => (
            StatusCode::BAD_REQUEST,
            "Link already used",
            "This change was confirmed already, or a newer request replaced it.",
        ),
        ConfirmEmailChangeError::EmailTaken => (
            StatusCode::CONFLICT,
            "Address taken",
            "Another account uses this address now, so it cannot become yours.",
        ),
    };
    Ok(no_referrer(crate::error::error_page(status, title, detail)))
}

async fn email_change_page(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    match state.accounts.check_email_change(&token).await {
        Ok((_, new_email)) => {
            let chrome = Chrome::build(&state, &session, &viewer).await?;
            let page = ConfirmPage {
                chrome,
                heading: "Confirm your new email address",
                text: format!("Make {new_email} the address of your account."),
                action: format!("/users/email-change/{token}"),
                button: "Confirm this address",
            };
            render(StatusCode::OK, &page).map(no_referrer)
        }
        Err(e) => email_change_failure(e),
    }
}

async fn email_change_confirm(
    State(state): State<AppState>,
    session: Session,
    Path(token): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    check_csrf(&session, &form.csrf_token).await?;
    match state.accounts.confirm_email_change(&token).await {
        Ok(user) => {
            tracing::info!(user = user.id.0, "email address changed");
            session::push_flash(&session, "Your email address was changed.").await;
            let to = if session::user_id(&session).await.is_some() {
                "/users/profile"
            } else {
                "/users/login"
            };
            Ok(no_referrer(see_other(to)))
        }
        Err(e) => email_change_failure(e),
    }
}

// ---- profile ------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    chrome: Chrome,
    email: String,
    first_name: String,
    last_name: String,
    phone: String,
    country: String,
    avatar_url: Option<String>,
    countries: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
}

fn countries() -> Vec<(&'static str, &'static str)> {
    Country::all()
        .into_iter()
        .map(|c| (c.code(), c.name()))
        .collect()
}

async fn profile_form(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let Some(me) = viewer.0.clone() else {
        return Ok(login_redirect(&uri));
    };
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    let u = &me.user;
    let page = ProfilePage {
        chrome,
        email: u.email.to_string(),
        first_name: u.first_name.as_str().to_owned(),
        last_name: u.last_name.as_str().to_owned(),
        phone: u
            .phone
            .as_ref()
            .map(|p| p.e164().to_owned())
            .unwrap_or_default(),
        country: u.country.map(|c| c.code().to_owned()).unwrap_or_default(),
        avatar_url: u.avatar.as_deref().map(media_url),
        countries: countries(),
        errors: FieldErrors::new(),
    };
    render(StatusCode::OK, &page)
}

/// The profile form as sent (multipart, with an optional file).
#[derive(Debug, Default)]
struct ProfileForm {
    csrf_token: String,
    first_name: String,
    last_name: String,
    phone: String,
    country: String,
    avatar: Option<Vec<u8>>,
}

async fn read_profile_form(mut multipart: Multipart) -> Result<ProfileForm, WebError> {
    let mut form = ProfileForm::default();
    let bad = |_| WebError::BadRequest("The form could not be read.");
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "avatar" {
            let has_file = field.file_name().is_some_and(|n| !n.is_empty());
            let bytes = field.bytes().await.map_err(bad)?;
            if has_file && !bytes.is_empty() {
                form.avatar = Some(bytes.to_vec());
            }
            continue;
        }
        let value = field.text().await.map_err(bad)?;
        match name.as_str() {
            "csrf_token" => form.csrf_token = value,
            "first_name" => form.first_name = value,
            "last_name" => form.last_name = value,
            "phone" => form.phone = value,
            "country" => form.country = value,
            _ => {}
        }
    }
    Ok(form)
}

async fn profile(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    uri: axum::http::Uri,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, WebError> {
    let Some(me) = viewer.0.clone() else {
        return Ok(login_redirect(&uri));
    };
    let multipart = multipart.map_err(|_| {
        WebError::BadRequest("The profile form must be sent as multipart/form-data.")
    })?;
    let form = match read_profile_form(multipart).await {
        Ok(form) => form,
        Err(e) => return Ok(too_large_or(e)),
    };
    check_csrf(&session, &form.csrf_token).await?;
    let input = ProfileInput {
        first_name: &form.first_name,
        last_name: &form.last_name,
        phone: &form.phone,
        country: &form.country,
    };
    match state
        .accounts
        .save_profile(me.user.id, input, form.avatar)
        .await
    {
        Ok(_) => {
            session::push_flash(&session, "Profile saved.").await;
            Ok(see_other("/users/profile"))
        }
        Err(ProfileError::Invalid(errors)) => {
            let chrome = Chrome::build(&state, &session, &viewer).await?;
            let page = ProfilePage {
                chrome,
                email: me.user.email.to_string(),
                first_name: form.first_name,
                last_name: form.last_name,
                phone: form.phone,
                country: form.country,
                avatar_url: me.user.avatar.as_deref().map(media_url),
                countries: countries(),
                errors,
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(ProfileError::Media(e)) => Err(WebError::Internal(e.to_string())),
        Err(ProfileError::Unexpected(e)) => Err(e.into()),
    }
}

/// A multipart body cut off by the upload limit reads as a broken form; say what it was.
fn too_large_or(e: WebError) -> Response {
    match e {
        WebError::BadRequest(_) => crate::error::error_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Upload too large",
            "The upload is larger than 5 MiB. Choose a smaller image.",
        ),
        other => other.into_response(),
    }
}
