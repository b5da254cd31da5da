//! WhatsApp's wiring: the sender when either transport is configured (the Cloud API with
//! `[whatsapp] phone_number_id` and its token, the Evolution gateway with `[evolution]` and its
//! API key), `/webhooks/whatsapp` when the app secret and verify token are set, and
//! `/webhooks/evolution` when the Evolution API key or webhook token is. Each entrance is off
//! otherwise: nothing unverified is read.

use std::sync::Arc;

use anyhow::Context as _;

use super::{
    APP_SECRET_ENV, EVOLUTION_APIKEY_ENV, RoomKind, TOKEN_ENV, VERIFY_TOKEN_ENV, evolution, inbox,
    outbound, signature, webhooks,
};
use crate::engine::policy::Person;
use crate::engine::reach::{Limits, Reach};
use crate::platforms::{Connected, Platform, Setup, Wired};

/// WhatsApp names people by name (it has no mentions a bot can send) and pages them directly
/// on their own number.
pub struct WhatsappReach;

impl Reach for WhatsappReach {
    fn platform(&self) -> Platform {
        Platform::Whatsapp
    }

    /// A number as configured and as WhatsApp reports it (a Brazilian mobile with or without
    /// its ninth digit, with or without the `+`).
    fn is_author(&self, identity: &str, author: &crate::engine::room::Author) -> bool {
        let plus = |n: &str| {
            if n.starts_with('+') {
                n.to_string()
            } else {
                format!("+{n}")
            }
        };
        super::phone::same_number(&plus(identity), &plus(&author.id))
    }

    fn direct_chat(&self, person: &Person) -> Option<String> {
        person.identity(Platform::Whatsapp).map(str::to_string)
    }

    /// A text body takes 4,096 characters on the Cloud API; Evolution's `sendText` is held to
    /// the same. Interactive bodies and template parameters are drawn within their own limits
    /// by the sender ([`outbound`]).
    fn limits(&self) -> Limits {
        Limits::text(outbound::MAX_BODY_CHARS)
    }
}

pub fn reach() -> Arc<dyn Reach> {
    Arc::new(WhatsappReach)
}

pub fn wire(setup: &Setup<'_>) -> anyhow::Result<Wired> {
    let mut wired = Wired::new(reach());
    let config = setup.config;
    let secrets = setup.secrets;
    let rooms = config.whatsapp_rooms();
    let needs = |kind: RoomKind| rooms.values().any(|k| *k == kind);
    let wa = config.whatsapp.clone().unwrap_or_default();
    let token = secrets
        .get(TOKEN_ENV)
        .filter(|_| !wa.phone_number_id.is_empty());
    let apikey = secrets.get(EVOLUTION_APIKEY_ENV);
    let evolution = match (&config.evolution, &apikey) {
        (Some(evo), Some(apikey)) => Some(
            evolution::EvolutionClient::new(evo, apikey.clone())
                .context("building the Evolution API client")?,
        ),
        _ => None,
    };
    // With neither transport, WhatsApp messages wait in the outbox. With one, the other's rooms'
    // messages are dead-lettered with the reason (`runroom outbox retry` once it is configured):
    // the worker sends a platform's rows through one sender.
    let fate = if token.is_none() && evolution.is_none() {
        "its messages will wait"
    } else {
        "its messages will be dead-lettered until it is configured (then `runroom outbox retry`)"
    };
    if (needs(RoomKind::Roster) || needs(RoomKind::Group)) && token.is_none() {
        wired.warnings.push(format!(
            "a WhatsApp room needs the Cloud API but [whatsapp] phone_number_id or {TOKEN_ENV} is not set: {fate}"
        ));
    }
    if needs(RoomKind::Evolution) && evolution.is_none() {
        wired.warnings.push(format!(
            "a WhatsApp room is on Evolution but [evolution] or {EVOLUTION_APIKEY_ENV} is not set: {fate}"
        ));
    }
    let graph = match token {
        Some(token) => {
            Some(outbound::Graph::new(&wa, token).context("building the WhatsApp client")?)
        }
        None => None,
    };
    let cloud = match (secrets.get(APP_SECRET_ENV), secrets.get(VERIFY_TOKEN_ENV)) {
        (Some(secret), Some(verify)) => Some(Arc::new(signature::Verifier::new(&secret, &verify))),
        _ => {
            if config.whatsapp.is_some() {
                wired.warnings.push(format!(
                    "{APP_SECRET_ENV} and {VERIFY_TOKEN_ENV} must both be set for /webhooks/whatsapp: it is off"
                ));
            }
            None
        }
    };
    let auth = evolution::WebhookAuth {
        apikey,
        token: secrets.get(evolution::WEBHOOK_TOKEN_ENV),
    };
    let evolution_auth = (auth.apikey.is_some() || auth.token.is_some()).then(|| Arc::new(auth));
    if graph.is_none() && evolution.is_none() && cloud.is_none() && evolution_auth.is_none() {
        return Ok(wired);
    }
    wired.connect = Some(Box::new(move |engine| {
        let mut connected = Connected::default();
        if graph.is_some() || evolution.is_some() {
            let mut sender = outbound::WhatsappSender::new(&wa, rooms, engine.clone());
            if let Some(graph) = graph {
                sender = sender.with(graph);
            }
            if let Some(evolution) = evolution {
                sender = sender.with_evolution(evolution);
            }
            connected.sender = Some(Arc::new(sender));
        }
        let inbox = Arc::new(inbox::Inbox::new(engine.clone(), wa.ack_budget()));
        if let Some(verifier) = cloud {
            connected.router = connected
                .router
                .merge(webhooks::router(webhooks::WhatsappHttp {
                    verifier,
                    inbox: inbox.clone(),
                    phone_number_id: wa.phone_number_id.clone(),
                }));
        }
        if let Some(auth) = evolution_auth {
            connected.router =
                connected
                    .router
                    .merge(webhooks::evolution_router(webhooks::EvolutionHttp {
                        auth,
                        inbox,
                    }));
        }
        Ok(connected)
    }));
    Ok(wired)
}
