use askama::Template;
use catalog_domain::mail::{MailKind, OutgoingMail};
use catalog_i18n::{Arg, Lang};

/// A message ready for a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: &'static str,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template failed: {0}")]
    Template(#[from] askama::Error),
    #[error("a {0} message needs a {1}")]
    Missing(&'static str, &'static str),
}

#[derive(Template)]
#[template(path = "message.txt")]
struct Text<'a> {
    lang: Lang,
    kind: &'a str,
    name: &'a str,
    link: &'a str,
    secret: &'a str,
    detail: &'a str,
    site: &'a str,
}

#[derive(Template)]
#[template(path = "message.html")]
struct Html<'a> {
    lang: Lang,
    subject: &'a str,
    kind: &'a str,
    name: &'a str,
    link: &'a str,
    secret: &'a str,
    detail: &'a str,
    site: &'a str,
}

/// A message's subject, in `lang`.
pub fn subject(kind: MailKind, lang: Lang) -> &'static str {
    lang.t(match kind {
        MailKind::Verification => "mail-subject-verification",
        MailKind::RegistrationAttempt => "mail-subject-registration-attempt",
        MailKind::GeneratedPassword => "mail-subject-generated-password",
        MailKind::PasswordChanged => "mail-subject-password-changed",
        MailKind::EmailChangeConfirmation => "mail-subject-email-change-confirmation",
        MailKind::EmailChangeNotice => "mail-subject-email-change-notice",
    })
}

/// The language a message is written in: the one it was queued with, if it is one of
/// ours, else `default`.
pub fn language(mail: &OutgoingMail, default: Lang) -> Lang {
    mail.language
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or(default)
}

/// Renders both parts of a message in its language (see [`language`]). `site` is the
/// public base URL, without a trailing slash; links inside the message are absolute
/// already.
///
/// # Errors
/// [`RenderError::Missing`] when the message lacks the link or secret its kind needs.
pub fn render(mail: &OutgoingMail, site: &str, default: Lang) -> Result<Rendered, RenderError> {
    let lang = language(mail, default);
    let kind = mail.kind.as_str();
    let link = mail.link.as_ref().map(|l| l.expose()).unwrap_or_default();
    let secret = mail.secret.as_ref().map(|s| s.expose()).unwrap_or_default();
    let detail = mail.detail.as_deref().unwrap_or_default();
    match mail.kind {
        MailKind::Verification | MailKind::EmailChangeConfirmation if link.is_empty() => {
            return Err(RenderError::Missing(kind, "link"));
        }
        MailKind::GeneratedPassword if secret.is_empty() => {
            return Err(RenderError::Missing(kind, "password"));
        }
        MailKind::EmailChangeNotice if detail.is_empty() => {
            return Err(RenderError::Missing(kind, "new address"));
        }
        _ => {}
    }
    // Names end up in the body only, never in a header; control characters are gone.
    let name: String = mail
        .recipient_name
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let subject = subject(mail.kind, lang);
    let site = site.trim_end_matches('/');
    let text = Text {
        lang,
        kind,
        name: &name,
        link,
        secret,
        detail,
        site,
    }
    .render()?;
    let html = Html {
        lang,
        subject,
        kind,
        name: &name,
        link,
        secret,
        detail,
        site,
    }
    .render()?;
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

#[cfg(test)]
mod tests {
    use catalog_domain::mail::MailSecret;
    use catalog_domain::user::Email;

    use super::*;

    fn mail(kind: MailKind) -> OutgoingMail {
        OutgoingMail {
            to: Email::parse("ann@example.com").unwrap(),
            kind,
            recipient_name: "Ann <b>Lee</b>".into(),
            link: Some(MailSecret::new(
                "https://shop.example/users/verify/tok?x=1&y=2".into(),
            )),
            secret: Some(MailSecret::new("Kx7pQ2mW9rTz4h".into())),
            detail: Some("new@example.com".into()),
            language: None,
        }
    }

    #[test]
    fn every_kind_has_a_text_and_an_html_part_with_absolute_links() {
        for kind in MailKind::ALL {
            let r = render(&mail(kind), "https://shop.example/", Lang::english()).unwrap();
            assert!(!r.subject.is_empty());
            assert!(
                r.text.starts_with("Hello Ann <b>Lee</b>,"),
                "{kind:?}: {}",
                r.text
            );
            assert!(
                r.html.contains("Hello Ann &#60;b&#62;Lee&#60;/b&#62;,"),
                "{kind:?}: html escapes names"
            );
            assert!(r.text.contains("https://shop.example"), "{kind:?}");
            assert!(
                !r.text.contains("shop.example//"),
                "{kind:?}: no double slash"
            );
        }
    }

    #[test]
    fn links_and_passwords_reach_the_reader() {
        let v = render(
            &mail(MailKind::Verification),
            "https://shop.example",
            Lang::english(),
        )
        .unwrap();
        assert!(
            v.text
                .contains("https://shop.example/users/verify/tok?x=1&y=2")
        );
        assert!(
            v.html
                .contains("href=\"https://shop.example/users/verify/tok?x=1&#38;y=2\""),
            "{}",
            v.html
        );
        let p = render(
            &mail(MailKind::GeneratedPassword),
            "https://shop.example",
            Lang::english(),
        )
        .unwrap();
        assert!(p.text.contains("Kx7pQ2mW9rTz4h") && p.html.contains("Kx7pQ2mW9rTz4h"));
        let n = render(
            &mail(MailKind::EmailChangeNotice),
            "https://shop.example",
            Lang::english(),
        )
        .unwrap();
        assert!(n.text.contains("new@example.com"));
    }

    #[test]
    fn only_the_kinds_that_need_a_secret_show_one() {
        let r = render(
            &mail(MailKind::PasswordChanged),
            "https://shop.example",
            Lang::english(),
        )
        .unwrap();
        assert!(!r.text.contains("Kx7pQ2mW9rTz4h") && !r.text.contains("verify/tok"));
    }

    #[test]
    fn a_message_without_what_it_needs_is_refused() {
        let mut m = mail(MailKind::Verification);
        m.link = None;
        assert!(matches!(
            render(&m, "https://x.example", Lang::english()),
            Err(RenderError::Missing(_, "link"))
        ));
        let mut m = mail(MailKind::GeneratedPassword);
        m.secret = None;
        assert!(matches!(
            render(&m, "https://x.example", Lang::english()),
            Err(RenderError::Missing(_, "password"))
        ));
    }

    #[test]
    fn control_characters_in_names_are_dropped() {
        let mut m = mail(MailKind::PasswordChanged);
        m.recipient_name = "Ann\r\nBcc: evil@example.com".into();
        let r = render(&m, "https://x.example", Lang::english()).unwrap();
        assert!(r.text.starts_with("Hello AnnBcc: evil@example.com,"));
    }

    #[test]
    fn a_message_is_written_in_the_language_it_was_queued_with() {
        let ru = Lang::parse("ru").unwrap();
        let mut m = mail(MailKind::GeneratedPassword);
        m.language = Some("ru".into());
        let r = render(&m, "https://x.example", Lang::english()).unwrap();
        assert_eq!(r.subject, "Ваш новый пароль");
        assert!(
            r.text.starts_with("Здравствуйте, Ann <b>Lee</b>!"),
            "{}",
            r.text
        );
        assert!(r.text.contains("Он действует один час."), "{}", r.text);
        assert!(r.html.contains("<html lang=\"ru\">"));
        // Without a language of its own, the site's default applies.
        m.language = None;
        let r = render(&m, "https://x.example", ru).unwrap();
        assert_eq!(r.subject, "Ваш новый пароль");
        let r = render(&m, "https://x.example", Lang::english()).unwrap();
        assert_eq!(r.subject, "Your new password");
        // A code that is none of ours reads as no language.
        m.language = Some("xx".into());
        let r = render(&m, "https://x.example", Lang::english()).unwrap();
        assert_eq!(r.subject, "Your new password");
    }

    #[test]
    fn every_kind_reads_in_every_language_without_a_message_id_showing() {
        for lang in Lang::all() {
            for kind in MailKind::ALL {
                let mut m = mail(kind);
                m.language = Some(lang.code().into());
                let r = render(&m, "https://x.example", Lang::english()).unwrap();
                for part in [&r.text, &r.html, &r.subject.to_owned()] {
                    assert!(!part.contains("mail-"), "{lang:?} {kind:?}: {part}");
                }
            }
        }
    }
}
