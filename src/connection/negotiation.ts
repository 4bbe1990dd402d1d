import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import nodeDataChannel from 'node-datachannel';
import type { PeerConnection, RtcConfig } from 'node-datachannel';
import { SmallWebRTCError, SmallWebRTCTypeError } from '../errors.js';
import { getLogger } from '../logger.js';
import { parseCandidate, type ParsedCandidate, type ParsedSdp, type SdpMedia } from './sdp.js';

/** An ICE candidate from trickle (PATCH). `null` or an empty `candidate` means end-of-candidates. */
export interface RemoteIceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

/** A trickled candidate that passed {@link checkRemoteCandidate}. */
export interface CheckedCandidate {
  /** The candidate line, trimmed (with or without its `a=` prefix). */
  text: string;
  parsed: ParsedCandidate;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

/**
 * Checks the shape of a trickled candidate. Returns null for end-of-candidates (`null`, or an empty
 * `candidate`: RFC 8840, Firefox), which libdatachannel does not need.
 *
 * @throws SmallWebRTCTypeError `ERR_INVALID_ARG` for wrong field types; SmallWebRTCError
 *   `ERR_INVALID_CANDIDATE` for a line that is not an ICE candidate.
 */
export function checkRemoteCandidate(c: RemoteIceCandidate | null): CheckedCandidate | null {
  if (c === null || c === undefined) return null;
  if (typeof c !== 'object')
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'candidate must be an object or null');
  if (typeof c.candidate !== 'string') {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'candidate.candidate must be a string');
  }
  if (c.sdpMid !== undefined && c.sdpMid !== null && typeof c.sdpMid !== 'string') {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'candidate.sdpMid must be a string or null');
  }
  if (
    c.sdpMLineIndex !== undefined &&
    c.sdpMLineIndex !== null &&
    (typeof c.sdpMLineIndex !== 'number' || !Number.isInteger(c.sdpMLineIndex) || c.sdpMLineIndex < 0)
  ) {
    throw new SmallWebRTCTypeError(
      'ERR_INVALID_ARG',
      'candidate.sdpMLineIndex must be a non-negative integer or null',
    );
  }
  const text = c.candidate.trim();
  if (text === '') return null;
  const parsed = parseCandidate(text);
  if (!parsed) throw new SmallWebRTCError('ERR_INVALID_CANDIDATE', 'not a valid ICE candidate');
  return {
    text,
    parsed,
    sdpMid: typeof c.sdpMid === 'string' ? c.sdpMid : null,
    sdpMLineIndex: typeof c.sdpMLineIndex === 'number' ? c.sdpMLineIndex : null,
  };
}

/**
 * Checks an offer argument (`{ sdp, type: 'offer' }`) and returns its SDP text.
 *
 * @throws SmallWebRTCTypeError `ERR_INVALID_ARG` (wrong shape); SmallWebRTCError `ERR_INVALID_SDP` (not an
 *   offer). `what` names the calling method in the message.
 */
export function checkOffer(offer: unknown, what: string): string {
  if (typeof offer !== 'object' || offer === null) {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${what}: offer must be an object {sdp, type}`);
  }
  const { sdp, type } = offer as { sdp?: unknown; type?: unknown };
  if (typeof sdp !== 'string')
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${what}: offer.sdp must be a string`);
  if (type !== 'offer') throw new SmallWebRTCError('ERR_INVALID_SDP', `${what}: offer.type must be "offer"`);
  return sdp;
}

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
