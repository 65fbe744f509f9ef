//! `callcoach user`: adds users with a role and a team, and lists them.
//! `user add` prints the new bearer token once; only its hash is stored.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use crate::config::Config;
use crate::store::users::{NewUser, Role, Team, User};
use crate::store::{Store, StoreConfig, TeamId, UserId};

/// Subcommands of `callcoach user`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Creates a user and prints their bearer token once.
    Add {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Role: rep, coach, manager or admin.
        #[arg(long)]
        role: Role,
        /// Team name; created when it does not exist (admins may omit it).
        #[arg(long)]
        team: Option<String>,
        /// Sign-in email [default: derived from the name, under callcoach.local]
        #[arg(long)]
        email: Option<String>,
        /// Marks the user as a top seller, whose answers are the baseline of
        /// heatmaps and monthly reviews (reps only).
        #[arg(long)]
        top_seller: bool,
        /// Data directory [default: data]
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Lists users: id, role, name, email, team name and id, state and top-seller flag.
    List {
        /// Data directory [default: data]
        #[arg(long)]
        data: Option<PathBuf>,
    },
}

/// Runs one `user` subcommand.
pub(crate) fn run(command: Command) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    runtime.block_on(async {
        match command {
            Command::Add {
                name,
                role,
                team,
                email,
                top_seller,
                data,
            } => {
                let store = open_store(&config(data.as_ref())?).await?;
                let new = NewUserArgs {
                    name: &name,
                    role,
                    team: team.as_deref(),
                    email,
                    top_seller,
                };
                let result = add(&store, new).await;
                store.close().await;
                result
            }
            Command::List { data } => {
                let store = open_store(&config(data.as_ref())?).await?;
                let result = list(&store).await;
                store.close().await;
                result
            }
        }
    })
}

fn config(data: Option<&PathBuf>) -> anyhow::Result<Config> {
    let flags: Vec<(&'static str, String)> = data
        .map(|d| vec![("data_dir", d.display().to_string())])
        .unwrap_or_default();
    Config::load(None, &flags).context("read the configuration")
}

/// The arguments of `user add`.
struct NewUserArgs<'a> {
    name: &'a str,
    role: Role,
    team: Option<&'a str>,
    email: Option<String>,
    top_seller: bool,
}

async fn add(store: &Store, args: NewUserArgs<'_>) -> anyhow::Result<()> {
    if args.top_seller && args.role != Role::Rep {
        anyhow::bail!(
            "--top-seller applies to reps only, and the role is {}: drop the flag or use --role rep",
            args.role
        );
    }
    let team = match args.team {
        Some(team_name) => Some(find_or_create_team(store, team_name).await?),
        None => None,
    };
    let email = args.email.unwrap_or_else(|| default_email(args.name));
    let new = NewUser {
        team_id: team.as_ref().map(|t| t.id.clone()),
        email,
        display_name: args.name.to_string(),
        role: args.role,
    };
    let user = store
        .create_user_with_top_seller(&new, args.top_seller)
        .await
        .context("create the user")?;
    let issued = store
        .issue_token(&user.id, "cli", None)
        .await
        .context("issue the token")?;
    let top_seller = if user.top_seller { " top seller" } else { "" };
    outln!(
        "created {}{top_seller} {} ({}) id {}",
        user.role,
        user.display_name,
        user.email,
        user.id
    );
    outln!("token (shown once): {}", issued.token.expose());
    Ok(())
}

async fn list(store: &Store) -> anyhow::Result<()> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM users ORDER BY display_name, id")
        .fetch_all(store.pool())
        .await
        .context("list users")?;
    for (id,) in rows {
        let user = store.user(&UserId::parse(&id)?).await?;
        let team = match &user.team_id {
            Some(team) => format!("{} ({team})", store.team(team).await?.name),
            None => "-".to_string(),
        };
        print_user(&user, &team);
    }
    Ok(())
}

fn print_user(user: &User, team: &str) {
    let state = if user.disabled_at.is_some() {
        "disabled"
    } else {
        "active"
    };
    let seller = if user.top_seller { "top_seller" } else { "-" };
    outln!(
        "{}\t{}\t{}\t{}\t{team}\t{state}\t{seller}",
        user.id,
        user.role,
        user.display_name,
        user.email
    );
}

fn default_email(name: &str) -> String {
    let local: String = name
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '.' })
        .collect();
    let local = local.trim_matches('.');
    let local = if local.is_empty() { "user" } else { local };
    format!("{local}@callcoach.local")
}

async fn find_or_create_team(store: &Store, name: &str) -> anyhow::Result<Team> {
    if let Some(team) = team_by_name(store, name).await? {
        return Ok(team);
    }
    let team = store.create_team(name).await.context("create the team")?;
    outln!("created team {} id {}", team.name, team.id);
    Ok(team)
}

/// Returns the team named `name`, if any.
pub(crate) async fn team_by_name(store: &Store, name: &str) -> anyhow::Result<Option<Team>> {
    let row: Option<(String,)> = sqlx::query_as("SELECT id FROM teams WHERE name = $1")
        .bind(name.trim())
        .fetch_optional(store.pool())
        .await
        .with_context(|| format!("look up team {name:?}"))?;
    match row {
        Some((id,)) => Ok(Some(store.team(&TeamId::parse(&id)?).await?)),
        None => Ok(None),
    }
}

/// Opens the store named by the configuration.
pub(crate) async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store_config = StoreConfig {
        data_dir: config.data_dir.clone(),
        database_url: config.database_url.as_ref().map(|u| u.expose().to_string()),
        max_connections: None,
    };
    Store::open(&store_config)
        .await
        .with_context(|| format!("open the store in {}", config.data_dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_email_uses_name() {
        assert_eq!(default_email("Riley Rep"), "riley.rep@callcoach.local");
        assert_eq!(default_email("  "), "user@callcoach.local");
    }
}
