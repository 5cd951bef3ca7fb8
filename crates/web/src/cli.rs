//! The `catalog` command line (SPEC §4). Each command loads the settings, does one
//! thing, and reports failure as one line on stderr with a non-zero exit code.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use catalog_domain::services::admin::{AdminService, Membership};
use catalog_domain::services::demo::{DEMO_PASSWORD, DemoDataService};
use catalog_domain::services::products::ProductsService;
use clap::{Parser, Subcommand};

use crate::app;
use crate::settings::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "catalog",
    version,
    about = "A product catalog with real user accounts"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server and the mail dispatcher (the default).
    Serve,
    /// Manage the database schema.
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Create an active, verified superuser.
    Createsuperuser {
        #[arg(long)]
        email: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Groups and their members.
    Groups {
        #[command(subcommand)]
        action: GroupAction,
    },
    /// User accounts.
    Users {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Product categories.
    Categories {
        #[command(subcommand)]
        action: CategoryAction,
    },
    /// Stored images.
    Media {
        #[command(subcommand)]
        action: MediaAction,
    },
    /// The search index.
    Search {
        #[command(subcommand)]
        action: SearchAction,
    },
    /// Fill the database with realistic sample data.
    DemoData {
        #[arg(long, default_value_t = 10)]
        users: u32,
        #[arg(long, default_value_t = 100)]
        products: u64,
    },
}

#[derive(Debug, Subcommand)]
enum MediaAction {
    /// Make the resized variants of images stored before they existed (new uploads get
    /// them at once); images that have them are left alone.
    Thumbnails,
}

#[derive(Debug, Subcommand)]
enum SearchAction {
    /// Write every product's search document again (after a change of the stemmers,
    /// or to repair the index); searches keep working meanwhile.
    Reindex {
        /// Products written in one transaction.
        #[arg(long, default_value_t = 1000)]
        batch: u64,
    },
}

#[derive(Debug, Subcommand)]
enum MigrateAction {
    /// Apply every pending migration (the default).
    Up,
    /// Revert the most recent migration(s).
    Down {
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// Show which migrations are applied.
    Status,
    /// Revert everything and apply it again: an empty database. Destroys all data.
    Fresh,
}

#[derive(Debug, Subcommand)]
enum GroupAction {
    /// Groups with their permissions and member counts.
    List,
    AddMember {
        group: String,
        email: String,
    },
    RemoveMember {
        group: String,
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum UserAction {
    List,
    /// Deactivate an account and end its sessions and API tokens.
    Deactivate {
        email: String,
    },
    Activate {
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum CategoryAction {
    Add {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    List,
    /// Remove a category that no product uses.
    Remove {
        name: String,
    },
}

/// Joins an error and its sources into one line.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ").replace(['\n', '\r'], " ")
}

fn read_password(password_stdin: bool) -> anyhow::Result<String> {
    if password_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password("Password: ")?;
    let second = rpassword::prompt_password("Password (again): ")?;
    anyhow::ensure!(first == second, "the two passwords differ");
    Ok(first)
}

impl Cli {
    /// Runs the chosen command.
    ///
    /// # Errors
    /// Whatever the command fails with, to be printed as one line.
    pub async fn run(self) -> anyhow::Result<()> {
        let settings = Settings::load(Path::new("config"))?;
        let command = self.command.unwrap_or(Command::Serve);
        let default_filter = if matches!(command, Command::Serve) {
            "info,sea_orm_migration=warn"
        } else {
            "warn"
        };
        crate::telemetry::init(&settings, default_filter);
        match command {
            Command::Serve => Ok(app::run(settings).await?),
            Command::Migrate { action } => {
                migrate(&settings, action.unwrap_or(MigrateAction::Up)).await
            }
            other => admin(&settings, other).await,
        }
    }
}

async fn migrate(settings: &Settings, action: MigrateAction) -> anyhow::Result<()> {
    let store = catalog_storage::Store::connect(settings.database_url()).await?;
    let mut out = std::io::stdout().lock();
    match action {
        MigrateAction::Up => {
            let applied = store.migrate_up().await?;
            writeln!(out, "applied {applied} migration(s)")?;
        }
        MigrateAction::Down { steps } => {
            store.migrate_down(steps).await?;
            writeln!(out, "reverted {steps} migration(s)")?;
        }
        MigrateAction::Status => {
            for m in store.migration_status().await? {
                let state = if m.applied { "applied" } else { "pending" };
                writeln!(out, "{state:8} {}", m.name)?;
            }
        }
        MigrateAction::Fresh => {
            store.migrate_fresh().await?;
            writeln!(out, "database recreated")?;
        }
    }
    Ok(())
}

async fn admin(settings: &Settings, command: Command) -> anyhow::Result<()> {
    let (kept, ports) = app::connect(settings).await?;
    let store = kept.store();
    if store.has_pending_migrations().await? {
        if settings.auto_migrate {
            store.migrate_up().await?;
        } else {
            anyhow::bail!("the database schema is out of date; run `catalog migrate`");
        }
    }
    let admin = AdminService::new(ports.for_admin());
    let mut out = std::io::stdout().lock();
    match command {
        Command::Createsuperuser {
            email,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            let user = admin.create_superuser(&email, &password).await?;
            writeln!(out, "created superuser {} (id {})", user.email, user.id)?;
        }
        Command::Groups { action } => match action {
            GroupAction::List => {
                for g in admin.list_groups().await? {
                    let perms: Vec<&str> =
                        g.group.permissions.iter().map(|p| p.codename()).collect();
                    writeln!(
                        out,
                        "{}\t{} member(s)\t{}",
                        g.group.name,
                        g.member_count,
                        perms.join(", ")
                    )?;
                }
            }
            GroupAction::AddMember { group, email } => {
                let said = match admin.add_member(&group, &email).await? {
                    Membership::Changed => "added to",
                    Membership::Unchanged => "was already in",
                };
                writeln!(out, "{email} {said} {group}")?;
            }
            GroupAction::RemoveMember { group, email } => {
                let said = match admin.remove_member(&group, &email).await? {
                    Membership::Changed => "removed from",
                    Membership::Unchanged => "was not in",
                };
                writeln!(out, "{email} {said} {group}")?;
            }
        },
        Command::Users { action } => match action {
            UserAction::List => {
                for u in admin.list_users().await? {
                    let groups: Vec<&str> = u.groups.iter().map(|g| g.name.as_str()).collect();
                    let flags = [
                        (u.user.is_active, "active"),
                        (!u.user.is_active, "inactive"),
                        (u.user.is_verified, "verified"),
                        (u.user.is_superuser, "superuser"),
                    ]
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, name)| *name)
                    .collect::<Vec<_>>()
                    .join(",");
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}",
                        u.user.id,
                        u.user.email,
                        flags,
                        groups.join(",")
                    )?;
                }
            }
            UserAction::Deactivate { email } => {
                admin.set_active(&email, false).await?;
                writeln!(
                    out,
                    "deactivated {email}; their sessions and tokens are ended"
                )?;
            }
            UserAction::Activate { email } => {
                admin.set_active(&email, true).await?;
                writeln!(out, "activated {email}")?;
            }
        },
        Command::Categories { action } => match action {
            CategoryAction::Add { name, description } => {
                let c = admin.add_category(&name, &description).await?;
                writeln!(out, "added category {} (id {})", c.name, c.id.0)?;
            }
            CategoryAction::List => {
                for c in admin.list_categories().await? {
                    writeln!(out, "{}\t{}\t{}", c.id.0, c.name, c.description)?;
                }
            }
            CategoryAction::Remove { name } => {
                admin.remove_category(&name).await?;
                writeln!(out, "removed category {name}")?;
            }
        },
        Command::DemoData { users, products } => {
            let started = std::time::Instant::now();
            let bar = Progress::new("adding products");
            let summary = DemoDataService::new(ports.for_demo())
                .generate(users, products, &mut |done, total| bar.set(done, total))
                .await?;
            bar.finish();
            store.refresh_statistics().await?;
            writeln!(
                out,
                "created {} user(s) and {} product(s) in {:.1?}; every demo account's password is {DEMO_PASSWORD:?}",
                summary.users.len(),
                summary.products,
                started.elapsed()
            )?;
            if let Some(first) = summary.users.first() {
                writeln!(out, "for example: {first}")?;
            }
        }
        Command::Media {
            action: MediaAction::Thumbnails,
        } => {
            let started = std::time::Instant::now();
            let bar = Progress::new("making thumbnails");
            let summary = admin
                .make_thumbnails(&mut |done, total| bar.set(done, total))
                .await?;
            bar.finish();
            writeln!(
                out,
                "made the variants of {} image(s), {} had them, {} not acceptable images left as they are, in {:.1?}",
                summary.made,
                summary.present,
                summary.refused,
                started.elapsed()
            )?;
        }
        Command::Search {
            action: SearchAction::Reindex { batch },
        } => {
            let started = std::time::Instant::now();
            let products = ProductsService::new(ports.for_products(), settings.public_browsing);
            let bar = Progress::new("reindexing");
            let written = products
                .reindex_search(batch.max(1), &mut |done, total| bar.set(done, total))
                .await?;
            bar.finish();
            store.refresh_statistics().await?;
            writeln!(
                out,
                "reindexed {written} product(s) in {:.1?}",
                started.elapsed()
            )?;
        }
        Command::Serve | Command::Migrate { .. } => unreachable!("handled by Cli::run"),
    }
    Ok(())
}

/// A progress bar on a terminal; nothing elsewhere (the command prints one summary
/// line when it ends).
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new(what: &'static str) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} ({eta} left)")
        {
            bar.set_style(style);
        }
        bar.set_message(what);
        Self(Some(bar))
    }

    fn set(&self, done: u64, total: u64) {
        if let Some(bar) = &self.0 {
            bar.set_length(total);
            bar.set_position(done);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
