// An incident bot as a Slack Bolt app would first be written: it verifies each slash command's
// signature, keeps incidents in memory and answers in the ack. Nothing is stored, so a crash
// loses every incident; runroom's Slack benchmark (benches/slack.rs) runs it as the level a
// durable bot should reach. Usage: SLACK_SIGNING_SECRET=… PORT=… node app.js
const { App, LogLevel } = require('@slack/bolt');

const incidents = [];
const rank = { sev1: 1, sev2: 2, sev3: 3, sev4: 4 };

const app = new App({
  signingSecret: process.env.SLACK_SIGNING_SECRET,
  // The bot's identity given rather than asked of Slack (auth.test): the benchmark has no
  // Slack API to answer it.
  authorize: async () => ({ botToken: 'xoxb-bench', botId: 'B0BENCH', botUserId: 'U0BENCH' }),
  logLevel: LogLevel.ERROR,
});

app.command('/inc', async ({ command, ack }) => {
  const [verb, severity, ...words] = command.text.trim().split(/\s+/);
  if (verb === 'declare') {
    const number = incidents.length + 1;
    const title = words.join(' ');
    incidents.push({
      number,
      severity: rank[severity] ? severity : 'sev3',
      title,
      channel: command.channel_id,
      commander: command.user_id,
      declaredAt: Date.now(),
      open: true,
    });
    await ack({ response_type: 'in_channel', text: `INC-${number} declared (${severity}): ${title}` });
  } else if (verb === 'list') {
    const open = incidents.filter((i) => i.open);
    open.sort((a, b) => rank[a.severity] - rank[b.severity] || a.number - b.number);
    const lines = open.slice(0, 20).map((i) => `• INC-${i.number} · ${i.severity} · ${i.title}`);
    const more = open.length > 20 ? [`…and ${open.length - 20} more`] : [];
    await ack({ response_type: 'ephemeral', text: [`${open.length} open incidents:`, ...lines, ...more].join('\n') });
  } else {
    await ack({ response_type: 'ephemeral', text: 'Try `/inc declare sev3 title` or `/inc list`.' });
  }
});

(async () => {
  await app.start(Number(process.env.PORT));
  console.log('listening');
})();
