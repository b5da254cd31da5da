# Rosters do WhatsApp: a mensagem de um membro repassada aos outros (o WhatsApp mostra *negrito*)
# e espelhada na thread do incidente nas salas de guerra do Slack.
relay-message = *{ $name }*: { $text }
relay-mirror = { $name } em { $room } (WhatsApp): { $text }
