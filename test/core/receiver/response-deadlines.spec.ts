import { describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScalekitResponseDeadlines } from '../../../lib/core/receiver/response-deadlines.js';

describe('ScalekitResponseDeadlines (one timer for every delivery in flight)', () => {
  it('expires each entry still waiting at its own deadline, in arrival order, and never one that was deleted', async () => {
    const expired: string[] = [];
    const deadlines = new ScalekitResponseDeadlines<string>(400, (entry) => expired.push(entry));
    deadlines.add('a');
    deadlines.add('answered');
    await sleep(200);
    deadlines.add('b');
    deadlines.delete('answered');
    // About 450 ms: a is past its deadline (400), b is not (600); a late wake-up of up to 150 ms changes nothing.
    await sleep(250);
    expect(expired).toEqual(['a']);
    await sleep(250);
    expect(expired).toEqual(['a', 'b']);
    expect(deadlines.size).toBe(0);
  });

  it('arms again for an entry added after the timer went idle', async () => {
    const expired: number[] = [];
    const deadlines = new ScalekitResponseDeadlines<number>(30, (entry) => expired.push(entry));
    deadlines.add(1);
    await sleep(60);
    deadlines.add(2);
    await sleep(60);
    expect(expired).toEqual([1, 2]);
  });

  it('takeAll removes every waiting entry, so none of them expires later', async () => {
    const expired: number[] = [];
    const deadlines = new ScalekitResponseDeadlines<number>(30, (entry) => expired.push(entry));
    deadlines.add(1);
    deadlines.add(2);
    expect(deadlines.takeAll()).toEqual([1, 2]);
    await sleep(60);
    expect(expired).toEqual([]);
  });
});
