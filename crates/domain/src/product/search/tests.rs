use super::*;

#[test]
fn words_are_stemmed_in_their_own_language() {
    assert_eq!(terms("Desk lamps"), terms("desk lamp"));
    assert_eq!(terms("лампы"), terms("Лампа"));
    assert_eq!(terms("настольная"), terms("настольные"));
    assert_ne!(terms("lamp"), terms("лампа"));
}

#[test]
fn case_and_yo_do_not_matter() {
    assert_eq!(terms("ЁЛКА"), terms("елка"));
    assert_eq!(terms("Ёжик"), terms("ежик"));
    assert_eq!(terms("KETTLE"), terms("kettle"));
}

#[test]
fn stop_words_and_punctuation_are_left_out() {
    assert_eq!(terms("the lamp, for a desk!"), terms("lamp desk"));
    assert_eq!(terms("лампа для стола"), terms("лампа стола"));
    assert!(terms("... --- !!!").is_empty());
}

#[test]
fn digits_stay_as_they_are_and_long_words_are_cut() {
    assert_eq!(
        terms("Model 2026"),
        vec!["model".to_owned(), "2026".to_owned()]
    );
    let long = "a".repeat(500);
    assert!(terms(&long)[0].chars().count() <= MAX_TERM_CHARS);
}

#[test]
fn a_document_weighs_name_terms_above_description_terms() {
    let doc = SearchDocument::of("Desk lamp", "A lamp with a warm light");
    assert_eq!(doc.terms.get("lamp"), Some(&NAME_WEIGHT));
    assert_eq!(doc.terms.get("desk"), Some(&NAME_WEIGHT));
    assert_eq!(doc.terms.get("warm"), Some(&DESCRIPTION_WEIGHT));
    assert_eq!(SearchDocument::terms_of_text(&doc.text), doc.terms);
    assert!(doc.text.starts_with(" desk lamp | "), "{}", doc.text);
    assert!(doc.text.ends_with(' '));
}

#[test]
fn a_query_reads_words_phrases_and_exclusions() -> Result<(), &'static str> {
    let q = SearchQuery::parse(r#"lamps "warm light" -brass"#).ok_or("blank")?;
    assert_eq!(q.required, vec!["lamp", "warm", "light"]);
    assert_eq!(q.phrases, vec![" warm light "]);
    assert_eq!(q.excluded, vec!["brass"]);
    Ok(())
}

#[test]
fn anything_a_person_types_is_read_as_words() -> Result<(), &'static str> {
    for raw in [
        "\"unclosed lamp",
        "lamp\"",
        "--lamp",
        "- lamp",
        "lamp -",
        "lamp*",
        "(lamp OR kettle)",
        "lamp' OR 1=1 --",
        "%_lamp%",
        "\u{0}lamp",
    ] {
        let q = SearchQuery::parse(raw).ok_or("blank")?;
        assert!(q.required.contains(&"lamp".to_owned()), "{raw}: {q:?}");
        for t in q.required.iter().chain(&q.excluded) {
            assert!(t.chars().all(char::is_alphanumeric), "{raw}: {t}");
        }
    }
    assert_eq!(SearchQuery::parse("   "), None);
    assert!(SearchQuery::parse("-lamp").ok_or("blank")?.finds_nothing());
    assert!(SearchQuery::parse("the of").ok_or("blank")?.finds_nothing());
    Ok(())
}

#[test]
fn a_long_query_is_cut_not_refused() -> Result<(), &'static str> {
    let raw = (0..500).map(|i| format!("w{i} ")).collect::<String>();
    let q = SearchQuery::parse(&raw).ok_or("blank")?;
    assert_eq!(q.required.len(), MAX_QUERY_TERMS);
    let quotes = "\"".repeat(10_000);
    assert!(SearchQuery::parse(&quotes).is_some());
    Ok(())
}

fn parse(input: FilterInput<'_>) -> Result<ProductFilter, FieldErrors> {
    ProductFilter::parse(input, Some(UserId(7)))
}

#[test]
fn filters_are_read_and_checked() -> Result<(), FieldErrors> {
    let filter = parse(FilterInput {
        q: Some("lamp"),
        category: Some("3"),
        min_price: Some("1.50"),
        max_price: Some("20"),
        mine: Some("1"),
        status: Some("locked"),
        sort: Some("-price"),
    })?;
    assert_eq!(filter.category, Some(CategoryId(3)));
    assert_eq!(filter.min_price.map(|m| m.cents()), Some(150));
    assert_eq!(filter.max_price.map(|m| m.cents()), Some(2000));
    assert_eq!(filter.owner, Some(UserId(7)));
    assert_eq!(filter.status, Some(StatusFilter::Locked));
    assert_eq!(filter.sort, ProductSort::PriceDescending);
    assert!(!filter.is_plain());
    Ok(())
}

#[test]
fn the_default_order_follows_the_search() -> Result<(), FieldErrors> {
    assert_eq!(parse(FilterInput::default())?.sort, ProductSort::New);
    assert!(parse(FilterInput::default())?.is_plain());
    let searched = parse(FilterInput {
        q: Some("lamp"),
        ..FilterInput::default()
    })?;
    assert_eq!(searched.sort, ProductSort::Relevance);
    let relevance_alone = parse(FilterInput {
        sort: Some("relevance"),
        ..FilterInput::default()
    })?;
    assert_eq!(relevance_alone.sort, ProductSort::New);
    // Empty controls of a submitted form are absent values.
    let blank = parse(FilterInput {
        q: Some(""),
        category: Some(""),
        min_price: Some(" "),
        max_price: Some(""),
        mine: Some(""),
        status: Some(""),
        sort: Some(""),
    })?;
    assert!(blank.is_plain());
    Ok(())
}

#[test]
fn every_invalid_value_is_named() {
    let Err(errors) = parse(FilterInput {
        q: Some("\"\"\""),
        category: Some("lamps"),
        min_price: Some("-1"),
        max_price: Some("1e9"),
        mine: Some("yes"),
        status: Some("deleted"),
        sort: Some("price desc"),
    }) else {
        panic!("accepted");
    };
    for input in [
        Input::Category,
        Input::MinPrice,
        Input::MaxPrice,
        Input::Mine,
        Input::Status,
        Input::Sort,
    ] {
        assert_eq!(errors.of(input).len(), 1, "{input:?}: {errors}");
    }
    let Err(range) = parse(FilterInput {
        min_price: Some("10"),
        max_price: Some("9.99"),
        ..FilterInput::default()
    }) else {
        panic!("accepted");
    };
    assert_eq!(range.of(Input::MaxPrice)[0].id, "filter-price-range");
    for category in ["0", "-3", "99999999999999999999"] {
        let input = FilterInput {
            category: Some(category),
            ..FilterInput::default()
        };
        assert!(parse(input).is_err(), "{category}");
    }
}

#[test]
fn mine_needs_someone_signed_in() {
    let input = FilterInput {
        mine: Some("1"),
        ..FilterInput::default()
    };
    let Err(errors) = ProductFilter::parse(input, None) else {
        panic!("accepted");
    };
    assert_eq!(errors.of(Input::Mine)[0].id, "filter-mine-sign-in");
}
