//! How the web names what the domain validates: the domain reports errors by
//! [`Input`]; a page's form and an API body each call an input by their own name
//! (a form has `password1` and `password2` where the API has one `password`).

use catalog_domain::fields::{FieldErrors, Input};

use crate::i18n::{self, Lang};

/// The name of `input` in the pages' forms.
pub fn form_name(input: Input) -> &'static str {
    match input {
        Input::Password => "password1",
        Input::NewPassword => "new_password1",
        Input::Category => "category",
        other => json_key(other),
    }
}

/// The key of `input` in API bodies and in a problem document's `errors`.
pub fn json_key(input: Input) -> &'static str {
    match input {
        Input::Email => "email",
        Input::Password | Input::CurrentPassword => "password",
        Input::OldPassword => "old_password",
        Input::NewPassword => "new_password",
        Input::NewEmail => "new_email",
        Input::FirstName => "first_name",
        Input::LastName => "last_name",
        Input::Phone => "phone",
        Input::Country => "country",
        Input::Language => "language",
        Input::Avatar => "avatar",
        Input::Name => "name",
        Input::Description => "description",
        Input::Price => "price",
        Input::Category => "category_id",
        Input::Image => "image",
        Input::Versions => "versions",
        Input::VersionNumber => "number",
        Input::IsCurrent => "is_current",
        Input::MinPrice => "min_price",
        Input::MaxPrice => "max_price",
        Input::Mine => "mine",
        Input::Status => "status",
        Input::Sort => "sort",
    }
}

/// The name of `input` as a listing's query parameter (`/products?category=3`), on
/// pages and in the API alike.
pub fn param_name(input: Input) -> &'static str {
    match input {
        Input::Category => "category",
        other => json_key(other),
    }
}

/// Error messages by the name the client knows the field by, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Messages(Vec<(&'static str, String)>);

impl Messages {
    pub fn new() -> Self {
        Self::default()
    }

    /// The domain's errors as a page's form names them, in the page's language.
    pub fn form(errors: &FieldErrors, lang: Lang) -> Self {
        Self::named(errors, form_name, lang)
    }

    /// The domain's errors as an API body names them, in the request's language.
    pub fn json(errors: &FieldErrors) -> Self {
        Self::named(errors, json_key, i18n::current())
    }

    /// The domain's errors as a listing's query parameters name them.
    pub fn params(errors: &FieldErrors, lang: Lang) -> Self {
        Self::named(errors, param_name, lang)
    }

    fn named(errors: &FieldErrors, name: fn(Input) -> &'static str, lang: Lang) -> Self {
        Self(
            errors
                .iter()
                .map(|(input, message)| (name(input), i18n::say(lang, message)))
                .collect(),
        )
    }

    pub fn add(&mut self, field: &'static str, message: impl std::fmt::Display) {
        self.0.push((field, message.to_string()));
    }

    /// Adds `more` after the messages found so far.
    #[must_use]
    pub fn and(mut self, more: Self) -> Self {
        self.0.extend(more.0);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every (field, message) pair.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(f, m)| (*f, m.as_str()))
    }

    /// The messages of one field.
    pub fn of(&self, field: &str) -> Vec<&str> {
        self.iter()
            .filter(|(f, _)| *f == field)
            .map(|(_, m)| m)
            .collect()
    }
}

impl std::fmt::Display for Messages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(k, m)| format!("{k}: {m}")).collect();
        f.write_str(&parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each name is an input's only name in its place: two inputs sharing a form name
    /// would show one's error beside the other.
    #[test]
    fn forms_name_each_input_once_and_the_api_keeps_its_keys() {
        let all = [
            Input::Email,
            Input::Password,
            Input::CurrentPassword,
            Input::OldPassword,
            Input::NewPassword,
            Input::NewEmail,
            Input::FirstName,
            Input::LastName,
            Input::Phone,
            Input::Country,
            Input::Language,
            Input::Avatar,
            Input::Name,
            Input::Description,
            Input::Price,
            Input::Category,
            Input::Image,
            Input::Versions,
            Input::VersionNumber,
            Input::IsCurrent,
            Input::MinPrice,
            Input::MaxPrice,
            Input::Mine,
            Input::Status,
            Input::Sort,
        ];
        let forms: std::collections::BTreeSet<_> = all.iter().map(|i| form_name(*i)).collect();
        assert_eq!(forms.len(), all.len());
        assert_eq!(json_key(Input::Password), "password");
        assert_eq!(json_key(Input::NewPassword), "new_password");
        assert_eq!(json_key(Input::Category), "category_id");
        assert_eq!(form_name(Input::Category), "category");
    }
}
