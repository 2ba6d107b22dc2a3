//! The slash commands: `bots/discord/commands.json` is what Discord registers (the same file a
//! person can `PUT` by hand), and a test binds it to the command enum so the two cannot drift.
//! They are registered at start-up with one bulk overwrite per scope: in each configured guild
//! (they show at once), or globally when none is configured.

use anyhow::{Context, Result};
use serde_json::Value;

use super::client::DiscordClient;

/// The command list Discord registers.
pub const COMMANDS_JSON: &str = include_str!("../../../bots/discord/commands.json");

pub fn commands() -> Value {
    serde_json::from_str(COMMANDS_JSON).expect("bots/discord/commands.json is JSON")
}

/// Registers the commands in each of `guilds`, or globally when there are none.
pub async fn register(client: &DiscordClient, application: &str, guilds: &[String]) -> Result<()> {
    let commands = commands();
    if guilds.is_empty() {
        return client
            .overwrite_commands(application, None, &commands)
            .await
            .context("registering the global slash commands");
    }
    for guild in guilds {
        client
            .overwrite_commands(application, Some(guild), &commands)
            .await
            .with_context(|| format!("registering the slash commands in guild {guild}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::agent::AgentKind;
    use crate::domain::command::COMMANDS;

    /// Every command of the enum is a slash command with its help summary, and nothing else is.
    #[test]
    fn commands_json_matches_the_command_enum() {
        let commands = commands();
        let list = commands.as_array().expect("a list");
        let names: Vec<&str> = list.iter().map(|c| c["name"].as_str().unwrap()).collect();
        let expected: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        assert_eq!(names, expected);
        for (command, help) in list.iter().zip(COMMANDS) {
            assert_eq!(command["type"], 1, "{}", help.name);
            assert_eq!(command["description"], help.summary, "{}", help.name);
            assert!(help.summary.chars().count() <= 100, "{}", help.name);
            // An argument in the help is an option of the slash command.
            let options = command["options"].as_array().cloned().unwrap_or_default();
            assert_eq!(options.is_empty(), help.args.is_empty(), "{}", help.name);
            for option in &options {
                let name = option["name"].as_str().unwrap();
                assert!(help.args.contains(name), "{}: {name}", help.name);
                assert_eq!(option["required"], false);
                let description = option["description"].as_str().unwrap();
                assert!((1..=100).contains(&description.chars().count()));
            }
        }
    }

    /// Every option that names an agent offers exactly the agents, as commands spell them.
    #[test]
    fn agent_options_offer_every_agent() {
        let commands = commands();
        let agent_option = |command: &str, option: &str| {
            let list = commands.as_array().unwrap();
            let command = list.iter().find(|c| c["name"] == command).unwrap();
            let options = command["options"].as_array().unwrap();
            let option = options.iter().find(|o| o["name"] == option).unwrap();
            option["choices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| (c["name"].as_str().unwrap(), c["value"].as_str().unwrap()))
                .map(|(name, value)| {
                    assert_eq!(name, value);
                    value.parse::<AgentKind>().unwrap()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(agent_option("new", "agent"), AgentKind::ALL);
        assert_eq!(agent_option("agent", "name"), AgentKind::ALL);
    }
}
