import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The packages whose versions `switchyard --version` reports beside the command's own. */
const reported = ['@switchyard/core', '@switchyard/model', '@switchyard/tokenizer', '@switchyard/serving'];

/** `switchyard <version>` and the versions of the packages it runs on, one line. */
export function versionText(): string {
  const own = (require('../package.json') as { version: string }).version;
  const packages = reported.map((name) => {
    const { version } = require(`${name}/package.json`) as { version: string };
    return `${name.replace('@switchyard/', '')} ${version}`;
  });
  return `switchyard ${own} (${packages.join(', ')}; node ${process.version})`;
}
