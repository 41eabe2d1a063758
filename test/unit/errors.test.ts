import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { errorCatalogue, grpcStatusOf, toAppError } from '../../src/errors.js';

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

describe('an answer whose outcome is unknown', () => {
  it('tells the gateway to retry with the same key, since Redis may still apply the call', () => {
    expect(errorCatalogue.REDIS_UNAVAILABLE.summary).toMatch(/^Outcome unknown: retry with the same key/);
  });

  it.each([
    ['the client still waits', false, GrpcStatus.UNAVAILABLE],
    ["the client's deadline passed", true, GrpcStatus.DEADLINE_EXCEEDED],
  ])('is a status gateways retry when %s', (_case, deadlinePassed, status) => {
    expect(grpcStatusOf('REDIS_UNAVAILABLE', deadlinePassed)).toBe(status);
  });

  it('keeps every other code its catalogued status after a deadline', () => {
    expect(grpcStatusOf('INVALID_ARGUMENT', true)).toBe(GrpcStatus.INVALID_ARGUMENT);
  });
});
