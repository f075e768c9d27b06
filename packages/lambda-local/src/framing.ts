/**
 * Length-prefixed frames between the local runtime and a function process over a socket pair
 * (stdio fd 3). Node's IPC channel serialises a 5.6 MB payload far too slowly (hundreds of ms per
 * round trip here), so payload bytes travel raw:
 *
 *   u32 frame length (after this field) | u32 header length | header JSON (utf8) | payload bytes
 */
export function encodeFrame(header: object, payload?: Uint8Array): Buffer[] {
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.allocUnsafe(8);
  const payloadLength = payload?.byteLength ?? 0;
  prefix.writeUInt32LE(4 + headerBytes.byteLength + payloadLength, 0);
  prefix.writeUInt32LE(headerBytes.byteLength, 4);
  const parts: Buffer[] = [prefix, headerBytes];
  if (payload && payloadLength > 0) {
    parts.push(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
  }
  return parts;
}

/** Returns a `data` listener that reassembles frames and calls `onFrame(header, payload)`. */
export function frameReader(onFrame: (header: unknown, payload: Buffer) => void): (chunk: Buffer) => void {
  let chunks: Buffer[] = [];
  let size = 0;
  let wanted = -1;
  return (chunk) => {
    chunks.push(chunk);
    size += chunk.length;
    for (;;) {
      if (wanted < 0) {
        if (size < 4) return;
        const head = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
        chunks = [head];
        wanted = head.readUInt32LE(0);
      }
      if (size < wanted + 4) return;
      // Concatenate once, when the whole frame is there (not once per 64 KB chunk).
      const all = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
      const headerLength = all.readUInt32LE(4);
      const header: unknown = JSON.parse(all.toString('utf8', 8, 8 + headerLength));
      const payload = all.subarray(8 + headerLength, 4 + wanted);
      const rest = all.subarray(4 + wanted);
      chunks = rest.length > 0 ? [rest] : [];
      size = rest.length;
      wanted = -1;
      onFrame(header, payload);
    }
  };
}
