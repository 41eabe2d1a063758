import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { toAppError } from '../../src/errors.js';

describe('toAppError', () => {
  it.each([
    'LOADING Redis is loading the dataset in memory',
    'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.',
    "READONLY You can't write against a read only replica.",
    'CLUSTERDOWN The cluster is down',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no',
  ])('treats the Redis reply "%s" as Redis being unavailable, so gateways fail over', (message) => {
    expect(toAppError(new ReplyError(message)).code).toBe('REDIS_UNAVAILABLE');
  });

  it('keeps a script error internal: it is a bug, not an outage', () => {
    expect(toAppError(new ReplyError('ERR user_script:12: attempt to compare nil with number')).code).toBe('INTERNAL');
  });
});
