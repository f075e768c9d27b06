import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The first python3 that can import `module`: `$SWITCHYARD_PYTHON`, then every `python3` on PATH in
 * order. Not just the first on PATH: `npx` (the README's commands) puts Node's own directory first,
 * and where Node lives in /usr/bin that shadows a pyenv or venv python3 that has the module with the
 * system one that may not. Throws, naming every interpreter tried and how to install the module, when
 * none has it: a test that needs it fails, it never skips.
 */
export function pythonWith(module: string, pipPackage = module): string {
  const candidates = [
    ...(process.env.SWITCHYARD_PYTHON ? [process.env.SWITCHYARD_PYTHON] : []),
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .filter((dir) => dir !== '')
      .map((dir) => join(dir, 'python3'))
      .filter((path) => existsSync(path)),
  ];
  const tried = [...new Set(candidates)];
  for (const python of tried) {
    const probe = spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' });
    if (probe.status === 0) return python;
  }
  throw new Error(
    `no python3 here can import ${module} (tried ${tried.length > 0 ? tried.join(', ') : 'none: python3 is not on PATH'}): install it with \`python3 -m pip install ${pipPackage}\` or set SWITCHYARD_PYTHON to an interpreter that has it`,
  );
}
