import { MeterhubError } from '@meterhub/sdk';

/**
 * Runs `work` (sync or async) and rejects with METERHUB_ERR_PLUGIN_TIMEOUT if it
 * has not settled within `ms`. Plugin code is never trusted to return: a start
 * that hangs must not hang the host.
 */
export async function withTimeout<T>(work: () => T | Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MeterhubError('METERHUB_ERR_PLUGIN_TIMEOUT', `${what} did not finish within ${ms} ms`)), ms);
    timer.unref?.();
  });
  try {
    return await Promise.race([Promise.resolve().then(work), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
