import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { MeterhubError, type Role, type Scope } from '@meterhub/sdk';
import { ApiKeyRepository, UserRepository } from '../../accounts/account-repositories.js';
import { createLogger } from '../../logging/logger.js';
import { StorageService, storageSettings } from '../../storage/storage-service.js';
import { hostFromCli, type GlobalOptions } from './run-host.js';

/** Opens the configured database for account commands (works while the host runs). */
async function withStorage<T>(cmd: Command, fn: (users: UserRepository, keys: ApiKeyRepository) => Promise<T>): Promise<T> {
  const host = hostFromCli(cmd.optsWithGlobals<GlobalOptions>(), {}, true);
  await host.prepare();
  const storage = await StorageService.open(storageSettings({ storage: host.config.storage, dataDir: host.dataDir }), createLogger({ level: 'warn', fd: 2 }));
  try {
    return await fn(new UserRepository(storage.knex), new ApiKeyRepository(storage.knex));
  } finally {
    await storage.close();
  }
}

/** Reads a password: hidden prompt (twice) on a terminal, the first line of stdin otherwise. */
async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin });
    for await (const line of rl) {
      rl.close();
      return line;
    }
    throw new MeterhubError('METERHUB_ERR_VALIDATION', 'no password on standard input');
  }
  const ask = (prompt: string) => new Promise<string>((resolve) => {
    process.stdout.write(prompt);
    process.stdin.setRawMode(true);
    let value = '';
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          process.stdin.setRawMode(false);
          process.stdin.off('data', onData);
          process.stdin.pause();
          process.stdout.write('\n');
          resolve(value);
          return;
        }
        if (ch === '\u0003') process.exit(130);
        value = ch === '\u007f' ? value.slice(0, -1) : value + ch;
      }
    };
    process.stdin.resume();
    process.stdin.on('data', onData);
  });
  const first = await ask('password: ');
  if ((await ask('again: ')) !== first) throw new MeterhubError('METERHUB_ERR_VALIDATION', 'the passwords do not match');
  return first;
}

async function userId(users: UserRepository, username: string): Promise<number> {
  const u = await users.byUsername(username);
  if (!u) throw new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', `no user "${username}"`);
  return u.id;
}

/** `meterhub user add|passwd|list|delete` and `meterhub key create|list|revoke`. */
export function registerAccounts(program: Command): void {
  const user = program.command('user').description('manage users (roles: admin, viewer)');
  user.command('add').argument('<username>').option('--role <role>', 'admin or viewer', 'viewer')
    .description('add a user; the password is read from a prompt, or from standard input when piped')
    .action(async (username: string, opts: { role: string }, cmd: Command) => {
      const password = await readPassword();
      const u = await withStorage(cmd, (users) => users.create(username, password, opts.role as Role));
      console.log(`added ${u.role} "${u.username}" (id ${u.id})`);
    });
  user.command('passwd').argument('<username>').description('set a new password (signs the user out everywhere)')
    .action(async (username: string, _o: unknown, cmd: Command) => {
      const password = await readPassword();
      await withStorage(cmd, async (users) => users.setPassword(await userId(users, username), password));
      console.log(`password of "${username}" changed; older tokens no longer work`);
    });
  user.command('list').description('list users')
    .action(async (_o: unknown, cmd: Command) => {
      for (const u of await withStorage(cmd, (users) => users.list(0, 10_000))) console.log(`${String(u.id).padStart(4)}  ${u.username.padEnd(24)} ${u.role.padEnd(7)} since ${u.createdAt}`);
    });
  user.command('delete').argument('<username>').description('delete a user')
    .action(async (username: string, _o: unknown, cmd: Command) => {
      await withStorage(cmd, async (users) => users.delete(await userId(users, username)));
      console.log(`deleted "${username}"`);
    });

  const key = program.command('key').description('manage API keys (scopes: read, ingest, meters:write)');
  key.command('create').argument('<name>').option('--scopes <list>', 'comma-separated scopes', 'read')
    .description('create a key; it is printed once and only its digest is stored')
    .action(async (name: string, opts: { scopes: string }, cmd: Command) => {
      const scopes = opts.scopes.split(',').map((s) => s.trim()).filter(Boolean) as Scope[];
      const { key: secret, apiKey } = await withStorage(cmd, (_u, keys) => keys.create(name, scopes, null));
      console.log(`created key ${apiKey.id} "${apiKey.name}" with scopes ${apiKey.scopes.join(', ')}`);
      console.log(`key (shown once, store it now): ${secret}`);
    });
  key.command('list').description('list keys (never the keys themselves)')
    .action(async (_o: unknown, cmd: Command) => {
      for (const k of await withStorage(cmd, (_u, keys) => keys.list(0, 10_000))) {
        console.log(`${String(k.id).padStart(4)}  ${k.prefix}…  ${k.name.padEnd(24)} ${k.scopes.join(',').padEnd(24)} ${k.revokedAt ? `revoked ${k.revokedAt}` : `last used ${k.lastUsedAt ?? 'never'}`}`);
      }
    });
  key.command('revoke').argument('<id>').description('revoke a key')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const done = await withStorage(cmd, (_u, keys) => keys.revoke(Number(id)));
      if (!done) throw new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', `no active key ${id}`);
      console.log(`revoked key ${id}`);
    });
}
