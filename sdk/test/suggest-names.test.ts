import { expect } from 'chai';
import { didYouMean, suggestNames } from '../src/index.js';

describe('suggestNames', () => {
  it('finds close spellings whatever the case and punctuation, best first', () => {
    expect(suggestNames('sdm360', ['sdm630', 'sdm230', 'sdm120'])).to.include('sdm630');
    expect(suggestNames('Import Activ Energy', ['importEnergy', 'import_active_energy', 'Import Active Energy'])[0]).to.equal('import_active_energy');
    expect(suggestNames('rset', ['modbus-tcp', 'rest', 'export'])).to.deep.equal(['rest']);
    expect(suggestNames('modbus-tpc', ['modbus-tcp', 'rtu-over-tcp', 'rtu'])[0]).to.equal('modbus-tcp');
  });

  it('suggests nothing far off, and nothing for an empty name', () => {
    expect(suggestNames('Warp', ['voltageL1', 'power', 'importEnergy'])).to.deep.equal([]);
    expect(suggestNames('', ['a'])).to.deep.equal([]);
    expect(didYouMean('Warp', ['power'])).to.equal(undefined);
    expect(didYouMean('powr', ['power', 'voltage'])).to.equal('did you mean "power"?');
  });
});
