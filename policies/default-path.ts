/**
 * Where the built-in default policy lives: `policies/examples/default.yaml`
 * under the package root. The root is found by walking up from this module to
 * the folder holding package.json, so the same code works from the sources
 * (vitest) and from `dist/` after a build.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest ancestor of `fromDir` that holds a package.json. */
export function findPackageRoot(fromDir: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

const here = dirname(fileURLToPath(import.meta.url));
// Without a package.json above us (copied files), fall back to the layout of the sources: policies/ is one up.
const root = findPackageRoot(here) ?? dirname(here);

export const DEFAULT_POLICY_PATH = join(root, 'policies', 'examples', 'default.yaml');
