//! What the account use cases take, parsed at the edge: an [`Email`] and a [`Password`]
//! the policy accepts, never the strings a form or a body carried.

use super::*;

/// A registration: the address and the chosen password.
#[derive(Debug)]
pub struct Registration {
    pub email: Email,
    pub password: Password,
    /// The language the person registered in (its code); their mail is written in it.
    pub language: Option<String>,
}

impl Registration {
    /// Reads the two inputs; the password is judged knowing the address (it may not
    /// resemble it).
    ///
    /// # Errors
    /// Every problem of either input.
    pub fn parse(email: &str, password: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let email = Email::parse(email)
            .map_err(|e| errors.add(Input::Email, e))
            .ok();
        let context = PasswordContext {
            email: email.as_ref().map(Email::as_str),
            ..PasswordContext::default()
        };
        let password = Password::parse(password, context)
            .map_err(|e| password_problems(&mut errors, Input::Password, &e))
            .ok();
        match (email, password) {
            (Some(email), Some(password)) => Ok(Self {
                email,
                password,
                language: None,
            }),
            _ => Err(errors),
        }
    }
}

/// An address someone types to be sent something (a link again, a generated password).
///
/// # Errors
/// The problem with the address, under [`Input::Email`].
pub fn address(raw: &str) -> Result<Email, FieldErrors> {
    Email::parse(raw).map_err(|e| {
        let mut errors = FieldErrors::new();
        errors.add(Input::Email, e);
        errors
    })
}

/// The address an account is to move to.
///
/// # Errors
/// The problem with the address, under [`Input::NewEmail`].
pub fn new_email(raw: &str) -> Result<Email, FieldErrors> {
    Email::parse(raw).map_err(|e| {
        let mut errors = FieldErrors::new();
        errors.add(Input::NewEmail, e);
        errors
    })
}

/// The password `user` chooses, judged knowing who they are (it may not resemble their
/// address or name).
///
/// # Errors
/// Every problem with it, under [`Input::NewPassword`].
pub fn new_password(raw: &str, user: &User) -> Result<Password, FieldErrors> {
    let context = PasswordContext {
        email: Some(user.email.as_str()),
        first_name: Some(user.first_name.as_str()),
        last_name: Some(user.last_name.as_str()),
    };
    Password::parse(raw, context).map_err(|e| {
        let mut errors = FieldErrors::new();
        password_problems(&mut errors, Input::NewPassword, &e);
        errors
    })
}

/// The profile form as typed; [`ProfileInput::parse`] makes it the command.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput<'a> {
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub phone: &'a str,
    pub country: &'a str,
}

impl ProfileInput<'_> {
    /// The profile the form describes, for [`AccountsService::save_profile`]; the phone
    /// number is read in the chosen country.
    ///
    /// # Errors
    /// Every input that is not valid.
    pub fn parse(&self) -> Result<ProfileUpdate, FieldErrors> {
        let input = self;
        let mut errors = FieldErrors::new();
        let first_name = PersonName::parse(input.first_name)
            .map_err(|e| errors.add(Input::FirstName, e))
            .ok();
        let last_name = PersonName::parse(input.last_name)
            .map_err(|e| errors.add(Input::LastName, e))
            .ok();
        let country = match input.country.trim() {
            "" => Some(None),
            code => Country::parse(code)
                .map(Some)
                .map_err(|e| errors.add(Input::Country, e))
                .ok(),
        };
        let phone = match (input.phone.trim(), country) {
            ("", _) => Some(None),
            (raw, Some(country)) => Phone::parse(raw, country)
                .map(Some)
                .map_err(|e| errors.add(Input::Phone, e))
                .ok(),
            // The country was invalid: the phone cannot be read yet.
            (_, None) => None,
        };
        match (first_name, last_name, phone, country) {
            (Some(first_name), Some(last_name), Some(phone), Some(country))
                if errors.is_empty() =>
            {
                Ok(ProfileUpdate {
                    first_name,
                    last_name,
                    phone,
                    country,
                })
            }
            _ => Err(errors),
        }
    }
}
