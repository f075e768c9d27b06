/**
 * Finds the official AWS Lambda Runtime Interface Client (`aws-lambda-ric`, an optional dependency).
 * Its runtime loop talks to the Runtime API through a native addon (`rapid-client.node`) that its
 * install script builds from bundled curl and aws-lambda-cpp sources; where that build could not run
 * (no autoconf/automake/libtool, cmake, make or g++; macOS; install scripts not allowed) the package
 * is missing or has no addon, and the local runtime falls back to its own runner.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type RicLocation =
  | { available: true; bin: string; version: string }
  | { available: false; reason: string };

let cached: RicLocation | undefined;

/** Where `aws-lambda-ric` is, or why it cannot be used. Looked up once per process. */
export function locateRic(): RicLocation {
  if (cached) return cached;
  cached = lookUp();
  return cached;
}

function lookUp(): RicLocation {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve('aws-lambda-ric/package.json');
  } catch {
    return { available: false, reason: 'aws-lambda-ric is not installed' };
  }
  const root = dirname(packageJson);
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  const bin = join(root, 'bin', 'index.mjs');
  if (!existsSync(bin)) return { available: false, reason: `aws-lambda-ric ${version} has no bin/index.mjs` };
  // The addon is loaded only inside function processes: it reads AWS_LAMBDA_RUNTIME_API at load.
  if (!existsSync(join(root, 'dist', 'rapid-client.node'))) {
    return {
      available: false,
      reason: `aws-lambda-ric ${version} is installed but its native addon was not built (its install script needs autoconf, automake, libtool, cmake, make and g++)`,
    };
  }
  return { available: true, bin, version };
}
