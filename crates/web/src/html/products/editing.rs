//! Creating and editing: the product form, its versions formset, and the form shown
//! again when it cannot be saved.

use askama::Template;
use axum::extract::{Multipart, Path};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use catalog_domain::access::{Actor, Field, ProductFacts, PublishDenied, editable_fields};
use catalog_domain::fields::Message;
use catalog_domain::product::{Product, ProductId};
use catalog_domain::services::products::{ChangeError, CreateError, EditErrors, ProductDetail};

use crate::error::WebError;
use crate::html::{Chrome, media_url, render, see_other};
use crate::i18n::Arg;
use crate::names::Messages;
use crate::session;
use crate::state::AppState;

use super::form::ProductForm;
use super::shared::{CONFLICT, failure, product_id};
use crate::html::page::{PageContext, SignedIn};

/// A row of the versions formset as the form shows it.
struct RowView {
    id: String,
    number: String,
    name: String,
    is_current: bool,
    delete: bool,
    errors: Messages,
}

#[derive(Template)]
#[template(path = "products/form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    button: &'static str,
    cancel: String,
    show_name: bool,
    show_description: bool,
    show_category: bool,
    show_price: bool,
    show_image: bool,
    show_published: bool,
    show_versions: bool,
    /// Why the published box cannot be ticked, when it cannot.
    publish_note: Option<&'static str>,
    name: String,
    description: String,
    category: String,
    price: String,
    is_published: bool,
    image_url: Option<String>,
    categories: Vec<(String, String)>,
    rows: Vec<RowView>,
    /// Index of the current row, or "" for none.
    current: String,
    errors: Messages,
    /// The product's revision the form shows ("" on the create form).
    revision: String,
    /// Why the form is shown again without saving, when someone else's change stopped it.
    conflict: Option<&'static str>,
}

impl FormPage {
    fn errors_of_rows(&self) -> bool {
        self.rows.iter().any(|r| !r.errors.is_empty())
    }
}

/// The categories a product form offers, as (value, label).
async fn categories(state: &AppState) -> Result<Vec<(String, String)>, WebError> {
    match state.products.categories().await {
        Ok(all) => Ok(all
            .into_iter()
            .map(|c| (c.id.0.to_string(), c.name.as_str().to_owned()))
            .collect()),
        Err(e) => Err(e.into()),
    }
}

fn blank_row() -> RowView {
    RowView {
        id: String::new(),
        number: String::new(),
        name: String::new(),
        is_current: false,
        delete: false,
        errors: Messages::new(),
    }
}

/// The empty create form: every field, no versions (they come after the product).
fn new_product_page(chrome: Chrome, categories: Vec<(String, String)>) -> FormPage {
    FormPage {
        heading: chrome.lang.t("product-form-new").to_owned(),
        chrome,
        action: "/products/new".into(),
        button: "product-form-create",
        cancel: "/products".into(),
        show_name: true,
        show_description: true,
        show_category: true,
        show_price: true,
        show_image: true,
        show_published: true,
        show_versions: false,
        publish_note: None,
        name: String::new(),
        description: String::new(),
        category: String::new(),
        price: String::new(),
        is_published: true,
        image_url: None,
        categories,
        rows: Vec::new(),
        current: String::new(),
        errors: Messages::new(),
        revision: String::new(),
        conflict: None,
    }
}

pub(super) async fn new_form(SignedIn { page, .. }: SignedIn) -> Result<Response, WebError> {
    let categories = categories(&page.state).await?;
    page.render(StatusCode::OK, |chrome| {
        new_product_page(chrome, categories)
    })
    .await
}

type Upload = Result<Multipart, axum::extract::multipart::MultipartRejection>;

/// Reads a product form; an upload cut off by the size limit is a 413.
async fn read_form(multipart: Upload) -> Result<ProductForm, Response> {
    let multipart =
        multipart.map_err(|_| WebError::BadRequest("error-multipart-required").into_response())?;
    super::form::read(multipart)
        .await
        .map_err(crate::html::too_large_or)
}

pub(super) async fn create(
    SignedIn { page, me }: SignedIn,
    uri: Uri,
    multipart: Upload,
) -> Result<Response, WebError> {
    let form = match read_form(multipart).await {
        Ok(form) => form,
        Err(response) => return Ok(response),
    };
    // The token travels inside the multipart body, so it is checked here.
    page.check_csrf(&form.csrf_token).await?;
    let input = form.input()?;
    let created = page
        .state
        .products
        .create(&me.actor, input, form.image.clone())
        .await;
    match created {
        Ok(product) => {
            session::push_flash(&page.session, "flash-product-saved").await;
            Ok(see_other(&format!("/products/{}", product.id)))
        }
        Err(CreateError::Invalid(errors)) => {
            let categories = categories(&page.state).await?;
            let is_published = form.input()?.is_published.unwrap_or(false);
            // Show what was sent, so nothing typed is lost.
            page.render(StatusCode::UNPROCESSABLE_ENTITY, |chrome| FormPage {
                name: form.name.clone().unwrap_or_default(),
                description: form.description.clone().unwrap_or_default(),
                category: form.category.clone().unwrap_or_default(),
                price: form.price.clone().unwrap_or_default(),
                is_published,
                errors: Messages::form(&errors, page.lang),
                ..new_product_page(chrome, categories)
            })
            .await
        }
        Err(e) => failure(e, &uri),
    }
}

/// The edit form for `actor`: the fields they may change, and the formset when they may
/// manage versions. `None` when they may change nothing at all.
fn edit_page(
    chrome: Chrome,
    actor: &Actor,
    product: &Product,
    rows: Vec<RowView>,
    categories: Vec<(String, String)>,
) -> Option<FormPage> {
    let facts = ProductFacts::from(product);
    let fields = editable_fields(actor, &facts);
    if fields.is_empty() {
        return None;
    }
    let has = |f| fields.contains(&f);
    let owner = product.owner.id == actor.user_id();
    // The owner always sees the box; a locked product's box is disabled with the reason.
    let show_published = has(Field::IsPublished) || owner;
    let publish_note = (owner && !has(Field::IsPublished))
        .then(|| Message::from(PublishDenied::ModerationLocked).id);
    let current = rows
        .iter()
        .position(|r| r.is_current)
        .map(|i| i.to_string())
        .unwrap_or_default();
    Some(FormPage {
        heading: chrome.lang.f(
            "product-form-edit",
            &[("name", Arg::from(product.name.as_str()))],
        ),
        chrome,
        action: format!("/products/{}/edit", product.id),
        button: "product-form-save",
        cancel: format!("/products/{}", product.id),
        show_name: has(Field::Name),
        show_description: has(Field::Description),
        show_category: has(Field::Category),
        show_price: has(Field::Price),
        show_image: has(Field::Image),
        show_published,
        show_versions: has(Field::Versions),
        publish_note,
        name: product.name.as_str().to_owned(),
        description: product.description.as_str().to_owned(),
        category: product.category.id.0.to_string(),
        price: product.price.to_string(),
        is_published: product.is_published,
        image_url: product.image.as_deref().map(media_url),
        categories,
        rows,
        current,
        errors: Messages::new(),
        revision: product.revision.to_string(),
        conflict: None,
    })
}

pub(super) async fn edit_form(
    SignedIn { page, me }: SignedIn,
    uri: Uri,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = product_id(&id)?;
    let detail = page.state.products.detail(Some(&me.actor), id).await;
    let ProductDetail { product, versions } = match detail {
        Ok(found) => found,
        Err(e) => return failure(e, &uri),
    };
    let mut rows: Vec<RowView> = versions
        .iter()
        .map(|v| RowView {
            id: v.id.0.to_string(),
            number: v.number.as_str().to_owned(),
            name: v.name.as_str().to_owned(),
            is_current: v.is_current,
            delete: false,
            errors: Messages::new(),
        })
        .collect();
    rows.push(blank_row());
    let categories = categories(&page.state).await?;
    let chrome = page.chrome().await?;
    match edit_page(chrome, &me.actor, &product, rows, categories) {
        Some(form) => render(StatusCode::OK, &form),
        None => Err(WebError::Forbidden),
    }
}

pub(super) async fn edit(
    SignedIn { page, me }: SignedIn,
    uri: Uri,
    Path(id): Path<String>,
    multipart: Upload,
) -> Result<Response, WebError> {
    let id = product_id(&id)?;
    let products = &page.state.products;
    // Who may act is decided before the body is read: a stranger's form (or upload) is
    // refused as such, whatever it holds, and never read.
    if let Err(e) = products.may_change(&me.actor, id, None).await {
        return failure(e, &uri);
    }
    let form = match read_form(multipart).await {
        Ok(form) => form,
        Err(response) => return Ok(response),
    };
    // The token travels inside the multipart body, so it is checked here.
    page.check_csrf(&form.csrf_token).await?;
    let input = form.input()?;
    let result = products
        .edit(
            &me.actor,
            id,
            input,
            form.image.clone(),
            form.rows(),
            form.revision(),
        )
        .await;
    let shown_again = match result {
        Ok(product) => {
            session::push_flash(&page.session, "flash-product-saved").await;
            return Ok(see_other(&format!("/products/{}", product.id)));
        }
        Err(ChangeError::InvalidEdit(errors)) => ShownAgain::Invalid(errors),
        Err(ChangeError::Conflict) => ShownAgain::Conflict,
        Err(e) => return failure(e, &uri),
    };
    edit_form_again((&page, &uri), &me.actor, id, &form, shown_again).await
}

/// Why an edit form comes back unsaved.
enum ShownAgain {
    Invalid(EditErrors),
    /// Someone else changed the product since the form was filled in.
    Conflict,
}

/// The edit form again, as the product is now, with what was typed into it.
async fn edit_form_again(
    (page, uri): (&PageContext, &Uri),
    actor: &Actor,
    id: ProductId,
    form: &ProductForm,
    why: ShownAgain,
) -> Result<Response, WebError> {
    let product = match page.state.products.get(Some(actor), id).await {
        Ok(product) => product,
        Err(e) => return failure(e, uri),
    };
    let (fields, rows, conflict) = match why {
        ShownAgain::Invalid(EditErrors { fields, rows }) => (
            Messages::form(&fields, page.lang),
            rows.iter().map(|r| Messages::form(r, page.lang)).collect(),
            None,
        ),
        ShownAgain::Conflict => (Messages::new(), Vec::new(), Some(CONFLICT)),
    };
    let row_views = form
        .versions
        .iter()
        .flatten()
        .enumerate()
        .map(|(at, (index, row))| RowView {
            id: row.id.clone(),
            number: row.number.clone(),
            name: row.name.clone(),
            is_current: form.current.as_deref() == Some(index.to_string().as_str()),
            delete: row.delete,
            errors: rows.get(at).cloned().unwrap_or_default(),
        })
        .collect();
    let categories = categories(&page.state).await?;
    let chrome = page.chrome().await?;
    let Some(mut page) = edit_page(chrome, actor, &product, row_views, categories) else {
        return Err(WebError::Forbidden);
    };
    // Show what was sent, so nothing typed is lost.
    for (typed, shown) in [
        (&form.name, &mut page.name),
        (&form.description, &mut page.description),
        (&form.category, &mut page.category),
        (&form.price, &mut page.price),
    ] {
        if let Some(value) = typed {
            shown.clone_from(value);
        }
    }
    // After someone else's change the flag shows the product as it is now.
    if conflict.is_none()
        && let Some(v) = form.input()?.is_published
    {
        page.is_published = v;
    }
    page.errors = fields;
    page.conflict = conflict;
    let status = if conflict.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(status, &page)
}
