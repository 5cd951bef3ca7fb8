//! The profile form, with the avatar upload.

use crate::error::WebError;
use crate::html::page::SignedIn;
use crate::html::{Chrome, see_other, thumb_2x_url};
use crate::names::Messages;
use crate::session;
use askama::Template;
use axum::extract::Multipart;
use axum::http::StatusCode;
use axum::response::Response;
use catalog_domain::fields::{Input, Message};
use catalog_domain::services::accounts::{ProfileError, ProfileInput};

use crate::i18n::Lang;
#[derive(Template)]
#[template(path = "profile.html")]
pub(super) struct ProfilePage {
    chrome: Chrome,
    email: String,
    first_name: String,
    last_name: String,
    phone: String,
    country: String,
    avatar_url: Option<String>,
    /// The code of the language chosen in the form.
    language: String,
    errors: Messages,
}

pub(super) async fn profile_form(SignedIn { page, me }: SignedIn) -> Result<Response, WebError> {
    let u = &me.user;
    page.render(StatusCode::OK, |chrome| ProfilePage {
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
        avatar_url: u.avatar.as_deref().map(thumb_2x_url),
        language: page.lang.code().to_owned(),
        errors: Messages::new(),
    })
    .await
}

/// The profile form as sent (multipart, with an optional file).
#[derive(Debug, Default)]
pub(super) struct ProfileForm {
    csrf_token: String,
    first_name: String,
    last_name: String,
    phone: String,
    country: String,
    language: String,
    avatar: Option<Vec<u8>>,
}

pub(super) async fn read_profile_form(mut multipart: Multipart) -> Result<ProfileForm, WebError> {
    let mut form = ProfileForm::default();
    let bad = |_| WebError::BadRequest("error-form-unreadable");
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
            "language" => form.language = value,
            _ => {}
        }
    }
    Ok(form)
}

pub(super) async fn profile(
    SignedIn { page, me }: SignedIn,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, WebError> {
    let multipart = multipart.map_err(|_| WebError::BadRequest("error-multipart-required"))?;
    let form = match read_profile_form(multipart).await {
        Ok(form) => form,
        Err(e) => return Ok(crate::html::too_large_or(e)),
    };
    // The token travels inside the multipart body, so it is checked here.
    page.check_csrf(&form.csrf_token).await?;
    let input = ProfileInput {
        first_name: &form.first_name,
        last_name: &form.last_name,
        phone: &form.phone,
        country: &form.country,
    };
    // An empty choice keeps the language as it is (a form from before languages).
    let language = match form.language.as_str() {
        "" => Ok(None),
        code => Lang::parse(code).map(Some).ok_or(()),
    };
    let saved = match (input.parse(), language) {
        (Ok(profile), Ok(language)) => {
            let saved = page
                .state
                .accounts
                .save_profile(me.user.id, profile, form.avatar)
                .await;
            match (saved, language) {
                (Ok(user), Some(lang)) if user.language.as_deref() != Some(lang.code()) => page
                    .state
                    .accounts
                    .set_language(me.user.id, lang.code())
                    .await
                    .map(|()| user)
                    .map_err(ProfileError::from),
                (other, _) => other,
            }
        }
        (parsed, language) => {
            let mut found = parsed.err().unwrap_or_default();
            if language.is_err() {
                found.add(Input::Language, Message::new("language-invalid"));
            }
            Err(ProfileError::Invalid(found))
        }
    };
    match saved {
        Ok(_) => {
            session::push_flash(&page.session, "flash-profile-saved").await;
            Ok(see_other("/users/profile"))
        }
        Err(ProfileError::Invalid(found)) => {
            let errors = Messages::form(&found, page.lang);
            page.render(StatusCode::UNPROCESSABLE_ENTITY, |chrome| ProfilePage {
                chrome,
                email: me.user.email.to_string(),
                first_name: form.first_name,
                last_name: form.last_name,
                phone: form.phone,
                country: form.country,
                avatar_url: me.user.avatar.as_deref().map(thumb_2x_url),
                language: form.language,
                errors,
            })
            .await
        }
        Err(ProfileError::Media(e)) => Err(WebError::Internal(e.to_string())),
        Err(ProfileError::Unexpected(e)) => Err(e.into()),
    }
}
