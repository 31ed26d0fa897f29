import { randomUUID } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { NATS_DUPLICATE_WINDOW_MS, NatsSink, natsSubject } from '@accountable/event-streams';
import { NATS_URL, describeWithNats } from '../support/nats';

describeWithNats('NatsSink (JetStream)', () => {
  const stream = `TEST_${randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase()}`;
  const prefix = `test.${stream.toLowerCase()}`;
  const account = `AC${'1'.repeat(32)}`;

  afterAll(async () => {
    const nc = await connect({ servers: NATS_URL });
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
    await nc.close();
  });

  it('creates the stream when missing and stores each message id once', async () => {
    const sink = await NatsSink.open({ servers: [NATS_URL], stream, subjectPrefix: prefix });
    try {
      const messages = ['a', 'b', 'c'].map((n) => ({
        subject: natsSubject(prefix, account, 'com.twilio.iam.account.renamed'),
        id: `AE${n.repeat(32)}`,
        payload: JSON.stringify({ id: n }),
      }));
      expect(await sink.publish(messages)).toEqual({ duplicates: 0 });
      // A redelivery (the crash case): the ids are known, nothing is stored again.
      expect(await sink.publish(messages)).toEqual({ duplicates: 3 });
    } finally {
      await sink.close();
    }
    const nc = await connect({ servers: NATS_URL });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(stream);
      expect(info.state.messages).toBe(3);
      expect(info.config.subjects).toEqual([`${prefix}.>`]);
      expect(info.config.duplicate_window).toBe(NATS_DUPLICATE_WINDOW_MS * 1_000_000);
      const first = await jsm.streams.getMessage(stream, { seq: 1 });
      expect(first?.subject).toBe(`${prefix}.${account}.com.twilio.iam.account.renamed`);
      expect(first?.header.get('Nats-Msg-Id')).toBe(`AE${'a'.repeat(32)}`);
      expect(first?.json()).toEqual({ id: 'a' });
    } finally {
      await nc.close();
    }
  });

  it('leaves an existing stream as it is', async () => {
    const sink = await NatsSink.open({ servers: [NATS_URL], stream, subjectPrefix: prefix });
    try {
      await sink.publish([{ subject: natsSubject(prefix, account, 'com.twilio.iam.account.closed'), id: `AE${'d'.repeat(32)}`, payload: '{}' }]);
    } finally {
      await sink.close();
    }
    const nc = await connect({ servers: NATS_URL });
    try {
      expect((await (await jetstreamManager(nc)).streams.info(stream)).state.messages).toBe(4);
    } finally {
      await nc.close();
    }
  });
});
