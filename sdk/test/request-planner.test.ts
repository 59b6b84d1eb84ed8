import { expect } from 'chai';
import { builtinDriver } from '../../test-support/builtin-drivers.js';
import { emptyKnowledge, learnFromRefusal, planReads, type ReadBlock } from '../src/index.js';

const sdm630 = builtinDriver('sdm630');
const sdm230 = builtinDriver('sdm230');

/** Every selected register is inside exactly one block, and blocks obey the driver's limits. */
function expectValidPlan(blocks: ReadBlock[], max: number, expectedRegisters: number): void {
  let covered = 0;
  for (const b of blocks) {
    expect(b.count).to.be.at.most(max);
    expect(b.address % 2).to.equal(0);
    expect(b.count % 2).to.equal(0);
    for (const r of b.registers) {
      expect(r.address).to.be.at.least(b.address);
      expect(r.address + r.count).to.be.at.most(b.address + b.count);
    }
    covered += b.registers.length;
  }
  expect(covered).to.equal(expectedRegisters);
}

/** Contiguous runs of documented registers, each split by the cap: the minimum when gaps are refused. */
function minimumOverDocumentedRuns(addresses: number[], max: number): number {
  const sorted = [...addresses].sort((a, b) => a - b);
  let requests = 0;
  let runStart = -1;
  let prevEnd = -1;
  for (const a of sorted) {
    if (a !== prevEnd || a + 2 - runStart > max) {
      requests++;
      runStart = a;
    }
    prevEnd = a + 2;
  }
  return requests;
}

describe('request planner', () => {
  it('plans a full SDM630 snapshot in 4 requests when the meter zero-fills gaps', () => {
    const plan = planReads(sdm630, sdm630.registers, { gaps: 'zero-fill' });
    expectValidPlan(plan, 80, 86);
    expect(plan.map((b) => [b.address, b.count])).to.deep.equal([[0, 80], [80, 28], [200, 70], [334, 48]]);
  });

  it('plans a full SDM230 snapshot within its 60-register cap', () => {
    const plan = planReads(sdm230, sdm230.registers, { gaps: 'zero-fill' });
    expectValidPlan(plan, 60, 24);
    expect(plan).to.have.length(4);
  });

  it('bridges only documented addresses for meters that refuse gaps: the minimum over contiguous runs', () => {
    const plan = planReads(sdm630, sdm630.registers, { gaps: 'exception' });
    expectValidPlan(plan, 80, 86);
    expect(plan.length).to.equal(minimumOverDocumentedRuns(sdm630.registers.map((r) => r.address), 80));
    const plan230 = planReads(sdm230, sdm230.registers, { gaps: 'exception' });
    expect(plan230.length).to.equal(minimumOverDocumentedRuns(sdm230.registers.map((r) => r.address), 60));
  });

  it('reads a selection only, bridging unselected registers the meter answers', () => {
    const pick = ['voltageL1', 'currentL1', 'power', 'importEnergy', 'totalEnergy'].map((m) => sdm630.byMeasurement.get(m)!);
    const zeroFill = planReads(sdm630, pick, { gaps: 'zero-fill' });
    expectValidPlan(zeroFill, 80, 5);
    expect(zeroFill.map((b) => [b.address, b.count])).to.deep.equal([[0, 74], [342, 2]]);
    // 44 and 50 are undocumented: a meter that refuses gaps cannot be read across them.
    const strict = planReads(sdm630, pick, { gaps: 'exception' });
    expectValidPlan(strict, 80, 5);
    expect(strict.map((b) => [b.address, b.count])).to.deep.equal([[0, 8], [52, 2], [72, 2], [342, 2]]);
  });

  it('one request per register when asked to', () => {
    expect(planReads(sdm630, sdm630.registers, { gaps: 'zero-fill', perRegister: true })).to.have.length(86);
  });

  it('learns: a refused gap-bridging read switches to documented runs, a refused run splits, a refused single is dropped', () => {
    const k = emptyKnowledge();
    const first = planReads(sdm630, sdm630.registers, { gaps: 'zero-fill', knowledge: k })[0]!;
    expect(learnFromRefusal(sdm630, first, k)).to.equal(true);
    expect(k.gapsRefused).to.equal(true);
    const run = planReads(sdm630, sdm630.registers, { gaps: 'zero-fill', knowledge: k })[0]!;
    expect(run.address).to.equal(0);
    expect(run.count).to.equal(44); // 0..43 are documented back to back
    learnFromRefusal(sdm630, run, k);
    expect(k.singles.size).to.equal(22);
    const singles = planReads(sdm630, sdm630.registers, { gaps: 'zero-fill', knowledge: k });
    expect(singles.filter((b) => b.address < 44)).to.have.length(22);
    learnFromRefusal(sdm630, singles[0]!, k);
    expect([...k.unsupported]).to.deep.equal(['voltageL1']);
    expect(planReads(sdm630, sdm630.registers, { gaps: 'zero-fill', knowledge: k }).flatMap((b) => b.registers).map((r) => r.measurement.id)).to.not.include('voltageL1');
  });
});
