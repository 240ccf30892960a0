import { describe, expect, it } from 'vitest';
import { lazyClient } from '../../../../lambdas/adapters/aws/lazy-client.js';

class EchoClient {
  sent: string[] = [];
  async send(command: string): Promise<string> {
    this.sent.push(command);
    return `ok ${command}`;
  }
}

describe('a lazily made SDK client', () => {
  it('is made at its first send, once, and answers every send', async () => {
    // Prepare
    let made = 0;
    const echo = new EchoClient();
    const client = lazyClient(async () => {
      made++;
      return echo;
    });

    // Act
    const before = made;
    const answers = await Promise.all([client.send('a'), client.send('b')]);
    await client.send('c');

    // Assess
    expect(before).toBe(0);
    expect(made).toBe(1);
    expect(answers).toEqual(['ok a', 'ok b']);
    expect(echo.sent).toEqual(['a', 'b', 'c']);
  });

  it('tries to make the client again after a failed make', async () => {
    // Prepare
    let attempts = 0;
    const client = lazyClient(async () => {
      attempts++;
      if (attempts === 1) throw new Error('package not loadable');
      return new EchoClient();
    });

    // Act
    const first = client.send('a');
    await expect(first).rejects.toThrow('package not loadable');
    const second = await client.send('b');

    // Assess
    expect(second).toBe('ok b');
    expect(attempts).toBe(2);
  });
});
