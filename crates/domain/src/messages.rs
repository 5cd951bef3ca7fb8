//! The message each refusal of the domain shows a person, by id (see
//! [`Message`]); the words are in the message files.

use crate::access::PublishDenied;
use crate::fields::Message;
use crate::ports::MediaError;
use crate::product::{Money, MoneyError, TextError};
use crate::user::{
    Attribute, CountryError, Email, EmailError, Password, PasswordProblem, PersonName,
    PersonNameError, PhoneError,
};

impl From<EmailError> for Message {
    fn from(e: EmailError) -> Self {
        match e {
            EmailError::Empty => Self::new("email-empty"),
            EmailError::TooLong => Self::with("email-too-long", [("max", Email::MAX_LEN.into())]),
            EmailError::Invalid => Self::new("email-invalid"),
            EmailError::LookAlike => Self::new("email-look-alike"),
        }
    }
}

impl From<&PasswordProblem> for Message {
    fn from(p: &PasswordProblem) -> Self {
        match p {
            PasswordProblem::TooShort => {
                Self::with("password-too-short", [("min", Password::MIN_LEN.into())])
            }
            PasswordProblem::TooLong => {
                Self::with("password-too-long", [("max", Password::MAX_LEN.into())])
            }
            PasswordProblem::EntirelyNumeric => Self::new("password-numeric"),
            PasswordProblem::TooCommon => Self::new("password-common"),
            PasswordProblem::TooSimilar(Attribute::Email) => Self::new("password-like-email"),
            PasswordProblem::TooSimilar(Attribute::FirstName) => {
                Self::new("password-like-first-name")
            }
            PasswordProblem::TooSimilar(Attribute::LastName) => {
                Self::new("password-like-last-name")
            }
        }
    }
}

impl From<PersonNameError> for Message {
    fn from(e: PersonNameError) -> Self {
        match e {
            PersonNameError::TooLong => {
                Self::with("text-too-long", [("max", PersonName::MAX_LEN.into())])
            }
            PersonNameError::ControlCharacter => Self::new("name-control-characters"),
        }
    }
}

impl From<PhoneError> for Message {
    fn from(e: PhoneError) -> Self {
        match e {
            PhoneError::NeedsInternationalForm => Self::new("phone-international"),
            PhoneError::Invalid => Self::new("phone-invalid"),
        }
    }
}

impl From<CountryError> for Message {
    fn from(_: CountryError) -> Self {
        Self::new("country-invalid")
    }
}

impl From<TextError> for Message {
    fn from(e: TextError) -> Self {
        match e {
            TextError::Required => Self::new("field-required"),
            TextError::TooLong(max) => Self::with("text-too-long", [("max", max.into())]),
            TextError::ControlCharacter => Self::new("text-control-characters"),
        }
    }
}

impl From<MoneyError> for Message {
    fn from(e: MoneyError) -> Self {
        match e {
            MoneyError::NotANumber => Self::new("price-not-a-number"),
            MoneyError::Negative => Self::new("price-negative"),
            MoneyError::TooPrecise => Self::new("price-too-precise"),
            MoneyError::TooLarge => Self::with(
                "price-too-large",
                [("digits", Money::MAX_WHOLE_DIGITS.into())],
            ),
        }
    }
}

impl From<PublishDenied> for Message {
    fn from(e: PublishDenied) -> Self {
        match e {
            PublishDenied::ModerationLocked => Self::new("product-moderation-locked"),
            PublishDenied::NotPermitted => Self::new("product-publish-denied"),
        }
    }
}

impl From<MediaError> for Message {
    fn from(e: MediaError) -> Self {
        match e {
            MediaError::TooLarge {
                max_side,
                max_megapixels,
            } => Self::with(
                "image-too-large",
                [
                    ("side", max_side.into()),
                    ("megapixels", max_megapixels.into()),
                ],
            ),
            MediaError::TooDeep { max_mib } => {
                Self::with("image-too-deep", [("mib", max_mib.into())])
            }
            MediaError::NotAnImage | MediaError::NotFound | MediaError::Io(_) => {
                Self::new("image-invalid")
            }
        }
    }
}
