//! `callcoach demo`: seeds a demo team with one user of each role and a
//! top-seller rep, whose answers are the team's baseline, prints their
//! tokens and the page addresses, then serves.
//!
//! Running it again keeps the users and issues each one a new token,
//! because tokens are stored hashed and cannot be shown twice.

use anyhow::Context;

use super::user::{open_store, team_by_name};
use crate::config::Config;
use crate::store::users::{NewUser, Role, User};
use crate::store::Store;

/// Name of the demo team.
const DEMO_TEAM: &str = "Demo team";
/// The demo users: role, display name, email and top-seller flag.
const DEMO_USERS: [(Role, &str, &str, bool); 5] = [
    (Role::Rep, "Riley Rep", "rep@demo.callcoach.test", false),
    (
        Role::Rep,
        "Taylor Top Seller",
        "top.seller@demo.callcoach.test",
        true,
    ),
    (
        Role::Coach,
        "Casey Coach",
        "coach@demo.callcoach.test",
        false,
    ),
    (
        Role::Manager,
        "Morgan Manager",
        "manager@demo.callcoach.test",
        false,
    ),
    (
        Role::Admin,
        "Alex Admin",
        "admin@demo.callcoach.test",
        false,
    ),
];

/// The seeded users with the tokens issued to them now.
#[derive(Debug)]
pub(crate) struct DemoUsers {
    users: Vec<(User, String)>,
}

impl DemoUsers {
    /// Prints each user's role, name and token, and the page addresses.
    pub(crate) fn print(&self, base: &str) {
        outln!("demo users (tokens are shown once; send Authorization: Bearer <token>):");
        for (user, token) in &self.users {
            let role = if user.top_seller {
                "rep (top seller)"
            } else {
                user.role.as_str()
            };
            outln!("  {role:<16} {:<18} {token}", user.display_name);
        }
        outln!("pages: {base}/drill  {base}/coach  {base}/manager");
    }
}

/// Creates the demo team and users where missing and issues fresh tokens.
pub(crate) async fn seed(config: &Config) -> anyhow::Result<DemoUsers> {
    let store = open_store(config).await?;
    let team = match team_by_name(&store, DEMO_TEAM).await? {
        Some(team) => team,
        None => store
            .create_team(DEMO_TEAM)
            .await
            .context("create the demo team")?,
    };
    let mut users = Vec::new();
    for (role, name, email, top_seller) in DEMO_USERS {
        let new = NewUser {
            team_id: Some(team.id.clone()),
            email: email.to_string(),
            display_name: name.to_string(),
            role,
        };
        let user = demo_user(&store, &new, top_seller).await?;
        let issued = store
            .issue_token(&user.id, "demo", None)
            .await
            .with_context(|| format!("issue a token for {email}"))?;
        users.push((user, issued.token.expose().to_string()));
    }
    store.close().await;
    Ok(DemoUsers { users })
}

async fn demo_user(store: &Store, new: &NewUser, top_seller: bool) -> anyhow::Result<User> {
    if let Some(user) = store.user_by_email(&new.email).await? {
        return Ok(user);
    }
    store
        .create_user_with_top_seller(new, top_seller)
        .await
        .with_context(|| format!("create the demo user {}", new.email))
}
