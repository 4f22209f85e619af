import { whileLeaderSettles } from './kafkajs-client';

// The shape of kafkajs' protocol errors: what whileLeaderSettles decides on is `type`.
const protocolError = (type: string) => Object.assign(new Error(`broker said ${type}`), { type });

describe('whileLeaderSettles (admin reads right after a topic is created)', () => {
  const noSleep = async () => undefined;

  it('reads again while the broker answers NOT_LEADER_OR_FOLLOWER, then returns the answer', async () => {
    const answers: (Error | string)[] = [protocolError('NOT_LEADER_OR_FOLLOWER'), protocolError('LEADER_NOT_AVAILABLE'), protocolError('UNKNOWN_TOPIC_OR_PARTITION'), 'offsets'];
    let calls = 0;
    const got = await whileLeaderSettles(async () => {
      const a = answers[calls++];
      if (a instanceof Error) throw a;
      return a;
    }, noSleep);
    expect(got).toBe('offsets');
    expect(calls).toBe(4);
  });

  it('passes any other error through at once', async () => {
    let calls = 0;
    await expect(whileLeaderSettles(async () => {
      calls++;
      throw protocolError('TOPIC_AUTHORIZATION_FAILED');
    }, noSleep)).rejects.toThrow('TOPIC_AUTHORIZATION_FAILED');
    expect(calls).toBe(1);
  });

  it('gives up after 30 s of settling with the broker\'s last error', async () => {
    let calls = 0;
    await expect(whileLeaderSettles(async () => {
      calls++;
      throw protocolError('NOT_LEADER_OR_FOLLOWER');
    }, noSleep)).rejects.toThrow('NOT_LEADER_OR_FOLLOWER');
    expect(calls).toBe(151); // one read per 200 ms step up to 30 s, and the first
  });
});
