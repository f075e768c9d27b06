import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { lambdaLimits } from '@switchyard/core';
import { lambdaApiErrors } from './errors.js';
import type { LocalS3Store } from './s3-server.js';
import { readZip, type ZipEntry } from './zip.js';

/**
 * Local extension of the Lambda API: `Code: { S3Bucket: '__local__', S3Key: '/abs/dir' }` runs the
 * code straight from a local directory (no zip, no copy); a layer's `Content` takes the same form.
 * Only the local runtime understands it; real Lambda rejects the bucket name, so it cannot leak into
 * an AWS deployment silently.
 */
export const localCodeBucket = '__local__';

/**
 * Function code or layer content as the runtime runs it: a directory, and what the API reports about
 * it. Published versions share the code of the `$LATEST` they froze, so it is reference-counted and
 * removed when the last user lets go.
 */
export interface StoredCode {
  codeDir: string;
  /** Whether the runtime unzipped it (and removes it when the last user lets go). */
  ownsCodeDir: boolean;
  /** `CodeSha256`: of the zip, or of the directory's path for local code. */
  sha256: string;
  /** `CodeSize`: zip bytes (0 for a local directory). */
  size: number;
  /** Bytes of the files once unzipped (what Lambda's 250 MB limit counts, with the layers). */
  unzippedBytes: number;
  /** Whether it came as a zip (held to Lambda's size limits) rather than a local directory (not). */
  zipped: boolean;
  /** Function versions (or layer versions) holding this code. */
  users: number;
}

/** Where function code and layers are unzipped, and the rules they are checked against (Lambda's size limits). */
export class CodeStore {
  readonly workDir: string;
  private readonly ownsWorkDir: boolean;

  constructor(
    workDir: string | undefined,
    private readonly s3: LocalS3Store,
  ) {
    this.ownsWorkDir = workDir === undefined;
    this.workDir = workDir ?? mkdtempSync(join(tmpdir(), 'switchyard-lambda-'));
    mkdirSync(this.workDir, { recursive: true });
  }

  /**
   * The `Code` of CreateFunction / UpdateFunctionCode (or a layer's `Content`): `ZipFile`, a zip in
   * the local S3, or a local directory. `name` prefixes the directory it is unzipped to. The result
   * has one user.
   */
  store(name: string, code: Record<string, unknown>): StoredCode {
    if (code.S3Bucket === localCodeBucket) return localDirectory(String(code.S3Key ?? ''));
    const zip = this.zipOf(code);
    let entries: ZipEntry[];
    try {
      entries = readZip(zip);
    } catch (error) {
      throw lambdaApiErrors.invalid(
        `Could not unzip uploaded file. Please check your file, then try to upload again. (${String(error)})`,
      );
    }
    const unzipped = entries.reduce((sum, entry) => sum + entry.data.byteLength, 0);
    if (unzipped > lambdaLimits.unzippedCodeBytes) {
      throw lambdaApiErrors.invalid(
        `Unzipped size must be smaller than ${lambdaLimits.unzippedCodeBytes} bytes (got ${unzipped})`,
      );
    }
    const codeDir = mkdtempSync(join(this.workDir, `${name}-`));
    for (const entry of entries) {
      const target = join(codeDir, entry.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, entry.data, { mode: entry.mode ?? 0o644 });
    }
    return {
      codeDir,
      ownsCodeDir: true,
      sha256: createHash('sha256').update(zip).digest('base64'),
      size: zip.byteLength,
      unzippedBytes: unzipped,
      zipped: true,
      users: 1,
    };
  }

  /** One more version holds `code`. */
  retain(code: StoredCode): StoredCode {
    code.users += 1;
    return code;
  }

  /** A version let go of `code`; code the runtime unzipped goes with its last user (a local directory stays). */
  release(code: StoredCode): void {
    code.users -= 1;
    if (code.users <= 0 && code.ownsCodeDir) rmSync(code.codeDir, { recursive: true, force: true });
  }

  /** Removes the work directory, if the runtime made it. */
  close(): void {
    if (this.ownsWorkDir) rmSync(this.workDir, { recursive: true, force: true });
  }

  private zipOf(code: Record<string, unknown>): Uint8Array {
    if (typeof code.ZipFile === 'string') return Buffer.from(code.ZipFile, 'base64');
    if (typeof code.S3Bucket === 'string' && typeof code.S3Key === 'string') {
      const zip = this.s3.getObject(code.S3Bucket, code.S3Key);
      if (!zip) {
        throw lambdaApiErrors.invalid(
          `Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Key: ${code.S3Key}`,
        );
      }
      return zip;
    }
    throw lambdaApiErrors.invalid('Please provide a source for function code (ZipFile, S3Bucket/S3Key).');
  }
}

/** Bytes of every file under `dir` (symbolic links are not followed). */
function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += directoryBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

function localDirectory(dir: string): StoredCode {
  if (!isAbsolute(dir))
    throw lambdaApiErrors.invalid(`Local code location must be an absolute directory, got '${dir}'`);
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    // Missing: reported below like a file that is not a directory.
  }
  if (!isDirectory) throw lambdaApiErrors.invalid(`Local code directory ${dir} does not exist`);
  return {
    codeDir: dir,
    ownsCodeDir: false,
    sha256: createHash('sha256').update(dir).digest('base64'),
    size: 0,
    unzippedBytes: directoryBytes(dir),
    zipped: false,
    users: 1,
  };
}
