//! A page of product documents written straight into bytes.
//!
//! `GET /api/v1/products` is the API's hot read, and serde's way of writing it cost more
//! than the database read behind it (callgrind, 20 products: 88k instructions of
//! 583k per request in `serialize_str`, 42k more building the borrowed documents and
//! formatting their prices and timestamps). Here the keys are written as the literal
//! runs between values, text that needs no escaping (nearly all) is copied whole after
//! a check the compiler vectorises, and numbers and timestamps are written digit by
//! digit. The output is byte for byte what serde writes for [`super::products::ProductPage`]
//! (the tests hold it to that), which stays the schema and writes the other endpoints.

use catalog_domain::Page;
use catalog_domain::Timestamp;
use catalog_domain::access::{Actor, ProductFacts, sees_owner_email};
use catalog_domain::product::{Product, Version};
use catalog_domain::services::products::ProductDetail;
use std::io::Write as _;

use chrono::{Datelike, SecondsFormat, Timelike};

/// What a page of `count` products takes, so that the buffer is reserved once.
fn capacity(count: usize) -> usize {
    64 + 640 * count
}

/// The JSON document of `page`, as serde writes [`super::products::ProductPage`];
/// `base` is the public URL without its trailing slash, before image paths.
pub fn page(base: &str, viewer: Option<&Actor>, page: &Page<ProductDetail>) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity(page.items.len()));
    out.extend_from_slice(b"{\"items\":[");
    for (n, detail) in page.items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        let email = sees_owner_email(viewer, &ProductFacts::from(&detail.product));
        product(&mut out, base, email, &detail.product, &detail.versions);
    }
    out.extend_from_slice(b"],\"page\":");
    integer(&mut out, page.page);
    out.extend_from_slice(b",\"per_page\":");
    integer(&mut out, page.per_page);
    out.extend_from_slice(b",\"total\":");
    integer(&mut out, page.total);
    out.push(b'}');
    out
}

/// One product; `email` says whether the viewer sees its owner's address.
fn product(out: &mut Vec<u8>, base: &str, email: bool, p: &Product, versions: &[Version]) {
    out.extend_from_slice(b"{\"id\":");
    integer(out, p.id.0);
    out.extend_from_slice(b",\"name\":");
    string(out, p.name.as_str());
    out.extend_from_slice(b",\"description\":");
    string(out, p.description.as_str());
    out.extend_from_slice(b",\"price\":\"");
    // Money's own Display (digits only, no escaping needed) keeps one way of showing a
    // price; writing into a `Vec` cannot fail.
    let _ = write!(out, "{}", p.price);
    out.extend_from_slice(b"\",\"is_published\":");
    boolean(out, p.is_published);
    out.extend_from_slice(b",\"moderation_locked\":");
    boolean(out, p.moderation_locked);
    out.extend_from_slice(b",\"category\":{\"id\":");
    integer(out, p.category.id.0);
    out.extend_from_slice(b",\"name\":");
    string(out, p.category.name.as_str());
    out.extend_from_slice(b"},\"owner\":{\"id\":");
    integer(out, p.owner.id.0);
    out.extend_from_slice(b",\"name\":");
    string(out, &p.owner.display_name());
    if email {
        out.extend_from_slice(b",\"email\":");
        string(out, p.owner.email.as_str());
    }
    out.extend_from_slice(b"},\"image_url\":");
    match &p.image {
        Some(key) => string(out, &format!("{base}{}", crate::view::media_url(key))),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"versions\":[");
    for (n, v) in versions.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"id\":");
        integer(out, v.id.0);
        out.extend_from_slice(b",\"number\":");
        string(out, v.number.as_str());
        out.extend_from_slice(b",\"name\":");
        string(out, v.name.as_str());
        out.extend_from_slice(b",\"is_current\":");
        boolean(out, v.is_current);
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"created_at\":");
    timestamp(out, &p.created_at);
    out.extend_from_slice(b",\"updated_at\":");
    timestamp(out, &p.updated_at);
    out.push(b'}');
}

/// `s` as a JSON string. Only `"`, `\` and the control characters below U+0020 need
/// escaping (serde writes everything else as it is, DEL and non-ASCII included); the
/// rare text with one goes through serde_json itself.
fn string(out: &mut Vec<u8>, s: &str) {
    // No early exit: the fold over every byte is what the compiler turns into vector
    // instructions, and the texts are short.
    let escape = s.bytes().fold(false, |seen, b| {
        seen | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if escape {
        // Writing a `str` into a `Vec` cannot fail; should it ever, the text is lost,
        // never the document's shape.
        if serde_json::to_writer(&mut *out, s).is_err() {
            out.extend_from_slice(b"\"\"");
        }
        return;
    }
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

fn integer(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

fn boolean(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

fn digit(n: u64) -> u8 {
    b'0' + (n % 10) as u8
}

/// RFC 3339 in UTC with microseconds, as `to_rfc3339_opts(SecondsFormat::Micros, true)`
/// writes it, without the formatting machinery: `2026-12-05T08:42:18.153525Z`. Years
/// outside 0–9999 and leap seconds, which that writes differently, are left to it.
fn timestamp(out: &mut Vec<u8>, t: &Timestamp) {
    let (date, time) = (t.date_naive(), t.time());
    let year = date.year();
    let nanos = time.nanosecond();
    let Ok(year) = u64::try_from(year) else {
        return string(out, &t.to_rfc3339_opts(SecondsFormat::Micros, true));
    };
    if year > 9999 || nanos >= 1_000_000_000 {
        return string(out, &t.to_rfc3339_opts(SecondsFormat::Micros, true));
    }
    let micros = u64::from(nanos / 1000);
    let text = [
        b'"',
        digit(year / 1000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
        b'-',
        digit(u64::from(date.month()) / 10),
        digit(u64::from(date.month())),
        b'-',
        digit(u64::from(date.day()) / 10),
        digit(u64::from(date.day())),
        b'T',
        digit(u64::from(time.hour()) / 10),
        digit(u64::from(time.hour())),
        b':',
        digit(u64::from(time.minute()) / 10),
        digit(u64::from(time.minute())),
        b':',
        digit(u64::from(time.second()) / 10),
        digit(u64::from(time.second())),
        b'.',
        digit(micros / 100_000),
        digit(micros / 10_000),
        digit(micros / 1000),
        digit(micros / 100),
        digit(micros / 10),
        digit(micros),
        b'Z',
        b'"',
    ];
    out.extend_from_slice(&text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use catalog_domain::product::{
        CategoryId, CategoryName, CategoryRef, Description, Money, OwnerRef, ProductId,
        ProductName, VersionId, VersionName, VersionNumber,
    };
    use catalog_domain::user::{Email, PersonName, UserId};
    use chrono::{DateTime, NaiveDate, Utc};

    const BASE: &str = "https://shop.example.com";

    fn at(year: i32, nanos: u32) -> Timestamp {
        NaiveDate::from_ymd_opt(year, 2, 28)
            .and_then(|d| d.and_hms_nano_opt(23, 5, 9, nanos))
            .map(|t| DateTime::<Utc>::from_naive_utc_and_offset(t, Utc))
            .unwrap_or_default()
    }

    fn product(
        id: i64,
        name: &str,
        description: &str,
        image: Option<&str>,
        price: &str,
        email: &str,
        created_at: Timestamp,
    ) -> Product {
        Product {
            id: ProductId(id),
            name: ProductName::parse(name).expect("a valid test name"),
            description: Description::parse(description).expect("a valid test description"),
            image: image.map(str::to_owned),
            category: CategoryRef {
                id: CategoryId(id % 7 + 1),
                name: CategoryName::parse("Lamps & \"Lights\"").expect("a valid test category"),
            },
            price: Money::parse(price).expect("a valid test price"),
            is_published: id % 2 == 0,
            moderation_locked: id % 3 == 0,
            owner: OwnerRef {
                id: UserId(id * 10),
                email: Email::parse(email).expect("a valid test address"),
                first_name: PersonName::parse(if id % 2 == 0 { "Ann \"A\"" } else { "" })
                    .expect("a valid test name"),
                last_name: PersonName::default(),
            },
            created_at,
            updated_at: at(2026, 999_999_999),
            revision: 1,
        }
    }

    fn version(id: i64, number: &str, name: &str, is_current: bool) -> Version {
        Version {
            id: VersionId(id),
            product_id: ProductId(1),
            number: VersionNumber::parse(number).expect("a valid test number"),
            name: VersionName::parse(name).expect("a valid test version name"),
            is_current,
        }
    }

    /// Someone who owns product 12 (owner id 120) and nothing else.
    fn viewer() -> Actor {
        Actor::new(UserId(120), false, [])
    }

    /// What serde writes for the same page through the documented types.
    fn serde_page(page: &Page<ProductDetail>) -> String {
        let viewer = viewer();
        let doc = super::super::products::docs::page_doc(BASE, Some(&viewer), page);
        serde_json::to_string(&doc).unwrap_or_default()
    }

    fn ours(page: &Page<ProductDetail>) -> String {
        String::from_utf8(super::page(BASE, Some(&viewer()), page)).unwrap_or_default()
    }

    #[test]
    fn writes_what_serde_writes() {
        let items = vec![
            ProductDetail {
                product: product(
                    12,
                    "Desk lamp \"Aurora\"",
                    "Two lines:\nthe first\tand a back\\slash, é, and ✓",
                    Some("products/12/abc.webp"),
                    "1999999999.05",
                    "o'hara+lamps@example.com",
                    at(2026, 153_525_000),
                ),
                versions: vec![
                    version(3, "1.0.2", "First \"real\" one", true),
                    version(4, "2.0", "Next", false),
                ],
            },
            ProductDetail {
                product: product(9, "Plain", "", None, "0", "a@b.example", at(1, 1_000)),
                versions: Vec::new(),
            },
            ProductDetail {
                product: product(
                    -4,
                    "Far future",
                    "x",
                    None,
                    "0.5",
                    "ann@example.com",
                    at(12_345, 0),
                ),
                versions: Vec::new(),
            },
        ];
        let mut items = items;
        // A leap second, which chrono writes as second 60.
        if let Some(last) = items.last_mut() {
            last.product.updated_at = NaiveDate::from_ymd_opt(2016, 12, 31)
                .and_then(|d| d.and_hms_micro_opt(23, 59, 59, 1_500_000))
                .map(|t| DateTime::<Utc>::from_naive_utc_and_offset(t, Utc))
                .unwrap_or_default();
        }
        let page = Page {
            items,
            page: 3,
            per_page: 20,
            total: u64::MAX,
        };
        let ours = ours(&page);
        assert_eq!(ours, serde_page(&page));
        assert!(ours.contains(r#""price":"1999999999.05""#), "{ours}");
        // The viewer owns the first product only: its owner's address and no other.
        assert!(
            ours.contains(
                r#""owner":{"id":120,"name":"Ann \"A\"","email":"o'hara+lamps@example.com"}"#
            ),
            "{ours}"
        );
        assert!(
            ours.contains(r#""owner":{"id":90,"name":"Member #90"}"#),
            "{ours}"
        );
        assert!(
            ours.contains(r#""created_at":"2026-02-28T23:05:09.153525Z""#),
            "{ours}"
        );
        assert!(
            ours.contains(r#""created_at":"0001-02-28T23:05:09.000001Z""#),
            "{ours}"
        );
        assert!(
            ours.contains(r#""updated_at":"2016-12-31T23:59:60.500000Z""#),
            "{ours}"
        );
        assert!(
            ours.contains(r#""created_at":"+12345-02-28T23:05:09.000000Z""#),
            "{ours}"
        );
    }

    #[test]
    fn an_empty_page_is_what_serde_writes() {
        let page = Page {
            items: Vec::new(),
            page: 1,
            per_page: 20,
            total: 0,
        };
        let ours = ours(&page);
        assert_eq!(ours, r#"{"items":[],"page":1,"per_page":20,"total":0}"#);
        assert_eq!(ours, serde_page(&page));
    }

    proptest::proptest! {
        #[test]
        fn any_text_and_time_is_written_as_serde_writes_it(
            name in "[^\u{0}-\u{1f}\u{7f}-\u{9f}]{1,40}",
            description in "\\PC{0,80}|[\"\\\\\t\n\u{7f}a]{0,12}",
            secs in -62_135_596_800i64..253_402_300_799,
            nanos in 0u32..1_000_000_000,
            cents in 0i64..1_000_000_000,
        ) {
            let Ok(name) = ProductName::parse(&name) else { return Ok(()) };
            let Ok(description) = Description::parse(&description) else { return Ok(()) };
            let created_at = DateTime::<Utc>::from_timestamp(secs, nanos).unwrap_or_default();
            let mut p = product(1, "x", "", None, "1", "a@b.example", created_at);
            p.name = name;
            p.description = description;
            p.price = Money::from_cents(cents).unwrap_or(p.price);
            let page = Page { items: vec![ProductDetail { product: p, versions: Vec::new() }], page: 1, per_page: 1, total: 1 };
            let ours = ours(&page);
            proptest::prop_assert_eq!(ours, serde_page(&page));
        }
    }
}
