import { expect } from 'chai';
import { LoginThrottle } from '../src/login-throttle.js';

describe('login throttle: bounded memory without forgetting lockouts', () => {
  it('evicts least recently used names past the limit, never an active lockout', () => {
    const t = new LoginThrottle(1_000_000, 60_000, 2, 100);
    const now = 1_000_000;
    t.failed('victim', now);
    t.failed('victim', now);
    expect(() => t.check('10.0.0.1', 'victim', now + 1)).to.throw(/locked/);
    // An attacker floods the throttle with fresh names, far past the limit.
    for (let i = 0; i < 5000; i++) t.failed(`flood-${i}`, now + 2);
    expect(t.size.users).to.equal(100);
    expect(() => t.check('10.0.0.2', 'victim', now + 3)).to.throw(/locked/);
  });

  it('keeps the recently used entries and drops the oldest inactive ones', () => {
    const t = new LoginThrottle(1_000_000, 60_000, 3, 10);
    for (let i = 0; i < 10; i++) t.failed(`u${i}`, 0);
    t.failed('u0', 1); // u0 is now the most recent, with two failures
    for (let i = 10; i < 15; i++) t.failed(`u${i}`, 2);
    expect(t.size.users).to.equal(10);
    t.failed('u0', 3); // third failure: locked only if its two earlier failures were kept
    expect(() => t.check('a', 'u0', 4)).to.throw(/locked/);
  });

  it('bounds the per-address budgets too, keeping addresses over budget', () => {
    const t = new LoginThrottle(2, 60_000, 5, 50);
    for (let i = 0; i < 3; i++) {
      try {
        t.check('198.51.100.7', `x${i}`, 10);
      } catch { /* third is over budget */ }
    }
    for (let i = 0; i < 1000; i++) t.check(`addr-${i}`, 'y', 11);
    expect(t.size.addresses).to.be.at.most(51);
    expect(() => t.check('198.51.100.7', 'z', 12)).to.throw(/too many login attempts/);
  });
});
