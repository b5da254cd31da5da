# Rosters de WhatsApp: el mensaje de un miembro reenviado a los demás (WhatsApp muestra *negrita*)
# y reflejado en el hilo del incidente en las salas de guerra de Slack.
relay-message = *{ $name }*: { $text }
relay-mirror = { $name } en { $room } (WhatsApp): { $text }
