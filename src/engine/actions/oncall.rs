//! `oncall` (who is on call now and next), `oncall override`, `handoff note` and
//! `handoff preview`.

use chrono::Duration;

use super::{Context, Decision, Effect};
use crate::engine::errors::ActionError;
use crate::engine::oncall::{self, HandoffInput};
use crate::engine::rotation::Rotation;
use crate::store::{HandoffNote, OncallOverride};

pub fn show(ctx: &Context<'_>) -> Decision {
    Decision::reply(oncall::oncall_answer(ctx.policies, ctx.overrides, ctx.now))
}

/// The rotation a command names, or the only one there is.
fn rotation<'a>(named: Option<&str>, ctx: &Context<'a>) -> Result<&'a Rotation, ActionError> {
    let all = &ctx.policies.rotations;
    let known = || all.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    match (named, all.as_slice()) {
        (_, []) => Err(ActionError::NoRotation),
        (Some(id), _) => ctx
            .policies
            .rotation(id)
            .ok_or_else(|| ActionError::UnknownRotation {
                got: id.chars().take(40).collect(),
                known: known(),
            }),
        (None, [only]) => Ok(only),
        (None, _) => Err(ActionError::WhichRotation { known: known() }),
    }
}

pub fn set_override(
    named: Option<&str>,
    person: &str,
    minutes: u32,
    ctx: &Context<'_>,
) -> Result<Decision, ActionError> {
    let rotation = rotation(named, ctx)?;
    // A configured person is stored by id (so they can be paged); anyone else by name.
    let who = ctx
        .policies
        .find_person(person)
        .map(|p| p.id.clone())
        .unwrap_or_else(|| person.trim_start_matches('@').to_string());
    let item = OncallOverride {
        rotation: rotation.id.clone(),
        person: who.clone(),
        starts_at: ctx.now,
        ends_at: ctx.now + Duration::minutes(i64::from(minutes)),
        set_by: ctx.actor.name.clone(),
    };
    let mut decision = Decision::reply(crate::engine::reply::override_set(
        &oncall::display(ctx.policies, &who),
        &rotation.id,
        item.ends_at,
        &ctx.actor.name,
    ));
    decision.effects.push(Effect::Override(item));
    Ok(decision)
}

/// The note goes to the rotation its first word names, or to the only rotation.
pub fn note(text: String, ctx: &Context<'_>) -> Result<Decision, ActionError> {
    let (first, rest) = text
        .split_once(char::is_whitespace)
        .unwrap_or((text.as_str(), ""));
    let (rotation, text) = match ctx.policies.rotation(first) {
        Some(r) if !rest.trim().is_empty() => (r, rest.trim().to_string()),
        _ => (self::rotation(None, ctx)?, text.clone()),
    };
    let mut decision = Decision::reply(crate::engine::reply::handoff_note_added(&rotation.id));
    decision.effects.push(Effect::HandoffNote {
        rotation: rotation.id.clone(),
        note: HandoffNote {
            author: ctx.actor.name.clone(),
            text,
            at: ctx.now,
        },
    });
    Ok(decision)
}

/// The summary the next handoff would post, as things stand now.
pub fn preview(named: Option<&str>, ctx: &Context<'_>) -> Result<Decision, ActionError> {
    let rotation = rotation(named, ctx)?;
    let (shift, _) = oncall::holders_at(rotation, ctx.overrides, ctx.now);
    let notes = ctx
        .notes
        .iter()
        .find(|(r, _)| *r == rotation.id)
        .map(|(_, n)| n.as_slice())
        .unwrap_or(&[]);
    let input = HandoffInput {
        rotation,
        at: shift.ends,
        now: ctx.now,
        incidents: ctx.handoff,
        notes,
        overrides: ctx.overrides,
        preview: true,
        postmortems: ctx.postmortems,
    };
    Ok(Decision::reply(oncall::handoff_summary(
        ctx.policies,
        &input,
    )))
}
