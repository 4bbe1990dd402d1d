// The routing key (docs/scaling.md): the owner tag a front reads from a pc_id or a /start session id.
import { randomUUID } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { resolveConnectionOptions } from '../../src/connection/connection-options.js';
import { errorCode } from '../../src/errors.js';
import { workerPortRange } from '../../src/server/cluster.js';
import { ownerOfId } from '../../src/server/routing.js';

const hex = (): string => randomUUID().replace(/-/g, '');

describe('ownerOfId', () => {
  it('reads the tag of a pc_id and of a session id', () => {
    expect(ownerOfId(`SmallWebRTCConnection#12-w3.${hex()}`)).toBe('w3');
    expect(ownerOfId(`SmallWebRTCConnection#0-host_a_w12.${hex()}`)).toBe('host_a_w12');
    expect(ownerOfId(`s2.${randomUUID()}`)).toBe('s2');
  });

  it('finds no owner in Pipecat-shaped or malformed ids', () => {
    expect(ownerOfId(`SmallWebRTCConnection#0-${hex()}`)).toBeNull(); // Pipecat's shape: served locally
    expect(ownerOfId(randomUUID())).toBeNull(); // an untagged session id
    expect(ownerOfId(`SmallWebRTCConnection#0-w1.${hex().slice(1)}`)).toBeNull(); // 31 hex digits
    expect(ownerOfId(`SmallWebRTCConnection#0-w-1.${hex()}`)).toBe('1'); // '-' ends the name part
    expect(ownerOfId(`x.y.${randomUUID()}`)).toBeNull();
    expect(ownerOfId(`${'a'.repeat(33)}.${randomUUID()}`)).toBeNull();
    expect(ownerOfId(null)).toBeNull();
    expect(ownerOfId(42)).toBeNull();
    expect(ownerOfId(`w1.${hex()}${'0'.repeat(300)}`)).toBeNull();
  });
});

describe('ownerTag connection option', () => {
  it('accepts 1-32 characters [A-Za-z0-9_] and refuses the rest with ERR_INVALID_ARG', () => {
    expect(resolveConnectionOptions({ ownerTag: 'w1' }).ownerTag).toBe('w1');
    expect(resolveConnectionOptions({}).ownerTag).toBeNull();
    for (const bad of ['', 'a-b', 'a.b', 'a'.repeat(33), 'é', 7]) {
      let err: unknown;
      try {
        resolveConnectionOptions({ ownerTag: bad as string });
      } catch (e) {
        err = e;
      }
      expect(errorCode(err), String(bad)).toBe('ERR_INVALID_ARG');
    }
  });
});

describe('workerPortRange (cluster mode)', () => {
  it('gives each worker its own slice of the UDP range, or its own mux port', () => {
    const o = { portRangeBegin: 40000, portRangeEnd: 40099 };
    expect(workerPortRange(o, 0, 4)).toEqual({ portRangeBegin: 40000, portRangeEnd: 40024 });
    expect(workerPortRange(o, 3, 4)).toEqual({ portRangeBegin: 40075, portRangeEnd: 40099 });
    const mux = { portRangeBegin: 3478, portRangeEnd: 3479, enableIceUdpMux: true };
    expect(workerPortRange(mux, 1, 2)).toMatchObject({ portRangeBegin: 3479, portRangeEnd: 3479 });
    expect(() => workerPortRange(mux, 0, 3)).toThrow(/needs 3 ports/);
    expect(workerPortRange({ bindAddress: '127.0.0.1' }, 1, 2)).toEqual({ bindAddress: '127.0.0.1' });
    expect(workerPortRange(undefined, 1, 2)).toBeUndefined();
  });
});
