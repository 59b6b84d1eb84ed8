import type { LiveReadingMessage } from '@meterhub/sdk';
import { mergeReading } from './live-messages.js';

/** A connected client as the back-pressure logic sees it, whatever its transport. */
export interface LiveClient {
  /** True while the client's connection cannot take more (its send buffer is not empty). */
  congested(): boolean;
  /** Sends one reading to this client alone. */
  sendReading(message: LiveReadingMessage): void;
  /** Readings held back for this client, newest per meter. */
  readonly held: Map<string, LiveReadingMessage>;
}

/**
 * Back-pressure for slow clients. A reading for a congested client is not
 * queued behind the others: it is folded into the one reading per meter held
 * for that client (newest value per measurement), and the held readings go out
 * once the client drains. Memory per client is bounded by the meters it
 * follows, and the host and other clients never wait for it.
 */
export class SlowClientBuffer {
  readonly #waiting = new Set<LiveClient>();
  #timer: NodeJS.Timeout | undefined;
  /** Readings folded into another one because their client was behind. */
  merged = 0;
  /** Readings held back at least once. */
  held = 0;

  constructor(private readonly intervalMs = 25) {}

  /** Holds `message` for `client`, merging with what is already held for that meter. */
  hold(client: LiveClient, message: LiveReadingMessage): void {
    const previous = client.held.get(message.meterId);
    if (previous) {
      client.held.set(message.meterId, mergeReading(previous, message));
      this.merged++;
    } else {
      client.held.set(message.meterId, message);
      this.held++;
    }
    this.#waiting.add(client);
    this.#timer ??= setInterval(() => this.#flush(), this.intervalMs).unref();
  }

  /** Forgets a client that disconnected. */
  drop(client: LiveClient): void {
    client.held.clear();
    this.#waiting.delete(client);
  }

  get waitingClients(): number {
    return this.#waiting.size;
  }

  #flush(): void {
    for (const client of this.#waiting) {
      for (const [meterId, message] of client.held) {
        if (client.congested()) break;
        client.held.delete(meterId);
        client.sendReading(message);
      }
      if (client.held.size === 0) this.#waiting.delete(client);
    }
    if (this.#waiting.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#waiting.clear();
  }
}
