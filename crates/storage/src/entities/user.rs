use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub email: String,
    #[sea_orm(unique)]
    pub email_key: String,
    pub password_hash: Option<String>,
    pub pending_password_hash: Option<String>,
    pub pending_password_expires_at: Option<DateTimeUtc>,
    pub password_change_required: bool,
    pub pending_email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub avatar: Option<String>,
    pub phone: Option<String>,
    pub country: Option<String>,
    pub is_active: bool,
    pub is_verified: bool,
    pub is_superuser: bool,
    pub date_joined: DateTimeUtc,
    pub last_login: Option<DateTimeUtc>,
    pub verification_sent_at: Option<DateTimeUtc>,
    pub registration_notice_sent_at: Option<DateTimeUtc>,
    pub deactivated: bool,
    pub language: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
