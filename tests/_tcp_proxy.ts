/**
 * Test harness: a loopback TCP proxy in front of a server (Azurite) that can
 * cut connections after a number of response bytes, hold requests until
 * released, and that records the HTTP request lines it forwards.
 *
 * @module
 */

import { createServer, Socket } from "node:net";

/** Cut settings: connections accepted while `connections > 0` are cut after `afterBytes`. */
export interface CutOptions {
  /** Response bytes forwarded on a connection before it is cut. */
  afterBytes: number;
  /** How many connections to cut (default 1). */
  connections?: number;
}

/** Hold settings: the next `count` requests whose head matches `match` wait for `release()`. */
export interface HoldOptions {
  /** Tested against the request head (request line and headers, as latin1 text). */
  match: RegExp;
  /** How many requests to hold (default 1). */
  count?: number;
}

/** A running proxy. */
export interface TcpProxy {
  /** The loopback port clients connect to. */
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections cut so far. */
  readonly cuts: number;
  /** Response bytes forwarded to clients so far. */
  readonly responseBytes: number;
  /** `METHOD path` of every HTTP request seen (best effort, from request lines). */
  readonly requests: string[];
  /** Arms (or re-arms) cutting. */
  cut(options: CutOptions): void;
  /** Arms (or re-arms) holding: matching requests are not forwarded until `release()`. */
  hold(options: HoldOptions): void;
  /** Requests held now. */
  readonly held: number;
  /** Resolves once at least `count` (default 1) requests are held. */
  waitForHeld(count?: number): Promise<void>;
  /** Disarms holding and forwards every held request. */
  release(): void;
  /** Closes the listener and every connection. */
  stop(): Promise<void>;
}

const REQUEST_LINE = /(?:^|\r\n)(GET|PUT|HEAD|POST|DELETE|PATCH|OPTIONS) (\S+) HTTP\/1\.[01]\r\n/g;

/**
 * Starts a proxy on a free loopback port forwarding to `127.0.0.1:targetPort`.
 *
 * @param targetPort The server's port.
 * @param cut Optional cut settings, armed from the start.
 * @returns The proxy.
 */
export function startTcpProxy(targetPort: number, cut?: CutOptions): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let remaining = cut ? cut.connections ?? 1 : 0;
  let afterBytes = cut?.afterBytes ?? 0;
  let accepted = 0;
  let cuts = 0;
  let responseBytes = 0;
  const requests: string[] = [];
  let holdMatch: RegExp | undefined;
  let holdRemaining = 0;
  const held: Array<() => void> = [];
  let heldWaiters: Array<{ count: number; resolve: () => void }> = [];
  const notifyHeld = () => {
    heldWaiters = heldWaiters.filter((waiter) => {
      if (held.length < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  };

  const server = createServer((client) => {
    accepted++;
    const candidate = remaining > 0;
    const target = new Socket();
    sockets.add(client);
    sockets.add(target);
    let forwarded = 0;
    let done = false;
    const close = () => {
      if (done) return;
      done = true;
      client.destroy();
      target.destroy();
      sockets.delete(client);
      sockets.delete(target);
    };
    client.on("error", close);
    target.on("error", close);
    client.on("close", close);
    target.on("close", close);

    let holding: Buffer[] | undefined;
    client.on("data", (chunk: Buffer) => {
      if (holding) {
        holding.push(chunk);
        return;
      }
      const text = chunk.toString("latin1");
      let isRequest = false;
      for (const match of text.matchAll(REQUEST_LINE)) {
        requests.push(`${match[1]} ${match[2]}`);
        isRequest = true;
      }
      if (isRequest && holdRemaining > 0 && holdMatch?.test(text)) {
        holdRemaining--;
        const pending: Buffer[] = [chunk];
        holding = pending;
        client.pause();
        held.push(() => {
          holding = undefined;
          if (done) return;
          for (const part of pending) target.write(part);
          client.resume();
        });
        notifyHeld();
        return;
      }
      if (!target.write(chunk)) client.pause();
    });
    target.on("drain", () => client.resume());
    client.on("drain", () => target.resume());
    target.on("data", (chunk: Buffer) => {
      if (done) return;
      if (candidate && remaining > 0 && forwarded + chunk.length >= afterBytes) {
        const head = chunk.subarray(0, Math.max(0, afterBytes - forwarded));
        remaining--;
        cuts++;
        forwarded += head.length;
        responseBytes += head.length;
        done = true;
        target.destroy();
        sockets.delete(target);
        client.end(head, () => {
          client.destroy();
          sockets.delete(client);
        });
        return;
      }
      forwarded += chunk.length;
      responseBytes += chunk.length;
      if (!client.write(chunk)) target.pause();
    });
    client.pause();
    target.connect(targetPort, "127.0.0.1", () => client.resume());
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      resolve({
        port,
        get accepted() {
          return accepted;
        },
        get cuts() {
          return cuts;
        },
        get responseBytes() {
          return responseBytes;
        },
        requests,
        cut(options: CutOptions) {
          afterBytes = options.afterBytes;
          remaining = options.connections ?? 1;
        },
        hold(options: HoldOptions) {
          holdMatch = options.match;
          holdRemaining = options.count ?? 1;
        },
        get held() {
          return held.length;
        },
        waitForHeld(count = 1) {
          return new Promise<void>((resolve) => {
            heldWaiters.push({ count, resolve });
            notifyHeld();
          });
        },
        release() {
          holdRemaining = 0;
          holdMatch = undefined;
          for (const forward of held.splice(0)) forward();
        },
        stop() {
          for (const socket of sockets) socket.destroy();
          sockets.clear();
          return new Promise<void>((done) => server.close(() => done()));
        },
      });
    });
  });
}
