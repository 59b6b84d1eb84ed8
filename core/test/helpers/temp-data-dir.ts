import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURE_PACKAGES = fileURLToPath(new URL('../fixtures/packages', import.meta.url));

/**
 * A fresh data dir with the named fixture packages installed in its
 * node_modules, the way `meterhub plugins install` leaves them.
 */
export function tempDataDir(packages: readonly string[] = []): { root: string; dataDir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'meterhub-test-'));
  const dataDir = join(root, 'data');
  mkdirSync(join(dataDir, 'node_modules'), { recursive: true });
  for (const name of packages) cpSync(join(FIXTURE_PACKAGES, name), join(dataDir, 'node_modules', name), { recursive: true });
  return { root, dataDir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
