/**
 * A userspace UDP relay that impairs a WebRTC path between two loopback peers: random and bursty loss,
 * fixed delay plus jitter (which reorders), explicit reordering, duplication and an MTU (datagrams whose IP
 * packet would be larger are dropped, as on a path that does not fragment). For tests and benchmarks.
 *
 * Why userspace and not `tc netem`: the kernel of the machines this project is tested on has no netem qdisc
 * (`tc qdisc add ... netem` answers "Specified qdisc kind is unknown"; see docs/reliability.md), and a relay
 * runs unprivileged anywhere.
 *
 * How it sits on the path: the relay owns two UDP sockets, one facing the client and one facing the server.
 * Each peer is told only the relay's address (rewrite the candidates each side receives with
 * {@link rewriteCandidates} / {@link rewriteCandidateLine}), so both ICE and media go through it:
 *
 * ```
 * client --> relay.clientPort ==(toServer impairment)==> [from relay.serverPort] --> server's real address
 * client <-- [from relay.clientPort] <==(toClient impairment)== relay.serverPort <-- server
 * ```
 *
 * ```ts
 * const relay = await ImpairRelay.start();                         // 127.0.0.1, random ports
 * await conn.initialize(client.offer);                              // server: SmallWebRTCConnection
 * const answer = conn.getAnswer()!;
 * relay.setServer(candidateAddress(answer.sdp)!);                   // where the server really listens
 * client.setAnswer({ sdp: rewriteCandidates(answer.sdp, relay.clientSide) });
 * for (const c of client.candidates)
 *   await conn.addIceCandidate({ ...c, candidate: rewriteCandidateLine(c.candidate, relay.serverSide) });
 * relay.impair('both', { loss: 0.05, jitterMs: 30, duplicate: 0.02, mtu: 1280 });  // any time, e.g. mid-call
 * relay.counters.toServer.droppedLoss ... ; relay.impair('both', {}) ; relay.close();
 * ```
 * The client's address is learnt from the first datagram it sends (the latest source wins). Random choices
 * come from a seeded generator, so a run can be repeated (`seed`). Delays use timers on the JS thread: a
 * busy event loop adds its own jitter, which the counters cannot see.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

import { prng } from './audio.js';

/** How one direction of the path is impaired. Every field is optional; `{}` is a clean path. */
export interface Impairment {
  /** Probability (0-1) that a datagram is dropped, independently of the others. */
  loss?: number;
  /**
   * Bursty loss (Gilbert model): each datagram, the path enters the bad state with probability `enter` and
   * leaves it with probability `exit`; every datagram in the bad state is dropped. Mean burst = 1/exit.
   */
  burst?: { enter: number; exit: number };
  /** Fixed one-way delay added to every datagram, ms. */
  delayMs?: number;
  /** Extra delay drawn uniformly from [0, jitterMs] per datagram, ms (reorders when above the packet gap). */
  jitterMs?: number;
  /** Probability (0-1) that a datagram is held back by `reorderDelayMs` (so later ones overtake it). */
  reorder?: number;
  /** How long a reordered datagram is held back, ms (default 40: two 20 ms audio packets). */
  reorderDelayMs?: number;
  /** Probability (0-1) that a datagram is sent twice (the copy after `duplicateDelayMs`, default 0). */
  duplicate?: number;
  /** Delay of the duplicate after the original, ms (default 0). */
  duplicateDelayMs?: number;
  /**
   * Path MTU in bytes of IP packet: a datagram whose payload + IP/UDP headers (28 bytes over IPv4, 48 over
   * IPv6) exceeds it is dropped (no fragmentation, as with DF set or on an IPv6 path).
   */
  mtu?: number;
}

/** What happened to the datagrams of one direction since the relay started (or {@link ImpairRelay.resetCounters}). */
export interface RelayCounters {
  /** Datagrams received from the sending side. */
  received: number;
  /** Datagrams sent to the other side (duplicates included). */
  forwarded: number;
  /** Dropped by `loss` or `burst`. */
  droppedLoss: number;
  /** Dropped for exceeding `mtu`. */
  droppedOverMtu: number;
  /** Dropped because the destination was not known yet (the client had not sent anything). */
  droppedNoRoute: number;
  /** Extra copies sent by `duplicate`. */
  duplicated: number;
  /** Held back by `reorder`. */
  reordered: number;
  /** Largest datagram payload seen, bytes. */
  largestPayload: number;
}

/** A UDP endpoint. */
export interface Endpoint {
  address: string;
  port: number;
}

/** The two directions of the relay. */
export type RelayDirection = 'toServer' | 'toClient';

/** Options of {@link ImpairRelay.start}. */
export interface ImpairRelayOptions {
  /** Address both sockets bind to (default 127.0.0.1). */
  host?: string;
  /** Seed of the random choices (default: random). */
  seed?: number;
  /** The server's real address, when known up front (else {@link ImpairRelay.setServer}). */
  server?: Endpoint;
}

function newCounters(): RelayCounters {
  return {
    received: 0,
    forwarded: 0,
    droppedLoss: 0,
    droppedOverMtu: 0,
    droppedNoRoute: 0,
    duplicated: 0,
    reordered: 0,
    largestPayload: 0,
  };
}

/** A two-socket UDP relay with per-direction impairment (see the file header). */
export class ImpairRelay {
  /** Counters per direction (live objects). */
  counters: Record<RelayDirection, RelayCounters> = { toServer: newCounters(), toClient: newCounters() };
  readonly #clientSock: Socket;
  readonly #serverSock: Socket;
  readonly #host: string;
  readonly #rand: () => number;
  readonly #impairment: Record<RelayDirection, Impairment> = { toServer: {}, toClient: {} };
  readonly #badState: Record<RelayDirection, boolean> = { toServer: false, toClient: false };
  readonly #timers = new Set<NodeJS.Timeout>();
  #server: Endpoint | null;
  #client: Endpoint | null = null;
  #closed = false;

  private constructor(clientSock: Socket, serverSock: Socket, host: string, o: ImpairRelayOptions) {
    this.#clientSock = clientSock;
    this.#serverSock = serverSock;
    this.#host = host;
    this.#rand = prng(o.seed ?? Math.floor(Math.random() * 2 ** 32));
    this.#server = o.server ?? null;
    clientSock.on('message', (msg, from) => {
      this.#client = { address: from.address, port: from.port };
      this.#relay('toServer', msg);
    });
    serverSock.on('message', (msg, from: RemoteInfo) => {
      // Only the server is expected here; anything else (a stray sender) is relayed too, as a router would.
      void from;
      this.#relay('toClient', msg);
    });
  }

  /** Binds the two sockets (random ports on `host`). */
  static async start(o: ImpairRelayOptions = {}): Promise<ImpairRelay> {
    const host = o.host ?? '127.0.0.1';
    const type = host.includes(':') ? 'udp6' : 'udp4';
    const bind = (s: Socket): Promise<void> =>
      new Promise((resolve, reject) => {
        s.once('error', reject);
        s.bind(0, host, () => {
          s.off('error', reject);
          resolve();
        });
      });
    const a = createSocket(type);
    const b = createSocket(type);
    await bind(a);
    await bind(b);
    for (const s of [a, b]) {
      // A send error (e.g. the peer's port closed: ICMP unreachable) must not crash the test process.
      s.on('error', () => undefined);
    }
    return new ImpairRelay(a, b, host, o);
  }

  /** Where the client must send (put into the candidates the client receives). */
  get clientSide(): Endpoint {
    return { address: this.#host, port: this.#clientSock.address().port };
  }

  /** Where the server must send (put into the candidates the server receives). */
  get serverSide(): Endpoint {
    return { address: this.#host, port: this.#serverSock.address().port };
  }

  /** The server's real address (datagrams from the client go there). */
  setServer(server: Endpoint): void {
    this.#server = server;
  }

  /** Replaces the impairment of one or both directions (takes effect for the next datagram). */
  impair(direction: RelayDirection | 'both', impairment: Impairment): void {
    for (const d of direction === 'both' ? (['toServer', 'toClient'] as const) : [direction]) {
      this.#impairment[d] = { ...impairment };
      if (!impairment.burst) this.#badState[d] = false;
    }
  }

  /** Zeroes the counters of both directions. */
  resetCounters(): void {
    this.counters = { toServer: newCounters(), toClient: newCounters() };
  }

  /** Closes both sockets and drops what is still delayed. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#clientSock.close();
    this.#serverSock.close();
  }

  #relay(d: RelayDirection, msg: Buffer): void {
    const c = this.counters[d];
    const imp = this.#impairment[d];
    c.received++;
    c.largestPayload = Math.max(c.largestPayload, msg.length);
    const dest = d === 'toServer' ? this.#server : this.#client;
    if (!dest) {
      c.droppedNoRoute++;
      return;
    }
    if (imp.mtu !== undefined) {
      const headers = dest.address.includes(':') ? 48 : 28;
      if (msg.length + headers > imp.mtu) {
        c.droppedOverMtu++;
        return;
      }
    }
    if (imp.burst) {
      const bad = this.#badState[d];
      this.#badState[d] = bad ? this.#rand() >= imp.burst.exit : this.#rand() < imp.burst.enter;
    }
    if (this.#badState[d] || (imp.loss !== undefined && this.#rand() < imp.loss)) {
      c.droppedLoss++;
      return;
    }
    let delay = (imp.delayMs ?? 0) + (imp.jitterMs ? this.#rand() * imp.jitterMs : 0);
    if (imp.reorder !== undefined && this.#rand() < imp.reorder) {
      c.reordered++;
      delay += imp.reorderDelayMs ?? 40;
    }
    const sock = d === 'toServer' ? this.#serverSock : this.#clientSock;
    this.#sendAfter(sock, msg, dest, delay, c);
    if (imp.duplicate !== undefined && this.#rand() < imp.duplicate) {
      c.duplicated++;
      this.#sendAfter(sock, msg, dest, delay + (imp.duplicateDelayMs ?? 0), c);
    }
  }

  #sendAfter(sock: Socket, msg: Buffer, dest: Endpoint, delayMs: number, c: RelayCounters): void {
    const send = (): void => {
      if (this.#closed) return;
      c.forwarded++;
      sock.send(msg, dest.port, dest.address);
    };
    if (delayMs <= 0) {
      send();
      return;
    }
    const t = setTimeout(() => {
      this.#timers.delete(t);
      send();
    }, delayMs);
    this.#timers.add(t);
  }
}

const CANDIDATE_RE = /^(a=)?(candidate:\S+ \d+ udp \d+ )(\S+) (\d+)( typ .*)$/i;

/** The address of the first UDP candidate of an SDP (or of one candidate line), or null. */
export function candidateAddress(sdpOrCandidate: string): Endpoint | null {
  for (const line of sdpOrCandidate.split(/\r?\n/)) {
    const m = CANDIDATE_RE.exec(line.trim());
    if (m) return { address: m[3] ?? '', port: Number(m[4]) };
  }
  return null;
}

/** One candidate line (`candidate:...` or `a=candidate:...`) with its address and port replaced by `to`. */
export function rewriteCandidateLine(line: string, to: Endpoint): string {
  const m = CANDIDATE_RE.exec(line);
  if (!m) return line;
  return `${m[1] ?? ''}${m[2] ?? ''}${to.address} ${to.port}${m[5] ?? ''}`;
}

/**
 * An SDP whose UDP candidates all point at `to` (the relay), so the peer that applies it reaches the other
 * side only through the relay. Other lines are kept as they are (ICE ignores the `c=`/`m=` addresses).
 */
export function rewriteCandidates(sdp: string, to: Endpoint): string {
  return sdp
    .split('\r\n')
    .map((l) => rewriteCandidateLine(l, to))
    .join('\r\n');
}
