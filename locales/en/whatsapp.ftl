# WhatsApp rosters: a member's message relayed to the other members (WhatsApp renders *bold*),
# and mirrored into the incident's thread in the Slack war rooms.
relay-message = *{ $name }*: { $text }
relay-mirror = { $name } in { $room } (WhatsApp): { $text }
