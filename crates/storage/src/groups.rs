use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use catalog_domain::access::{Group, GroupId, GroupSummary, Permission};
use catalog_domain::ports::{GroupRepository, RepoError};
use catalog_domain::user::UserId;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait, Set,
};

use crate::Store;
use crate::entities::{group, group_permission, permission, user_group};
use crate::error::{corrupt, db};

#[derive(Debug, FromQueryResult)]
struct GrantRow {
    group_id: i64,
    codename: String,
}

/// The permissions of every group, keyed by group id.
async fn grants<C: ConnectionTrait>(
    conn: &C,
    only: Option<&[i64]>,
) -> Result<HashMap<i64, BTreeSet<Permission>>, RepoError> {
    let mut query = group_permission::Entity::find()
        .select_only()
        .column(group_permission::Column::GroupId)
        .column(permission::Column::Codename)
        .join(
            JoinType::InnerJoin,
            group_permission::Relation::Permission.def(),
        );
    if let Some(ids) = only {
        query = query.filter(group_permission::Column::GroupId.is_in(ids.iter().copied()));
    }
    let rows = query.into_model::<GrantRow>().all(conn).await.map_err(db)?;
    let mut map: HashMap<i64, BTreeSet<Permission>> = HashMap::new();
    for row in rows {
        let permission = Permission::from_codename(&row.codename)
            .ok_or_else(|| corrupt("permissions.codename", &row.codename))?;
        map.entry(row.group_id).or_default().insert(permission);
    }
    Ok(map)
}

fn to_group(m: group::Model, grants: &mut HashMap<i64, BTreeSet<Permission>>) -> Group {
    Group {
        id: GroupId(m.id),
        permissions: grants.remove(&m.id).unwrap_or_default(),
        name: m.name,
    }
}

/// Every user's groups, keyed by user id (for listings).
pub(crate) async fn memberships<C: ConnectionTrait>(
    conn: &C,
) -> Result<HashMap<i64, Vec<Group>>, RepoError> {
    let groups: HashMap<i64, Group> = {
        let mut grants = grants(conn, None).await?;
        group::Entity::find()
            .all(conn)
            .await
            .map_err(db)?
            .into_iter()
            .map(|g| (g.id, to_group(g, &mut grants)))
            .collect()
    };
    let mut map: HashMap<i64, Vec<Group>> = HashMap::new();
    for link in user_group::Entity::find()
        .order_by_asc(user_group::Column::GroupId)
        .all(conn)
        .await
        .map_err(db)?
    {
        if let Some(g) = groups.get(&link.group_id) {
            map.entry(link.user_id).or_default().push(g.clone());
        }
    }
    Ok(map)
}

#[async_trait]
impl GroupRepository for Store {
    async fn list(&self) -> Result<Vec<GroupSummary>, RepoError> {
        let mut grants = grants(self.conn(), None).await?;
        let groups = group::Entity::find()
            .order_by_asc(group::Column::Name)
            .all(self.conn())
            .await
            .map_err(db)?;
        let mut out = Vec::with_capacity(groups.len());
        for g in groups {
            let member_count = user_group::Entity::find()
                .filter(user_group::Column::GroupId.eq(g.id))
                .count(self.conn())
                .await
                .map_err(db)?;
            out.push(GroupSummary {
                group: to_group(g, &mut grants),
                member_count,
            });
        }
        Ok(out)
    }

    async fn find_by_name(&self, name: &str) -> Result<Option<Group>, RepoError> {
        let Some(g) = group::Entity::find()
            .filter(group::Column::Name.eq(name))
            .one(self.conn())
            .await
            .map_err(db)?
        else {
            return Ok(None);
        };
        let mut grants = grants(self.conn(), Some(&[g.id])).await?;
        Ok(Some(to_group(g, &mut grants)))
    }

    async fn add_member(&self, group: GroupId, user: UserId) -> Result<bool, RepoError> {
        let link = user_group::ActiveModel {
            user_id: Set(user.0),
            group_id: Set(group.0),
        };
        let result = user_group::Entity::insert(link)
            .on_conflict_do_nothing()
            .exec(self.conn())
            .await;
        match result {
            Ok(sea_orm::TryInsertResult::Inserted(_)) => Ok(true),
            Ok(_) => Ok(false),
            Err(e) => Err(db(e)),
        }
    }

    async fn remove_member(&self, group: GroupId, user: UserId) -> Result<bool, RepoError> {
        let result = user_group::Entity::delete_many()
            .filter(user_group::Column::UserId.eq(user.0))
            .filter(user_group::Column::GroupId.eq(group.0))
            .exec(self.conn())
            .await
            .map_err(db)?;
        Ok(result.rows_affected > 0)
    }

    async fn groups_of(&self, user: UserId) -> Result<Vec<Group>, RepoError> {
        let ids: Vec<i64> = user_group::Entity::find()
            .filter(user_group::Column::UserId.eq(user.0))
            .all(self.conn())
            .await
            .map_err(db)?
            .into_iter()
            .map(|l| l.group_id)
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut grants = grants(self.conn(), Some(&ids)).await?;
        Ok(group::Entity::find()
            .filter(group::Column::Id.is_in(ids))
            .order_by_asc(group::Column::Name)
            .all(self.conn())
            .await
            .map_err(db)?
            .into_iter()
            .map(|g| to_group(g, &mut grants))
            .collect())
    }

    async fn permissions_of(&self, user: UserId) -> Result<Vec<Permission>, RepoError> {
        // One query: the user's links joined to their groups' grants.
        let rows = group_permission::Entity::find()
            .select_only()
            .column(group_permission::Column::GroupId)
            .column(permission::Column::Codename)
            .join(
                JoinType::InnerJoin,
                group_permission::Relation::Permission.def(),
            )
            .join_rev(
                JoinType::InnerJoin,
                user_group::Entity::belongs_to(group_permission::Entity)
                    .from(user_group::Column::GroupId)
                    .to(group_permission::Column::GroupId)
                    .into(),
            )
            .filter(user_group::Column::UserId.eq(user.0))
            .into_model::<GrantRow>()
            .all(self.conn())
            .await
            .map_err(db)?;
        let set: BTreeSet<Permission> = rows
            .iter()
            .map(|r| {
                Permission::from_codename(&r.codename)
                    .ok_or_else(|| corrupt("permissions.codename", &r.codename))
            })
            .collect::<Result<_, _>>()?;
        Ok(set.into_iter().collect())
    }
}
