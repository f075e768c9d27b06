import type { ServerResponse } from 'node:http';

/**
 * A server-sent event stream in OpenAI's format: `data: <json>` events, ended by `data: [DONE]`.
 * Writes wait for the socket to drain (or close), so a slow client slows its own stream only.
 */
export class EventStream {
  constructor(private readonly response: ServerResponse) {}

  /** Sends the 200 and the event-stream headers at once, before the first event. */
  open(headers: Record<string, string> = {}): void {
    this.response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      ...headers,
    });
    this.response.flushHeaders();
  }

  /** The client went away. */
  get closed(): boolean {
    return this.response.destroyed;
  }

  send(data: unknown): Promise<void> {
    return this.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  done(): Promise<void> {
    return this.write('data: [DONE]\n\n');
  }

  end(): void {
    this.response.end();
  }

  private async write(payload: string): Promise<void> {
    if (this.response.write(payload)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.response.off('drain', done);
        this.response.off('close', done);
        resolve();
      };
      this.response.on('drain', done);
      this.response.on('close', done);
    });
  }
}
