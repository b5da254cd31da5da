//! Socket Mode: runroom opens a WebSocket to Slack with the app-level token and receives the
//! same events, slash commands and button presses as over HTTP, with no public URL. Each
//! envelope is acknowledged within Slack's 3 s ([`Inbox`]); one the engine failed is not
//! acknowledged, so Slack delivers it again.

use std::sync::Arc;

use anyhow::Context as _;
use slack_morphism::prelude::{
    SlackApiToken, SlackClientEventsListenerEnvironment, SlackClientEventsUserState,
    SlackClientSocketModeConfig, SlackClientSocketModeListener, SlackCommandEvent,
    SlackCommandEventResponse, SlackInteractionEvent, SlackMessageContent,
    SlackMessageResponseType, SlackPushEventCallback, SlackSocketModeListenerCallbacks,
    UserCallbackResult,
};

use super::SlackHttpClient;
use super::inbound;
use super::inbox::{self, Handed, Inbox};
use crate::engine::clock::Clock;
use crate::engine::journal::Entrance;

/// Listens until `stop` turns true.
pub async fn run(
    client: Arc<SlackHttpClient>,
    app_token: SlackApiToken,
    inbox: Arc<Inbox>,
    clock: Arc<dyn Clock>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let environment = Arc::new(
        SlackClientEventsListenerEnvironment::new(client).with_user_state(Socket { inbox, clock }),
    );
    let callbacks = SlackSocketModeListenerCallbacks::new()
        .with_command_events(on_command)
        .with_interaction_events(on_interaction)
        .with_push_events(on_event);
    let listener = SlackClientSocketModeListener::new(
        &SlackClientSocketModeConfig::new(),
        environment,
        callbacks,
    );
    listener
        .listen_for(&app_token)
        .await
        .context("opening a Socket Mode connection (apps.connections.open)")?;
    listener.start().await;
    tracing::info!("listening to Slack over Socket Mode");
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            break;
        }
    }
    listener.shutdown().await;
    Ok(())
}

/// What the callbacks share: the inbox and the clock envelopes are stamped with (the injected
/// one, as on the HTTP path).
#[derive(Clone)]
struct Socket {
    inbox: Arc<Inbox>,
    clock: Arc<dyn Clock>,
}

async fn socket_of(state: &SlackClientEventsUserState) -> Option<Socket> {
    state.read().await.get_user_state::<Socket>().cloned()
}

fn not_recorded() -> Box<dyn std::error::Error + Send + Sync> {
    "the engine did not record the event; Slack will deliver it again".into()
}

async fn on_event(
    event: SlackPushEventCallback,
    _client: Arc<SlackHttpClient>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    let Socket { inbox, clock } = socket_of(&state).await.ok_or_else(not_recorded)?;
    let now = clock.now();
    let Some(inbound) = inbound::from_event(&event, now) else {
        return Ok(());
    };
    let handed = if inbox.foreign(&event.team_id.0) {
        inbox.refuse_foreign(inbound).await
    } else {
        let record = || inbox::record(Entrance::SlackEvent, &event, now);
        inbox.hand(inbound, record).await
    };
    match handed {
        Handed::Failed => Err(not_recorded()),
        Handed::Done | Handed::Later => Ok(()),
    }
}

async fn on_command(
    event: SlackCommandEvent,
    _client: Arc<SlackHttpClient>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    let Socket { inbox, clock } = socket_of(&state).await.ok_or_else(not_recorded)?;
    let chat = event.channel_id.0.clone();
    let now = clock.now();
    let content = if inbox.foreign(&event.team_id.0) {
        tracing::warn!(
            platform = "slack",
            "refused a slash command from another Slack workspace"
        );
        SlackMessageContent::new().with_text(inbox.foreign_text(&chat))
    } else {
        let record = || inbox::record(Entrance::SlackCommand, &event, now);
        match inbox.hand(inbound::from_command(&event, now), record).await {
            Handed::Failed => SlackMessageContent::new().with_text(inbox.failure_text(&chat)),
            Handed::Done | Handed::Later => SlackMessageContent::new(),
        }
    };
    Ok(SlackCommandEventResponse::new(content)
        .with_response_type(SlackMessageResponseType::Ephemeral))
}

async fn on_interaction(
    event: SlackInteractionEvent,
    _client: Arc<SlackHttpClient>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    let Socket { inbox, clock } = socket_of(&state).await.ok_or_else(not_recorded)?;
    let now = clock.now();
    let SlackInteractionEvent::BlockActions(actions) = event else {
        return Ok(());
    };
    let Some(inbound) = inbound::from_actions(&actions, now) else {
        return Ok(());
    };
    let team = actions
        .user
        .as_ref()
        .and_then(|u| u.team_id.as_ref())
        .unwrap_or(&actions.team.id);
    let handed = if inbox.foreign(&team.0) {
        inbox.refuse_foreign(inbound).await
    } else {
        let record = || inbox::record(Entrance::SlackActions, &actions, now);
        inbox.hand(inbound, record).await
    };
    if handed == Handed::Failed {
        return Err(not_recorded());
    }
    Ok(())
}
