import { expect } from 'chai';
import { Host } from '../../src/host.js';
import { createLogger } from '../../src/logging/logger.js';
import { createTestDatabase } from '../../../test-support/postgres.js';
import { tempDataDir } from '../helpers/temp-data-dir.js';

describe('meter registry: two hosts on one PostgreSQL database', function () {
  this.timeout(60000);

  it('a meter created on one host is found on the other, which had read the list before', async () => {
    const db = await createTestDatabase('shared_meters');
    const dirs = [tempDataDir(), tempDataDir()];
    const hosts = dirs.map((dir) => new Host({
      config: { dataDir: dir.dataDir, http: { port: 0 }, storage: { client: 'postgres', connection: db.connection } },
      cwd: dir.root, env: {}, logger: createLogger({ level: 'silent', pretty: false }),
    }));
    try {
      // One after the other: the first one creates the schema.
      for (const h of hosts) await h.start();
      const [a, b] = hosts as [Host, Host];
      expect(await b.meters!.get('garage')).to.equal(undefined);
      await a.meters!.create({ id: 'garage', driver: 'sdm230', source: 'push' });
      expect(await b.meters!.get('garage')).to.include({ id: 'garage', driver: 'sdm230' });
      expect((await b.meters!.list()).map((m) => m.id)).to.include('garage');
      expect(await b.meters!.get('nowhere')).to.equal(undefined);
    } finally {
      for (const h of hosts) await h.stop();
      dirs.forEach((d) => d.cleanup());
      await db.drop();
    }
  });
});
