//! Realistic sample data for trying the service and for benchmarks.

use crate::Timestamp;
use crate::ports::{HashError, RepoError};
use crate::product::{
    CategoryId, CategoryName, Description, Money, NewCategory, NewProduct, ProductName,
};
use crate::user::{Email, NewUser, Password, PasswordContext, PersonName, UserId};

use super::DemoPorts;

/// Every demo account signs in with this password; it is printed by the command.
pub const DEMO_PASSWORD: &str = "demo-catalog-password";

const CATEGORIES: [(&str, &str); 8] = [
    ("Electronics", "Phones, laptops and everything with a plug"),
    ("Books", "Paper, ink and stories"),
    ("Home", "Furniture, lamps and kitchenware"),
    ("Garden", "Tools and plants for outside"),
    ("Toys", "Games and toys for all ages"),
    ("Sports", "Gear for staying active"),
    ("Clothing", "Shirts, shoes and coats"),
    ("Music", "Instruments and records"),
];
const FIRST: [&str; 12] = [
    "Ada", "Boris", "Chloé", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ivo", "Jun", "Kai",
    "Lena",
];
const LAST: [&str; 10] = [
    "Novak", "Okafor", "Petrova", "Quinn", "Rossi", "Sato", "Tanaka", "Ueda", "Varga", "Weber",
];
const ADJECTIVES: [&str; 10] = [
    "Compact",
    "Deluxe",
    "Ergonomic",
    "Handmade",
    "Portable",
    "Quiet",
    "Rugged",
    "Smart",
    "Vintage",
    "Wireless",
];
const NOUNS: [&str; 10] = [
    "Lamp", "Kettle", "Backpack", "Chair", "Speaker", "Notebook", "Racket", "Jacket", "Drone",
    "Guitar",
];

/// What descriptions are made of: each names six, so that each word is in about one
/// product of sixteen (searches for common words have realistic work to do).
const FEATURES: [&str; 100] = [
    "amber",
    "azure",
    "beige",
    "black",
    "bronze",
    "brown",
    "coral",
    "cream",
    "crimson",
    "golden",
    "green",
    "grey",
    "indigo",
    "ivory",
    "khaki",
    "lilac",
    "maroon",
    "mint",
    "navy",
    "olive",
    "orange",
    "pink",
    "plum",
    "purple",
    "red",
    "rose",
    "ruby",
    "silver",
    "teal",
    "violet",
    "white",
    "yellow",
    "bamboo",
    "birch",
    "canvas",
    "carbon",
    "ceramic",
    "copper",
    "cork",
    "cotton",
    "denim",
    "felt",
    "glass",
    "granite",
    "hemp",
    "leather",
    "linen",
    "marble",
    "nylon",
    "oak",
    "paper",
    "pine",
    "porcelain",
    "rattan",
    "rubber",
    "satin",
    "silk",
    "slate",
    "steel",
    "stone",
    "suede",
    "teak",
    "tin",
    "velvet",
    "walnut",
    "wicker",
    "wool",
    "zinc",
    "durable",
    "elegant",
    "foldable",
    "gentle",
    "glossy",
    "heavy",
    "light",
    "matte",
    "modern",
    "padded",
    "polished",
    "retro",
    "rustic",
    "sleek",
    "slim",
    "soft",
    "sturdy",
    "tiny",
    "huge",
    "washable",
    "waterproof",
    "warm",
    "cool",
    "bright",
    "classic",
    "simple",
    "striped",
    "dotted",
    "quilted",
    "woven",
    "carved",
    "painted",
];

#[derive(Debug, thiserror::Error)]
pub enum DemoDataError {
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("generated sample data was invalid: {0}")]
    Generated(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub users: Vec<Email>,
    pub products: u64,
}

/// A small deterministic generator: sample data needs variety, not secrecy.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn invalid(e: impl std::fmt::Display) -> DemoDataError {
    DemoDataError::Generated(e.to_string())
}

#[derive(Debug, Clone)]
pub struct DemoDataService {
    ports: DemoPorts,
}

impl DemoDataService {
    pub fn new(ports: DemoPorts) -> Self {
        Self { ports }
    }

    /// Adds `users` active, verified accounts (password [`DEMO_PASSWORD`]) and `products`
    /// products spread over them and the sample categories, newest first. Running it
    /// again adds more; addresses never collide with earlier runs.
    ///
    /// # Errors
    /// [`DemoDataError`] when the database fails.
    pub async fn generate(
        &self,
        users: u32,
        products: u64,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<DemoSummary, DemoDataError> {
        let now = self.ports.clock.now();
        let mut rng = SplitMix(now.timestamp_micros() as u64);
        let categories = self.ensure_categories().await?;
        let owners = self.create_users(users.max(1), now, &mut rng).await?;
        let mut batch = Vec::with_capacity(products.min(10_000) as usize);
        let mut stored = 0;
        for i in 0..products {
            batch.push(self.product(i, products, &owners, &categories, now, &mut rng)?);
            if batch.len() == 10_000 {
                stored += self
                    .ports
                    .products
                    .insert_many(std::mem::take(&mut batch))
                    .await?;
                progress(stored, products);
            }
        }
        if !batch.is_empty() {
            stored += self.ports.products.insert_many(batch).await?;
            progress(stored, products);
        }
        Ok(DemoSummary {
            users: owners.into_iter().map(|(_, email)| email).collect(),
            products: stored,
        })
    }

    async fn ensure_categories(&self) -> Result<Vec<CategoryId>, DemoDataError> {
        let mut ids = Vec::new();
        for (name, description) in CATEGORIES {
            let id = match self.ports.categories.find_by_name(name).await? {
                Some(c) => c.id,
                None => {
                    let new = NewCategory {
                        name: CategoryName::parse(name).map_err(invalid)?,
                        description: Description::parse(description).map_err(invalid)?,
                    };
                    match self.ports.categories.insert(new).await {
                        Ok(c) => c.id,
                        // Another process created it meanwhile.
                        Err(RepoError::CategoryNameTaken) => {
                            self.ports
                                .categories
                                .find_by_name(name)
                                .await?
                                .ok_or(RepoError::NotFound)?
                                .id
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            };
            ids.push(id);
        }
        Ok(ids)
    }

    async fn create_users(
        &self,
        count: u32,
        now: Timestamp,
        rng: &mut SplitMix,
    ) -> Result<Vec<(UserId, Email)>, DemoDataError> {
        let password =
            Password::parse(DEMO_PASSWORD, PasswordContext::default()).map_err(invalid)?;
        // One hash for every account: sample data must be fast, and it is sample data.
        let hash = self.ports.hasher.hash(&password).await?;
        let run = format!("{:x}", now.timestamp_micros());
        let mut new_users = Vec::with_capacity(count as usize);
        for n in 1..=count {
            let first = rng.pick(&FIRST);
            let last = rng.pick(&LAST);
            let email = Email::parse(&format!(
                "{}.{}{n}.{run}@demo.example.com",
                first.to_lowercase().replace('é', "e"),
                last.to_lowercase()
            ))
            .map_err(invalid)?;
            new_users.push(NewUser {
                email,
                password_hash: hash.clone(),
                is_active: true,
                is_verified: true,
                is_superuser: false,
                first_name: PersonName::parse(first).map_err(invalid)?,
                last_name: PersonName::parse(last).map_err(invalid)?,
                date_joined: now,
                language: None,
            });
        }
        let emails: Vec<Email> = new_users.iter().map(|u| u.email.clone()).collect();
        let ids = self.ports.users.insert_many(new_users).await?;
        Ok(ids.into_iter().zip(emails).collect())
    }

    fn product(
        &self,
        i: u64,
        total: u64,
        owners: &[(UserId, Email)],
        categories: &[CategoryId],
        now: Timestamp,
        rng: &mut SplitMix,
    ) -> Result<NewProduct, DemoDataError> {
        let name = format!("{} {} {}", rng.pick(&ADJECTIVES), rng.pick(&NOUNS), i + 1);
        let cents = (rng.next() % 500_000 + 99) as i64;
        let owner = owners[(rng.next() % owners.len() as u64) as usize].0;
        let category = categories[(rng.next() % categories.len() as u64) as usize];
        // Oldest first, a minute apart, so the newest-first listing has a clear order.
        let age = chrono::Duration::minutes((total - i) as i64);
        let mut features = [""; 6];
        for feature in &mut features {
            *feature = rng.pick(&FEATURES);
        }
        let [a, b, c, d, e, f] = features;
        Ok(NewProduct {
            description: Description::parse(&format!(
                "{name}: {a}, {b} and {c}; {d}, {e}, {f}. A sample product."
            ))
            .map_err(invalid)?,
            name: ProductName::parse(&name).map_err(invalid)?,
            category_id: category,
            price: Money::from_cents(cents).map_err(invalid)?,
            is_published: !rng.next().is_multiple_of(10),
            owner_id: owner,
            image: None,
            created_at: now - age,
        })
    }
}
