import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseReportLine } from '@switchyard/core';

/** A proxy in front of a Lambda API that adds up the REPORT lines passing through it. */
export interface ReportTap {
  /** Give this to the client instead of the runtime's endpoint. */
  url: string;
  /** Σ Memory Size / 1024 × Billed Duration / 1000 over every REPORT line seen. */
  gbSeconds(): number;
  /** REPORT lines seen (one per invocation that answered with a log tail). */
  reports(): number;
  /** REPORT lines of invocations that answered `X-Amz-Function-Error`. */
  failedReports(): number;
  close(): Promise<void>;
}

/**
 * Forwards the Lambda API at `target` and reads every REPORT line in the `X-Amz-Log-Result` tails it
 * passes on: what the runtime billed, counted off the wire, independent of Switchyard's own bill.
 */
export function startReportTap(target: string): Promise<ReportTap> {
  let gbSeconds = 0;
  let reports = 0;
  let failedReports = 0;
  const upstream = new URL(target);
  const server: Server = createServer((incoming, outgoing) => {
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        const tail = answer.headers['x-amz-log-result'];
        if (typeof tail === 'string') {
          const report = parseReportLine(Buffer.from(tail, 'base64').toString('utf8'));
          if (report) {
            reports += 1;
            if (answer.headers['x-amz-function-error'] !== undefined) failedReports += 1;
            gbSeconds += (report.memorySizeMB / 1024) * (report.billedDurationMs / 1000);
          }
        }
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', (error) => outgoing.destroy(error));
    incoming.pipe(forward);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        gbSeconds: () => gbSeconds,
        reports: () => reports,
        failedReports: () => failedReports,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
