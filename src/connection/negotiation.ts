import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import nodeDataChannel from 'node-datachannel';
import type { PeerConnection, RtcConfig } from 'node-datachannel';
import { SmallWebRTCError } from '../errors.js';
import { getLogger } from '../logger.js';
import type { CheckedCandidate } from '../validation.js';
import type { ParsedSdp, SdpMedia } from './sdp.js';

// The checks of offer and candidate arguments are input rules: they live in src/validation.ts.
export {
  checkOffer,
  checkRemoteCandidate,
  type CheckedCandidate,
  type RemoteIceCandidate,
} from '../validation.js';

/** Runs signalling jobs one at a time (an offer must be answered before the next is applied). */
export class SerialQueue {
  #busy: Promise<unknown> = Promise.resolve();

  /** Runs `job` after every job queued before it settled; resolves or rejects as `job` does. */
  run<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(job, job);
    this.#busy = run.catch(() => undefined);
    return run;
  }
}

/**
 * Offer/answer on one libdatachannel PeerConnection (replaced on `restartPc`): creates it, applies the offer,
 * waits for the answer (complete ICE gathering for the first offer: there is no server-to-client trickle in
 * this protocol) and applies trickled candidates. Its transceivers and data channel are managed apart
 * ({@link Transceivers}, {@link DataChannelLink}); the caller registers their callbacks on {@link pc} before
 * {@link PeerNegotiation.answer}, since node-datachannel reports only what happens after registration.
 */
export class PeerNegotiation {
  /** The node-datachannel peer connection. */
  readonly pc: PeerConnection;
  readonly #name: string;
  /** The offer's mids in m-line order (`''` for an m-line without one): maps `sdpMLineIndex` to a mid. */
  #mids: string[];
  /** The last state reported by the state callback. */
  state = 'new';
  #gatheringWaiter: (() => void) | null = null;
  #localDescriptionWaiter: (() => void) | null = null;

  /**
   * @throws SmallWebRTCError `ERR_INTERNAL` if node-datachannel cannot create the peer connection (after
   *   `shutdownSmallWebRTC`, for instance).
   */
  constructor(name: string, pcId: string, rtcConfig: Readonly<RtcConfig>, offer: ParsedSdp) {
    this.#name = name;
    try {
      this.pc = new nodeDataChannel.PeerConnection(pcId, { ...rtcConfig });
    } catch (err) {
      throw new SmallWebRTCError('ERR_INTERNAL', `cannot create peer connection: ${String(err)}`, {
        cause: err,
      });
    }
    this.#mids = offer.media.map((m) => m.mid ?? '');
    this.pc.onGatheringStateChange((state) => {
      if (state === 'complete' && this.#gatheringWaiter) this.#gatheringWaiter();
    });
    this.pc.onLocalDescription(() => {
      if (this.#localDescriptionWaiter) this.#localDescriptionWaiter();
    });
  }

  /** The state right now (`pc.state()`; the state callback may still be queued), else the last reported. */
  liveState(): string {
    try {
      return this.pc.state();
    } catch {
      return this.state; // closed underneath: the queued callbacks will tell
    }
  }

  /** SCTP payload bytes received (throws once the peer connection is closed). */
  bytesReceived(): number {
    return this.pc.bytesReceived();
  }

  /** The audio/video m-lines of a re-offer that are new: not in `knownMids` nor in the previous offer. */
  freshMedia(offer: ParsedSdp, knownMids: readonly string[]): SdpMedia[] {
    const known = new Set(knownMids);
    return offer.media.filter((m) => m.mid !== null && !known.has(m.mid) && !this.#mids.includes(m.mid));
  }

  /**
   * Applies the first offer and returns our answer once ICE gathering completed (or after `timeoutMs`, with
   * the candidates found so far). `current()` turning false (peer replaced, connection closed) ends the wait.
   *
   * @throws SmallWebRTCError `ERR_INVALID_SDP` (libdatachannel rejected the offer), `ERR_CLOSED` (no longer
   *   current when the answer is ready), `ERR_INTERNAL` (no answer produced).
   */
  async answer(sdp: string, timeoutMs: number, current: () => boolean): Promise<string> {
    const gathered = new Promise<void>((resolve) => {
      this.#gatheringWaiter = resolve;
    });
    try {
      this.pc.setRemoteDescription(sdp, 'offer');
    } catch (err) {
      throw new SmallWebRTCError('ERR_INVALID_SDP', `offer rejected: ${String(err)}`, { cause: err });
    }
    await this.#waitFor(gathered, timeoutMs, current, () => this.pc.gatheringState() === 'complete');
    if (!current()) throw new SmallWebRTCError('ERR_CLOSED', 'closed while answering');
    const local = this.pc.localDescription();
    if (!local || local.type !== 'answer') {
      throw new SmallWebRTCError('ERR_INTERNAL', 'libdatachannel produced no answer');
    }
    return local.sdp;
  }

  /**
   * Applies a later offer on the same peer connection and returns the new answer (waits at most 5 s for it).
   *
   * @throws SmallWebRTCError `ERR_INVALID_SDP` (offer rejected), `ERR_INTERNAL` (no answer produced).
   */
  async reanswer(offer: ParsedSdp, sdp: string, current: () => boolean): Promise<string> {
    this.#mids = offer.media.map((m) => m.mid ?? '');
    const described = new Promise<void>((resolve) => {
      this.#localDescriptionWaiter = resolve;
    });
    try {
      this.pc.setRemoteDescription(sdp, 'offer');
    } catch (err) {
      this.#localDescriptionWaiter = null;
      throw new SmallWebRTCError('ERR_INVALID_SDP', `offer rejected: ${String(err)}`, { cause: err });
    }
    await this.#waitFor(described, 5000, current, () => this.pc.signalingState() === 'stable');
    this.#localDescriptionWaiter = null;
    const local = this.pc.localDescription();
    if (!local || local.type !== 'answer')
      throw new SmallWebRTCError('ERR_INTERNAL', 'no answer to the new offer');
    return local.sdp;
  }

  /**
   * Adds a checked trickled candidate. mDNS `.local` candidates are skipped (the browser's connectivity checks
   * still reach us, as peer-reflexive candidates), as are other non-IP addresses. Candidates apply to the
   * single bundled transport: the mid only has to be one libdatachannel knows.
   *
   * @throws SmallWebRTCError `ERR_INVALID_CANDIDATE` if libdatachannel rejects it.
   */
  addRemoteCandidate(c: CheckedCandidate): void {
    const address = c.parsed.address;
    if (address.toLowerCase().endsWith('.local')) {
      getLogger().debug(`${this.#name}: skipping mDNS candidate ${address}`);
      return;
    }
    if (isIP(address) === 0) {
      getLogger().debug(`${this.#name}: skipping candidate with non-IP address ${address}`);
      return;
    }
    let mid = c.sdpMid !== null && this.#mids.includes(c.sdpMid) ? c.sdpMid : undefined;
    if (mid === undefined && c.sdpMLineIndex !== null) mid = this.#mids[c.sdpMLineIndex];
    mid ??= this.#mids[0] ?? '0';
    const line = c.text.startsWith('a=') ? c.text.slice(2) : c.text;
    try {
      this.pc.addRemoteCandidate(line, mid);
    } catch (err) {
      throw new SmallWebRTCError('ERR_INVALID_CANDIDATE', `candidate rejected: ${String(err)}`, {
        cause: err,
      });
    }
  }

  /** Closes the peer connection and releases any pending wait. */
  close(): void {
    this.#gatheringWaiter?.();
    this.#localDescriptionWaiter?.();
    try {
      this.pc.close();
    } catch (err) {
      getLogger().debug(`${this.#name}: pc.close failed`, err);
    }
  }

  /** Resolves when `promise` settles, `check()` becomes true (polled every 20 ms), or after `timeoutMs`. */
  async #waitFor(
    promise: Promise<void>,
    timeoutMs: number,
    current: () => boolean,
    check: () => boolean,
  ): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let done = false;
    void promise.then(() => {
      done = true;
    });
    while (!done && performance.now() < deadline && current()) {
      try {
        if (check()) return;
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    if (!done && performance.now() >= deadline) {
      getLogger().warn(`${this.#name}: gave up waiting after ${timeoutMs} ms (answering with what we have)`);
    }
  }
}
