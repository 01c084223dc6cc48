// Sends identify, group, track and page calls to abmeter through the official Segment and
// RudderStack Node SDKs, unchanged but for the host. Usage: node send.js URL WRITE_KEY
// Exits non-zero if either SDK reports a delivery error.
const { Analytics } = require('@segment/analytics-node');
const Rudder = require('@rudderstack/rudder-sdk-node');

const [url, writeKey] = process.argv.slice(2);

function calls(client, sdk) {
  const user = `${sdk}-user`;
  client.identify({ userId: user, anonymousId: `${sdk}-visitor`,
    traits: { email: `${sdk}@${sdk}.example.com`, title: 'VP Marketing', firstName: 'Node' } });
  client.group({ userId: user, groupId: `${sdk}-account`,
    traits: { name: `${sdk} Inc`, website: `https://www.${sdk}-corp.com`, industry: 'Software', employees: 500 } });
  client.track({ userId: user, event: 'Webinar Attended', properties: { duration_minutes: 40 },
    context: { groupId: `${sdk}-account` } });
  client.page({ anonymousId: `${sdk}-visitor`, name: 'Pricing',
    properties: { url: `https://www.example.com/pricing?from=${sdk}` } });
}

async function main() {
  const errors = [];
  const segment = new Analytics({ writeKey, host: url, path: '/v1/batch', flushAt: 4, maxRetries: 0 });
  segment.on('error', (e) => errors.push(`segment: ${e && (e.reason || e.message || e.code)}`));
  calls(segment, 'segment-node');
  await segment.closeAndFlush();

  const rudder = new Rudder(writeKey, { dataPlaneUrl: url, flushAt: 4, flushInterval: 200, retryCount: 0,
    errorHandler: (e) => errors.push(`rudder: ${e && e.message}`) });
  calls(rudder, 'rudder-node');
  await rudder.flush();

  if (errors.length) {
    console.error(errors.join('\n'));
    process.exit(1);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
